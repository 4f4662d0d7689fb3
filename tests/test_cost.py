"""The estimate's arithmetic against hand-computed cases, DST-aware schedule hours, missing prices."""

from __future__ import annotations

import pytest

from generators.errors import ManifestError
from generators.manifest.loading import load_manifest_set
from generators.model import Schedule
from generators.months import Month, longest_month_hours, schedule_hours
from generators.plan.compare import compare
from generators.plan.estimate import estimate, pool_limits
from generators.plan.pricing import PriceCatalog
from tests.manifest_helpers import example, write_manifests

NOV_2026 = Month(2026, 11)


def prices(**overrides) -> PriceCatalog:
    """A small catalog with round, known figures, independent of the shipped file."""
    cite = {"source": "test"}
    on_demand = {"g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g6.xlarge": 0.8048, "g6e.2xlarge": 2.24208}
    on_demand.update(overrides.pop("on_demand", {}))
    data = {
        "format": 2,
        "sources": {"test": {"url": "https://example.com", "read": "2026-11-26"}},
        "hours_per_month_always_on": {"value": 730, **cite},
        # observed ranges whose midpoints are round: g5 0.6, g6 0.5, g6e 0.5
        "spot_discount": {"g5": {"low": 0.5, "high": 0.7, **cite}, "g6": {"low": 0.4, "high": 0.6, **cite},
                          "g6e": {"low": 0.45, "high": 0.55, **cite}},
        "regions": {
            "us-east-1": {"ebs_gp3_usd_per_gb_month": {"value": 0.08, **cite},
                          "on_demand_hourly_usd": {k: {"usd": v, **cite} for k, v in on_demand.items() if v is not None}},
        },
        # USD per million tokens of the examples' managed models (and bravo's managed_alternative)
        "bedrock": {"us-east-1": {"source": "test", "models": {
            "amazon.nova-lite-v1:0": {"input": 0.06, "output": 0.24},
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125},
            "meta.llama3-3-70b-instruct-v1:0": {"input": 0.72, "output": 0.72},
        }}},
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
    # the spot range: low after the largest observed discount, high after the smallest
    assert finetune.monthly_usd.low == pytest.approx(2 * 160 * 1.006 * (1 - 0.7))
    assert finetune.monthly_usd.high == pytest.approx(2 * 160 * 1.006 * (1 - 0.5))
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


G5X, G52X, GP3 = 1.006, 1.212, 0.08  # the test catalog's figures


def test_pool_low_is_the_cheapest_type_at_min_high_the_dearest_at_max_expected_the_mean_at_desired(tmp_path):
    result = estimate_of(tmp_path, {"bravo": example("bravo")}).teams[0]
    chatbot = component(result, "inference", "chatbot")  # g5.xlarge and g5.2xlarge, 2/3/8 nodes
    assert chatbot.monthly_usd.low == pytest.approx(2 * 730 * G5X)
    assert chatbot.monthly_usd.expected == pytest.approx(3 * 730 * (G5X + G52X) / 2)
    assert chatbot.monthly_usd.high == pytest.approx(8 * 730 * G52X)
    volumes = component(result, "node-volume", "chatbot")  # 100 GB per node, whole month
    assert (volumes.monthly_usd.low, volumes.monthly_usd.expected, volumes.monthly_usd.high) == pytest.approx(
        (2 * 100 * GP3, 3 * 100 * GP3, 8 * 100 * GP3))
    assert result.total.expected == pytest.approx(3 * 730 * (G5X + G52X) / 2 + 3 * 100 * GP3)


def test_the_order_of_instance_types_never_changes_the_estimate(tmp_path):
    forward = estimate_of(tmp_path / "a", {"bravo": example("bravo")}).teams[0]
    team = example("bravo")
    team["inference"][0]["instance_types"] = list(reversed(team["inference"][0]["instance_types"]))
    backward = estimate_of(tmp_path / "b", {"bravo": team}).teams[0]
    assert forward.total == backward.total
    assert component(forward, "inference", "chatbot").notes == component(backward, "inference", "chatbot").notes
    assert "low at g5.xlarge, high at g5.2xlarge" in component(forward, "inference", "chatbot").notes[0]


