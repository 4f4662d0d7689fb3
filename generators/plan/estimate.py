"""Monthly cost estimate of validated manifests, per team and per component.

- Training: count x hours x hourly price, the price reduced by the family's spot discount when
  `market: spot`. Hours: `hours_per_month`, else the hours the team schedule allows in the
  month, else the always-on month (730 h).
- Spot discounts are the range observed for the family (generators/plan/prices.json): the low
  estimate takes the largest discount, the high the smallest, the expected their midpoint.
- Inference pools: nodes x hours x hourly price; hours are the schedule's where the team has one
  (the off-hours function scales pools to zero outside it), else 730. Any of a pool's instance
  types may run (docs/manifest.md, "Pools with several instance types"), so
  low = min_nodes at the cheapest type's price (after the largest spot discount), high =
  max_nodes at the dearest's (after the smallest), and expected = desired_nodes at the mean of
  the types' expected prices (each type equally likely; the order of `instance_types` never
  matters).
- Root volumes: of training instances, GB x gp3 price for the whole month (a stopped instance
  keeps its volume); of pool nodes, nodes x node_volume_gb x gp3 price for the hours the nodes
  run (a node's volume is deleted with it).
- Savings next to each cost: what the schedule saves against always-on (730 h) and what spot
  saves against on-demand for the same hours.
- Unit economics where `tokens_per_second_per_node` is given: hourly node price /
  (tokens per second x 3600) x 1e6 = USD per million tokens at full load, and that divided by
  utilization_percent / 100 at the load the team expects.
- Managed models (Bedrock): input tokens x the model's input price + output tokens x its output
  price, per million, for the region (prices.json `bedrock`); tokens are declared, so low =
  expected = high. A pool's `managed_alternative` must be priced there too (build or buy).
- The gate compares the `expected` (default, or org `cost_gate`, or `--gate`) or the `high`
  total with the budget and the org cap.

Never included: the EKS control plane and other shared cluster costs, data transfer, storage
outside the root volumes, and anything not in a manifest (see README, "What the estimate leaves out").

Schedule hours are real elapsed hours in a concrete calendar month in the team's IANA time
zone, so the days a DST change falls on count 1 hour more or less.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from generators.errors import ManifestError, Problem, UsageError
from generators.model import GATES, InferencePool, LoadedTeam, ManagedModel, ManifestSet, TrainingJob
from generators.months import Month, schedule_hours
from generators.plan.bedrock_prices import TokenPrices
from generators.plan.pricing import NO_DISCOUNT, MissingPrice, PriceCatalog, SpotDiscount


@dataclass(frozen=True)
class Range:
    low: float
    expected: float
    high: float

    @classmethod
    def flat(cls, value: float) -> Range:
        return cls(value, value, value)

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.expected + other.expected, self.high + other.high)


ZERO = Range(0.0, 0.0, 0.0)




@dataclass(frozen=True)
class Component:
    kind: Literal["training", "inference", "root-volume", "node-volume", "managed-model"]
    name: str
    monthly_usd: Range
    units: Range  # instances, nodes or GB
    instance_type: str | None = None
    market: str | None = None
    hours: float | None = None
    hours_basis: str | None = None  # hours_per_month | schedule | always-on
    hourly_usd: float | None = None  # per instance or node, after the expected spot discount
    on_demand_hourly_usd: float | None = None
    schedule_savings_usd: float = 0.0
    spot_savings_usd: float = 0.0
    usd_per_million_tokens: float | None = None
    utilization_percent: float | None = None
    usd_per_million_tokens_at_utilization: float | None = None
    model_id: str | None = None
    # the price per instance or node hour at the low, expected and high ends
    hourly_range_usd: Range | None = None
    # an inference pool's managed_alternative, priced in the team's region (build or buy)
    alternative: TokenPrices | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TeamEstimate:
    team: str
    path: str
    region: str
    budget_usd: float
    org_cap_usd: float
    schedule_hours: float | None
    timezone: str | None
    components: tuple[Component, ...]
    gate: str = "expected"
    owner: str = ""  # for chargeback: who to ask, and where the cost goes
    cost_center: str = ""

    @property
    def total(self) -> Range:
        return sum((component.monthly_usd for component in self.components), ZERO)

    @property
    def gated_usd(self) -> float:
        """The figure the gate compares: the expected or the high total."""
        return getattr(self.total, self.gate)

    @property
    def budget_percent(self) -> float:
        return self.gated_usd / self.budget_usd * 100

    @property
    def over_budget(self) -> bool:
        return self.gated_usd > self.budget_usd

    @property
    def over_org_cap(self) -> bool:
        return self.gated_usd > self.org_cap_usd

    @property
    def schedule_savings_usd(self) -> float:
        return sum(c.schedule_savings_usd for c in self.components)

    @property
    def spot_savings_usd(self) -> float:
        return sum(c.spot_savings_usd for c in self.components)


@dataclass(frozen=True)
class Estimate:
    month: Month
    prices_path: str
    hours_always_on: float
    org_cap_usd: float
    teams: tuple[TeamEstimate, ...] = field(default=())
    gate: str = "expected"
    prices_read: str = ""  # the catalog's date (PriceCatalog.read_on)

    @property
    def total(self) -> Range:
        return sum((team.total for team in self.teams), ZERO)

    @property
    def failing(self) -> list[TeamEstimate]:
        return [t for t in self.teams if t.over_budget or t.over_org_cap]


# --------------------------------------------------------------------------- estimate


def estimate(manifests: ManifestSet, catalog: PriceCatalog, month: Month, gate: str | None = None) -> Estimate:
    """The estimate of every team, or ManifestError naming each field whose price is missing.

    `gate`: the figure compared with budgets, "expected" or "high"; default the org's cost_gate.
    """
    gate = gate or manifests.org.cost_gate
    if gate not in GATES:
        raise UsageError(f"--gate {gate!r}: allowed: {', '.join(GATES)}")
    teams: list[TeamEstimate] = []
    problems: list[Problem] = []
    for loaded in manifests.teams:
        team, missing = estimate_team(loaded, manifests.org.max_team_monthly_usd, catalog, month, gate)
        teams.append(team)
        problems.extend(_locate(loaded, missing))
    if problems:
        raise ManifestError(problems)
    return Estimate(month, catalog.path, catalog.hours_always_on, manifests.org.max_team_monthly_usd, tuple(teams), gate, catalog.read_on)


Missing = list[tuple[tuple, MissingPrice]]


@dataclass
class _Prices:
    """The catalog's prices for one team's region; each missing price is kept with the manifest
    field it concerns, so every one is reported, not only the first."""

    catalog: PriceCatalog
    region: str
    missing: Missing = field(default_factory=list)

    def _get(self, field_path: tuple, lookup: Callable[[], Any]) -> Any:
        try:
            return lookup()
        except MissingPrice as exc:
            self.missing.append((field_path, exc))
            return None

    def on_demand(self, field_path: tuple, instance_type: str) -> float | None:
        return self._get(field_path, lambda: self.catalog.on_demand_hourly(self.region, instance_type))

    def discount(self, field_path: tuple, instance_type: str, market: str) -> SpotDiscount | None:
        return self._get(field_path, lambda: self.catalog.spot_discount(instance_type)) if market == "spot" else NO_DISCOUNT

    def gp3(self, field_path: tuple) -> float | None:
        return self._get(field_path, lambda: self.catalog.gp3_gb_month(self.region))

    def tokens(self, field_path: tuple, model: str) -> TokenPrices | None:
        return self._get(field_path, lambda: self.catalog.token_prices(self.region, model))


def estimate_team(loaded: LoadedTeam, org_cap_usd: float, catalog: PriceCatalog, month: Month,
                  gate: str = "expected") -> tuple[TeamEstimate, Missing]:
    """One team, and every price it needs that the catalog lacks (with the manifest field)."""
    manifest = loaded.manifest
    prices = _Prices(catalog, manifest.region)
    scheduled = schedule_hours(manifest.schedule, month) if manifest.schedule else None
    components: list[Component] = []
    for index, job in enumerate(manifest.training):
        components += _training(index, job, prices, scheduled)
    for index, pool in enumerate(manifest.inference):
        components += _inference(index, pool, prices, scheduled)
    for index, managed in enumerate(manifest.managed_models):
        components += _managed(index, managed, prices)
    team = TeamEstimate(
        team=manifest.team, path=loaded.path, region=manifest.region, budget_usd=manifest.budget.monthly_usd,
        org_cap_usd=org_cap_usd, schedule_hours=scheduled,
        timezone=manifest.schedule.timezone if manifest.schedule else None, components=tuple(components), gate=gate,
        owner=manifest.owner, cost_center=manifest.cost_center,
    )
    return team, prices.missing


def _training(index: int, job: TrainingJob, prices: _Prices, scheduled: float | None) -> list[Component]:
    """A training job's instances (schedule-, spot- and hours-aware) and their root volumes."""
    always_on = prices.catalog.hours_always_on
    on_demand = prices.on_demand(("training", index, "instance_type"), job.instance_type)
    discount = prices.discount(("training", index, "market"), job.instance_type, job.market)
    gp3 = prices.gp3(("training", index, "root_volume_gb"))
    if job.hours_per_month is not None:
        hours, basis = job.hours_per_month, "hours_per_month"
    elif scheduled is not None:
        hours, basis = scheduled, "schedule"
    else:
        hours, basis = always_on, "always-on"
    out = []
    if on_demand is not None and discount is not None:
        hourly = _after_spot(on_demand, discount)
        out.append(Component(
            kind="training", name=job.name, instance_type=job.instance_type, market=job.market,
            units=Range.flat(job.count), hours=hours, hours_basis=basis, hourly_usd=hourly.expected,
            on_demand_hourly_usd=on_demand, hourly_range_usd=hourly,
            monthly_usd=Range(job.count * hours * hourly.low, job.count * hours * hourly.expected, job.count * hours * hourly.high),
            schedule_savings_usd=job.count * (always_on - hours) * hourly.expected if basis == "schedule" else 0.0,
            spot_savings_usd=job.count * hours * on_demand * discount.expected, model_id=job.model_id,
            notes=(_spot_note(job.instance_type, on_demand, discount),) if job.market == "spot" else (),
        ))
    if gp3 is not None:
        gb = job.count * job.root_volume_gb
        out.append(Component(
            kind="root-volume", name=job.name, units=Range.flat(gb), hours=always_on, hours_basis="always-on",
            monthly_usd=Range.flat(gb * gp3), notes=(f"{job.count} x {job.root_volume_gb} GB gp3, kept while stopped",),
            model_id=job.model_id,
        ))
    return out


