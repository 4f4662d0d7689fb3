"""The estimate's arithmetic against hand-computed cases, DST-aware schedule hours, missing prices."""

from __future__ import annotations

import pytest

from generators.cost import Month, compare, estimate, schedule_hours
from generators.errors import ManifestError
from generators.loading import load_manifest_set
from generators.model import Schedule
from generators.pricing import PriceCatalog
from tests.manifest_helpers import example, write_manifests

NOV_2026 = Month(2026, 11)


def prices(**overrides) -> PriceCatalog:
    """A small catalog with round, known figures, independent of the shipped file."""
    cite = {"source": "test"}
    on_demand = {"g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g6.xlarge": 0.8048, "g6e.2xlarge": 2.24208}
    on_demand.update(overrides.pop("on_demand", {}))
    data = {
        "format": 1,
        "sources": {"test": {"url": "https://example.com", "read": "2026-11-26"}},
        "hours_per_month_always_on": {"value": 730, **cite},
        "spot_discount": {"g5": {"value": 0.6, **cite}, "g6": {"value": 0.5, **cite}, "g6e": {"value": 0.5, **cite}},
        "regions": {
            "us-east-1": {"ebs_gp3_usd_per_gb_month": {"value": 0.08, **cite},
                          "on_demand_hourly_usd": {k: {"usd": v, **cite} for k, v in on_demand.items() if v is not None}},
        },
    }
    return PriceCatalog("test-prices.json", data)


def alpha(**changes) -> dict:
    team = example("alpha")
    team.update(changes)
    return team


def estimate_of(tmp_path, teams: dict, catalog: PriceCatalog | None = None, month: Month = NOV_2026):
    root = write_manifests(tmp_path / "m", teams)
    return estimate(load_manifest_set([str(root)]), catalog or prices(), month)


def component(team, kind, name):
    return next(c for c in team.components if c.kind == kind and c.name == name)


# --------------------------------------------------------------------------- training


def test_spot_training_with_hours_per_month_is_count_x_hours_x_discounted_price(tmp_path):
    team = alpha()
    team["training"][0].update(count=2, hours_per_month=160, market="spot")
    result = estimate_of(tmp_path, {"alpha": team}).teams[0]
    finetune = component(result, "training", "finetune")
    assert finetune.monthly_usd.expected == pytest.approx(2 * 160 * 1.006 * (1 - 0.6))
    assert finetune.spot_savings_usd == pytest.approx(2 * 160 * 1.006 * 0.6)
    assert finetune.hours_basis == "hours_per_month"
    assert finetune.schedule_savings_usd == 0


def test_training_without_hours_uses_the_schedule_hours_of_the_month(tmp_path):
    result = estimate_of(tmp_path, {"alpha": alpha()}).teams[0]
    finetune = component(result, "training", "finetune")
    # November 2026 has 21 weekdays; 08:00-19:00 is 11 h a day.
    assert finetune.hours == pytest.approx(21 * 11)
    assert finetune.monthly_usd.expected == pytest.approx(2 * 231 * 1.006 * 0.4)
    assert finetune.schedule_savings_usd == pytest.approx(2 * (730 - 231) * 1.006 * 0.4)


def test_training_without_hours_or_schedule_runs_the_730_hour_month(tmp_path):
    team = alpha()
    del team["schedule"]
    result = estimate_of(tmp_path, {"alpha": team}).teams[0]
    finetune = component(result, "training", "finetune")
    assert (finetune.hours, finetune.hours_basis) == (730, "always-on")
    assert finetune.monthly_usd.expected == pytest.approx(2 * 730 * 1.006 * 0.4)


def test_on_demand_training_has_no_spot_savings(tmp_path):
    result = estimate_of(tmp_path, {"alpha": alpha()}).teams[0]
    evaluation = component(result, "training", "eval")
    assert evaluation.monthly_usd.expected == pytest.approx(1 * 40 * 0.8048)
    assert evaluation.spot_savings_usd == 0


