"""A company's own repository, as `genai-finops init` starts it, outside this one: every command
reads its manifests and output from genai-finops.toml, nothing falls back to the shipped examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.manifest_helpers import REPO

CHECKOV = os.environ.get("GENAI_FINOPS_CHECKOV") or str(REPO / ".venv" / "tools" / "checkov" / "bin" / "checkov")


def genai_finops(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("GENAI_FINOPS_MANIFESTS", "GENAI_FINOPS_OUT")}
    environment.update({"GENAI_FINOPS_CHECKOV": CHECKOV, "CHECKPOINT_DISABLE": "1", **(env or {})})
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=cwd, capture_output=True, text=True, env=environment, timeout=600)


def test_init_writes_a_project_that_validates_and_prices_and_never_replaces_a_file(tmp_path):
    done = genai_finops(tmp_path, "init", "finops/manifests", "--team", "search")
    assert done.returncode == 0, done.stderr
    written = {"genai-finops.toml", "finops/manifests/org.yaml", "finops/manifests/teams/search.yaml", ".pre-commit-config.yaml",
               ".github/workflows/genai-finops.yml", "cdktf.json"}
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()} == written
    hook = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"][0]
    assert hook["files"] == "^finops/manifests/" and hook["entry"] == "genai-finops validate"
    workflow = yaml.safe_load((tmp_path / ".github/workflows/genai-finops.yml").read_text())
    assert workflow[True]["pull_request"]["paths"][0] == "finops/manifests/**"  # YAML 1.1 reads `on` as true
    validated = genai_finops(tmp_path, "validate")
    assert validated.returncode == 0 and "finops/manifests/org.yaml and 1 team manifest valid (search)" in validated.stdout, validated.stderr
    priced = genai_finops(tmp_path, "cost", "--format", "json")
    assert priced.returncode == 0 and [t["team"] for t in json.loads(priced.stdout)["teams"]] == ["search"]

    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    (tmp_path / "genai-finops.toml").unlink()
    again = genai_finops(tmp_path, "init", "finops/manifests", "--team", "search")
    assert again.returncode == 1 and "already exist" in again.stderr and not (tmp_path / "genai-finops.toml").exists()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == {p: b for p, b in before.items() if p.name != "genai-finops.toml"}


@pytest.mark.parametrize(("directory", "team", "message"), [
    ("/etc/manifests", "search", "inside the repository"), ("../elsewhere", "search", "inside the repository"), ("manifests", "Search!", "--team"),
])
def test_init_refuses_a_directory_outside_the_repository_or_a_bad_team_name(tmp_path, directory, team, message):
    done = genai_finops(tmp_path, "init", directory, "--team", team)
    assert done.returncode == 2 and message in done.stderr and not any(tmp_path.iterdir())


def test_a_bad_project_file_is_a_usage_error_naming_the_setting(tmp_path):
    (tmp_path / "genai-finops.toml").write_text('manifest = "m"\nout = 3\n')
    done = genai_finops(tmp_path, "validate")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "manifest: not a setting (did you mean 'manifests'?)" in done.stderr and "out: expected a path as a string" in done.stderr


def test_the_environment_and_the_command_line_win_over_the_project_file(tmp_path):
    genai_finops(tmp_path, "init", "manifests")
    (tmp_path / "genai-finops.toml").write_text('manifests = "nowhere"\n')
    assert genai_finops(tmp_path, "validate").returncode == 2
    assert genai_finops(tmp_path, "validate", env={"GENAI_FINOPS_MANIFESTS": "manifests"}).returncode == 0
    assert genai_finops(tmp_path, "validate", "manifests").returncode == 0


@pytest.mark.slow
def test_an_initialised_repository_synthesizes_scans_and_shows_back_with_its_own_manifests(tmp_path):
    assert genai_finops(tmp_path, "init", "manifests", "--team", "search").returncode == 0
    synth = genai_finops(tmp_path, "synth", "--quiet")
    assert synth.returncode == 0, synth.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "cdktf.out" / "stacks").iterdir()) == ["governance", "search"]
    scan = genai_finops(tmp_path, "scan", "--format", "json")
    report = json.loads(scan.stdout or "{}")
    assert scan.returncode == 0, scan.stderr[-2000:]
    assert set(report["stacks"]) == {"governance", "search"} and report["unused_suppressions"] == []
    # the scan cache lives beside the output it serves, not in the working directory
    assert (tmp_path / ".cdktf.out.genai-finops-cache" / "scan").is_dir() and not (tmp_path / ".genai-finops-cache").exists()
    sample = subprocess.run([sys.executable, "-m", "generators.samples.focus_sample", "manifests", "--month", "2026-10", "--out", "billing"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert sample.returncode == 0, sample.stderr
    shown = genai_finops(tmp_path, "showback", "--billing", "billing", "--month", "2026-10", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert [t["team"] for t in json.loads(shown.stdout)["teams"]] == ["search"]
    # Deploy, as far as this machine allows (no registry, no AWS: never real AWS here), with the
    # pinned CLI installed in the repository as `npm install cdktf-cli@0.21.0` would.
    (tmp_path / "node_modules").symlink_to(REPO / "node_modules")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "TF_CLI_CONFIG_FILE": str(tmp_path / "none.tfrc")}
    deployed = genai_finops(tmp_path, "deploy", "search", env=env)
    assert deployed.returncode == 1 and "---- deploy failed" in deployed.stderr and "Traceback" not in deployed.stderr
    assert "Stacks deploying" not in deployed.stdout and "Error:" in deployed.stderr.split("---- deploy failed", 1)[1]


@pytest.mark.slow
def test_the_cdktf_entry_point_reads_the_projects_manifests(tmp_path):
    """The app init's cdktf.json names (python -m stacks.cdktf_app, as this repository's main.py runs
    it) synthesizes the project's team, not the shipped examples."""
    assert genai_finops(tmp_path, "init", "company/manifests", "--team", "ranking").returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("GENAI_FINOPS_MANIFESTS", "GENAI_FINOPS_OUT")}
    env.update({"CDKTF_OUTDIR": str(tmp_path / "cli.out"), "CHECKPOINT_DISABLE": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"})
    app = json.loads((tmp_path / "cdktf.json").read_text())["app"]
    assert app == "python -m stacks.cdktf_app"
    done = subprocess.run([sys.executable, "-m", "stacks.cdktf_app"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "cli.out" / "stacks").iterdir()) == ["governance", "ranking"]


def test_deploy_output_drops_progress_and_repeats_and_puts_errors_last():
    """What cdktf deploy prints without a terminal, condensed (generators/provision/deploy.py)."""
    from generators.provision.deploy import Condensed

    warning = ["╷", "│ Warning: Unable to open CLI configuration file", "│ The CLI configuration file at \"/root/.terraformrc\" does not exist.", "╵", ""]
    stream = ["Deploying Stack: alpha"] + ["1 Stack deploying     0 Stacks done     0 Stacks waiting"] * 300 + warning * 7 + [
        "alpha  Error: creating EC2 Instance: InsufficientInstanceCapacity", "", "            with aws_instance.train_0 (train/0),", "",
        "", "Error: terraform apply failed with exit code 1"]
    condensed = Condensed()
    shown = [line for line in (condensed.feed(raw + "\n") for raw in stream) if line is not None]
    errors = condensed.finish()
    assert not any("Stacks deploying" in line for line in shown)
    assert shown.count("│ Warning: Unable to open CLI configuration file") == 1
    assert errors == [["alpha  Error: creating EC2 Instance: InsufficientInstanceCapacity", "", "            with aws_instance.train_0 (train/0),"],
                      ["Error: terraform apply failed with exit code 1"]]
    assert condensed.dropped == 300 + 6 * 2  # the progress lines, and each repeated warning line after its first


def test_a_changed_backend_gets_the_way_out():
    from generators.provision.deploy import Condensed, advice

    condensed = Condensed()
    for line in ["alpha  Error: Backend configuration changed", "", "A change in the backend configuration has been detected"]:
        condensed.feed(line)
    (said,) = advice(condensed.finish(), ["alpha"])
    assert "genai-finops deploy --migrate-state alpha" in said and "-reconfigure" in said


@pytest.mark.slow
def test_deploy_runs_the_pinned_cdktf_on_the_synthesized_stacks_and_ends_with_the_error(synthesized_examples, tmp_path):
    """The real CLI, on the stacks synth wrote: it cannot succeed here (no registry or no AWS),
    and whatever fails is repeated after the rule at the end; never a fresh synth, never real AWS."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "TF_CLI_CONFIG_FILE": str(tmp_path / "none.tfrc")}
    done = genai_finops(REPO, "deploy", "governance", "--out", str(synthesized_examples.out_dir), env=env)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Stacks deploying" not in done.stdout and "Synthesizing" not in done.stdout
    tail = done.stderr.split("---- deploy failed", 1)
    assert len(tail) == 2 and "Error:" in tail[1] and "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "message"), [(["alpha", "--out", "nowhere"], "run `genai-finops synth` first")])
def test_deploy_refuses_without_synthesized_stacks(args, message):
    done = genai_finops(REPO, "deploy", *args)
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.slow
def test_a_built_wheel_carries_what_an_installed_genai_finops_reads(tmp_path):
    """pip install of a wheel, not of this checkout: the price catalog, the checkov pin, the
    templates, our checks and their suppressions, the off-hours code all travel in it, and
    init, validate and cost run from it outside this repository."""
    source = tmp_path / "source"
    subprocess.run(["git", "clone", "-q", str(REPO), str(source)], check=True, timeout=120)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("genai_finops-*.whl")
    installed = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(installed), str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    company = tmp_path / "company"
    company.mkdir()
    # the wheel's modules first, this checkout nowhere on the path (the dependencies come from the venv)
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONSAFEPATH": "1"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=company, capture_output=True, text=True, env=env, timeout=300)

    where = subprocess.run([sys.executable, "-c", "import generators, policies, lambdas.offhours; print(generators.__file__)"],
                           cwd=company, capture_output=True, text=True, env=env, timeout=60)
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr
    assert run("init", "manifests").returncode == 0
    assert run("validate").returncode == 0
    priced = run("cost", "--format", "json")
    assert priced.returncode == 0 and json.loads(priced.stdout)["prices"].startswith(str(installed))
    pinned = subprocess.run([sys.executable, "-c", "from generators.scan.checkov_adapter import pinned_version, POLICIES_DIR; "
                             "print(pinned_version(), (POLICIES_DIR / 'suppressions.yaml').is_file())"],
                            cwd=company, capture_output=True, text=True, env=env, timeout=60)
    from generators.scan.checkov_adapter import pinned_version

    assert pinned.returncode == 0 and pinned.stdout.split() == [pinned_version(), "True"]
