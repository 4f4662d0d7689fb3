"""$ per million tokens of one model on several pools: one formula, the same figure everywhere (issue 24).

One model on two pools of one team, ten nodes of a cheap type and one of a dear one: `cost
--format json`, showback's estimate column and the HTML report's must all be what the pools cost
over the tokens they serve together, which a plain mean of the two pools' figures is not.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.plan.estimate import estimate
from generators.plan.pricing import load_catalog
from generators.plan.unit_cost import pooled_usd_per_million_tokens
from generators.see.measure import estimated_per_model
from generators.see.report import _models
from tests.manifest_helpers import REPO, example, write_manifests

CHEAP, DEAR = "g5.xlarge", "g5.12xlarge"
UTILIZATION = 50


@pytest.fixture(scope="module")
def one_model_two_pools(tmp_path_factory):
    bravo = example("bravo")
    pool = bravo["inference"][0]
    pool.update(instance_types=[CHEAP], min_nodes=10, max_nodes=10, desired_nodes=10, tokens_per_second_per_node=1000,
                utilization_percent=UTILIZATION)
    dear = json.loads(json.dumps(pool))
    dear.update(name="chatbot-large", instance_types=[DEAR], min_nodes=1, max_nodes=1, desired_nodes=1, tokens_per_second_per_node=1500)
    dear.pop("autoscaling")
    bravo["inference"] = [pool, dear]
    root = write_manifests(tmp_path_factory.mktemp("m"), {"bravo": bravo})
    return root, load_manifest_set([str(root)])


def expected(manifests) -> float:
    """The formula written out: sum over pools of node-hours x price, over the tokens they serve
    (node-hours x tokens per second x 3600 x utilization), per million."""
    team = manifests.teams[0].manifest
    prices = load_catalog()
    hours = 730  # always on: bravo has no schedule
    cost = tokens = 0.0
    for pool in team.inference:
        (instance_type,) = pool.instance_types
        node_hours = pool.desired_nodes * hours
        cost += node_hours * prices.on_demand_hourly(team.region, instance_type)
        tokens += node_hours * pool.tokens_per_second_per_node * 3600 * pool.utilization_percent / 100
    return cost / tokens * 1e6


def test_every_output_gives_the_pooled_figure(one_model_two_pools):
    root, manifests = one_model_two_pools
    est = estimate(manifests, load_catalog(), Month.current())
    want = expected(manifests)
    components = [c for c in est.teams[0].components if c.kind == "inference"]
    plain_mean = sum(c.usd_per_million_tokens_at_utilization for c in components) / len(components)
    assert abs(plain_mean - want) > 0.5, "the case must tell the pooled figure from a plain mean"

    done = subprocess.run([sys.executable, "-m", "generators.cli", "cost", str(root), "--format", "json"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    (model,) = json.loads(done.stdout)["models"]
    assert model["usd_per_million_tokens_at_utilization"] == pytest.approx(want, abs=1e-4)
    assert estimated_per_model(est)[("chatbot-v3", "bravo")] == pytest.approx(want, abs=1e-4)
    ((_, _, in_report, _, _),) = _models(est, None)
    assert in_report == pytest.approx(want, abs=1e-4)


def test_a_pool_scaled_to_zero_still_has_the_figure_it_would_run_at():
    class Pool:
        def __init__(self, hourly: float, rate: float) -> None:
            self.hours, self.hourly_usd = 730.0, hourly
            self.usd_per_million_tokens = rate
            self.usd_per_million_tokens_at_utilization = rate * 2

    full, used = pooled_usd_per_million_tokens([(0, Pool(1.0, 2.0)), (0, Pool(9.0, 6.0))])
    assert full == pytest.approx((1.0 + 9.0) / (1.0 / 2.0 + 9.0 / 6.0))
    assert used == pytest.approx(2 * full)
    assert pooled_usd_per_million_tokens([]) == (None, None)


def test_tokens_bought_from_a_managed_model_join_the_pooled_figure():
    """A model served by a pool and bought from Bedrock too: what both cost over the tokens both
    give; bought alone, its cost over its tokens, at full load and at utilization alike."""
    class Pool:
        hours, hourly_usd = 730.0, 2.0
        usd_per_million_tokens, usd_per_million_tokens_at_utilization = 0.5, 1.0

    pool_cost = 3 * 730 * 2.0
    bought = (900.0, 3.0)  # $900 at $3 per million: 300 M tokens
    full, used = pooled_usd_per_million_tokens([(3, Pool())], [bought])
    assert full == pytest.approx((pool_cost + 900) / (pool_cost / 0.5 + 900 / 3.0))
    assert used == pytest.approx((pool_cost + 900) / (pool_cost / 1.0 + 900 / 3.0))
    assert pooled_usd_per_million_tokens([], [bought]) == pytest.approx((3.0, 3.0))
