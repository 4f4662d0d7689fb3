"""`genai-finops recommend` on generated billing data with waste planted on purpose: each expected
recommendation, its saving from the formula, and --write making exactly that saving in `cost`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.plan.pricing import load_catalog
from generators.samples import focus_sample
from tests.manifest_helpers import REPO, example, write_manifests

OCTOBER = Month(2026, 10)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def planted(root: Path, org_changes: dict | None = None, delta_pool: dict | None = None) -> tuple[Path, Path]:
    """delta: a dev team serving on on-demand g5 nodes all month (the waste: spot is allowed and
    observed 29-69% cheaper for g5), beside the shipped teams; billing generated for all.
    `delta_pool` changes its pool (node counts)."""
    delta = example("charlie")
    delta.update(team="delta", owner="ml-team-delta@example.com", region="us-east-1")
    delta.pop("schedule")
    delta.pop("training")
    delta["inference"][0].update(name="ranker", cluster="genai-shared", instance_types=["g5.xlarge", "g5.2xlarge"], market="on-demand",
                                 min_nodes=1, desired_nodes=2, max_nodes=4, model_id="ranker-v1")
    delta["inference"][0].update(delta_pool or {})
    delta["tags"] = {"ModelID": "ranker-v1"}
    org = example("org")
    org.setdefault("recommend", {}).update(org_changes or {})
    manifests = write_manifests(root / "manifests", {name: example(name) for name in ("alpha", "bravo", "charlie")} | {"delta": delta}, org)
    billing = focus_sample.write(root / "billing", focus_sample.rows(load_manifest_set([str(manifests)]), load_catalog(), OCTOBER), "parquet")
    return manifests, billing


def expected_spot_saving(instance_types: list[str], nodes: int, hours: float) -> float:
    """The estimator's expected figure for a pool moved to spot: desired nodes x hours x the mean
    over its types of on-demand x the family's expected discount (generators/plan/estimate.py)."""
    catalog = load_catalog()
    prices = [catalog.on_demand_hourly("us-east-1", t) for t in instance_types]
    discounts = [catalog.spot_discount(t).expected for t in instance_types]
    return nodes * hours * sum(p * d for p, d in zip(prices, discounts)) / len(prices)


@pytest.fixture(scope="module")
def recommended(tmp_path_factory):
    root = tmp_path_factory.mktemp("recommend")
    manifests, billing = planted(root)
    done = run("recommend", str(manifests), "--billing", str(billing), "--month", "2026-10", "--format", "json")
    assert done.returncode == 0, done.stderr
    return manifests, billing, json.loads(done.stdout)


def test_the_planted_on_demand_pool_gets_spot_with_the_saving_the_formula_gives(recommended):
    manifests, _, found = recommended
    by_id = {r["id"]: r for r in found["recommendations"]}
    ranker = by_id["spot:delta:inference/ranker"]
    assert (ranker["field"], ranker["current"], ranker["proposed"], ranker["writes"]) == ("inference[0].market", "on-demand", "spot", True)
    assert ranker["file"].endswith("teams/delta.yaml")
    assert Path(ranker["file"]).read_text().splitlines()[ranker["line"] - 1].strip() == "market: on-demand"
    hours = load_catalog().hours_always_on
    assert ranker["monthly_saving_usd"] == pytest.approx(expected_spot_saving(["g5.xlarge", "g5.2xlarge"], 2, hours), abs=0.01)
    sources = " ".join(e["source"] for e in ranker["evidence"])
    assert "spot_discount" in sources and "billing export" in sources
    assert found["total_monthly_saving_usd"] == pytest.approx(sum(r["monthly_saving_usd"] for r in found["recommendations"] if r["writes"]), abs=0.01)


def test_prod_inference_is_never_moved_to_spot_and_the_reason_is_listed(recommended):
    _, _, found = recommended
    assert not [r for r in found["recommendations"] if r["team"] == "bravo" and r["kind"] == "spot"]
    assert {"kind": "spot", "team": "bravo", "target": "inference/chatbot", "reason": "org.yaml prod.allow_spot_inference is false"} in found["skipped"]


def test_without_prometheus_the_kinds_that_need_it_are_skipped_saying_so(recommended):
    _, _, found = recommended
    reasons = {(s["kind"], s["team"]): s["reason"] for s in found["skipped"]}
    for kind in ("pool-size", "idle-training", "gpu-fit", "calibrate"):
        assert reasons[(kind, "delta")] == "needs GPU or token series: pass --prometheus"


def test_write_then_cost_shows_exactly_the_promised_saving_and_validate_passes(tmp_path):
    manifests, billing = planted(tmp_path)
    before_cost = json.loads(run("cost", str(manifests), "--month", "2026-10", "--format", "json").stdout)
    before_text = {p.name: p.read_text() for p in (manifests / "teams").iterdir()}
    done = run("recommend", str(manifests), "--billing", str(billing), "--month", "2026-10", "--format", "json", "--write")
    assert done.returncode == 0, done.stderr
    promised = json.loads(done.stdout)["total_monthly_saving_usd"]
    assert promised > 0
    after_cost = json.loads(run("cost", str(manifests), "--month", "2026-10", "--format", "json").stdout)
    assert before_cost["total_monthly_usd"]["expected"] - after_cost["total_monthly_usd"]["expected"] == pytest.approx(promised, abs=0.02)
    assert run("validate", str(manifests)).returncode == 0
    changed = {name for name, text in before_text.items() if (manifests / "teams" / name).read_text() != text}
    assert changed == {r["file"].rsplit("/", 1)[1] for r in json.loads(done.stdout)["recommendations"] if r["writes"]}
    delta_after = (manifests / "teams" / "delta.yaml").read_text().splitlines()
    delta_before = before_text["delta.yaml"].splitlines()
    assert [(a.strip(), b.strip()) for a, b in zip(delta_before, delta_after) if a != b] == [("market: on-demand", "market: spot")]


