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

from typing import Iterable, Protocol


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


def pooled_usd_per_million_tokens(components: Iterable[tuple[float, PoolCost]]) -> tuple[float | None, float | None]:
    """(at full load, at utilization) over (expected nodes, component) pairs of one model."""
    served = [(nodes, c) for nodes, c in components if c.usd_per_million_tokens is not None and c.hourly_usd is not None]
    if not served:
        return None, None
    running = [(nodes * (c.hours or 0), c) for nodes, c in served if nodes * (c.hours or 0) > 0]
    weighted = running or [(1.0, c) for _, c in served]
    full_pairs: list[tuple[float, float]] = []
    used_pairs: list[tuple[float, float]] = []
    for weight, c in weighted:
        cost = weight * (c.hourly_usd or 0.0)
        full_pairs.append((cost, c.usd_per_million_tokens or 0.0))
        if c.usd_per_million_tokens_at_utilization is not None:
            used_pairs.append((cost, c.usd_per_million_tokens_at_utilization))
    full, used = _pooled(full_pairs), _pooled(used_pairs)
    return full, used