def test_a_spot_pool_of_two_families_takes_each_types_own_discount_range(tmp_path):
    """g5.xlarge 1.006 with g5 0.5-0.7 off, g6.xlarge 0.8048 with g6 0.4-0.6 off (the test catalog):
    the cheapest at the low end is g5.xlarge (1.006 x 0.3 < 0.8048 x 0.4), the dearest at the high
    end too (1.006 x 0.5 > 0.8048 x 0.6), and expected is the mean of both midpoints."""
    team = example("bravo")
    team["environment"] = "staging"
    team["inference"][0].update(market="spot", instance_types=["g6.xlarge", "g5.xlarge"])
    result = estimate_of(tmp_path, {"bravo": team}).teams[0]
    chatbot = component(result, "inference", "chatbot")  # 2/3/8 nodes, always on
    assert chatbot.monthly_usd.low == pytest.approx(2 * 730 * G5X * (1 - 0.7))
    assert chatbot.monthly_usd.expected == pytest.approx(3 * 730 * (G5X * (1 - 0.6) + 0.8048 * (1 - 0.5)) / 2)
    assert chatbot.monthly_usd.high == pytest.approx(8 * 730 * G5X * (1 - 0.5))
    assert any("g6.xlarge spot 40%-60% off" in note for note in chatbot.notes)


def test_spot_on_a_family_without_an_observed_discount_is_a_problem_at_market(tmp_path):
    team = example("bravo")
    team["environment"] = "staging"
    team["inference"][0].update(market="spot", instance_types=["inf2.xlarge"])
    org = example("org")
    org["allowed_instance_types"].append("inf2.*")
    root = write_manifests(tmp_path / "m", {"bravo": team}, org=org)
    with pytest.raises(ManifestError) as caught:
        estimate(load_manifest_set([str(root)]), prices(on_demand={"inf2.xlarge": 0.7582}), NOV_2026)
    [problem] = caught.value.problems
    assert problem.field == "inference[0].market"
    assert "no observed spot discount for the inf2 family" in problem.message


def test_node_volumes_cost_only_the_hours_the_nodes_run(tmp_path):
    team = example("charlie")
    team["region"] = "us-east-1"
    team["inference"][0]["cluster"] = "genai-shared"
    pool = component(estimate_of(tmp_path, {"charlie": team}).teams[0], "node-volume", "summarizer")
    hours = 21 * 13  # Los Angeles, 07:00-20:00 on the 21 weekdays of November 2026
    gb = team["inference"][0]["node_volume_gb"]
    assert pool.monthly_usd.high == pytest.approx(3 * gb * GP3 * hours / 730)


def test_cost_per_million_tokens_at_full_load_and_at_utilization(tmp_path):
    team = example("bravo")
    team["inference"][0]["utilization_percent"] = 40
    chatbot = component(estimate_of(tmp_path, {"bravo": team}).teams[0], "inference", "chatbot")
    full = (G5X + G52X) / 2 / (2400 * 3600) * 1e6
    assert chatbot.usd_per_million_tokens == pytest.approx(full)
    assert chatbot.usd_per_million_tokens_at_utilization == pytest.approx(full / 0.4)
    assert chatbot.model_id == "chatbot-v3"


def test_spot_pool_under_a_schedule_uses_schedule_hours_and_discount(tmp_path):
    team = example("charlie")
    team["region"] = "us-east-1"
    team["inference"][0]["cluster"] = "genai-shared"
    result = estimate_of(tmp_path, {"charlie": team}).teams[0]
    pool = component(result, "inference", "summarizer")
    hours = 21 * 13  # Los Angeles, 07:00-20:00 on the 21 weekdays of November 2026
    assert pool.hours == pytest.approx(hours)
    # min 0 nodes; desired 1 at the g6 midpoint discount 0.5; max 3 after its smallest discount 0.4
    assert (pool.monthly_usd.low, pool.monthly_usd.expected, pool.monthly_usd.high) == pytest.approx(
        (0, 1 * hours * 0.8048 * 0.5, 3 * hours * 0.8048 * (1 - 0.4)))
    assert pool.schedule_savings_usd == pytest.approx(1 * (730 - hours) * 0.8048 * 0.5)
    assert pool.usd_per_million_tokens == pytest.approx(0.8048 * 0.5 / (900 * 3600) * 1e6)
    # no utilization_percent: the default 100 % equals full load
    assert pool.usd_per_million_tokens_at_utilization == pytest.approx(pool.usd_per_million_tokens)


# --------------------------------------------------------------------------- budget


def test_total_against_budget_as_percentage_and_gate(tmp_path):
    team = example("bravo")
    team["budget"]["monthly_usd"] = 2000
    result = estimate_of(tmp_path, {"bravo": team})
    bravo = result.teams[0]
    expected = 3 * 730 * (G5X + G52X) / 2 + 3 * 100 * GP3
    assert bravo.budget_percent == pytest.approx(expected / 2000 * 100)
    assert bravo.over_budget and not bravo.over_org_cap
    assert [t.team for t in result.failing] == ["bravo"]


