"""`genai-finops synth`: Terraform JSON for every stack, written atomically."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generators.commands._common import add_manifest_arguments, add_only_argument, add_out_argument, load_manifests

NAME = "synth"
HELP = "validate, then write Terraform JSON for every stack to DIR/stacks/<stack>/cdk.tf.json"
DESCRIPTION = """\
Validate the manifests, then synthesize one TeamStack per team and the GovernanceStack with
cdktf, and write DIR/stacks/<stack>/cdk.tf.json. Nothing is written when any manifest is
invalid, and DIR is replaced as a whole only after every stack was written: a failed run
leaves the previous output as it was. The same stacks come from `npx cdktf synth` (cdktf.json).
The first cdktf import starts a Node.js (jsii) runtime: expect ~20 s before the first stack.
A stack whose inputs (its manifest, the org policy, the code and pinned versions that build it,
the output directory) are unchanged since the previous synth into DIR is copied from there,
byte for byte; when nothing changed, cdktf does not start at all. --no-cache builds every stack."""
EPILOG = """\
examples:
  genai-finops synth                               manifests/ -> cdktf.out/
  genai-finops synth manifests --out cdktf.out
  genai-finops synth --only alpha                  one team's stack, for a PR that touches alpha.yaml
  genai-finops synth --no-cache                    build every stack, reuse nothing
  cd cdktf.out/stacks/alpha && terraform init && terraform plan

exit codes: 0 written, 1 invalid manifests or cdktf failed (output unchanged), 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_out_argument(parser, "output directory")
    add_only_argument(parser, "STACK", "synthesize only these stacks (team names, or governance); DIR then holds only them")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument("--no-cache", action="store_true", help="synthesize every stack; reuse nothing from the previous output")


def run(args: argparse.Namespace) -> int:
    from stacks.synthesis import synthesize

    manifests = load_manifests(args)
    started = time.perf_counter()

    def progress(index: int, total: int, stack) -> None:
        if not args.quiet:
            print(f"[{index}/{total}] {stack.kind} stack {stack.name}", file=sys.stderr, flush=True)

    def starting() -> None:
        if not args.quiet:
            print("starting cdktf (jsii) ...", file=sys.stderr, flush=True)

    result = synthesize(manifests, Path(args.out), args.only, progress, reuse=not args.no_cache, starting=starting)
    elapsed = time.perf_counter() - started
    reused = f" ({len(result.reused)} unchanged, reused from the previous output)" if result.reused else ""
    print(f"wrote {len(result.stacks)} stack{'s' if len(result.stacks) != 1 else ''} to {args.out}/stacks in {elapsed:.1f} s{reused}")
    return 0