def test_root_volumes_are_gb_x_gp3_price_for_the_whole_month(tmp_path):
    result = estimate_of(tmp_path, {"alpha": alpha()}).teams[0]
    assert component(result, "root-volume", "finetune").monthly_usd.expected == pytest.approx(2 * 200 * 0.08)
    assert component(result, "root-volume", "eval").monthly_usd.expected == pytest.approx(1 * 100 * 0.08)


# --------------------------------------------------------------------------- inference


def test_inference_pool_low_expected_high_follow_min_desired_max_nodes(tmp_path):
    result = estimate_of(tmp_path, {"bravo": example("bravo")}).teams[0]
    chatbot = component(result, "inference", "chatbot")
    assert chatbot.monthly_usd.low == pytest.approx(2 * 730 * 1.006)
    assert chatbot.monthly_usd.expected == pytest.approx(3 * 730 * 1.006)
    assert chatbot.monthly_usd.high == pytest.approx(8 * 730 * 1.006)
    assert result.total.expected == pytest.approx(3 * 730 * 1.006)


def test_pool_with_several_types_is_priced_at_the_first_and_says_so(tmp_path):
    chatbot = component(estimate_of(tmp_path, {"bravo": example("bravo")}).teams[0], "inference", "chatbot")
    assert chatbot.instance_type == "g5.xlarge"
    assert chatbot.notes and "first instance type, g5.xlarge" in chatbot.notes[0]


def test_cost_per_million_tokens_at_full_utilisation(tmp_path):
    chatbot = component(estimate_of(tmp_path, {"bravo": example("bravo")}).teams[0], "inference", "chatbot")
    assert chatbot.usd_per_million_tokens == pytest.approx(1.006 / (2400 * 3600) * 1e6)


def test_spot_pool_under_a_schedule_uses_schedule_hours_and_discount(tmp_path):
    team = example("charlie")
    team["region"] = "us-east-1"
    team["inference"][0]["cluster"] = "genai-shared"
    result = estimate_of(tmp_path, {"charlie": team}).teams[0]
    pool = component(result, "inference", "summarizer")
    hours = 21 * 13  # Los Angeles, 07:00-20:00 on the 21 weekdays of November 2026
    assert pool.hours == pytest.approx(hours)
    assert (pool.monthly_usd.low, pool.monthly_usd.expected, pool.monthly_usd.high) == pytest.approx(
        (0, 1 * hours * 0.8048 * 0.5, 3 * hours * 0.8048 * 0.5))
    assert pool.schedule_savings_usd == pytest.approx(1 * (730 - hours) * 0.8048 * 0.5)
    assert pool.usd_per_million_tokens == pytest.approx(0.8048 * 0.5 / (900 * 3600) * 1e6)


# --------------------------------------------------------------------------- budget


def test_total_against_budget_as_percentage_and_gate(tmp_path):
    team = example("bravo")
    team["budget"]["monthly_usd"] = 2000
    result = estimate_of(tmp_path, {"bravo": team})
    bravo = result.teams[0]
    assert bravo.budget_percent == pytest.approx(3 * 730 * 1.006 / 2000 * 100)
    assert bravo.over_budget and not bravo.over_org_cap
    assert [t.team for t in result.failing] == ["bravo"]


def test_org_cap_fails_the_gate_even_within_the_team_budget(tmp_path):
    org = example("org")
    org["max_team_monthly_usd"] = 2000
    team = example("bravo")
    team["budget"]["monthly_usd"] = 2000
    team["inference"][0]["desired_nodes"] = 2
    team["inference"][0]["max_nodes"] = 8
    team["inference"][0].update(min_nodes=2)
    root = write_manifests(tmp_path / "m", {"bravo": team}, org=org)
    result = estimate(load_manifest_set([str(root)]), prices(on_demand={"g5.xlarge": 2.0}), NOV_2026)
    bravo = result.teams[0]
    assert bravo.total.expected == pytest.approx(2 * 730 * 2.0)
    assert bravo.over_org_cap and bravo.over_budget


# --------------------------------------------------------------------------- schedule hours and DST


def berlin(weekdays, start, stop) -> Schedule:
    return Schedule(timezone="Europe/Berlin", weekdays=weekdays, start=start, stop=stop)


