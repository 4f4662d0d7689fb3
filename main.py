"""Entry point that `cdktf synth` / `cdktf deploy` run (see cdktf.json).

Produces the same stacks as `genai-finops synth manifests`: both go through
generators.provision.app_builder.plan_app and stacks.app.build_app. The manifests directory can be
changed with GENAI_FINOPS_MANIFESTS (several paths separated by the OS path separator).
Invalid manifests print every problem and exit 1 before any stack is built.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from generators.cli import run_reporting
from generators.environment import MANIFESTS_ENV
from generators.manifest.loading import load_manifest_set
from generators.provision.app_builder import DEFAULT_OUT_DIR, plan_app


def synth() -> int:
    paths = os.environ.get(MANIFESTS_ENV, "manifests").split(os.pathsep)
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
    return run_reporting("main.py", synth)


if __name__ == "__main__":
    sys.exit(main())
