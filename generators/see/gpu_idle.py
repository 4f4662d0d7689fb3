"""GPU money that did no work: per inference pool and training job, the average GPU busy share
over the hours it ran, from NVIDIA DCGM exporter's `DCGM_FI_DEV_GPU_UTIL` in the same
Prometheus as the token counters, and the idle dollars, spend x (1 - busy share).

Which series belongs to which pool or job (README, "Idle GPU"):
- Pool nodes. dcgm-exporter labels every series with `Hostname`, the node's name
  (https://github.com/NVIDIA/dcgm-exporter). kube-state-metrics exports the node labels
  genai-finops puts on each pool's nodes (`team`, `app` = the pool's name: generators/labels.py)
  as `kube_node_labels{node, label_team, label_app}` when allowed with
  `--metric-labels-allowlist=nodes=[team,app]` (https://github.com/kubernetes/kube-state-metrics,
  docs/metrics/cluster/node-metrics.md). A series whose `Hostname` is such a node is the pool's.
- Training instances, scraped with Prometheus' `ec2_sd_configs` and relabelled so each series
  carries `team` (from the instance's Team tag, `__meta_ec2_tag_Team`) and `ec2_name` (from its
  Name tag, `__meta_ec2_tag_Name`: generators/naming.py training_instance).
Series matching neither are counted as unowned and reported, not guessed.

Busy share: the mean of every sample of the unit's GPUs in the month, utilisation percent /
100, each sample weighing the same (a GPU that ran longer weighs more: the average over the
hours it ran). Prometheus computes the per-series sum and count (`sum_over_time`,
`count_over_time`); nothing but those two numbers per series crosses the network.

Spend: the month's actual spend of the unit's team and model (the Tags attribution of
showback), split between that team's units of the same model by the GPU samples each reported;
a model served or trained by one unit (the usual case) gives it all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from generators import naming
from generators.model import ManifestSet
from generators.months import Month
from generators.see.metrics import GPU_UTIL_METRIC, NODE_LABELS_METRIC
from generators.see.prometheus import Client, client_for, instant

UnitKind = Literal["inference", "training"]


@dataclass(frozen=True)
class UnitUtilization:
    team: str
    kind: UnitKind
    name: str  # pool or training job
    model_id: str
    busy_share: float | None  # None: no DCGM series for it
    samples: int

    def as_json(self, spend: float | None) -> dict:
        idle = None if spend is None or self.busy_share is None else spend * (1 - self.busy_share)
        return {
            "team": self.team, "kind": self.kind, "name": self.name, "model_id": self.model_id,
            "gpu_busy_share": None if self.busy_share is None else round(self.busy_share, 4),
            "gpu_samples": self.samples,
            "actual_usd": None if spend is None else round(spend, 2),
            "idle_usd": None if idle is None else round(idle, 2),
        }


def utilization(url: str | Client, manifests: ManifestSet, month: Month, end_at=None, metric: str = GPU_UTIL_METRIC) -> tuple[list[UnitUtilization], int]:
    """Every pool and training job of the manifests with its busy share (None without series),
    and how many GPU series belonged to none of them."""
    end = end_at or month.end
    url = client_for(url)
    window = f"{math.ceil((end - month.start).total_seconds())}s"
    sums = instant(url, f"sum_over_time({metric}[{window}])", end)
    counts = instant(url, f"count_over_time({metric}[{window}])", end)
    nodes = {
        series["metric"].get("node"): (series["metric"].get("label_team"), series["metric"].get("label_app"))
        for series in instant(url, f"max_over_time({NODE_LABELS_METRIC}[{window}])", end)
    }
    units: dict[tuple[str, UnitKind, str], str] = {}  # (team, kind, name) -> model_id
    training_names: dict[tuple[str, str], str] = {}  # (team, Name tag) -> job
    for loaded in manifests.teams:
        team = loaded.manifest
        for pool in team.inference:
            units[(team.team, "inference", pool.name)] = pool.model_id
        for job in team.training:
            units[(team.team, "training", job.name)] = job.model_id
            for index in range(job.count):
                training_names[(team.team, naming.training_instance(team.team, job.name, index))] = job.name

    totals: dict[tuple[str, str, str], list[float]] = {}
    unowned = 0
    count_by_series = {_key(series["metric"]): float(series["value"][1]) for series in counts}
    for series in sums:
        labels = series["metric"]
        owner = _owner(labels, nodes, training_names)
        if owner is None or owner not in units:
            unowned += 1
            continue
        total = totals.setdefault(owner, [0.0, 0.0])
        total[0] += float(series["value"][1])
        total[1] += count_by_series.get(_key(labels), 0.0)
    out = []
    for (owner_team, kind, name), model in sorted(units.items()):
        busy, samples = None, 0
        if (owner_team, kind, name) in totals:
            value_sum, samples_f = totals[(owner_team, kind, name)]
            samples = int(samples_f)
            busy = min(max(value_sum / samples_f / 100, 0.0), 1.0) if samples_f else None
        out.append(UnitUtilization(owner_team, kind, name, model, busy, samples))
    return out, unowned


def _key(labels: dict[str, str]) -> tuple:
    return tuple(sorted(labels.items()))


def _owner(labels: dict[str, str], nodes: dict, training_names: dict) -> tuple[str, str, str] | None:
    if labels.get("team") and labels.get("ec2_name"):
        job = training_names.get((labels["team"], labels["ec2_name"]))
        return (labels["team"], "training", job) if job else None
    team, pool = nodes.get(labels.get("Hostname"), (None, None))
    if team and pool:
        return (team, "inference", pool)
    return None


def with_spend(units: list[UnitUtilization], spend_by_model: dict[tuple[str, str], float]) -> list[dict]:
    """Each unit as JSON with its spend and idle dollars: the (team, model) spend split between
    the team's units of that model by their GPU samples (evenly when none reported any)."""
    groups: dict[tuple[str, str], list[UnitUtilization]] = {}
    for unit in units:
        groups.setdefault((unit.team, unit.model_id), []).append(unit)
    out = []
    for unit in units:
        spend = spend_by_model.get((unit.model_id, unit.team))
        siblings = groups[(unit.team, unit.model_id)]
        if spend is not None and len(siblings) > 1:
            samples = sum(u.samples for u in siblings)
            spend = spend * (unit.samples / samples if samples else 1 / len(siblings))
        out.append(unit.as_json(spend))
    return out
