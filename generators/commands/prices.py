"""`genai-finops prices refresh`: rebuild one region of the price catalog from AWS
(the work is generators/plan/price_refresh.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Callable

from generators.errors import ToolError, UsageError
from generators.files import write_atomically
from generators.plan.price_refresh import PRICING_API_REGION, refresh

NAME = "prices"
HELP = "maintain the price catalog: `prices refresh --region R` rebuilds a region from the AWS Price List API"
DESCRIPTION = """\
Rebuild the price catalog for one region from the AWS Price List API (on-demand Linux,
shared tenancy, no pre-installed software) and the EC2 spot price history (spot discount
per family). Needs AWS credentials allowed pricing:GetProducts and
ec2:DescribeSpotPriceHistory. Other regions in the file are kept."""
EPILOG = """\
examples:
  genai-finops prices refresh --region eu-west-1
  genai-finops prices refresh --region us-west-2 --output /tmp/prices.json

exit codes: 0 written, 1 AWS call failed, 2 usage error"""

def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    refresh = sub.add_parser("refresh", help="rebuild one region from the AWS Price List API", description=DESCRIPTION,
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    refresh.add_argument("--region", required=True, help="AWS region code, e.g. eu-west-1")
    refresh.add_argument("--output", metavar="FILE", help="catalog to update (default: generators/plan/prices.json)")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def run(args: argparse.Namespace, *, now: Callable[[], dt.datetime] = _now, client: Callable[..., Any] | None = None) -> int:
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
    print(f"{output}: {args.region}: {len(block['on_demand_hourly_usd'])} instance types priced, "
          f"{len(updated['spot_discount'])} spot families", file=sys.stderr)
    return 0
