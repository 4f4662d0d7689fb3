"""`genai-finops preflight`: read-only checks of the live account before the first apply.

JSON output (`--format json`), stable keys:

    schema_version   1
    account          the AWS account id the credentials belong to
    regions          the team regions checked
    strict           whether unverified counts as failed
    passed           false when a check failed (or, with --strict, was unverified)
    summary          {pass, fail, unverified}: counts
    checks[]         check, region ("global" for account-wide ones), subject, status
                     (pass | fail | unverified), detail (what was found; for fail, what to do)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap

from generators.commands._common import add_manifest_arguments, add_only_argument, check_only_teams, dump_json, load_manifests, use_colour

NAME = "preflight"
HELP = "check the live AWS account before the first deploy (quotas, offerings, networks, clusters, Config, state)"
DESCRIPTION = """\
Read-only checks of the account the AWS credentials belong to, in every region the manifests
use: EC2 GPU vCPU quotas (On-Demand and Spot, G and P) against what the manifests can run at
once, instance types offered in the subnets' Availability Zones, the training subnet and
security groups, each EKS cluster (ACTIVE, subnets, node role, version), each team namespace
on it (there or creatable, and the caller allowed to manage what the stack puts there: asked of
the cluster's API with SelfSubjectAccessReviews, TLS verified with the cluster's CA), an AWS
Config recorder, Lambda concurrency for the off-hours function, cost-allocation tags when
activation is on, and the S3 state bucket. Each check passes, fails (saying what to do) or is
unverified (the call was denied or is unavailable). Only Describe/List/Get calls are made to
AWS, and only namespace reads and access reviews to clusters: README lists the IAM policy."""
EPILOG = """\
examples:
  genai-finops preflight                            every team in manifests/
  genai-finops preflight --only alpha --format json
  genai-finops preflight --strict                   unverified checks fail too (for CI)
  AWS_PROFILE=prod genai-finops preflight           any credential the AWS SDK finds
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 genai-finops preflight   any endpoint

exit codes: 0 nothing failed, 1 a check failed (or was unverified with --strict), invalid
manifests or unusable credentials, 2 usage error"""

MARKS = {"pass": ("PASS", "32"), "fail": ("FAIL", "31"), "unverified": ("????", "33")}


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument("--format", choices=["table", "json"], default="table", help="table for people (default) or json")
    add_only_argument(parser, "TEAM", "check only what these teams need")
    parser.add_argument("--strict", action="store_true", help="treat unverified checks as failed")


def new_client(service: str, region: str):
    import boto3
    from botocore.config import Config

    # Adaptive retries add client-side rate limiting on throttling:
    # https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
    return boto3.client(service, region_name=region, config=Config(retries={"mode": "adaptive", "max_attempts": 8}))


def run(args: argparse.Namespace) -> int:
    from generators.errors import ToolError
    from generators.provision.preflight import Preflight
    from generators.provision.preflight_report import SCHEMA_VERSION

    manifests = load_manifests(args)
    check_only_teams(args.only, manifests)
    clients: dict[tuple[str, str], object] = {}

    def client(service: str, region: str):
        if (service, region) not in clients:
            clients[(service, region)] = new_client(service, region)
        return clients[(service, region)]

    def progress(region: str) -> None:
        if args.format == "table" and sys.stderr.isatty():
            print(f"checking {region} ...", file=sys.stderr, flush=True)

    try:
        report = Preflight(manifests, client, args.only).run(progress)
    except ToolError as error:
        if args.format != "json":
            raise
        # A machine reading stdout gets JSON whatever happened: the error, no checks, not passed.
        print(dump_json({"schema_version": SCHEMA_VERSION, "passed": False, "strict": args.strict, "error": str(error), "checks": []}))
        raise
    if args.format == "json":
        print(dump_json(report.as_json(args.strict)))
    else:
        print(to_table(report, args.strict, colour=use_colour(sys.stdout)))
    return 1 if report.failed(args.strict) else 0


def to_table(report, strict: bool, colour: bool = False) -> str:
    width = shutil.get_terminal_size((120, 24)).columns
    rows = [(MARKS[c.status][0], c.check, c.region, c.subject, c.detail, c.status) for c in report.checks]
    heads = ("", "check", "region", "subject")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    widths[3] = min(widths[3], 44)
    indent = sum(widths) + 2 * len(widths)
    detail_width = max(30, width - indent)
    lines = [f"preflight of account {report.account}, regions {', '.join(report.regions) or 'none'}"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(heads, widths)) + "  detail")
    for mark, check, region, subject, detail, status in rows:
        shown = mark.ljust(widths[0])
        if colour:
            shown = f"\033[{MARKS[status][1]}m{shown}\033[0m"
        subject = subject if len(subject) <= widths[3] else subject[: widths[3] - 1] + "…"
        wrapped = textwrap.wrap(detail, detail_width, break_on_hyphens=False) or [""]
        lines.append("  ".join([shown, check.ljust(widths[1]), region.ljust(widths[2]), subject.ljust(widths[3])]) + "  " + wrapped[0])
        lines.extend(" " * indent + more for more in wrapped[1:])
    counts = {status: report.count(status) for status in MARKS}
    verdict = "FAILED" if report.failed(strict) else "passed"
    note = " (--strict: unverified counts as failed)" if strict else ""
    lines.append(f"{counts['pass']} passed, {counts['fail']} failed, {counts['unverified']} unverified: preflight {verdict}{note}")
    return "\n".join(lines)
