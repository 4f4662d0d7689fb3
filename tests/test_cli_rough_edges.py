"""Rough edges a new user hit, each kept fixed by a test: pipes, stray files, checkov outside make."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.manifest_helpers import REPO, example, write_manifests

CLI = f"{sys.executable} -m generators.cli"


def piped(command: str, errors: Path) -> tuple[int, str]:
    """Run `command | head -c 20` in bash; the command's own exit code and its stderr."""
    done = subprocess.run(
        ["bash", "-c", f"{command} 2>{errors} | head -c 20 >/dev/null; echo ${{PIPESTATUS[0]}}"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    return int(done.stdout.strip()), errors.read_text()


@pytest.mark.parametrize("command", [f"{CLI} cost manifests --format json", f"{CLI} validate manifests --format json", f"{CLI} cost manifests"])
def test_piping_into_head_ends_quietly_with_success(command, tmp_path):
    code, err = piped(command, tmp_path / "stderr")
    assert code == 0 and "Traceback" not in err and "BrokenPipeError" not in err


def test_yaml_outside_teams_is_named_not_ignored_in_silence(tmp_path):
    root = write_manifests(tmp_path, {"alpha": example("alpha")})
    (root / "teams" / "ml").mkdir()
    (root / "teams" / "ml" / "bravo.yaml").write_text("version: 1\n")
    (root / "charlie.yaml").write_text("version: 1\n")
    done = subprocess.run([sys.executable, "-m", "generators.cli", "validate", str(root)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert f"warning: {root / 'teams' / 'ml' / 'bravo.yaml'} is not read: team manifests go in {root / 'teams'}/<team>.yaml" in done.stderr
    assert f"warning: {root / 'charlie.yaml'} is not read" in done.stderr


def test_an_empty_teams_directory_says_so_plainly(tmp_path):
    root = write_manifests(tmp_path, {})
    done = subprocess.run([sys.executable, "-m", "generators.cli", "validate", str(root)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"ok: {root / 'org.yaml'} valid; no team manifests"
    assert "warning: no team manifests" in done.stderr


@pytest.mark.slow
def test_scan_finds_the_checkov_make_installed_without_being_told(synthesized_examples):
    env = {k: v for k, v in os.environ.items() if k != "GENAI_FINOPS_CHECKOV"}
    # a PATH with the interpreter but without any checkov
    bare = Path(shutil.which("env") or "/usr/bin/env").parent
    env["PATH"] = f"{Path(sys.executable).parent}:{bare}"
    assert shutil.which("checkov", path=env["PATH"]) is None
    done = subprocess.run(
        [sys.executable, "-m", "generators.cli", "scan", "--out", str(synthesized_examples.out_dir), "--format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_cost_table_fits_120_columns_and_explains_low_expected_high(tmp_path):
    bravo = example("bravo")
    bravo["inference"][0]["instance_types"] = ["g5.xlarge", "g5.2xlarge", "g5.4xlarge", "g6.xlarge", "g6.2xlarge", "g6e.xlarge"]
    root = write_manifests(tmp_path, {"alpha": example("alpha"), "bravo": bravo, "charlie": example("charlie")})
    done = subprocess.run([sys.executable, "-m", "generators.cli", "cost", str(root), "--month", "2026-11"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120, max(lines, key=len)
    assert any(line.startswith("LOW: pools at min_nodes on their cheapest type; EXPECTED: desired_nodes") for line in lines)
    # the wrapped notes are all there, in order, on continuation lines
    text = " ".join(line.strip() for line in lines)
    assert "expected at the mean of g5.2xlarge, g5.4xlarge, g5.xlarge, g6.2xlarge, g6.xlarge, g6e.xlarge" in text


def test_version_is_the_installed_distributions():
    from importlib import metadata

    done = subprocess.run([sys.executable, "-m", "generators.cli", "--version"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"genai-finops {metadata.version('genai-finops')}"


@pytest.mark.parametrize(("args", "hint"), [
    (["cost", "--fomat", "json"], "(did you mean '--format'?)"),
    (["cost", "--format", "jsn"], "(did you mean 'json'?)"),
    (["shwoback"], "(did you mean 'showback'?)"),
    (["stacks", "--only", "alpah"], "(did you mean 'alpha'?)"),
    (["preflight", "--only", "brvo"], "(did you mean 'bravo'?)"),
])
def test_a_mistyped_option_command_or_name_gets_a_suggestion_and_exit_2(args, hint):
    done = subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and hint in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_team_file_outside_teams_says_where_org_yaml_was_looked_for(tmp_path):
    (tmp_path / "alpha.yaml").write_text((REPO / "manifests" / "teams" / "alpha.yaml").read_text())
    done = subprocess.run([sys.executable, "-m", "generators.cli", "validate", str(tmp_path / "alpha.yaml")], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"looked for {tmp_path / 'org.yaml'} beside {tmp_path / 'alpha.yaml'}, which is not in a teams/ folder" in done.stderr


def test_preflight_json_says_what_failed_when_there_are_no_credentials(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"})
    done = subprocess.run([sys.executable, "-m", "generators.cli", "preflight", "--format", "json"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["passed"] is False and report["checks"] == [] and "no AWS credentials" in report["error"]


def test_showback_of_one_team_file_shows_that_team(tmp_path):
    from generators.manifest.loading import load_manifest_set
    from generators.months import Month
    from generators.plan.pricing import load_catalog
    from generators.samples import focus_sample

    billing = focus_sample.write(tmp_path, focus_sample.rows(load_manifest_set(["manifests"]), load_catalog(), Month.parse("2026-10")))

    def showback(path: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "generators.cli", "showback", path, "--billing", str(billing), "--month", "2026-10",
                               "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    everyone, alpha = showback("manifests"), showback("manifests/teams/alpha.yaml")
    assert [t["team"] for t in alpha["teams"]] == ["alpha"] and alpha["unknown_teams"] == []
    assert {m["team"] for m in alpha["models"]} == {"alpha"}
    others = sum(t["actual_usd"] for t in everyone["teams"] if t["team"] != "alpha")
    assert any(f"2 other teams of these manifests (${others:,.2f}) is left out" in note for note in alpha["notes"]), alpha["notes"]
