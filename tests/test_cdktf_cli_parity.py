"""`npx cdktf synth` (cdktf-cli 0.21.0 from package-lock.json) and `genai-finops synth` agree.

cdktf.json runs main.py, which plans and builds the app exactly as `genai-finops synth` does;
this runs the real CLI (it needs node_modules from `npm ci`, which `make test` installs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import load_output
from tests.manifest_helpers import REPO

CDKTF = REPO / "node_modules" / ".bin" / "cdktf"


def comparable(stack: dict, stack_dir) -> dict:
    """Drop what legitimately differs between two runs of two tools: the cdktf metadata block;
    the local state path is compared as the file it names from the stack's directory."""
    stack = json.loads(json.dumps(stack))
    stack.pop("//", None)
    local = stack["terraform"]["backend"]["local"]
    local["path"] = str((stack_dir / local["path"]).resolve())
    return stack


@pytest.mark.slow
def test_cdktf_cli_synth_produces_the_same_stacks(synthesized_examples, tmp_path):
    if not CDKTF.exists():
        pytest.fail("node_modules/.bin/cdktf is missing: run `make install` (npm ci) first")
    env = dict(os.environ, CHECKPOINT_DISABLE="1", CI="1", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    out = tmp_path / "cli.out"
    result = subprocess.run(
        [str(CDKTF), "synth", "--output", str(out)], cwd=REPO, capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    cli = load_output(out)
    ours = synthesized_examples.stacks
    assert sorted(cli) == sorted(ours)
    for name in ours:
        theirs = comparable(cli[name], out / "stacks" / name)
        assert theirs == comparable(ours[name], synthesized_examples.out_dir / "stacks" / name), f"stack {name} differs"
        assert theirs["terraform"]["backend"]["local"]["path"] == str(REPO / "state" / f"{name}.tfstate")
    shutil.rmtree(out, ignore_errors=True)
