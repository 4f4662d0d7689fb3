"""A file with schema problems still gets its rule problems checked in the same run (issue 16):
what parsed is checked, what did not is dropped, and nothing dropped causes a false problem."""

from __future__ import annotations

import pytest

from generators.errors import ManifestError
from generators.manifest.loading import load_manifest_set
from tests.manifest_helpers import example, write_manifests


def problems_of(tmp_path, alpha: dict) -> list[str]:
    teams = {"alpha": alpha, "bravo": example("bravo"), "charlie": example("charlie")}
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(write_manifests(tmp_path, teams, example("org")))])
    return [f"{p.field}: {p.message}" for p in caught.value.problems]


def fields(found: list[str]) -> list[str]:
    return sorted(entry.split(":", 1)[0] for entry in found)


def test_schema_and_rule_problems_of_one_file_come_in_one_run(tmp_path):
    alpha = example("alpha")
    alpha["training"][0]["count"] = "two"  # schema: that training entry is dropped
    alpha["training"][1]["colour"] = "blue"  # schema: an unknown key, dropped alone
    alpha["training"][1]["instance_type"] = "m5.xlarge"  # rule, on the item after a dropped one
    alpha["budget"]["monthly_usd"] = 500000  # rule: over the org cap
    alpha["schedule"]["timezone"] = "Europe/Berlni"  # rule: not an IANA zone
    found = problems_of(tmp_path, alpha)
    assert fields(found) == sorted(
        ["training[0].count", "training[1].colour", "training[1].instance_type", "budget.monthly_usd", "schedule.timezone"]
    ), found
    assert any(f.startswith("training[1].instance_type: 'm5.xlarge' is not a known accelerated (GPU or Neuron) instance type") for f in found)


def test_the_rule_problem_points_at_the_line_of_the_item_not_its_index_after_dropping(tmp_path):
    alpha = example("alpha")
    alpha["training"][0]["count"] = "two"
    alpha["training"][1]["instance_type"] = "m5.xlarge"
    teams = {"alpha": alpha, "bravo": example("bravo"), "charlie": example("charlie")}
    root = write_manifests(tmp_path, teams, example("org"))
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(root)])
    [problem] = [p for p in caught.value.problems if p.field == "training[1].instance_type"]
    lines = (root / "teams" / "alpha.yaml").read_text(encoding="utf-8").splitlines()
    assert "m5.xlarge" in lines[problem.line - 1]


def test_dropping_every_training_entry_does_not_claim_stop_training_has_nothing_to_stop(tmp_path):
    alpha = example("alpha")
    assert alpha["budget"]["on_exceed"] == "stop-training"
    for job in alpha["training"]:
        job["count"] = "many"
    found = problems_of(tmp_path, alpha)
    assert fields(found) == ["training[0].count", "training[1].count"], found


def test_a_bad_owner_or_budget_does_not_hide_the_cross_checks(tmp_path):
    """The waves a tester met: owner and budget problems used to skip every rule of the file."""
    alpha = example("alpha")
    alpha["owner"] = "not-an-email"  # schema, required: stands in
    alpha["budget"]["monthly_usd"] = "lots"  # schema, required: the budget stands in
    alpha["cost_center"] = ""  # schema, required: stands in
    alpha["training"][0]["instance_type"] = "m5.xlarge"  # rule: not an accelerated type
    alpha["training"][1]["root_volume_gb"] = 40  # rule: smaller than the DLAMI's snapshot
    alpha["schedule"]["timezone"] = "UTC+2"  # rule: not an IANA name
    found = problems_of(tmp_path, alpha)
    assert fields(found) == sorted(["owner", "budget.monthly_usd", "cost_center", "training[0].instance_type",
                                    "training[1].root_volume_gb", "schedule.timezone"]), found


def test_a_stand_in_never_adds_a_problem_of_its_own(tmp_path):
    """prod with a bad budget: the stand-in ($1, notify) is within the cap and stops nothing, and
    a bad environment stands in as dev, which no rule restricts."""
    bravo = example("bravo")
    bravo["budget"] = {"monthly_usd": -5, "alerts_percent": [100]}
    bravo["environment"] = "production"
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(write_manifests(tmp_path, {"alpha": example("alpha"), "bravo": bravo, "charlie": example("charlie")}))])
    assert sorted(p.field for p in caught.value.problems) == ["budget.monthly_usd", "environment"]


def test_a_problem_in_a_field_the_rules_key_on_reports_only_the_schema_problems(tmp_path):
    alpha = example("alpha")
    alpha["region"] = ["us-east-1"]  # the rules key on it: nothing trustworthy is left to check
    alpha["budget"]["monthly_usd"] = 500000
    found = problems_of(tmp_path, alpha)
    assert fields(found) == ["region"], found


def test_a_rule_across_files_sees_a_salvaged_team(tmp_path):
    """bravo's schema problem does not hide that it reuses alpha's name."""
    bravo = example("bravo")
    bravo["team"] = "alpha"
    bravo["tags"] = "not-a-map"
    teams = {"alpha": example("alpha"), "bravo": bravo, "charlie": example("charlie")}
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(write_manifests(tmp_path, teams, example("org")))])
    found = [f"{p.field}: {p.message}" for p in caught.value.problems]
    assert any(f.startswith("tags:") for f in found), found
    assert any(f.startswith("team: team 'alpha' is already defined in") for f in found), found