def test_a_saving_under_the_org_minimum_is_skipped_with_its_figure(tmp_path):
    manifests, billing = planted(tmp_path, {"min_monthly_saving_usd": 100000})
    found = json.loads(run("recommend", str(manifests), "--billing", str(billing), "--month", "2026-10", "--format", "json").stdout)
    assert found["recommendations"] == [] and found["total_monthly_saving_usd"] == 0
    under = [s for s in found["skipped"] if s["kind"] == "spot" and s["team"] == "delta"]
    assert len(under) == 1 and "under recommend.min_monthly_saving_usd ($100,000.00)" in under[0]["reason"]


def test_an_edit_that_would_not_validate_writes_nothing(tmp_path):
    from generators.act.recommend import Recommendation, write
    from generators.errors import ManifestError

    manifests = write_manifests(tmp_path / "m", {"alpha": example("alpha")})
    loaded = load_manifest_set([str(manifests)])
    before = (manifests / "teams" / "alpha.yaml").read_text()
    bad = Recommendation("spot", "alpha", "training/eval", loaded.teams[0].path, 1, ("training", 1, "market"), "on-demand", "cheap", 1.0, ())
    with pytest.raises(ManifestError) as caught:
        write(loaded, [bad])
    assert [p.field for p in caught.value.problems] == ["training[1].market"]
    assert (manifests / "teams" / "alpha.yaml").read_text() == before


def test_the_markdown_is_a_pr_body_with_each_change_its_evidence_and_saving(recommended):
    manifests, billing, found = recommended
    done = run("recommend", str(manifests), "--billing", str(billing), "--month", "2026-10", "--format", "markdown")
    assert done.returncode == 0
    body = done.stdout
    assert f"**${found['total_monthly_saving_usd']:,.2f} a month**" in body
    for r in found["recommendations"]:
        assert f"`{r['id']}`: ${r['monthly_saving_usd']:,.2f}/month" in body
    assert "<details><summary>Skipped</summary>" in body


def test_a_team_billed_in_office_hours_only_gets_that_window_as_its_schedule(tmp_path):
    """echo ran mon-fri 09:00-17:00 UTC (its billing was generated with that schedule) and then
    lost its schedule: recommend proposes those days and the window with an hour on each side, and
    --write saves in `cost` exactly the total it promised (spot and schedule on one pool together)."""
    echo = example("charlie")
    echo.update(team="echo", owner="ml-team-echo@example.com", region="us-east-1", tags={"ModelID": "echo-v1"})
    echo.pop("training")
    echo["schedule"] = {"timezone": "UTC", "weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "stop": "17:00"}
    echo["inference"][0].update(name="serve", cluster="genai-shared", instance_types=["g5.xlarge"], market="on-demand",
                                min_nodes=1, desired_nodes=1, max_nodes=2, model_id="echo-v1")
    root = write_manifests(tmp_path / "m", {"alpha": example("alpha"), "echo": echo})
    billing = focus_sample.write(tmp_path / "billing", focus_sample.rows(load_manifest_set([str(root)]), load_catalog(), OCTOBER), "parquet")
    echo.pop("schedule")
    write_manifests(tmp_path / "m", {"echo": echo})
    done = run("recommend", str(root), "--billing", str(billing), "--month", "2026-10", "--format", "json", "--only", "echo")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    by_id = {r["id"]: r for r in found["recommendations"]}
    proposed = by_id["schedule:echo:team"]["proposed"]
    assert proposed == {"timezone": "UTC", "weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "18:00"}
    assert set(by_id) == {"schedule:echo:team", "spot:echo:inference/serve"}
    # each saving alone is the estimate's; together they are less than their sum (spot on fewer hours)
    assert found["total_monthly_saving_usd"] < sum(r["monthly_saving_usd"] for r in found["recommendations"])
    before = json.loads(run("cost", str(root), "--month", "2026-10", "--format", "json").stdout)["total_monthly_usd"]["expected"]
    written = run("recommend", str(root), "--billing", str(billing), "--month", "2026-10", "--format", "json", "--only", "echo", "--write")
    assert written.returncode == 0, written.stderr
    after = json.loads(run("cost", str(root), "--month", "2026-10", "--format", "json").stdout)["total_monthly_usd"]["expected"]
    assert before - after == pytest.approx(found["total_monthly_saving_usd"], abs=0.02)
    assert run("validate", str(root)).returncode == 0


def test_a_team_billed_around_the_clock_gets_no_schedule_and_says_why(recommended):
    _, _, found = recommended
    reasons = {(s["kind"], s["team"]): s["reason"] for s in found["skipped"]}
    assert "around the clock every day" in reasons[("schedule", "delta")]
    assert reasons[("schedule", "bravo")] == "a prod team: off-hours never stops prod capacity"
