"""Hour by hour, per inference pool and training job: what `recommend` sizes from.

From the same Prometheus as showback's GPU busy share and tokens (generators/see/gpu_idle.py
says how a series is tied to its pool or job):
- a pool's busy GPUs per hour: each GPU's mean `DCGM_FI_DEV_GPU_UTIL` over the hour / 100,
  summed over the pool's GPUs (a pool of 2 GPUs at 50% and 100% is 1.5 busy GPUs): Prometheus
  sums per node, and a node is the pool's its `kube_node_labels` name over the month (joined
  here, not in PromQL: a join stepped over every hour costs Prometheus four times as much);
- its nodes per hour (its nodes with GPU samples that hour);
- the largest `vllm:num_requests_waiting` of its served model name that hour (queued requests);
- its tokens per second that hour: the rate of the prompt and generation counters, summed;
- a training job's mean GPU busy share per hour, over its instances' GPUs;
- each pool's and job's peak GPU memory: per node, the sum of each GPU's largest
  `DCGM_FI_DEV_FB_USED` (MiB) in the month; the largest node.

Prometheus aggregates: each figure is one range query stepped by the hour (values at t cover
the hour before t: https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries),
or one instant query, so the requests are a fixed number (REQUESTS) whatever the teams, pools
or GPUs, and one number per node (or model, or training instance) and hour crosses the network.
"""

from __future__ import annotations

import datetime as dt
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from generators import naming
from generators.model import ManifestSet
from generators.months import Month
from generators.see.metrics import FB_USED_METRIC, GPU_UTIL_METRIC, NODE_LABELS_METRIC, WAITING_METRIC
from generators.see.prometheus import Client
from generators.see.tokens import Metrics

HOUR = dt.timedelta(hours=1)
# The range and instant queries `measure_hours` sends: it never sends more.
REQUESTS = 7
INSTANT = ("node labels", "peak GPU memory")
# Requests in flight at once.
PARALLEL = 3

Hours = dict[float, float]  # unix seconds of the hour's start -> value


@dataclass
class PoolHours:
    team: str
    pool: str
    busy_gpus: Hours = field(default_factory=dict)
    nodes: Hours = field(default_factory=dict)
    waiting: Hours = field(default_factory=dict)
    tokens_per_second: Hours = field(default_factory=dict)
    peak_memory_mib: float | None = None


@dataclass
class JobHours:
    team: str
    job: str
    busy_share: Hours = field(default_factory=dict)
    peak_memory_mib: float | None = None


@dataclass
class Measured:
    """The hourly figures of every pool and job of the manifests (empty where no series)."""

    month: Month
    pools: dict[tuple[str, str], PoolHours]
    jobs: dict[tuple[str, str], JobHours]
    sources: dict[str, str]  # what -> the PromQL it came from
    requests: int = 0
    notes: list[str] = field(default_factory=list)


def queries(gpu_util: str, tokens: Metrics, window: str) -> dict[str, str]:
    """The PromQL of each figure (window: the month, for the instant queries)."""
    label = tokens.model_label
    return {
        # Pool GPUs carry no ec2_name (training instances do): busy GPUs per node and hour.
        "node busy GPUs": f'sum by (Hostname) (avg_over_time({gpu_util}{{ec2_name=""}}[1h]) / 100)',
        "queued requests": f"max by ({label}) (max_over_time({WAITING_METRIC}[1h]))",
        "prompt tokens per second": f"sum by ({label}) (rate({tokens.prompt}[1h]))",
        "generation tokens per second": f"sum by ({label}) (rate({tokens.generation}[1h]))",
        "training busy share": f'avg by (team, ec2_name) (avg_over_time({gpu_util}{{ec2_name!=""}}[1h]) / 100)',
        "node labels": f"max by (node, label_team, label_app) (max_over_time({NODE_LABELS_METRIC}[{window}]))",
        "peak GPU memory": f"sum by (Hostname, team, ec2_name) (max_over_time({FB_USED_METRIC}[{window}]))",
    }


