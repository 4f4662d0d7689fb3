"""Our CKV_GFO_* checks, run by the real pinned checkov over hand-written cdktf-shaped Terraform JSON.

checkov runs once per session over tests/fixtures/policies/*.tf.json; each fixture resource is
named `<pass|fail|skip><check number>_...` after what it exercises, and every assertion looks
up one (check, file, resource) result.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "policies"
POLICIES = ROOT / "policies"
OUR_CHECKS = [f"CKV_GFO_00{n}" for n in range(1, 6)]


def checkov_binary() -> str:
    binary = os.environ.get("GENAI_FINOPS_CHECKOV") or str(ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov")
    if not Path(binary).is_file():
        pytest.fail(f"checkov not found at {binary}: run make install (it builds .venv/tools/checkov)")
    return binary


def run_checkov(policy: Path | None, checks: list[str]) -> dict:
    """checkov over the fixtures with our checks staged exactly as `genai-finops scan` stages them."""
    from generators.scan.checkov_adapter import stage_checks as _stage_checks

    env = {key: value for key, value in os.environ.items() if key != "GENAI_FINOPS_POLICY"}
    if policy is not None:
        env["GENAI_FINOPS_POLICY"] = str(policy)
    command = [
        checkov_binary(), "-d", str(FIXTURES), "--framework", "terraform_json", "--skip-download",
        "--external-checks-dir", "CHECKS", "-o", "json", "--compact", "--check", ",".join(checks),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        command[command.index("CHECKS")] = str(_stage_checks(Path(tmp) / "checks"))
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    return json.loads(completed.stdout)


@pytest.fixture(scope="session")
def results() -> dict[tuple[str, str, str], str]:
    report = run_checkov(FIXTURES / "org_policy.json", OUR_CHECKS)
    assert report["summary"]["parsing_errors"] == 0
    found = {}
    for key, status in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
        for record in report["results"][key]:
            name = record["resource"].split(".", 1)[1]
            found[(record["check_id"], Path(record["file_path"]).name.removesuffix(".tf.json"), name)] = status
    return found


EXPECTED = [
    # CKV_GFO_001: required tags on GPU instances, node groups and launch templates
    ("CKV_GFO_001", "gfo_001_required_tags", "pass001_gpu_instance", "PASSED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "fail001_gpu_instance_no_modelid", "FAILED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "fail001_gpu_instance_untagged", "FAILED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "skip001_cpu_instance_untagged", None),
    ("CKV_GFO_001", "gfo_001_required_tags", "pass001_pool", "PASSED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "fail001_pool_empty_costcenter", "FAILED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "pass001_lt", "PASSED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "fail001_lt_no_tags", "FAILED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "pass001_profile", "PASSED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "fail001_profile_no_team", "FAILED"),
    ("CKV_GFO_001", "gfo_001_required_tags", "fail001_profile_untagged", "FAILED"),
    # CKV_GFO_002: GPU instance types in the allow-list (g5.*, g6.*, g6e.*, p4d.*, p5.*)
    ("CKV_GFO_002", "gfo_002_allow_list", "pass002_allowed_instance", "PASSED"),
    ("CKV_GFO_002", "gfo_002_allow_list", "fail002_refused_instance", "FAILED"),
    ("CKV_GFO_002", "gfo_002_allow_list", "skip002_cpu_instance", None),
    ("CKV_GFO_002", "gfo_002_allow_list", "pass002_allowed_pool", "PASSED"),
    ("CKV_GFO_002", "gfo_002_allow_list", "fail002_pool_one_refused", "FAILED"),
    # CKV_GFO_003: bounded node groups with a launch template tagging instances and volumes
    ("CKV_GFO_003", "gfo_003_node_groups", "pass003_pool", "PASSED"),
    ("CKV_GFO_003", "gfo_003_node_groups", "fail003_pool_no_max", "FAILED"),
    ("CKV_GFO_003", "gfo_003_node_groups", "fail003_pool_max_expression", "FAILED"),
    ("CKV_GFO_003", "gfo_003_node_groups", "fail003_pool_no_launch_template", "FAILED"),
    ("CKV_GFO_003", "gfo_003_node_groups", "skip003_cpu_pool", None),
    ("CKV_GFO_003", "gfo_003_node_groups", "pass003_lt", "PASSED"),
    ("CKV_GFO_003", "gfo_003_node_groups", "fail003_lt_instance_only", "FAILED"),
    ("CKV_GFO_003", "gfo_003_node_groups", "fail003_lt_volume_missing_team", "FAILED"),
    # CKV_GFO_004 (per-resource half): a budget notification with a subscriber
    ("CKV_GFO_004", "gfo_004_budget", "pass004_budget_email", "PASSED"),
    ("CKV_GFO_004", "gfo_004_budget", "pass004_budget_sns", "PASSED"),
    ("CKV_GFO_004", "gfo_004_budget", "fail004_budget_no_subscriber", "FAILED"),
    ("CKV_GFO_004", "gfo_004_budget", "fail004_budget_no_notification", "FAILED"),
    # CKV_GFO_005: IMDSv2 on training instances
    ("CKV_GFO_005", "gfo_005_imdsv2", "pass005_instance_imdsv2", "PASSED"),
    ("CKV_GFO_005", "gfo_005_imdsv2", "pass005_instance_imds_disabled", "PASSED"),
    ("CKV_GFO_005", "gfo_005_imdsv2", "fail005_instance_optional_tokens", "FAILED"),
    ("CKV_GFO_005", "gfo_005_imdsv2", "fail005_instance_no_metadata_options", "FAILED"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("check", "fixture", "resource", "expected"), EXPECTED, ids=[f"{c}-{r}" for c, _, r, _ in EXPECTED])
def test_check_judges_fixture_resource(results, check, fixture, resource, expected):
    # None: the resource is out of the check's scope (e.g. a CPU instance), so no result at all.
    assert results.get((check, fixture, resource)) == expected


@pytest.mark.parametrize("check", OUR_CHECKS)
def test_every_check_both_passes_and_fails_something_in_the_fixtures(results, check):
    """What checkov reported, not what the table above expects: a check that always passes (or
    always fails, or never runs) fails here."""
    outcomes = {status for (c, _, _), status in results.items() if c == check}
    assert {"PASSED", "FAILED"} <= outcomes, outcomes


@pytest.mark.parametrize("check", OUR_CHECKS)
def test_every_check_lives_in_its_own_file_with_a_docstring(check):
    files = [p for p in POLICIES.glob("ckv_gfo_*.py") if f'id="{check}"' in p.read_text(encoding="utf-8")]
    assert len(files) == 1
    source = files[0].read_text(encoding="utf-8")
    assert 'name="Ensure ' in source and "supported_resources=" in source
    # The class docstring (the second one in the file) says why the check matters.
    assert source.count('"""') >= 4