def _inference(index: int, pool: InferencePool, prices: _Prices, scheduled: float | None) -> list[Component]:
    """A pool's nodes (low at min_nodes on the cheapest type, expected at desired_nodes on the
    mean, high at max_nodes on the dearest) and their volumes; nothing while a price is missing."""
    always_on = prices.catalog.hours_always_on
    found = {}
    for type_index, instance_type in enumerate(pool.instance_types):
        on_demand = prices.on_demand(("inference", index, "instance_types", type_index), instance_type)
        discount = prices.discount(("inference", index, "market"), instance_type, pool.market)
        if on_demand is not None and discount is not None:
            found[instance_type] = (on_demand, discount)
    gp3 = prices.gp3(("inference", index, "node_volume_gb"))
    alternative = prices.tokens(("inference", index, "managed_alternative"), pool.managed_alternative) if pool.managed_alternative else None
    if len(found) != len(pool.instance_types) or gp3 is None:
        return []
    hours, basis = (scheduled, "schedule") if scheduled is not None else (always_on, "always-on")
    after_spot = {name: _after_spot(on_demand, discount) for name, (on_demand, discount) in found.items()}
    # sorted first, so equal prices pick the same type whatever the manifest's order
    cheapest = min(sorted(after_spot), key=lambda name: after_spot[name].low)
    dearest = max(sorted(after_spot), key=lambda name: after_spot[name].high)
    mean = sum(r.expected for r in after_spot.values()) / len(after_spot)
    mean_on_demand = sum(on_demand for on_demand, _ in found.values()) / len(found)
    hourly = Range(after_spot[cheapest].low, mean, after_spot[dearest].high)
    node_range = Range(pool.min_nodes, pool.desired_nodes, pool.max_nodes)
    notes: tuple[str, ...] = ()
    if len(pool.instance_types) > 1:
        notes = (f"low at {cheapest}, high at {dearest}, expected at the mean of {', '.join(sorted(pool.instance_types))}",)
    if pool.market == "spot":
        notes += tuple(_spot_note(name, found[name][0], found[name][1]) for name in sorted(found))
    if alternative is not None:
        notes += (f"managed alternative {alternative.model}: ${alternative.input:g}/M input, ${alternative.output:g}/M output",)
    full_load = mean / (pool.tokens_per_second_per_node * 3600) * 1e6 if pool.tokens_per_second_per_node else None
    nodes = Component(
        kind="inference", name=pool.name, instance_type=", ".join(sorted(pool.instance_types)), market=pool.market, units=node_range,
        hours=hours, hours_basis=basis, hourly_usd=mean, on_demand_hourly_usd=mean_on_demand, hourly_range_usd=hourly,
        monthly_usd=Range(node_range.low * hours * hourly.low, node_range.expected * hours * hourly.expected, node_range.high * hours * hourly.high),
        schedule_savings_usd=pool.desired_nodes * (always_on - hours) * mean if basis == "schedule" else 0.0,
        spot_savings_usd=pool.desired_nodes * hours * (mean_on_demand - mean),
        usd_per_million_tokens=full_load,
        utilization_percent=pool.utilization_percent if full_load is not None else None,
        usd_per_million_tokens_at_utilization=full_load / (pool.utilization_percent / 100) if full_load is not None else None,
        model_id=pool.model_id, notes=notes, alternative=alternative,
    )
    # gp3 is billed per GB-month, prorated by the hour (https://aws.amazon.com/ebs/pricing/):
    # a node's root volume costs for the hours the node runs.
    share = hours / always_on
    volume_gb = Range(node_range.low * pool.node_volume_gb, node_range.expected * pool.node_volume_gb, node_range.high * pool.node_volume_gb)
    volumes = Component(
        kind="node-volume", name=pool.name, units=volume_gb, hours=hours, hours_basis=basis,
        monthly_usd=Range(volume_gb.low * gp3 * share, volume_gb.expected * gp3 * share, volume_gb.high * gp3 * share),
        notes=(f"{pool.node_volume_gb} GB gp3 per node, deleted with the node",), model_id=pool.model_id,
    )
    return [nodes, volumes]


