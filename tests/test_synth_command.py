"""`genai-finops synth`: validate first, write atomically, keep the previous output on failure."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from generators.errors import UsageError
from generators.manifest.loading import load_manifest_set
from stacks import synthesis
from tests.conftest import load_output
from tests.manifest_helpers import REPO, example, write_manifests

CLI = [sys.executable, "-m", "generators.cli"]


def test_synth_writes_every_stack_file_and_a_cdktf_manifest(synthesized_examples):
    out = synthesized_examples.out_dir
    assert (out / "manifest.json").is_file()
    for name in ("governance", "alpha", "bravo", "charlie"):
        assert (out / "stacks" / name / "cdk.tf.json").is_file()
    # synth's staging and retired directories (stacks/synthesis.py); scan's cache may sit beside it
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith((f".{out.name}.new-", f".{out.name}.old-"))]
    assert leftovers == [], "staging or retired directories were left behind"


def test_invalid_manifests_write_nothing_and_exit_one(tmp_path):
    alpha = example("alpha")
    alpha["training"][0]["instance_type"] = "g5.xlarg"
    write_manifests(tmp_path / "m", {"alpha": alpha})
    out = tmp_path / "out"
    result = subprocess.run([*CLI, "synth", str(tmp_path / "m"), "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "training[0].instance_type: 'g5.xlarg' is not a known accelerated (GPU or Neuron) instance type; did you mean g5.xlarge" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), "nothing may be written from invalid manifests"
    assert "starting cdktf" not in result.stderr, "validation must come before the jsii start-up"


def test_an_interrupted_synth_leaves_the_previous_output_as_it_was(synthesized_examples, tmp_path):
    """Ctrl-C while the stacks are being built (through the public progress callback, after the
    staging directory exists and a stack has been constructed) changes nothing in the output."""
    out = tmp_path / "out"
    manifests = load_manifest_set(["manifests"])
    synthesis.synthesize(manifests, out, only=["bravo"])
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    seen = []

    def interrupt_on_the_second_stack(index, total, stack):
        seen.append(stack.name)
        staging = [p for p in tmp_path.iterdir() if p.name.startswith(".out.new-")]
        assert staging, "the staging directory exists while stacks are built"
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthesis.synthesize(manifests, out, progress=interrupt_on_the_second_stack, reuse=False)
    assert len(seen) == 2
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "the staging directory must be removed"


def test_only_synthesizes_the_named_stacks(synthesized_examples, tmp_path):
    result = synthesis.synthesize(load_manifest_set(["manifests"]), tmp_path / "out", only=["charlie"])
    assert result.stacks == ("charlie",)
    written = load_output(tmp_path / "out")
    assert list(written) == ["charlie"]
    assert written["charlie"]["resource"] == synthesized_examples.stacks["charlie"]["resource"]


def test_refuses_to_replace_a_directory_that_is_not_synth_output(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not a genai-finops/cdktf output directory"):
        synthesis.synthesize(load_manifest_set(["manifests"]), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_synthesis_is_deterministic(synthesized_examples, tmp_path):
    again = synthesis.synthesize(load_manifest_set(["manifests"]), tmp_path / "again")
    assert load_output(again.out_dir) == synthesized_examples.stacks


def test_help_explains_synth_with_examples():
    result = subprocess.run([*CLI, "synth", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--only" in result.stdout and "examples:" in result.stdout


@pytest.mark.slow
def test_cli_shows_progress_per_stack_and_a_summary(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([*CLI, "synth", "manifests", "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert progress == ["[1/4] governance stack governance", "[2/4] team stack alpha", "[3/4] team stack bravo", "[4/4] team stack charlie"]
    assert result.stdout.startswith(f"wrote 4 stacks to {out}/stacks in ")
    assert json.loads((out / "stacks" / "alpha" / "cdk.tf.json").read_text())["resource"]["aws_instance"]


def test_main_py_reports_bad_manifests_as_the_cli_does(tmp_path):
    """cdktf synth runs main.py; a bad manifest there is the same located problem and exit 1 as
    `genai-finops synth` gives, before any stack is built (generators.cli.run_reporting)."""
    alpha = example("alpha")
    alpha["training"][0]["instance_type"] = "g5.xlarg"
    write_manifests(tmp_path / "m", {"alpha": alpha})
    env = {**__import__("os").environ, "GENAI_FINOPS_MANIFESTS": str(tmp_path / "m"), "CDKTF_OUTDIR": str(tmp_path / "out")}
    via_main = subprocess.run([sys.executable, "main.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    via_cli = subprocess.run([*CLI, "validate", str(tmp_path / "m")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert via_main.returncode == via_cli.returncode == 1
    assert "Traceback" not in via_main.stderr
    problem = f"{tmp_path}/m/teams/alpha.yaml:"
    [main_line] = [line for line in via_main.stderr.splitlines() if line.startswith(problem)]
    assert main_line in via_cli.stderr.splitlines() or main_line in via_cli.stdout.splitlines()
    assert not (tmp_path / "out").exists()
