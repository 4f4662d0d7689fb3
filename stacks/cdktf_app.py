"""The cdktf app: what `cdktf synth` / `cdktf deploy` run (cdktf.json's "app": this repository's
main.py calls it; a repository made with `genai-finops init` runs `python -m stacks.cdktf_app`).

Produces the same stacks as `genai-finops synth`: both go through
generators.provision.app_builder.plan_app and stacks.app.build_app, and both read the manifests
genai-finops.toml names (or GENAI_FINOPS_MANIFESTS; generators/project.py). The documented way to
deploy is from the stacks `genai-finops synth` wrote (`genai-finops deploy`); this entry point is
for `cdktf` commands that synthesize themselves. Invalid manifests print every problem and exit 1
before any stack is built.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from generators.cli import run_reporting
from generators.manifest.loading import load_manifest_set
from generators.provision.app_builder import DEFAULT_OUT_DIR, plan_app


def synth() -> int:
    from generators.project import settings

    paths = list(settings().manifests)
    # cdktf-cli tells the app where it writes (`cdktf synth --output DIR`); the local backend's
    # path is relative to each stack's directory there. cdktf's App reads the same variable.
    out_dir = Path(os.environ.get("CDKTF_OUTDIR", DEFAULT_OUT_DIR))
    plan = plan_app(load_manifest_set(paths), out_dir=out_dir)
    from stacks.app import build_app, synth_app

    synth_app(build_app(plan))
    return 0


def main() -> int:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # Bad manifests, usage and tool errors are reported as the CLI reports them.
    return run_reporting("cdktf app", synth)


if __name__ == "__main__":
    sys.exit(main())