def _managed(index: int, managed: ManagedModel, prices: _Prices) -> list[Component]:
    """A managed model's declared tokens at its on-demand prices in the team's region."""
    found = prices.tokens(("managed_models", index, "foundation_model"), managed.foundation_model)
    if found is None:
        return []
    tokens = managed.input_tokens_per_month + managed.output_tokens_per_month
    monthly = found.cost(managed.input_tokens_per_month, managed.output_tokens_per_month)
    return [Component(
        kind="managed-model", name=managed.name, instance_type=managed.foundation_model, units=Range.flat(tokens),
        monthly_usd=Range.flat(monthly), usd_per_million_tokens=monthly / tokens * 1e6 if tokens else None,
        model_id=managed.model_id,
        notes=(f"{managed.input_tokens_per_month:,} input at ${found.input:g}/M + {managed.output_tokens_per_month:,} output "
               f"at ${found.output:g}/M (Bedrock on demand, prices.json)",),
    )]


def _spot_note(instance_type: str, on_demand: float, discount: SpotDiscount) -> str:
    spread = f"{discount.low:.0%}" if discount.low == discount.high else f"{discount.low:.0%}-{discount.high:.0%}"
    return f"{instance_type} spot {spread} off ${on_demand:,.4g}/h on demand (observed range, prices.json)"


