"""The recommendations that rest on hour-by-hour GPU and token series (generators/see/hourly.py):
pool size, idle training, GPU fit and calibration, and the busy hours a schedule is cut to.

- pool-size: each hour's need = ceil(busy GPUs / target busy share / GPUs per node), with the
  fewest GPUs per node among the pool's types (the need is never under-counted). `min_nodes`
  above the quietest hour's need comes down (never below 1 in prod: prod keeps serving);
  `max_nodes` under the busiest hour's need goes up (a capacity risk: said so, kept whatever
  it costs); `desired_nodes`, the estimate's expected basis, becomes the mean need, rounded up.
  A pool whose server queued requests (`vllm:num_requests_waiting` > 0) in its busiest hours is
  never shrunk. The three are priced in the order max, min, desired, each against the file with
  the ones before it made, so each edit is valid on its own and together they sum to the pool's.
- idle-training: a job whose GPUs were under IDLE_SHARE busy in most of the hours it ran gets
  `hours_per_month` = the hours it was busy.
- gpu-fit (advice, never written): the cheapest NVIDIA type the org allows and the catalog prices
  in the region whose memory holds the unit's measured peak with HEADROOM, where cheaper.
- calibrate: `utilization_percent` = the month's tokens over what its node-hours serve at the
  declared `tokens_per_second_per_node`; where a node served more than that in an hour (or none
  is declared), `tokens_per_second_per_node` = that busiest hour's per node, and the share is of
  it. No saving: it makes the estimated $ per million tokens the measured one.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from zoneinfo import ZoneInfo

from generators import catalog as accelerators
from generators.act.edits import Edit
from generators.act.items import Evidence, Pricing, Recommendation, Skipped
from generators.model import OrgPolicy, TeamManifest
from generators.model.org import patterns_allow
from generators.plan.pricing import MissingPrice
from generators.see.hourly import Measured, PoolHours
from generators.yaml_source import FieldPath

# A GPU under this busy share in an hour did almost nothing that hour.
IDLE_SHARE = 0.05
# A cheaper GPU must hold the measured peak memory with this much to spare.
HEADROOM = 0.2
DCGM = "Prometheus, dcgm-exporter DCGM_FI_DEV_GPU_UTIL"

Found = list[Recommendation | Skipped]


def _line(pricing: Pricing, path: FieldPath) -> int:
    source = pricing.loaded.source
    return source.locate(path)[0] if source is not None else 1


def _need(pool_hours: PoolHours, gpus_per_node: int, target: float) -> dict[float, int]:
    return {at: math.ceil(busy / target / gpus_per_node - 1e-9) for at, busy in pool_hours.busy_gpus.items()}


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%d %H:00 UTC")


def pool_size(pricing: Pricing, measured: Measured, org: OrgPolicy) -> Found:
    team = pricing.loaded.manifest
    target = org.recommend.target_gpu_busy_percent / 100
    out: Found = []
    applied: list[Edit] = []
    so_far = 0.0  # the saving of `applied`
    for index, pool in enumerate(team.inference):
        name = f"inference/{pool.name}"
        hours = measured.pools.get((team.team, pool.name))
        if hours is None or not hours.busy_gpus:
            out.append(Skipped("pool-size", team.team, name, f"no {DCGM} series of its nodes in {measured.month}"))
            continue
        per_node = min(accelerators.INSTANCE_TYPES[t].accelerators for t in pool.instance_types)
        need = _need(hours, per_node, target)
        quiet, peak = min(need.values()), max(need.values())
        mean = math.ceil(sum(need.values()) / len(need) - 1e-9)
        busiest = [at for at, n in need.items() if n == peak]
        queued = max((hours.waiting.get(at, 0.0) for at in busiest), default=0.0)
        floor = 1 if team.environment == "prod" else 0
        new_max = max(pool.max_nodes, peak)
        new_min = pool.min_nodes if queued > 0 else max(min(pool.min_nodes, quiet), floor)
        new_desired = min(max(mean, new_min), new_max)
        if queued > 0:
            new_desired = max(new_desired, pool.desired_nodes)
        evidence = (
            Evidence("busy GPUs per hour (min, mean, max)", f"{min(hours.busy_gpus.values()):.2f}, "
                     f"{sum(hours.busy_gpus.values()) / len(need):.2f}, {max(hours.busy_gpus.values()):.2f} over {len(need)} hours", DCGM),
            Evidence(f"nodes needed at {target:.0%} busy ({per_node} GPU per node)", f"quietest {quiet}, mean {mean}, busiest {peak} "
                     f"(first at {_when(min(busiest))})", "the busy GPUs above, per hour"),
            Evidence("queued requests in the busiest hours", f"{queued:g}", "Prometheus, vllm:num_requests_waiting"),
        )
        changes = [("max_nodes", pool.max_nodes, new_max, "the busiest hour needed more nodes than max_nodes: a capacity risk, "
                    "not a saving; raising it raises the estimate's high"),
                   ("min_nodes", pool.min_nodes, new_min, "the quietest hour needed fewer nodes: the floor the autoscaler keeps "
                    "comes down (the estimate's low)"),
                   ("desired_nodes", pool.desired_nodes, new_desired, "the mean hour's need: the estimate's expected nodes" + (
                       "; it needed more than planned, so the estimate was too low (a cost, not a saving)"
                       if new_desired > pool.desired_nodes else ""))]
        for leaf, current, proposed, note in changes:
            if proposed == current:
                continue
            path: FieldPath = ("inference", index, leaf)
            applied.append(Edit(path, proposed))
            so_far, before = pricing.saving(applied), so_far
            usd = so_far - before
            for_saving = leaf == "desired_nodes" and proposed < current
            out.append(Recommendation("pool-size", team.team, name, pricing.loaded.path, _line(pricing, path), path, current, proposed,
                                      usd, evidence, note=note, for_saving=for_saving))
        if queued > 0 and not any(isinstance(r, Recommendation) and r.target == name for r in out):
            out.append(Skipped("pool-size", team.team, name, f"requests queued ({queued:g}) in its busiest hours: never shrunk"))
    return out


def idle_training(pricing: Pricing, measured: Measured) -> Found:
    team = pricing.loaded.manifest
    out: Found = []
    for index, job in enumerate(team.training):
        name = f"training/{job.name}"
        hours = measured.jobs.get((team.team, job.name))
        if hours is None or not hours.busy_share:
            out.append(Skipped("idle-training", team.team, name, f"no {DCGM} series of its instances in {measured.month}"))
            continue
        ran = len(hours.busy_share)
        busy = sum(1 for share in hours.busy_share.values() if share >= IDLE_SHARE)
        if busy * 2 > ran:
            continue  # busy most of the hours it ran: nothing to recommend
        path: FieldPath = ("training", index, "hours_per_month")
        proposed = max(busy, 1)
        evidence = (Evidence(f"hours its GPUs were under {IDLE_SHARE:.0%} busy", f"{ran - busy} of {ran} hours it ran in {measured.month}", DCGM),)
        out.append(Recommendation("idle-training", team.team, name, pricing.loaded.path, _line(pricing, path), path, job.hours_per_month,
                                  proposed, pricing.saving([Edit(path, proposed)]), evidence,
                                  note="plan the hours it does work; stop the instance when a run ends (or give the team a schedule)"))
    return out


def gpu_fit(pricing: Pricing, measured: Measured, org: OrgPolicy) -> Found:
    team = pricing.loaded.manifest
    out: Found = []
    units: list[tuple[str, int, list[str], float | None]] = [
        ("inference", i, list(p.instance_types), getattr(measured.pools.get((team.team, p.name)), "peak_memory_mib", None))
        for i, p in enumerate(team.inference)] + [
        ("training", i, [j.instance_type], getattr(measured.jobs.get((team.team, j.name)), "peak_memory_mib", None))
        for i, j in enumerate(team.training)]
    for section, index, types, peak in units:
        unit = team.inference[index] if section == "inference" else team.training[index]
        name = f"{section}/{unit.name}"
        if peak is None:
            out.append(Skipped("gpu-fit", team.team, name, f"no DCGM_FI_DEV_FB_USED series of it in {measured.month}"))
            continue
        try:
            cheapest_now = min(pricing.catalog.on_demand_hourly(team.region, t) for t in types)
        except MissingPrice as missing:
            out.append(Skipped("gpu-fit", team.team, name, str(missing)))
            continue
        fits = sorted((price, kind.name) for kind in _nvidia_allowed(tuple(org.allowed_instance_types))
                      if kind.devices * kind.accelerator_memory_mib >= peak * (1 + HEADROOM)
                      and (price := _price(pricing, team.region, kind.name)) is not None and price < cheapest_now)
        if not fits:
            continue
        choice = fits[0][1]
        leaf = "instance_types" if section == "inference" else "instance_type"
        path: FieldPath = (section, index, leaf)
        proposed = [choice] if section == "inference" else choice
        changed = _with(team, section, index, leaf, proposed)
        memory = accelerators.INSTANCE_TYPES[choice]
        evidence = (Evidence("peak GPU memory of a node", f"{peak / 1024:.1f} GiB", "Prometheus, dcgm-exporter DCGM_FI_DEV_FB_USED (MiB)"),
                    Evidence(f"{choice} memory", f"{memory.accelerator_memory_gib:.1f} GiB ({memory.accelerator_model})",
                             "generators/catalog.py (EC2 DescribeInstanceTypes)"))
        out.append(Recommendation("gpu-fit", team.team, name, pricing.loaded.path, _line(pricing, path), path,
                                  types if section == "inference" else types[0], proposed, pricing.saving_of(changed), evidence, writes=False,
                                  note=f"advice: benchmark throughput on {choice} first; another GPU's tokens per second are not known"))
    return out


@functools.lru_cache(maxsize=8)
def _nvidia_allowed(patterns: tuple[str, ...]) -> tuple[accelerators.AcceleratedInstanceType, ...]:
    """The catalog's NVIDIA types the org's allowed_instance_types patterns admit (once per org)."""
    return tuple(kind for kind in accelerators.INSTANCE_TYPES.values() if kind.kind is accelerators.NVIDIA and patterns_allow(patterns, kind.name))


def _price(pricing: Pricing, region: str, instance_type: str) -> float | None:
    try:
        return pricing.catalog.on_demand_hourly(region, instance_type)
    except MissingPrice:
        return None


def _with(team: TeamManifest, section: str, index: int, leaf: str, value: object) -> TeamManifest:
    units = list(getattr(team, section))
    units[index] = units[index].model_copy(update={leaf: value})
    return team.model_copy(update={section: units})


def calibrate(pricing: Pricing, measured: Measured) -> Found:
    team = pricing.loaded.manifest
    out: Found = []
    for index, pool in enumerate(team.inference):
        name = f"inference/{pool.name}"
        hours = measured.pools.get((team.team, pool.name))
        ran = {at: n for at, n in hours.nodes.items() if n > 0 and at in hours.tokens_per_second} if hours else {}
        if hours is None or not ran or not any(hours.tokens_per_second[at] > 0 for at in ran):
            out.append(Skipped("calibrate", team.team, name, f"no token counters and node series of it in {measured.month}"))
            continue
        per_node = {at: hours.tokens_per_second[at] / n for at, n in ran.items()}
        peak_at = max(per_node, key=lambda at: per_node[at])
        peak = per_node[peak_at]
        # Capacity: the declared full-load throughput, unless a node served more than that in an
        # hour (then the declaration is too low) or there is none (then the busiest hour's is
        # all that is known).
        declared = pool.tokens_per_second_per_node
        capacity = peak if declared is None or peak > declared else declared
        served = sum(hours.tokens_per_second[at] for at in ran) * 3600
        node_hours = sum(ran.values())
        utilization = min(max(round(served / (node_hours * 3600 * capacity) * 100), 1), 100)
        evidence = (Evidence("busiest hour's tokens per second per node", f"{peak:,.0f} at {_when(peak_at)}",
                             "Prometheus, rate of the prompt and generation token counters"),
                    Evidence("tokens served, node-hours", f"{served:,.0f} tokens, {node_hours:g} node-hours",
                             "token counters' rate per hour; its nodes' GPU series"))
        changes: list[tuple[str, float | None, float, str]] = [("utilization_percent", pool.utilization_percent, utilization,
                    f"the month's tokens over what its node-hours serve at {capacity:,.0f} tokens per second per node; "
                    "no saving: the estimated $ per million tokens becomes the measured one")]
        if capacity != declared:
            changes.insert(0, ("tokens_per_second_per_node", declared, round(capacity),
                               "the busiest hour's throughput per node (a floor: no hour may have run at full load); no saving"))
        for leaf, current, proposed, note in changes:
            if current == proposed:
                continue
            path: FieldPath = ("inference", index, leaf)
            out.append(Recommendation("calibrate", team.team, name, pricing.loaded.path, _line(pricing, path), path, current, proposed,
                                      pricing.saving([Edit(path, proposed)]), evidence, for_saving=False, note=note))
    return out


def busy_profile(measured: Measured, team: TeamManifest, timezone: str) -> dict[tuple[int, int], int]:
    """(ISO weekday, hour) in `timezone` -> how many of the month's hours there had a pool or job
    of the team at IDLE_SHARE busy or more (the GPU series' version of the billing hour profile)."""
    out: dict[tuple[int, int], int] = {}
    busy_hours = [at for p in team.inference if (h := measured.pools.get((team.team, p.name)))
                  for at, gpus in h.busy_gpus.items() if gpus >= IDLE_SHARE]
    busy_hours += [at for j in team.training if (h2 := measured.jobs.get((team.team, j.name)))
                   for at, share in h2.busy_share.items() if share >= IDLE_SHARE]
    for at in set(busy_hours):
        slot = _week_slot(at, timezone)
        out[slot] = out.get(slot, 0) + 1
    return out


@functools.lru_cache(maxsize=4096)
def _week_slot(at: float, timezone: str) -> tuple[int, int]:
    """(ISO weekday, hour) of the hour starting at `at`, in `timezone` (every team shares the
    month's hours: each is converted once)."""
    local = dt.datetime.fromtimestamp(at, ZoneInfo(timezone))
    return local.isoweekday(), local.hour