def test_checks_import_only_checkov_and_the_standard_library():
    import sys

    allowed = set(sys.stdlib_module_names) | {"checkov", "gfo_common", "gfo_facts", "__future__"}
    for path in POLICIES.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith(("import ", "from ")):  # indented imports too
                module = line.split()[1]
                assert module.split(".")[0] in allowed or module == "policies.gfo_facts", f"{path.name}: {line}"


def test_fixtures_are_in_the_cdktf_shape_with_construct_metadata():
    for path in FIXTURES.glob("*.tf.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert {"//", "provider", "resource", "terraform"} <= set(document)
        for items in document["resource"].values():
            for config in items.values():
                assert config["//"]["metadata"]["path"].startswith("alpha/")


@pytest.mark.slow
def test_checks_never_pass_without_the_org_policy(tmp_path):
    # Control: with the policy, the same run reports passes, so an empty result below comes from
    # the missing policy and not from checkov skipping the fixtures for another reason.
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"required_tags": ["Team"], "allowed_instance_types": ["g5.*", "g6.*"]}), encoding="utf-8")
    with_policy = run_checkov(policy, ["CKV_GFO_001", "CKV_GFO_002"])
    assert with_policy.get("results", {}).get("passed_checks"), "the control run must report passes"
    report = run_checkov(None, ["CKV_GFO_001", "CKV_GFO_002"])
    # checkov swallows the checks' PolicyError and drops the file's results (scan turns that into
    # an error); what matters here is that nothing is reported as passing.
    passed = report.get("results", {}).get("passed_checks", [])
    assert passed == []
