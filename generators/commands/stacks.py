"""`genai-finops stacks`: the stacks, their order and their state, for a CI deploy matrix."""

from __future__ import annotations

import argparse
import json
import sys

from generators.commands._common import add_manifest_arguments, add_only_argument, load_manifests

NAME = "stacks"
HELP = "list the stacks with their dependencies and state (json for a CI deploy matrix)"
DESCRIPTION = """\
List the stacks synth produces, governance first, each with the stacks it must be deployed
after, its region and its Terraform state (local file, or S3 key: one key and lock per stack).
Team stacks depend only on governance, so a CI deploy can run them in parallel."""
EPILOG = """\
examples:
  genai-finops stacks
  genai-finops stacks --format json        {"stacks": [{"name": "governance", "depends_on": [], ...}, ...]}
  genai-finops stacks --format json --only alpha

GitHub Actions: a job runs `genai-finops stacks --format json --only <teams>` and feeds
fromJSON(...).stacks to a deploy matrix; see .github/workflows/finops.yml.

exit codes: 0 listed, 1 invalid manifests, 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text", help="text for people (default) or json")
    add_only_argument(parser, "STACK", "only these stacks (as synth --only)")


def run(args: argparse.Namespace) -> int:
    from generators.provision.app_builder import plan_app

    plan = plan_app(load_manifests(args), args.only)
    rows = [stack.as_json() for stack in plan.stacks]
    if args.format == "json":
        json.dump({"stacks": rows}, sys.stdout, indent=2)
        print()
        return 0
    width = max(len(row["name"]) for row in rows)
    print(f"{'stack':<{width}}  {'kind':<10}  {'region':<10}  {'after':<10}  state")
    for row in rows:
        state = row["state"]
        where = f"s3://{state['bucket']}/{state['key']}" if state["backend"] == "s3" else state["path"]
        print(f"{row['name']:<{width}}  {row['kind']:<10}  {row['region']:<10}  {','.join(row['depends_on']) or '-':<10}  {where}")
    return 0
