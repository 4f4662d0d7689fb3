"""`recommend --prometheus`: pool sizes, idle training, GPU fit and calibration from hour-by-hour
series in a real Prometheus (Debian's package, backfilled with promtool as the token tests do).

The waste is planted (generators/samples/hourly_sample.py writes the plans below): delta's ranker
pool (dev, 1 GPU per node) is busy on weekday office hours, quiet at night and spikes once past
its max_nodes; bravo's chatbot (prod) queues requests at its busiest hours; alpha's finetune
job idles most of the hours it runs. Every expected figure is computed here from the plans and
the formulas the recommendations state (generators/act/sizing.py), never read from the output.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Iterator

import pytest

from generators import catalog as accelerators
from generators import naming
from generators.manifest.loading import load_manifest_set
from generators.plan.pricing import load_catalog
from generators.samples import hourly_sample, token_sample
from generators.see.hourly import REQUESTS, measure_hours
from generators.see.prometheus import Client
from tests.test_recommend import OCTOBER, planted, run

TARGET = 0.7  # org recommend.target_gpu_busy_percent, the default
HOURS = [OCTOBER.start + dt.timedelta(hours=h) for h in range(int((OCTOBER.end - OCTOBER.start) / dt.timedelta(hours=1)))]
OFFICE = [at.weekday() < 5 and 9 <= at.hour < 17 for at in HOURS]
SPIKE = 200  # the hour ranker's load spikes past max_nodes
RANKER_BUSY = [3.4 if h == SPIKE else 2.1 if OFFICE[h] else 0.3 for h in range(len(HOURS))]
RANKER_NODES = [math.ceil(b / 0.85) for b in RANKER_BUSY]
RANKER_TPS = [1500.0 * b for b in RANKER_BUSY]  # its busiest hour beats the 900 declared
RANKER_MIB = 10 * 1024.0
CHATBOT_BUSY = [5.0 if OFFICE[h] else 1.0 for h in range(len(HOURS))]
FINETUNE_BUSY_HOURS = 30
FINETUNE = [None if not OFFICE[h] else 0.8 if sum(OFFICE[: h + 1]) <= FINETUNE_BUSY_HOURS else 0.01 for h in range(len(HOURS))]


def need(busy: float, gpus_per_node: int = 1) -> int:
    return math.ceil(busy / TARGET / gpus_per_node - 1e-9)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[Path, Path, str]]:
    root = tmp_path_factory.mktemp("recommend-prometheus")
    manifests, billing = planted(root, delta_pool={"min_nodes": 2, "desired_nodes": 3, "max_nodes": 4})
    pools = [
        hourly_sample.PoolPlan("delta", "ranker", "ranker-v1", 1, RANKER_NODES, RANKER_BUSY, RANKER_TPS, [0.0] * len(HOURS), RANKER_MIB),
        hourly_sample.PoolPlan("bravo", "chatbot", "chatbot-v3", 1, [6 if o else 2 for o in OFFICE], CHATBOT_BUSY,
                               [1000.0 * b for b in CHATBOT_BUSY], [4.0 if o else 0.0 for o in OFFICE], 20 * 1024.0),
    ]
    jobs = [hourly_sample.JobPlan("alpha", [naming.training_instance("alpha", "finetune", i) for i in range(2)], 1, FINETUNE, 8 * 1024.0)]
    openmetrics = hourly_sample.write(root / "hourly.om", OCTOBER, pools, jobs)
    token_sample.backfill(openmetrics, root / "tsdb")
    with token_sample.Prometheus(root / "tsdb") as server:
        yield manifests, billing, server.url


@pytest.fixture(scope="module")
def found(world) -> dict:
    manifests, billing, url = world
    done = run("recommend", str(manifests), "--billing", str(billing), "--month", "2026-10", "--prometheus", url, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def by_id(found: dict) -> dict[str, dict]:
    return {r["id"]: r for r in found["recommendations"]}


def test_the_hourly_figures_take_a_fixed_number_of_requests_and_match_the_plans(world):
    manifests, _, url = world
    client = Client(url)
    measured = measure_hours(client, load_manifest_set([str(manifests)]), OCTOBER)
    assert client.requests == measured.requests == REQUESTS
    ranker = measured.pools[("delta", "ranker")]
    starts = [at.timestamp() for at in HOURS]
    assert [round(ranker.busy_gpus[at], 6) for at in starts] == [round(b, 6) for b in RANKER_BUSY]
    assert [ranker.nodes[at] for at in starts] == RANKER_NODES
    assert [round(ranker.tokens_per_second[at], 3) for at in starts] == [round(t, 3) for t in RANKER_TPS]
    assert ranker.peak_memory_mib == RANKER_MIB
    finetune = measured.jobs[("alpha", "finetune")]
    assert {at: round(v, 6) for at, v in finetune.busy_share.items()} == {s: b for s, b in zip(starts, FINETUNE) if b is not None}


def test_ranker_is_sized_from_its_hourly_need(found, world):
    needs = [need(b) for b in RANKER_BUSY]
    items = by_id(found)
    assert items["pool-size:delta:inference/ranker:min_nodes"]["proposed"] == min(needs) == 1
    assert items["pool-size:delta:inference/ranker:max_nodes"]["proposed"] == max(needs) == 5
    desired = items["pool-size:delta:inference/ranker:desired_nodes"]
    assert (desired["current"], desired["proposed"]) == (3, math.ceil(sum(needs) / len(needs)))
    catalog = load_catalog()
    types = ["g5.xlarge", "g5.2xlarge"]
    hourly = sum(catalog.on_demand_hourly("us-east-1", t) for t in types) / len(types)
    ranker = next(p for t in load_manifest_set([str(world[0])]).teams for p in t.manifest.inference if p.name == "ranker")
    per_node = catalog.hours_always_on * hourly + ranker.node_volume_gb * catalog.gp3_gb_month("us-east-1")
    assert desired["monthly_saving_usd"] == pytest.approx((3 - desired["proposed"]) * per_node, abs=0.01)
    raised = items["pool-size:delta:inference/ranker:max_nodes"]
    assert raised["monthly_saving_usd"] == 0 and "capacity risk" in raised["note"]


def test_a_pool_that_queued_at_its_busiest_hours_is_never_shrunk(found):
    bravo = [r for r in found["recommendations"] if r["team"] == "bravo" and r["kind"] == "pool-size"]
    assert bravo and all(r["proposed"] >= r["current"] for r in bravo)


def test_idle_training_plans_the_hours_it_was_busy(found):
    item = by_id(found)["idle-training:alpha:training/finetune"]
    assert item["proposed"] == FINETUNE_BUSY_HOURS and item["current"] is None
    assert f"{sum(b is not None and b < 0.05 for b in FINETUNE)} of {sum(b is not None for b in FINETUNE)}" in item["evidence"][0]["value"]
    cost = json.loads(run("cost", str(Path(item["file"]).parent.parent), "--month", "2026-10", "--format", "json").stdout)
    component = next(c for t in cost["teams"] if t["team"] == "alpha" for c in t["components"]
                     if c["kind"] == "training" and c["name"] == "finetune")
    catalog = load_catalog()
    spot = catalog.on_demand_hourly("us-east-1", "g5.xlarge") * (1 - catalog.spot_discount("g5.xlarge").expected)
    assert item["monthly_saving_usd"] == pytest.approx(2 * (component["hours"] - FINETUNE_BUSY_HOURS) * spot, abs=0.01)


def test_gpu_fit_is_advice_for_the_cheapest_allowed_type_that_holds_the_peak(found, world):
    manifests = load_manifest_set([str(world[0])])
    catalog = load_catalog()
    now = min(catalog.on_demand_hourly("us-east-1", t) for t in ("g5.xlarge", "g5.2xlarge"))
    priced = {}
    for kind in accelerators.INSTANCE_TYPES.values():
        if kind.kind is accelerators.NVIDIA and manifests.org.allows_instance_type(kind.name) and kind.devices * kind.accelerator_memory_mib >= RANKER_MIB * 1.2:
            try:
                priced[kind.name] = catalog.on_demand_hourly("us-east-1", kind.name)
            except Exception:
                continue
    cheapest = min(sorted(priced), key=lambda name: priced[name])
    assert priced[cheapest] < now
    item = by_id(found)["gpu-fit:delta:inference/ranker"]
    assert (item["proposed"], item["writes"]) == ([cheapest], False) and "benchmark" in item["note"]


def test_calibration_makes_the_estimate_the_measured_throughput(found, world):
    pools = {p.name: p for t in load_manifest_set([str(world[0])]).teams for p in t.manifest.inference}
    items = by_id(found)
    # ranker: a node served more than the declared tokens_per_second_per_node in its busiest
    # hour, so that hour's throughput becomes the capacity and the share is of it.
    per_node = [t / n for t, n in zip(RANKER_TPS, RANKER_NODES)]
    assert max(per_node) > pools["ranker"].tokens_per_second_per_node
    assert items["calibrate:delta:inference/ranker:tokens_per_second_per_node"]["proposed"] == round(max(per_node))
    assert items["calibrate:delta:inference/ranker:utilization_percent"]["proposed"] == round(
        sum(RANKER_TPS) / (sum(RANKER_NODES) * max(per_node)) * 100)
    # chatbot: never above its declared 2400, which stays; the share is of it.
    nodes = [6 if o else 2 for o in OFFICE]
    declared = pools["chatbot"].tokens_per_second_per_node
    assert "calibrate:bravo:inference/chatbot:tokens_per_second_per_node" not in items
    assert items["calibrate:bravo:inference/chatbot:utilization_percent"]["proposed"] == round(
        sum(1000.0 * b for b in CHATBOT_BUSY) / (sum(nodes) * declared) * 100)
    assert not [s for s in found["skipped"] if s["reason"].startswith("needs GPU or token series")]


def test_write_then_cost_is_lower_by_exactly_the_promise_and_validate_passes(world, tmp_path):
    import shutil

    manifests = tmp_path / "m"
    shutil.copytree(world[0], manifests)
    _, billing, url = world
    before = json.loads(run("cost", str(manifests), "--month", "2026-10", "--format", "json").stdout)["total_monthly_usd"]["expected"]
    done = run("recommend", str(manifests), "--billing", str(billing), "--month", "2026-10", "--prometheus", url, "--format", "json", "--write")
    assert done.returncode == 0, done.stderr
    promised = json.loads(done.stdout)["total_monthly_saving_usd"]
    after = json.loads(run("cost", str(manifests), "--month", "2026-10", "--format", "json").stdout)["total_monthly_usd"]["expected"]
    assert promised > 0 and before - after == pytest.approx(promised, abs=0.02)
    assert run("validate", str(manifests)).returncode == 0
    markdown = run("recommend", str(world[0]), "--billing", str(billing), "--month", "2026-10", "--prometheus", url, "--format", "markdown")
    assert "pool-size:delta:inference/ranker:desired_nodes" in markdown.stdout and r"vllm:num\_requests\_waiting" in markdown.stdout


def test_each_saving_priced_on_the_parsed_data_equals_the_edited_file(found, world):
    """Pricing.saving makes an edit in the parsed data (fast); Pricing.written in the file's text,
    parsed as loading does (what --write leaves). Each written recommendation, alone, both ways."""
    import re

    from generators.act.edits import Edit
    from generators.act.items import Pricing

    manifests = load_manifest_set([str(world[0])])
    teams = {t.manifest.team: t for t in manifests.teams}
    written = [r for r in found["recommendations"] if r["writes"]]
    assert {r["kind"] for r in written} >= {"spot", "pool-size", "idle-training", "calibrate"}
    for r in written:
        path = tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", r["field"]))
        pricing = Pricing(teams[r["team"]], manifests.org.max_team_monthly_usd, load_catalog(), OCTOBER)
        edit = [Edit(path, r["proposed"])]
        assert pricing.saving(edit) == pytest.approx(pricing.written(edit), abs=1e-6), r["id"]
