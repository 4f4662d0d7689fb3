"""`genai-finops validate`: check every manifest against the spec and the org policy."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from generators.commands._common import add_manifest_arguments
from generators.errors import ManifestError

NAME = "validate"
# The one-line summary names this many teams; --format json lists them all.
SUMMARY_TEAMS = 8
HELP = "check manifests; print every problem as path:line:col: field: message"
DESCRIPTION = """\
Check the org policy and every team manifest: the schema of manifest v1, the org policy's
regions, clusters, instance types and budget cap, AWS tag rules and name limits, unique
team names across files, and that the price catalog prices every instance type in every
team's region (so a manifest that validates also prices: `cost` never fails where `validate`
passed). Prints every problem in every file, not only the first."""
EPILOG = """\
examples:
  genai-finops validate                         manifests/ (the default)
  genai-finops validate manifests/teams/alpha.yaml
  genai-finops validate --format json           for machines

exit codes: 0 all valid, 1 problems found, 2 usage error (e.g. PATH does not exist)"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text", help="text for people (default) or json")
    parser.add_argument("--prices", metavar="FILE", help="price catalog to check coverage against (default: the one cost uses)")


def run(args: argparse.Namespace) -> int:
    from generators.manifest.loading import load_manifest_set
    from generators.months import Month
    from generators.plan.estimate import estimate
    from generators.plan.pricing import DEFAULT_PATH, load_catalog

    try:
        manifests = load_manifest_set(args.paths)
        # The estimate names every field whose price the catalog lacks (a region it does not
        # cover, a type not offered there), exactly as `cost` would.
        estimate(manifests, load_catalog(args.prices or DEFAULT_PATH), Month.current())
    except ManifestError as error:
        if args.format == "json":
            json.dump({"valid": False, "problems": [asdict(p) for p in error.problems]}, sys.stdout, indent=2)
            print()
            return 1
        raise
    teams = [loaded.manifest.team for loaded in manifests.teams]
    if args.format == "json":
        json.dump({"valid": True, "org": manifests.org_path, "teams": teams, "problems": []}, sys.stdout, indent=2)
        print()
    else:
        shown = ", ".join(teams[:SUMMARY_TEAMS]) + (f", ... {len(teams) - SUMMARY_TEAMS} more" if len(teams) > SUMMARY_TEAMS else "")
        if teams:
            print(f"ok: {manifests.org_path} and {len(teams)} team manifest{'s' if len(teams) != 1 else ''} valid ({shown})")
        else:
            print(f"ok: {manifests.org_path} valid; no team manifests")
    return 0