def test_window_over_the_spring_forward_loses_an_hour_on_that_day():
    # Sundays of March 2026: 1, 8, 15, 22, 29; on the 29th 02:00 CET jumps to 03:00 CEST.
    assert schedule_hours(berlin(["sun"], "01:00", "04:00"), Month(2026, 3)) == pytest.approx(4 * 3 + 2)


def test_window_over_the_fall_back_gains_an_hour_on_that_day():
    # Sundays of October 2026: 4, 11, 18, 25; on the 25th 03:00 CEST falls back to 02:00 CET.
    assert schedule_hours(berlin(["sun"], "01:00", "04:00"), Month(2026, 10)) == pytest.approx(3 * 3 + 4)


def test_office_hours_in_a_dst_month_are_unaffected_by_the_night_switch():
    # March 2026 has 22 weekdays.
    assert schedule_hours(berlin(["mon", "tue", "wed", "thu", "fri"], "08:00", "19:00"), Month(2026, 3)) == pytest.approx(22 * 11)


def test_us_dst_switch_is_in_its_own_time_zone():
    # America/New_York springs forward on Sunday 2026-03-08 at 02:00.
    schedule = Schedule(timezone="America/New_York", weekdays=["sun"], start="00:00", stop="06:00")
    assert schedule_hours(schedule, Month(2026, 3)) == pytest.approx(5 * 6 - 1)


# --------------------------------------------------------------------------- errors


def test_missing_price_is_a_problem_at_the_manifest_field_never_zero(tmp_path):
    with pytest.raises(ManifestError) as caught:
        estimate_of(tmp_path, {"alpha": alpha()}, prices(on_demand={"g6.xlarge": None}))
    [problem] = caught.value.problems
    assert problem.path.endswith("alpha.yaml")
    assert problem.field == "training[1].instance_type"
    assert problem.line > 1 and problem.column > 1
    assert "no on-demand price for g6.xlarge in us-east-1" in problem.message
    assert "regions.us-east-1.on_demand_hourly_usd.g6.xlarge" in problem.message


def test_every_missing_price_in_every_team_is_reported(tmp_path):
    catalog = prices(on_demand={"g6.xlarge": None, "g5.xlarge": None})
    with pytest.raises(ManifestError) as caught:
        estimate_of(tmp_path, {"alpha": alpha(), "bravo": example("bravo")}, catalog)
    fields = sorted((p.path.rsplit("/", 1)[-1], p.field) for p in caught.value.problems)
    assert fields == [("alpha.yaml", "training[0].instance_type"), ("alpha.yaml", "training[1].instance_type"),
                      ("bravo.yaml", "inference[0].instance_types[0]")]


def test_missing_spot_discount_points_at_market(tmp_path):
    catalog = prices()
    del catalog.data["spot_discount"]["g5"]
    with pytest.raises(ManifestError) as caught:
        estimate_of(tmp_path, {"alpha": alpha()}, catalog)
    assert [p.field for p in caught.value.problems] == ["training[0].market"]


# --------------------------------------------------------------------------- compare


def test_compare_reports_added_removed_changed_and_unchanged(tmp_path):
    bigger = example("bravo")
    bigger["inference"][0]["desired_nodes"] = 4
    charlie = example("charlie")
    charlie["region"] = "us-east-1"
    charlie["inference"][0]["cluster"] = "genai-shared"
    base = estimate_of(tmp_path / "base", {"alpha": alpha(), "bravo": example("bravo"), "charlie": charlie}, prices())
    head = estimate_of(tmp_path / "head", {"alpha": alpha(), "bravo": bigger}, prices())
    changes = {c.team: c for c in compare(base, head)}
    assert {t: c.status for t, c in changes.items()} == {"alpha": "unchanged", "bravo": "changed", "charlie": "removed"}
    assert changes["bravo"].delta_expected_usd == pytest.approx((4 - 3) * 730 * 1.006)
    reverse = {c.team: c.status for c in compare(head, base)}
    assert reverse["charlie"] == "added"
