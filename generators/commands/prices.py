"""`genai-finops prices refresh`: rebuild one region of the price catalog from AWS
(the work is generators/plan/price_refresh.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

from generators.errors import ToolError, UsageError
from generators.files import write_atomically
from generators.plan.bedrock_refresh import SOURCE_ID as BEDROCK_SOURCE
from generators.plan.price_refresh import PRICING_API_REGION, refresh

NAME = "prices"
HELP = "maintain the price catalog: `prices refresh --region R` rebuilds a region from the AWS Price List API"
DESCRIPTION = """\
Rebuild the price catalog for one region from the AWS Price List API (on-demand Linux,
shared tenancy, no pre-installed software) and the EC2 spot price history (spot discount
per family); and the region's Bedrock token prices where the Price List names a model for
certain (the others keep their figures). Needs AWS credentials allowed pricing:GetProducts and
ec2:DescribeSpotPriceHistory. Other regions in the file are kept."""
EPILOG = """\
examples:
  genai-finops prices refresh --region eu-west-1
  genai-finops prices refresh --region us-west-2 --output /tmp/prices.json

exit codes: 0 written, 1 AWS call failed, 2 usage error"""
BEDROCK_DESCRIPTION = """\
Rebuild the catalog's Bedrock on-demand token prices (USD per million input, output, cache read
and cache write tokens, per region) from LiteLLM's model price file: the file in the litellm
wheel, litellm/model_prices_and_context_window_backup.json (`pip download litellm==VERSION
--no-deps`, then unzip). Every region the catalog prices instances in gets a block; the source
is recorded as that LiteLLM version, read today."""
BEDROCK_EPILOG = """\
examples:
  pip download litellm==1.110.2 --no-deps -d /tmp/litellm && unzip -o /tmp/litellm/*.whl \\
      litellm/model_prices_and_context_window_backup.json -d /tmp/litellm
  genai-finops prices bedrock --litellm /tmp/litellm/litellm/model_prices_and_context_window_backup.json --version 1.110.2

exit codes: 0 written, 1 unreadable file or unusable result, 2 usage error"""

def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    refresh = sub.add_parser("refresh", help="rebuild one region from the AWS Price List API", description=DESCRIPTION,
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    refresh.add_argument("--region", required=True, help="AWS region code, e.g. eu-west-1")
    refresh.add_argument("--output", metavar="FILE", help="catalog to update (default: generators/plan/prices.json)")
    bedrock = sub.add_parser("bedrock", help="rebuild the Bedrock token prices from LiteLLM's price file",
                             description=BEDROCK_DESCRIPTION, epilog=BEDROCK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    bedrock.add_argument("--litellm", metavar="FILE", required=True, help="litellm/model_prices_and_context_window_backup.json")
    bedrock.add_argument("--version", required=True, help="the litellm release the file comes from, e.g. 1.110.2")
    bedrock.add_argument("--output", metavar="FILE", help="catalog to update (default: generators/plan/prices.json)")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def run(args: argparse.Namespace, *, now: Callable[[], dt.datetime] = _now, client: Callable[..., Any] | None = None) -> int:
    if getattr(args, "action", "refresh") == "bedrock":
        return _bedrock(args, now())
    return _refresh(args, now=now, client=client)


# The largest price file we read: LiteLLM's was 3.5 MB in 1.110.2.
MAX_LITELLM_BYTES = 64 * 1024 * 1024


def _bedrock(args: argparse.Namespace, now: dt.datetime) -> int:
    from generators.plan.bedrock_prices import from_litellm
    from generators.plan.pricing import DEFAULT_PATH, check_catalog

    if not re.fullmatch(r"\d+\.\d+\.\d+(\.\w+)?", args.version):
        raise UsageError(f"--version {args.version!r} is not a litellm release such as 1.110.2")
    output = Path(args.output) if args.output else DEFAULT_PATH
    source = Path(args.litellm)
    try:
        if source.stat().st_size > MAX_LITELLM_BYTES:
            raise ToolError(f"{source}: {source.stat().st_size:,} bytes, more than the {MAX_LITELLM_BYTES:,} a price file can be")
        data = json.loads(source.read_text(encoding="utf-8"))
        current = json.loads(output.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"{exc.filename}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ToolError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ToolError(f"{source}: not LiteLLM's price file (a JSON object of models)")
    source_id = f"litellm-{args.version}"
    current["sources"][source_id] = {
        "url": f"https://pypi.org/project/litellm/{args.version}/",
        "read": now.date().isoformat(),
        "what": (f"LiteLLM {args.version} (BerriAI/litellm, MIT), litellm/model_prices_and_context_window_backup.json in its wheel: "
                 "Bedrock on-demand prices of text (chat) models, USD per token x 1e6 (input_cost_per_token, output_cost_per_token, "
                 "cache_read_input_token_cost, cache_creation_input_token_cost). A bedrock/<region>/<model> entry where LiteLLM lists "
                 "one for the region, else the model's one figure; LiteLLM does not record which regions offer a model in-region."),
    }
    current["bedrock"] = from_litellm(data, sorted(current["regions"]), source_id)
    problems = check_catalog(current)
    if problems:
        raise ToolError("the rebuilt catalog is not usable:\n" + "\n".join(problems))
    write_atomically(output, json.dumps(current, indent=2) + "\n")
    counts = ", ".join(f"{region} {len(block['models'])}" for region, block in current["bedrock"].items())
    print(f"{output}: Bedrock token prices from litellm {args.version}: {counts} models", file=sys.stderr)
    return 0


def _refresh(args: argparse.Namespace, *, now: Callable[[], dt.datetime] = _now, client: Callable[..., Any] | None = None) -> int:
    """`now` and `client` (boto3.client's signature) are the clock and the AWS clients; tests pass theirs."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from generators.manifest.validation import REGION_PATTERN
    from generators.plan.pricing import DEFAULT_PATH, check_catalog

    if not REGION_PATTERN.match(args.region):
        raise UsageError(f"--region {args.region!r} is not an AWS region code such as eu-west-1")
    output = Path(args.output) if args.output else DEFAULT_PATH
    try:
        current = json.loads(output.read_text(encoding="utf-8")) if output.exists() else None
    except json.JSONDecodeError as exc:
        raise ToolError(f"{output}: invalid JSON ({exc.msg}); fix or remove it first") from None
    try:
        client = client or boto3.client
        pricing = client("pricing", region_name=PRICING_API_REGION)
        ec2 = client("ec2", region_name=args.region)
        updated = refresh(current, args.region, pricing, ec2, now())
    except (BotoCoreError, ClientError) as exc:
        raise ToolError(f"AWS call failed: {exc}") from None
    problems = check_catalog(updated)
    if problems:
        raise ToolError("the refreshed catalog is not usable:\n" + "\n".join(problems))
    write_atomically(output, json.dumps(updated, indent=2) + "\n")
    block = updated["regions"][args.region]
    bedrock = updated.get("bedrock", {}).get(args.region)
    measured = "" if bedrock is None else (
        f", {sum(1 for m in bedrock['models'].values() if m.get('source') == BEDROCK_SOURCE)} of {len(bedrock['models'])} "
        "Bedrock models measured from the Price List (the others keep their figures)")
    print(f"{output}: {args.region}: {len(block['on_demand_hourly_usd'])} instance types priced, "
          f"{len(updated['spot_discount'])} spot families{measured}", file=sys.stderr)
    return 0
