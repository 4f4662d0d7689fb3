"""`genai-finops scan`: exit codes, suppressions applied per resource, the stack-level budget check,
and every output format, over hand-written cdktf-shaped stacks scanned by the real pinned checkov."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generators.scan import checkov_adapter, render
from generators.scan import results as scan_results

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "policies"
CHECKOV = os.environ.get("GENAI_FINOPS_CHECKOV") or str(ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov")
CLI = [sys.executable, "-m", "generators.cli"]
REASON = "reviewed, this fixture exists to be suppressed"


def genai_finops(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {**os.environ, "GENAI_FINOPS_CHECKOV": CHECKOV, **(env or {})}
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, env=environment, timeout=300)


def stack_dir(root: Path, stacks: dict[str, dict]) -> Path:
    for name, document in stacks.items():
        target = root / "stacks" / name / "cdk.tf.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return root


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.tf.json").read_text(encoding="utf-8"))


def one_resource(document: dict, resource_type: str, name: str) -> dict:
    """`document` keeping only one resource (and its provider, terraform and metadata blocks)."""
    return {**document, "resource": {resource_type: {name: document["resource"][resource_type][name]}}}


def budget_stack() -> dict:
    return one_resource(fixture("gfo_004_budget"), "aws_budgets_budget", "pass004_budget_email")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    """alpha: a budget plus an IMDSv1 GPU instance (suppressed) and an untagged one (failing);
    bravo: only a budget, and terraform.required_version (checkov#7454); charlie: no budget;
    governance: no budget, which is fine for it."""
    root = tmp_path_factory.mktemp("scan")
    alpha = fixture("gfo_005_imdsv2")
    alpha["resource"] = {
        "aws_instance": {
            "imdsv1": alpha["resource"]["aws_instance"]["fail005_instance_optional_tokens"],
            "untagged": fixture("gfo_001_required_tags")["resource"]["aws_instance"]["fail001_gpu_instance_untagged"],
        },
        **budget_stack()["resource"],
    }
    bravo = budget_stack()
    bravo["terraform"]["required_version"] = ">= 1.5.0"
    charlie = one_resource(fixture("gfo_002_allow_list"), "aws_instance", "pass002_allowed_instance")
    governance = one_resource(fixture("gfo_005_imdsv2"), "aws_instance", "pass005_instance_imdsv2")
    stack_dir(root / "out", {"alpha": alpha, "bravo": bravo, "charlie": charlie, "governance": governance})
    suppressions = root / "suppressions.yaml"
    suppressions.write_text(
        "suppressions:\n"
        f"  - check: CKV_GFO_005\n    resource: alpha/aws_instance.imdsv1\n    reason: {REASON}\n"
        f"  - check: CKV_GFO_004\n    resource: '*/stack.charlie'\n    reason: {REASON}\n    expires: 2099-01-01\n"
        f"  - check: CKV_AWS_8\n    resource: 'aws_instance.never_there'\n    reason: {REASON}\n",
        encoding="utf-8",
    )
    result = genai_finops("scan", "--out", str(root / "out"), "--format", "json", "--suppressions", str(suppressions))
    return result, json.loads(result.stdout or "{}")


def results_for(report: dict, check: str, address: str) -> list[dict]:
    return [r for r in report["results"] if r["check_id"] == check and r["address"] == address]


@pytest.mark.slow
def test_unsuppressed_failure_exits_one_and_is_reported_with_its_stack_and_file(scanned):
    result, report = scanned
    assert result.returncode == 1, result.stderr
    [untagged] = results_for(report, "CKV_GFO_001", "alpha/aws_instance.untagged")
    assert untagged["status"] == "failed"
    assert untagged["stack"] == "alpha"
    assert untagged["file"].endswith("stacks/alpha/cdk.tf.json")
    assert untagged["construct_path"] == "alpha/fail001/gpu/instance/untagged"
    assert untagged["details"] == ["missing required tags: Team, Project, Owner, Environment, CostCenter, ModelID"]


@pytest.mark.slow
def test_suppression_applies_to_its_resource_only_and_carries_the_reason(scanned):
    _, report = scanned
    [imdsv1] = results_for(report, "CKV_GFO_005", "alpha/aws_instance.imdsv1")
    assert (imdsv1["status"], imdsv1["reason"]) == ("suppressed", REASON)
    # The other instance in the same stack fails the same built-in check family unsuppressed.
    assert results_for(report, "CKV_GFO_001", "alpha/aws_instance.untagged")[0]["status"] == "failed"


@pytest.mark.slow
def test_unused_suppression_is_a_warning_not_an_error(scanned):
    result, report = scanned
    assert "suppression CKV_AWS_8 on aws_instance.never_there matched no failed check" in result.stderr
    assert [s["resource"] for s in report["unused_suppressions"]] == ["aws_instance.never_there"]


@pytest.mark.slow
def test_team_stack_without_a_budget_fails_the_stack_level_budget_check(scanned):
    _, report = scanned
    assert [r["status"] for r in results_for(report, "CKV_GFO_004", "alpha/stack.alpha")] == ["passed"]
    assert [r["status"] for r in results_for(report, "CKV_GFO_004", "charlie/stack.charlie")] == ["suppressed"]
    assert results_for(report, "CKV_GFO_004", "governance/stack.governance") == []


@pytest.mark.slow
def test_cdktf_terraform_block_with_required_version_is_scanned(scanned):
    # checkov 3.3.30 alone skips such a file as a parsing error (see the next test); scan must not.
    _, report = scanned
    bravo = [r for r in report["results"] if r["stack"] == "bravo" and not r["resource"].startswith("stack.")]
    assert {r["check_id"] for r in bravo} >= {"CKV_GFO_004"}
    assert report["stacks"]["bravo"]["passed"] > 1
    # Line ranges point into the real file, not into scan's patched copy.
    [budget] = results_for(report, "CKV_GFO_004", "bravo/aws_budgets_budget.pass004_budget_email")
    lines = Path(report["stacks"]["bravo"]["file"]).read_text(encoding="utf-8").splitlines()
    assert '"pass004_budget_email"' in lines[budget["lines"][0] - 1]


@pytest.mark.slow
def test_pinned_checkov_alone_still_fails_to_parse_required_version(tmp_path):
    # When this fails, checkov fixed https://github.com/bridgecrewio/checkov/issues/7454 and
    # checkov_adapter._staged can go.
    document = budget_stack()
    document["terraform"]["required_version"] = ">= 1.5.0"
    stack_dir(tmp_path, {"bravo": document})
    completed = subprocess.run(
        [CHECKOV, "-d", str(tmp_path), "--framework", "terraform_json", "--skip-download", "-o", "json", "--compact"],
        capture_output=True, text=True, env={**os.environ, "CHECKPOINT_DISABLE": "1"}, check=False,
    )  # fmt: skip
    assert json.loads(completed.stdout)["summary"]["parsing_errors"] == 1


@pytest.mark.slow
def test_all_failures_suppressed_exits_zero_and_sarif_marks_them_suppressed(tmp_path):
    alpha = budget_stack()
    alpha["resource"]["aws_instance"] = {"untagged": fixture("gfo_001_required_tags")["resource"]["aws_instance"]["fail001_gpu_instance_untagged"]}
    stack_dir(tmp_path / "out", {"alpha": alpha})
    # Suppress every check that fails (ours and checkov's built-ins): then the gate must open.
    probe = genai_finops("scan", "--out", str(tmp_path / "out"), "--format", "json", "--suppressions", str(ROOT / "policies" / "suppressions.yaml"))
    assert probe.returncode == 1
    failed = [r for r in json.loads(probe.stdout)["results"] if r["status"] == "failed"]
    assert "CKV_GFO_001" in {r["check_id"] for r in failed}
    suppressions = tmp_path / "suppressions.yaml"
    entries = "".join(f"  - check: {check}\n    resource: alpha/*\n    reason: {REASON}\n" for check in sorted({r["check_id"] for r in failed}))
    suppressions.write_text("suppressions:\n" + entries, encoding="utf-8")

    sarif_file = tmp_path / "scan.sarif"
    result = genai_finops("scan", "--out", str(tmp_path / "out"), "--format", "sarif", "--output-file", str(sarif_file), "--suppressions", str(suppressions))
    assert result.returncode == 0, result.stderr
    sarif = json.loads(sarif_file.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert all(r["suppressions"][0]["justification"] == REASON for r in sarif["runs"][0]["results"])
    assert len(sarif["runs"][0]["results"]) == len(failed)


def test_no_stacks_is_a_usage_error_that_says_run_synth_first(tmp_path):
    result = genai_finops("scan", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "run genai-finops synth first" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_checkov_is_a_clear_error(tmp_path):
    stack_dir(tmp_path, {"alpha": budget_stack()})
    result = genai_finops("scan", "--out", str(tmp_path), env={"GENAI_FINOPS_CHECKOV": str(tmp_path / "nope")})
    assert result.returncode == 1
    assert "GENAI_FINOPS_CHECKOV=" in result.stderr and "not an executable file" in result.stderr
    assert "Traceback" not in result.stderr


def test_checkov_nowhere_is_a_clear_error(tmp_path, monkeypatch):
    """Not configured, not on PATH, and no .venv/tools/checkov beside the interpreter."""
    from generators.errors import ToolError

    monkeypatch.delenv("GENAI_FINOPS_CHECKOV", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(checkov_adapter, "installed_checkov", lambda: None)
    with pytest.raises(ToolError, match="checkov not found"):
        checkov_adapter.find_checkov()


def test_invalid_suppression_file_exits_one_with_file_line(tmp_path):
    stack_dir(tmp_path / "out", {"alpha": budget_stack()})
    bad = tmp_path / "suppressions.yaml"
    bad.write_text("suppressions:\n  - check: CKV_AWS_1\n    resource: '*'\n    reason: ok\n", encoding="utf-8")
    result = genai_finops("scan", "--out", str(tmp_path / "out"), "--suppressions", str(bad))
    assert result.returncode == 1
    assert "suppressions.yaml:4:13: suppressions[0].reason:" in result.stderr


# --------------------------------------------------------------------------- rendering, no checkov


def result(status: str, check: str = "CKV_GFO_001", stack: str = "alpha", resource: str = "aws_instance.train", reason: str = "") -> scan_results.Result:
    return scan_results.Result(check, "Ensure a thing", status, stack, resource, f"out/stacks/{stack}/cdk.tf.json", (3, 9), details=["why"], reason=reason)


def stacks(*names: str) -> list[scan_results.Stack]:
    return [scan_results.Stack(name, Path(f"out/stacks/{name}/cdk.tf.json"), f"out/stacks/{name}/cdk.tf.json", {}) for name in names]


SAMPLE = [result("failed"), result("passed", check="CKV_GFO_005"), result("suppressed", check="CKV_AWS_8", stack="bravo", reason=REASON)]


def test_cli_table_counts_per_stack_and_lists_each_failure():
    text = render.render_cli(SAMPLE, stacks("alpha", "bravo"), "3.3.30", [])
    lines = text.splitlines()
    assert lines[:4] == [
        "stack  passed  failed  suppressed",
        "alpha       1       1           0",
        "bravo       0       0           1",
        "total       1       1           1",
    ]
    assert "FAILED CKV_GFO_001 Ensure a thing" in lines
    assert "  resource: alpha/aws_instance.train" in lines
    assert "  file:     out/stacks/alpha/cdk.tf.json:3-9" in lines
    assert "\033[" not in text


def test_sarif_has_rules_failures_as_errors_and_suppressions_with_justification():
    sarif = json.loads(render.render_sarif(SAMPLE, stacks("alpha", "bravo"), "3.3.30", []))
    run = sarif["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["CKV_AWS_8", "CKV_GFO_001"]
    failed, suppressed = run["results"]
    assert failed["ruleId"] == "CKV_GFO_001" and "suppressions" not in failed
    assert failed["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "out/stacks/alpha/cdk.tf.json"},
        "region": {"startLine": 3, "endLine": 9},
    }
    assert run["tool"]["driver"]["rules"][failed["ruleIndex"]]["id"] == "CKV_GFO_001"
    assert suppressed["suppressions"] == [{"kind": "external", "justification": REASON}]


def test_junit_has_a_suite_per_stack_with_failures_and_skips():
    root = ET.fromstring(render.render_junitxml(SAMPLE, stacks("alpha", "bravo"), "3.3.30", []))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    alpha, bravo = root.findall("testsuite")
    assert alpha.find("testcase/failure").get("type") == "CKV_GFO_001"
    assert bravo.find("testcase/skipped").get("message") == f"suppressed: {REASON}"


CDKTF_TERRAFORM_BLOCK = """{
  "//": {
    "outputs": {
    }
  },
  "terraform": {
    "backend": {
      "local": {
        "path": "terraform.alpha.tfstate"
      }
    },
    "required_version": ">= 1.5.0",
    "required_providers": {
      "aws": {
        "version": "6.21.0",
        "source": "aws"
      }
    }
  }
}
"""


def test_staging_blanks_scalar_terraform_settings_in_place_keeping_every_line():
    document = json.loads(CDKTF_TERRAFORM_BLOCK)
    staged = checkov_adapter._staged(CDKTF_TERRAFORM_BLOCK, document)
    before, after = CDKTF_TERRAFORM_BLOCK.splitlines(), staged.splitlines()
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [11]
    assert after[11] == '    "required_version": {},'
    assert json.loads(staged)["terraform"]["backend"] == document["terraform"]["backend"]


def test_staging_leaves_a_stack_without_scalar_terraform_settings_untouched():
    text = json.dumps(budget_stack(), indent=2)
    assert checkov_adapter._staged(text, json.loads(text)) == text


def test_staging_redumps_json_in_another_layout():
    document = budget_stack()
    document["terraform"]["required_version"] = ">= 1.5.0"
    staged = json.loads(checkov_adapter._staged(json.dumps(document), document))
    assert staged["terraform"]["required_version"] == {}


def test_resource_type_is_recovered_from_the_line_when_names_repeat(tmp_path):
    document = {
        "resource": {
            "aws_sqs_queue": {"dup": {"name": "q"}},
            "aws_sns_topic": {"dup": {"name": "t"}},
        }
    }
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    stack = scan_results.Stack("alpha", path, str(path), document, path.read_text(encoding="utf-8"))
    topic_line = json.dumps(document, indent=2).splitlines().index('    "aws_sns_topic": {') + 2
    assert checkov_adapter.resource_of({"resource": "resource.dup", "file_line_range": [topic_line, topic_line + 2]}, stack) == ("aws_sns_topic", "dup")
    assert checkov_adapter.resource_of({"resource": "aws_sqs_queue.dup"}, stack) == ("aws_sqs_queue", "dup")


def test_checkov_that_reports_nothing_for_a_stack_is_an_error(tmp_path):
    # A check that raises makes checkov drop the file's results and exit 0; scan must not pass then.
    fake = tmp_path / "checkov"
    report = {"summary": {"passed": 0, "failed": 0, "checkov_version": checkov_adapter.pinned_version()}, "results": {}}
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(report)}'\n", encoding="utf-8")
    fake.chmod(0o755)
    stack_dir(tmp_path / "out", {"alpha": budget_stack()})
    result = genai_finops("scan", "--out", str(tmp_path / "out"), env={"GENAI_FINOPS_CHECKOV": str(fake)})
    assert result.returncode == 1
    assert "checkov reported no result for the stacks alpha" in result.stderr


@pytest.mark.slow
def test_shipped_examples_synthesize_and_scan_with_zero_unsuppressed_failures(tmp_path):
    synth = genai_finops("synth", "manifests", "--out", str(tmp_path))
    assert synth.returncode == 0, synth.stderr[-3000:]
    result = genai_finops("scan", "--out", str(tmp_path), "--format", "json")
    report = json.loads(result.stdout or "{}")
    failed = [f"{r['check_id']} {r['address']} ({r['construct_path']}): {r['check_name']}" for r in report.get("results", []) if r["status"] == "failed"]
    assert result.returncode == 0, "\n".join(failed) or result.stderr[-3000:]
    assert set(report["stacks"]) == {"governance", "alpha", "bravo", "charlie"}
    assert report["unused_suppressions"] == []


def strip_metadata(value):
    if isinstance(value, dict):
        return {key: strip_metadata(item) for key, item in value.items() if key != "//"}
    if isinstance(value, list):
        return [strip_metadata(item) for item in value]
    return value


def test_metadata_blanking_keeps_every_line_and_all_but_the_metadata(synthesized_examples):
    text = (synthesized_examples.out_dir / "stacks" / "alpha" / "cdk.tf.json").read_text(encoding="utf-8")
    blanked = checkov_adapter._without_metadata(text)
    assert len(blanked.splitlines()) == len(text.splitlines())
    assert '"//"' in text and '"//"' not in blanked
    assert json.loads(blanked) == strip_metadata(json.loads(text))
    kept = [(a, b) for a, b in zip(text.splitlines(), blanked.splitlines()) if b.strip()]
    assert all(a == b for a, b in kept), "lines that stay must stay unchanged, where they were"


def checkov_results(command: list[str], root: Path, checks: Path, policy: Path) -> set[tuple]:
    completed = subprocess.run(
        [*command, "-d", str(root), "--framework", "terraform_json", "--skip-download",
         "--external-checks-dir", str(checks), "-o", "json", "--compact"],
        capture_output=True, text=True, env={**os.environ, checkov_adapter.POLICY_ENV: str(policy)}, timeout=600,
    )  # fmt: skip
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    results = report["results"]
    return {
        (status, r["check_id"], r["resource"], r["file_path"], tuple(r["file_line_range"]))
        for status in ("passed_checks", "failed_checks")
        for r in results[status]
    }


@pytest.mark.slow
def test_checkov_on_libyaml_reports_exactly_what_plain_checkov_reports(synthesized_examples, tmp_path):
    """scan runs checkov with its line-marking YAML loader rebuilt on libyaml; same results required."""
    assert checkov_adapter._checkov_command(CHECKOV)[1:2] == ["-c"], "the pinned checkov is a Python entry point"
    root = tmp_path / "stacks"
    names = sorted(path.name for path in (synthesized_examples.out_dir / "stacks").iterdir())
    assert names == ["alpha", "bravo", "charlie", "governance"], "a stack from every example"
    for name in names:
        text = (synthesized_examples.out_dir / "stacks" / name / "cdk.tf.json").read_text(encoding="utf-8")
        assert checkov_adapter.written_by_cdktf(text, json.loads(text)), f"{name}: the libyaml loader is only used on cdktf's layout"
        target = root / name / "cdk.tf.json"
        target.parent.mkdir(parents=True)
        target.write_text(checkov_adapter.stage(text, json.loads(text)), encoding="utf-8")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"required_tags": ["Team"], "allowed_instance_types": ["g5.*", "g6.*", "g6e.*"]}), encoding="utf-8")
    checks = checkov_adapter.stage_checks(tmp_path / "checks")
    plain = checkov_results([CHECKOV], root, checks, policy)
    fast = checkov_results(checkov_adapter._checkov_command(CHECKOV), root, checks, policy)
    assert len(plain) > 100 and any(r[1].startswith("CKV_GFO_") for r in plain)
    assert fast == plain


@pytest.mark.slow
def test_a_scan_whose_own_checks_did_not_load_fails_closed(synthesized_examples, tmp_path, monkeypatch, capsys):
    """Break policies/gfo_common.py on purpose: checkov drops our checks silently and still
    reports its own, so without the coverage check the scan would pass."""
    import shutil as _shutil

    from generators import cli

    broken = tmp_path / "policies"
    _shutil.copytree(checkov_adapter.POLICIES_DIR, broken)
    helper = broken / "gfo_common.py"
    helper.write_text('raise ImportError("broken on purpose by the test")\n' + helper.read_text())
    monkeypatch.setattr(checkov_adapter, "POLICIES_DIR", broken)

    code = cli.main(["scan", "--out", str(synthesized_examples.out_dir), "--format", "json"])

    err = capsys.readouterr().err
    assert code == 1
    assert "our checks did not run: CKV_GFO_001 on alpha (aws_bedrock_inference_profile, aws_instance)" in err
    assert "CKV_GFO_004 on alpha (aws_budgets_budget)" in err and "more" in err


def test_our_checks_are_read_from_their_sources():
    from generators.scan.results import our_checks

    checks = our_checks()
    assert sorted(checks) == [f"CKV_GFO_00{n}" for n in range(1, 6)]
    assert checks["CKV_GFO_004"] == {"aws_budgets_budget"} and "aws_instance" in checks["CKV_GFO_005"]


def test_a_checkov_other_than_the_pinned_version_is_refused(tmp_path):
    """Upgrading checkov must be a decision: its internals this adapter relies on are re-checked first."""
    fake = tmp_path / "checkov"
    report = {"summary": {"checkov_version": "9.9.9"}, "results": {"passed_checks": [], "failed_checks": []}}
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(report)}'\n", encoding="utf-8")
    fake.chmod(0o755)
    stack_dir(tmp_path / "out", {"alpha": budget_stack()})
    result = genai_finops("scan", "--out", str(tmp_path / "out"), env={"GENAI_FINOPS_CHECKOV": str(fake)})
    assert result.returncode == 1
    pinned = checkov_adapter.pinned_version()
    assert f"is checkov 9.9.9, but scan was checked against checkov {pinned} (generators/scan/checkov-requirements.txt)" in result.stderr
    assert "make install" in result.stderr and "generators/scan/checkov_adapter.py" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_checkov_make_installs_is_the_pinned_version():
    completed = subprocess.run([CHECKOV, "--version"], capture_output=True, text=True, timeout=120, check=False)
    assert completed.stdout.strip() == checkov_adapter.pinned_version(), completed.stderr[-2000:]


def test_the_policy_variable_is_the_one_our_checks_read():
    """policies/gfo_common.py runs in checkov's virtualenv and keeps its own copy of the name."""
    source = (ROOT / "policies" / "gfo_common.py").read_text(encoding="utf-8")
    assert f'POLICY_ENV = "{checkov_adapter.POLICY_ENV}"' in source


def recording_checkov(tmp_path: Path, stacks: list[str]) -> tuple[Path, Path]:
    """A checkov whose shebang names a `python3` that records its arguments and prints a report
    with one result per stack: what scan runs is then visible, bootstrap or not."""
    log = tmp_path / "argv.log"
    report = {
        "summary": {"checkov_version": checkov_adapter.pinned_version()},
        "results": {
            "passed_checks": [
                {"check_id": "CKV_GFO_004", "check_name": "budget", "resource": "aws_budgets_budget.b", "file_path": f"/{name}/cdk.tf.json", "file_line_range": [1, 2]}
                for name in stacks
            ],
            "failed_checks": [],
        },
    }
    interpreter = tmp_path / "bin" / "python3"
    interpreter.parent.mkdir()
    interpreter.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {log}\necho '{json.dumps(report)}'\n", encoding="utf-8")
    interpreter.chmod(0o755)
    checkov = tmp_path / "checkov"
    checkov.write_text(f"#!{interpreter}\n# -*- coding: utf-8 -*-\n", encoding="utf-8")
    checkov.chmod(0o755)
    return checkov, log


@pytest.mark.parametrize("layout", ["cdktf", "compact", "reindented"])
def test_the_libyaml_loader_is_used_only_for_stacks_in_cdktfs_layout(synthesized_examples, tmp_path, layout):
    path = synthesized_examples.out_dir / "stacks" / "alpha" / "cdk.tf.json"
    written = path.read_text(encoding="utf-8")
    document = json.loads(written)
    text = {"cdktf": written, "compact": json.dumps(document), "reindented": json.dumps(document, indent=4)}[layout]
    stack = scan_results.Stack("alpha", path, str(path), document, text)
    checkov, log = recording_checkov(tmp_path, ["alpha"])

    checkov_adapter.run_checkov(str(checkov), [stack], {"required_tags": ["Team"], "allowed_instance_types": ["g5.*"]})

    argv = log.read_text(encoding="utf-8").splitlines()
    bootstrapped = argv[0] == "-c" and "CSafeLineLoader" in "\n".join(argv)
    assert bootstrapped is (layout == "cdktf")
    if layout != "cdktf":
        assert argv[0] == str(checkov), "checkov itself, unchanged"
    assert argv[argv.index("--framework") + 1] == "terraform_json"