def measure_hours(client: Client, manifests: ManifestSet, month: Month, end: dt.datetime | None = None,
                  gpu_util: str = GPU_UTIL_METRIC, tokens: Metrics = Metrics()) -> Measured:
    """Every pool's and job's hourly figures over the month (up to `end` for a month in progress).
    The queries go out PARALLEL at a time: Prometheus answers each on its own core while the
    answers before are read."""
    end = min(end or month.end, month.end)
    window = f"{math.ceil((end - month.start).total_seconds())}s"
    promql = queries(gpu_util, tokens, window)
    before = client.requests

    def hourly(what: str) -> list[tuple[dict[str, str], Hours]]:
        """Each series' values keyed by the start of the hour they cover; a negative gauge
        (none of these can be) is passed over with a note."""
        out = []
        for labels, samples in client.range(promql[what], month.start + HOUR, end, HOUR, what):
            if any(value < 0 for _, value in samples):
                client.note(what, labels, "a negative value")
                continue
            out.append((labels, {at - HOUR.total_seconds(): value for at, value in samples}))
        return out

    def instant(what: str) -> list[tuple[dict[str, str], float]]:
        return client.instant(promql[what], end, what)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = dict(zip(promql, pool.map(lambda what: instant(what) if what in INSTANT else hourly(what), promql)))
    measured = Measured(month, {}, {}, promql, client.requests - before, list(client.notes))
    _attribute(measured, manifests, answers, tokens.model_label)
    return measured


def _attribute(measured: Measured, manifests: ManifestSet, answers: dict[str, list[Any]], model_label: str) -> None:
    """`answers`: per figure, (labels, hours) of a range query or (labels, value) of an instant one."""
    """Each answer's series to its pool or job (generators/see/gpu_idle.py: a node is a pool's
    when kube_node_labels gives it that pool's team and app labels over the month)."""
    pools, jobs = measured.pools, measured.jobs
    pools.update({(t.manifest.team, p.name): PoolHours(t.manifest.team, p.name) for t in manifests.teams for p in t.manifest.inference})
    jobs.update({(t.manifest.team, j.name): JobHours(t.manifest.team, j.name) for t in manifests.teams for j in t.manifest.training})
    served: dict[str, list[PoolHours]] = {}
    for loaded in manifests.teams:
        for pool in loaded.manifest.inference:
            served.setdefault(pool.served_model_name or pool.model_id, []).append(pools[(loaded.manifest.team, pool.name)])
    instances = {(t.manifest.team, naming.training_instance(t.manifest.team, j.name, i)): (t.manifest.team, j.name)
                 for t in manifests.teams for j in t.manifest.training for i in range(j.count)}
    nodes = {labels.get("node"): pools.get((labels.get("label_team", ""), labels.get("label_app", "")))
             for labels, _ in answers["node labels"]}
    for labels, hours in answers["node busy GPUs"]:
        if (owner := nodes.get(labels.get("Hostname"))) is not None:
            for at, busy in hours.items():
                owner.busy_gpus[at] = owner.busy_gpus.get(at, 0.0) + busy
                owner.nodes[at] = owner.nodes.get(at, 0) + 1
    for labels, hours in answers["queued requests"]:
        for unit in served.get(labels.get(model_label, ""), []):
            unit.waiting = hours
    for what in ("prompt tokens per second", "generation tokens per second"):
        for labels, hours in answers[what]:
            for unit in served.get(labels.get(model_label, ""), []):
                for at, value in hours.items():
                    unit.tokens_per_second[at] = unit.tokens_per_second.get(at, 0.0) + value
    instance_hours: dict[tuple[str, str], list[Hours]] = {}
    for labels, hours in answers["training busy share"]:
        if (job := instances.get((labels.get("team", ""), labels.get("ec2_name", "")))) is not None:
            instance_hours.setdefault(job, []).append(hours)
    for job, series in instance_hours.items():
        stamps = sorted({at for hours in series for at in hours})
        jobs[job].busy_share = {at: sum(h[at] for h in series if at in h) / sum(1 for h in series if at in h) for at in stamps}
    for labels, peak in answers["peak GPU memory"]:
        holder: PoolHours | JobHours | None = nodes.get(labels.get("Hostname"))
        if holder is None and (job := instances.get((labels.get("team", ""), labels.get("ec2_name", "")))) is not None:
            holder = jobs[job]
        if holder is not None:
            holder.peak_memory_mib = max(holder.peak_memory_mib or 0.0, peak)
