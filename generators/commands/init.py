"""`genai-finops init DIR`: start a company's repository (the work is generators/project_init.py)."""

from __future__ import annotations

import argparse

NAME = "init"
HELP = "start a repository: genai-finops.toml, DIR/org.yaml, a first team, the CI workflow and the pre-commit hook"
DESCRIPTION = """\
Write, relative to the current directory (your repository's root), a starting project that
every genai-finops command, CI and pre-commit read the same way:

  genai-finops.toml                    manifests = "DIR", out = "cdktf.out"
  DIR/org.yaml                         the org policy (replace the example account, subnets, e-mails)
  DIR/teams/TEAM.yaml                  the first team
  .pre-commit-config.yaml              genai-finops validate before every commit
  .github/workflows/genai-finops.yml   validate, price against the base branch, synth, scan
  cdktf.json                           what the cdktf CLI reads (genai-finops deploy)

Nothing is replaced: if any of these exists, init writes nothing and says which."""
EPILOG = """\
examples:
  genai-finops init manifests                    then: genai-finops validate && genai-finops cost
  genai-finops init finops/manifests --team search

exit codes: 0 written, 1 a file already exists, 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="the manifests directory to create, relative to the repository root")
    parser.add_argument("--team", default="team-a", help="the first team's name (default: team-a)")


def run(args: argparse.Namespace) -> int:
    from generators.cli import version
    from generators.project_init import init

    written = init(args.directory, args.team, version().split(" ")[0])
    width = max(len(str(w.path)) for w in written)
    for w in written:
        print(f"wrote {str(w.path):<{width}}  {w.what}")
    print("next: edit the org policy, then `genai-finops validate`, `genai-finops cost`, `genai-finops synth`, `genai-finops scan`")
    return 0