def _after_spot(on_demand: float, discount: SpotDiscount) -> Range:
    """The hourly price at the low (largest discount), expected (midpoint) and high (smallest) ends."""
    return Range(on_demand * (1 - discount.high), on_demand * (1 - discount.expected), on_demand * (1 - discount.low))


def _locate(loaded: LoadedTeam, missing: list[tuple[tuple, MissingPrice]]) -> list[Problem]:
    """Problems at the manifest fields, from the positions kept when the manifest was loaded."""
    return [loaded.problem(field_path, str(exc)) for field_path, exc in missing]


def pool_limits(team: TeamEstimate) -> list[tuple[str, int, bool, int | None]]:
    """For a team over budget at its high figure, per inference pool: (pool, max_nodes, whether
    max_nodes alone breaks the budget, the largest max_nodes that fits).

    "Alone": every other component at its expected cost, this pool at max_nodes of its dearest
    type. "Fits": every other component at its high cost, this pool at n nodes of its dearest
    type (and their volumes), n from max_nodes down to desired_nodes; None when none fits.
    """
    limits = []
    for pool in (c for c in team.components if c.kind == "inference"):
        volume = next(c for c in team.components if c.kind == "node-volume" and c.name == pool.name)
        assert pool.hours is not None and pool.hourly_range_usd is not None, "an inference component has its hours and prices"
        per_node = pool.hours * pool.hourly_range_usd.high + volume.monthly_usd.high / pool.units.high
        own = pool.monthly_usd + volume.monthly_usd
        alone = team.total.expected - own.expected + own.high > team.budget_usd
        rest_high = team.total.high - own.high
        fits = [n for n in range(int(pool.units.high), int(pool.units.expected) - 1, -1) if rest_high + n * per_node <= team.budget_usd]
        limits.append((pool.name, int(pool.units.high), alone, fits[0] if fits else None))
    return limits
