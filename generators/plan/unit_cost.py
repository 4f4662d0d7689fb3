"""$ per million tokens where several pools serve one model: the one formula every output uses.

A pool's own figure is its node price over the tokens a node serves in an hour
(generators/plan/estimate.py: hourly / (tokens_per_second x 3600) x 1e6, and that over the utilization).
Pooled, it is what the pools cost over the tokens they serve together: sum(cost) / sum(tokens),
each pool's tokens being its cost over its own $ per million. That weights each pool by the tokens
it serves (a plain mean of the pools' figures would weight a one-node pool like a ten-node one);
with equal throughput per node it is the node-hour weighted mean. Pools expected to run no node
hours count as one node each, so a model scaled to zero still has the figure it would run at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol

if TYPE_CHECKING:
    from generators.plan.estimate import Estimate, Range


class PoolCost(Protocol):
    """What the formula reads from an estimate component (generators.plan.estimate.Component)."""

    @property
    def hours(self) -> float | None: ...
    @property
    def hourly_usd(self) -> float | None: ...
    @property
    def usd_per_million_tokens(self) -> float | None: ...
    @property
    def usd_per_million_tokens_at_utilization(self) -> float | None: ...


def _pooled(pairs: list[tuple[float, float]]) -> float | None:
    """(cost, $ per million) pairs -> sum(cost) / sum(cost / $ per million)."""
    pairs = [(cost, rate) for cost, rate in pairs if rate > 0]
    if not pairs:
        return None
    tokens = sum(cost / rate for cost, rate in pairs)
    return sum(cost for cost, _ in pairs) / tokens if tokens else None


def pooled_usd_per_million_tokens(components: Iterable[tuple[float, PoolCost]],
                                  bought: Iterable[tuple[float, float]] = ()) -> tuple[float | None, float | None]:
    """(at full load, at utilization) over (expected nodes, component) pairs of one model, and
    (monthly cost, $ per million) pairs of the tokens bought for it from managed models."""
    bought = list(bought)
    served = [(nodes, c) for nodes, c in components if c.usd_per_million_tokens is not None and c.hourly_usd is not None]
    if not served:
        return (_pooled(bought),) * 2 if bought else (None, None)
    running = [(nodes * (c.hours or 0), c) for nodes, c in served if nodes * (c.hours or 0) > 0]
    weighted = running or [(1.0, c) for _, c in served]
    full_pairs: list[tuple[float, float]] = []
    used_pairs: list[tuple[float, float]] = []
    for weight, c in weighted:
        cost = weight * (c.hourly_usd or 0.0)
        full_pairs.append((cost, c.usd_per_million_tokens or 0.0))
        if c.usd_per_million_tokens_at_utilization is not None:
            used_pairs.append((cost, c.usd_per_million_tokens_at_utilization))
    full, used = _pooled(full_pairs + bought), _pooled(used_pairs + bought) if used_pairs else None
    return full, used


@dataclass(frozen=True)
class ModelCost:
    """One model's expected monthly cost and pooled $ per million tokens, over the pools serving it."""

    model_id: str
    teams: tuple[str, ...]
    monthly_usd: Range
    usd_per_million_tokens: float | None
    usd_per_million_tokens_at_utilization: float | None


def by_model(est: Estimate, per_team: bool = False) -> list[ModelCost]:
    """Every model_id the estimate serves, pooled over all teams (`cost`, the report without
    billing data) or per (model, team) (`showback`, beside the team's actual), sorted."""
    from generators.plan.estimate import ZERO

    grouped: dict[tuple[str, str], tuple[set[str], Range, list[tuple[float, PoolCost]], list[tuple[float, float]]]] = {}
    for team in est.teams:
        for c in team.components:
            if c.model_id is None:
                continue
            key = (c.model_id, team.team if per_team else "")
            teams, usd, pools, bought = grouped.get(key, (set(), ZERO, [], []))
            teams.add(team.team)
            if c.kind == "managed-model":
                if c.usd_per_million_tokens:
                    bought.append((c.monthly_usd.expected, c.usd_per_million_tokens))
            else:
                pools.append((c.units.expected, c))
            grouped[key] = (teams, usd + c.monthly_usd, pools, bought)
    out = []
    for (model_id, _), (teams, usd, pools, bought) in sorted(grouped.items()):
        full, used = pooled_usd_per_million_tokens(pools, bought)
        out.append(ModelCost(model_id, tuple(sorted(teams)), usd, full, used))
    return out