def test_the_high_gate_fails_a_pool_whose_max_nodes_can_break_the_budget(tmp_path):
    team = example("bravo")
    team["inference"][0].update(min_nodes=1, desired_nodes=1, max_nodes=100)
    expected = 1 * 730 * (G5X + G52X) / 2 + 100 * GP3
    high = 100 * 730 * G52X + 100 * 100 * GP3
    team["budget"]["monthly_usd"] = round(high / 4)  # the high estimate is 4x the budget
    root = write_manifests(tmp_path / "m", {"bravo": team})
    manifests = load_manifest_set([str(root)])

    by_expected = estimate(manifests, prices(), NOV_2026)
    by_high = estimate(manifests, prices(), NOV_2026, gate="high")

    assert by_expected.teams[0].total.expected == pytest.approx(expected) and by_expected.failing == []
    assert by_high.teams[0].gated_usd == pytest.approx(high)
    assert [t.team for t in by_high.failing] == ["bravo"]
    ((pool, top, alone, fits),) = pool_limits(by_high.teams[0])
    per_node = 730 * G52X + 100 * GP3
    assert (pool, top, alone) == ("chatbot", 100, True)
    assert fits == int(team["budget"]["monthly_usd"] // per_node)


def test_the_org_cost_gate_sets_the_default_and_the_flag_overrides_it(tmp_path):
    org = example("org")
    org["cost_gate"] = "high"
    root = write_manifests(tmp_path / "m", {"bravo": example("bravo")}, org=org)
    manifests = load_manifest_set([str(root)])
    assert estimate(manifests, prices(), NOV_2026).gate == "high"
    assert estimate(manifests, prices(), NOV_2026, gate="expected").gate == "expected"


def test_org_cap_fails_the_gate_even_within_the_team_budget(tmp_path):
    org = example("org")
    org["max_team_monthly_usd"] = 2000
    team = example("bravo")
    team["budget"]["monthly_usd"] = 2000
    team["inference"][0]["desired_nodes"] = 2
    team["inference"][0]["max_nodes"] = 8
    team["inference"][0].update(min_nodes=2, instance_types=["g5.xlarge"])
    root = write_manifests(tmp_path / "m", {"bravo": team}, org=org)
    result = estimate(load_manifest_set([str(root)]), prices(on_demand={"g5.xlarge": 2.0}), NOV_2026)
    bravo = result.teams[0]
    assert bravo.total.expected == pytest.approx(2 * 730 * 2.0 + 2 * 100 * GP3)
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
    assert changes["bravo"].delta_expected_usd == pytest.approx((4 - 3) * (730 * (G5X + G52X) / 2 + 100 * GP3))
    reverse = {c.team: c.status for c in compare(head, base)}
    assert reverse["charlie"] == "added"


@pytest.mark.parametrize("zone,weekdays,start,stop,days,dst", [
    ("Europe/Berlin", ["mon", "tue", "wed", "thu", "fri"], "08:00", "19:00", 23, True),  # 31 days: 5 of three weekdays
    ("Asia/Tokyo", ["sat", "sun"], "09:00", "17:30", 10, False),  # no DST in Japan
    ("America/Los_Angeles", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "00:00", "23:59", 31, True),
])
def test_longest_month_hours_is_the_most_days_times_the_window_plus_a_dst_hour(zone, weekdays, start, stop, days, dst):
    schedule = Schedule(timezone=zone, weekdays=weekdays, start=start, stop=stop)
    window = (int(stop[:2]) * 60 + int(stop[3:]) - int(start[:2]) * 60 - int(start[3:])) / 60
    assert longest_month_hours(schedule) == pytest.approx(days * window + (1 if dst else 0))
    # never less than any real month's schedule hours
    assert all(schedule_hours(schedule, Month(year, month)) <= longest_month_hours(schedule) for year in (2026, 2027) for month in range(1, 13))


def test_compare_sees_a_cut_budget_and_a_team_going_over(tmp_path):
    """Same manifests but for the budgets: a cut that keeps alpha within is "changed", a cut
    that puts bravo over says within -> over, in the estimate, in a saved JSON base and in
    every format."""
    import json
    import subprocess
    import sys

    from generators.formats import money
    from generators.plan.pricing import load_catalog
    from generators.plan.saved import saved_totals
    from tests.manifest_helpers import REPO

    catalog = load_catalog()
    base = estimate_of(tmp_path / "base", {"alpha": alpha(), "bravo": example("bravo")}, catalog)
    bravo_expected = next(t for t in base.teams if t.team == "bravo").total.expected
    alpha_budget = next(t for t in base.teams if t.team == "alpha").budget_usd
    cut_alpha, cut_bravo = alpha(), example("bravo")
    cut_alpha["budget"]["monthly_usd"] = alpha_budget / 2  # still far above alpha's estimate
    cut_bravo["budget"]["monthly_usd"] = round(bravo_expected / 2, 2)
    head = estimate_of(tmp_path / "head", {"alpha": cut_alpha, "bravo": cut_bravo}, catalog)
    changes = {c.team: c for c in compare(base, head)}
    assert changes["alpha"].status == "changed" and changes["alpha"].delta_expected_usd == 0 and changes["alpha"].verdict == "within"
    assert changes["bravo"].status == "changed" and changes["bravo"].verdict == "within -> over"
    assert changes["bravo"].head is not None and changes["bravo"].head.budget_usd == round(bravo_expected / 2, 2)

    def cost(root, *args):
        done = subprocess.run([sys.executable, "-m", "generators.cli", "cost", str(root / "m"), "--month", "2026-11", *args],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    saved = tmp_path / "base.json"
    saved.write_text(cost(tmp_path / "base", "--format", "json"))
    from_saved = {c.team: c for c in compare(saved_totals(saved), head)}
    assert from_saved["bravo"].verdict == "within -> over" and from_saved["alpha"].status == "changed"
    for fmt in ("table", "markdown"):
        shown = cost(tmp_path / "head", "--compare", str(saved), "--format", fmt)
        assert "within -> over" in shown and f"{money(alpha_budget)} -> {money(alpha_budget / 2)}" in shown, shown
    teams = {t["team"]: t for t in json.loads(cost(tmp_path / "head", "--compare", str(saved), "--format", "json"))["compare"]["teams"]}
    assert teams["bravo"]["base_within_budget"] is True and teams["bravo"]["within_budget"] is False
    assert teams["alpha"]["base_budget_usd"] == alpha_budget and teams["alpha"]["budget_usd"] == alpha_budget / 2


# --------------------------------------------------------------------------- managed models


def test_a_managed_model_costs_its_tokens_at_the_regions_prices_and_counts_in_the_gate(tmp_path):
    team = example("bravo", managed=True)
    team["managed_models"][0].update(input_tokens_per_month=7_000_000, output_tokens_per_month=1_500_000)
    result = estimate_of(tmp_path, {"bravo": team}).teams[0]
    bot = component(result, "managed-model", "support-bot")
    expected = 7 * 3.3 + 1.5 * 16.5
    assert bot.monthly_usd.low == bot.monthly_usd.expected == bot.monthly_usd.high == pytest.approx(expected)
    assert bot.usd_per_million_tokens == pytest.approx(expected / 8.5)
    assert bot.model_id == "support-bot-v2"
    pools = sum(c.monthly_usd.expected for c in result.components if c.kind != "managed-model")
    assert result.total.expected == pytest.approx(pools + expected)
    # the gate sees it: a budget between the pools' cost and pools + tokens fails
    team["budget"]["monthly_usd"] = round(pools + expected / 2, 2)
    gated = estimate_of(tmp_path / "gate", {"bravo": team})
    assert [t.team for t in gated.failing] == ["bravo"]


def test_a_managed_model_the_catalog_lacks_is_an_error_at_its_field_never_zero(tmp_path):
    team = example("bravo", managed=True)
    team["managed_models"][0]["foundation_model"] = "anthropic.claude-sonet-4-5-20250929-v1:0"
    team["inference"][0]["managed_alternative"] = "meta.llama9-70b-instruct-v1:0"
    with pytest.raises(ManifestError) as caught:
        estimate_of(tmp_path, {"bravo": team})
    lines = [str(problem) for problem in caught.value.problems]
    assert len(lines) == 2
    assert any("managed_models[0].foundation_model" in line and "no Bedrock on-demand price" in line for line in lines)
    assert any("inference[0].managed_alternative" in line and "meta.llama9-70b-instruct-v1:0" in line for line in lines)
    assert all("bravo.yaml:" in line for line in lines)


def test_a_profile_of_another_geography_names_the_regions_that_price_it(tmp_path):
    catalog = prices()
    catalog.data["bedrock"]["eu-west-1"] = {"source": "test", "models": {"eu.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5}}}
    with pytest.raises(Exception) as caught:
        catalog.token_prices("eu-west-1", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert "it is priced in us-east-1" in str(caught.value)
