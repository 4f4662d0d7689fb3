"""`genai-finops deploy`: the pinned cdktf CLI on the synthesized stacks, readable in CI (the
work is generators/provision/deploy.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generators.commands._common import add_out_argument

NAME = "deploy"
HELP = "deploy the stacks synth wrote with the pinned cdktf CLI; output readable in CI, errors repeated last"
DESCRIPTION = """\
Run `cdktf deploy --skip-synth --output DIR --no-color STACK ...`: the stacks `genai-finops synth`
wrote (the ones the pull request's scan checked) are what gets applied, never a fresh synth.
Progress lines and repeated warnings are left out of the output; when the deploy fails, each
error is printed again at the end. Needs cdktf.json in the current directory (`genai-finops
init` writes one), Node.js 20, Terraform and AWS credentials."""
EPILOG = """\
examples:
  genai-finops deploy governance                        governance first (README, "Deploying")
  genai-finops deploy alpha bravo --auto-approve        teams, in CI
  genai-finops deploy alpha --migrate-state             after changing org.yaml's state backend

exit codes: 0 deployed, 1 the deploy failed (its errors last), 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stacks", nargs="+", metavar="STACK", help="stacks to deploy (genai-finops stacks lists them)")
    add_out_argument(parser, "synth output directory holding the stacks")
    parser.add_argument("--auto-approve", action="store_true", help="apply without asking (CI)")
    parser.add_argument("--migrate-state", action="store_true", help="copy the state to a changed backend (README, State)")


def run(args: argparse.Namespace) -> int:
    from generators.errors import UsageError
    from generators.provision.deploy import advice, deploy

    out = Path(args.out)
    if not (out / "manifest.json").is_file():
        raise UsageError(f"{out}: no synthesized stacks (no manifest.json); run `genai-finops synth` first")
    if not Path("cdktf.json").is_file():
        raise UsageError("no cdktf.json in the current directory: run from the project root (genai-finops init writes one)")
    missing = [name for name in args.stacks if not (out / "stacks" / name / "cdk.tf.json").is_file()]
    if missing:
        raise UsageError(f"{', '.join(missing)}: not in {out}/stacks (synth --only may have left them out)")
    extra = [flag for flag, on in (("--auto-approve", args.auto_approve), ("--migrate-state", args.migrate_state)) if on]
    code, condensed = deploy(out, args.stacks, extra, print)
    errors = condensed.errors
    if code != 0:
        print(f"\n---- deploy failed (cdktf exit {code}); {len(errors)} error{'s' if len(errors) != 1 else ''}, repeated here ----", file=sys.stderr)
        for block in errors:
            print("\n".join(block) + "\n", file=sys.stderr)
        for line in advice(errors, args.stacks):
            print(line, file=sys.stderr)
        return 1
    return 0
