"""Monthly cost estimate of validated manifests, per team and per component.

- Training: count x hours x hourly price, the price reduced by the family's spot discount when
  `market: spot`. Hours: `hours_per_month`, else the hours the team schedule allows in the
  month, else the always-on month (730 h).
- Inference pools: nodes x hours x hourly price, with low = min_nodes, expected = desired_nodes,
  high = max_nodes; hours are the schedule's where the team has one (the off-hours function
  scales pools to zero outside it), else 730. A pool with several instance types is priced at
  its first type, and the component says so in its notes.
- Root volumes of training instances: GB x gp3 price, billed for the whole month because a
  stopped instance keeps its volume.
- Savings next to each cost: what the schedule saves against always-on (730 h) and what spot
  saves against on-demand for the same hours.
- Unit economics where `tokens_per_second_per_node` is given: hourly node price /
  (tokens per second x 3600) x 1e6 = USD per million tokens at full utilisation.

Schedule hours are real elapsed hours in a concrete calendar month in the team's IANA time
zone, so the days a DST change falls on count 1 hour more or less.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from generators.errors import ManifestError, Problem, UsageError
from generators.model import WEEKDAYS, LoadedTeam, ManifestSet, Schedule
from generators.pricing import MissingPrice, PriceCatalog

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            parsed = dt.datetime.strptime(text, "%Y-%m")
        except ValueError:
            raise UsageError(f"--month {text!r}: expected YYYY-MM, e.g. 2026-03") from None
        return cls(parsed.year, parsed.month)

    @classmethod
    def current(cls) -> Month:
        now = dt.datetime.now(UTC)
        return cls(now.year, now.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


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
    kind: str  # training | inference | root-volume
    name: str
    monthly_usd: Range
    units: Range  # instances, nodes or GB
    instance_type: str | None = None
    market: str | None = None
    hours: float | None = None
    hours_basis: str | None = None  # hours_per_month | schedule | always-on
    hourly_usd: float | None = None  # per instance or node, after the spot discount
    on_demand_hourly_usd: float | None = None
    schedule_savings_usd: float = 0.0
    spot_savings_usd: float = 0.0
    usd_per_million_tokens: float | None = None
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

    @property
    def total(self) -> Range:
        return sum((component.monthly_usd for component in self.components), ZERO)

    @property
    def budget_percent(self) -> float:
        return self.total.expected / self.budget_usd * 100

    @property
    def over_budget(self) -> bool:
        return self.total.expected > self.budget_usd

    @property
    def over_org_cap(self) -> bool:
        return self.total.expected > self.org_cap_usd

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

    @property
    def total(self) -> Range:
        return sum((team.total for team in self.teams), ZERO)

    @property
    def failing(self) -> list[TeamEstimate]:
        return [t for t in self.teams if t.over_budget or t.over_org_cap]


# --------------------------------------------------------------------------- schedule hours


def schedule_hours(schedule: Schedule, month: Month) -> float:
    return _schedule_hours(schedule.timezone, tuple(schedule.weekdays), schedule.start, schedule.stop, month.year, month.month)


@lru_cache(maxsize=None)
def _schedule_hours(timezone: str, weekdays: tuple[str, ...], start: str, stop: str, year: int, month: int) -> float:
    zone = ZoneInfo(timezone)
    days = {WEEKDAYS.index(day) for day in weekdays}
    start_t, stop_t = _hhmm(start), _hhmm(stop)
    seconds = 0.0
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        date = dt.date(year, month, day)
        if date.weekday() not in days:
            continue
        # Aware datetimes in one zone subtract as wall-clock times; in UTC they give the
        # real elapsed time, which is what the instances run (and are billed) for.
        opened = dt.datetime.combine(date, start_t, zone).astimezone(UTC)
        closed = dt.datetime.combine(date, stop_t, zone).astimezone(UTC)
        seconds += max(0.0, (closed - opened).total_seconds())
    return seconds / 3600


def _hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


# --------------------------------------------------------------------------- estimate


def estimate(manifests: ManifestSet, catalog: PriceCatalog, month: Month) -> Estimate:
    """The estimate of every team, or ManifestError naming each field whose price is missing."""
    teams: list[TeamEstimate] = []
    problems: list[Problem] = []
    for loaded in manifests.teams:
        missing: list[tuple[tuple, MissingPrice]] = []
        teams.append(estimate_team(loaded, manifests.org.max_team_monthly_usd, catalog, month, missing))
        problems.extend(_locate(loaded.path, missing))
    if problems:
        raise ManifestError(problems)
    return Estimate(month, catalog.path, catalog.hours_always_on, manifests.org.max_team_monthly_usd, tuple(teams))


def estimate_team(loaded: LoadedTeam, org_cap_usd: float, catalog: PriceCatalog, month: Month,
                  missing: list[tuple[tuple, MissingPrice]]) -> TeamEstimate:
    """One team; every missing price is appended to `missing` with the manifest field it concerns."""
    manifest = loaded.manifest
    always_on = catalog.hours_always_on
    scheduled = schedule_hours(manifest.schedule, month) if manifest.schedule else None
    components: list[Component] = []

    def price(field_path: tuple, lookup):
        try:
            return lookup()
        except MissingPrice as exc:
            missing.append((field_path, exc))
            return None

    for index, job in enumerate(manifest.training):
        on_demand = price(("training", index, "instance_type"), lambda: catalog.on_demand_hourly(manifest.region, job.instance_type))
        discount = price(("training", index, "market"), lambda: catalog.spot_discount(job.instance_type)) if job.market == "spot" else 0.0
        gp3 = price(("training", index, "root_volume_gb"), lambda: catalog.gp3_gb_month(manifest.region))
        if job.hours_per_month is not None:
            hours, basis = job.hours_per_month, "hours_per_month"
        elif scheduled is not None:
            hours, basis = scheduled, "schedule"
        else:
            hours, basis = always_on, "always-on"
        if on_demand is not None and discount is not None:
            hourly = on_demand * (1 - discount)
            components.append(Component(
                kind="training", name=job.name, instance_type=job.instance_type, market=job.market,
                units=Range.flat(job.count), hours=hours, hours_basis=basis, hourly_usd=hourly,
                on_demand_hourly_usd=on_demand, monthly_usd=Range.flat(job.count * hours * hourly),
                schedule_savings_usd=job.count * (always_on - hours) * hourly if basis == "schedule" else 0.0,
                spot_savings_usd=job.count * hours * on_demand * discount,
            ))
        if gp3 is not None:
            gb = job.count * job.root_volume_gb
            components.append(Component(
                kind="root-volume", name=job.name, units=Range.flat(gb), hours=always_on, hours_basis="always-on",
                monthly_usd=Range.flat(gb * gp3), notes=(f"{job.count} x {job.root_volume_gb} GB gp3, kept while stopped",),
            ))

    for index, pool in enumerate(manifest.inference):
        instance_type = pool.instance_types[0]
        on_demand = price(("inference", index, "instance_types", 0), lambda: catalog.on_demand_hourly(manifest.region, instance_type))
        discount = price(("inference", index, "market"), lambda: catalog.spot_discount(instance_type)) if pool.market == "spot" else 0.0
        if on_demand is None or discount is None:
            continue
        hours, basis = (scheduled, "schedule") if scheduled is not None else (always_on, "always-on")
        hourly = on_demand * (1 - discount)
        nodes = Range(pool.min_nodes, pool.desired_nodes, pool.max_nodes)
        notes = ()
        if len(pool.instance_types) > 1:
            notes = (f"priced at its first instance type, {instance_type}, of {', '.join(pool.instance_types)}",)
        components.append(Component(
            kind="inference", name=pool.name, instance_type=instance_type, market=pool.market, units=nodes,
            hours=hours, hours_basis=basis, hourly_usd=hourly, on_demand_hourly_usd=on_demand,
            monthly_usd=Range(nodes.low * hours * hourly, nodes.expected * hours * hourly, nodes.high * hours * hourly),
            schedule_savings_usd=pool.desired_nodes * (always_on - hours) * hourly if basis == "schedule" else 0.0,
            spot_savings_usd=pool.desired_nodes * hours * on_demand * discount,
            usd_per_million_tokens=(hourly / (pool.tokens_per_second_per_node * 3600) * 1e6
                                    if pool.tokens_per_second_per_node else None),
            notes=notes,
        ))

    return TeamEstimate(
        team=manifest.team, path=loaded.path, region=manifest.region, budget_usd=manifest.budget.monthly_usd,
        org_cap_usd=org_cap_usd, schedule_hours=scheduled,
        timezone=manifest.schedule.timezone if manifest.schedule else None, components=tuple(components),
    )


def _locate(path: str, missing: list[tuple[tuple, MissingPrice]]) -> list[Problem]:
    """Problems at the manifest fields; the file is parsed again only when a price is missing."""
    if not missing:
        return []
    from generators.errors import format_path
    from generators.yaml_source import load_yaml

    try:
        document = load_yaml(Path(path), path)
    except ManifestError:
        return [Problem(path, 1, 1, format_path(f), str(exc)) for f, exc in missing]
    return [document.problem(f, str(exc)) for f, exc in missing]


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class TeamChange:
    team: str
    status: str  # added | removed | changed | unchanged
    base_usd: Range | None
    head_usd: Range | None

    @property
    def delta_expected_usd(self) -> float:
        return (self.head_usd.expected if self.head_usd else 0.0) - (self.base_usd.expected if self.base_usd else 0.0)


def compare(base: Estimate, head: Estimate) -> list[TeamChange]:
    """Per team, the change from `base` (e.g. the target branch) to `head` (the pull request)."""
    before = {t.team: t.total for t in base.teams}
    after = {t.team: t.total for t in head.teams}
    changes = []
    for team in sorted(before.keys() | after.keys()):
        old, new = before.get(team), after.get(team)
        if old is None:
            status = "added"
        elif new is None:
            status = "removed"
        else:
            status = "unchanged" if _same(old, new) else "changed"
        changes.append(TeamChange(team, status, old, new))
    return changes


def _same(a: Range, b: Range) -> bool:
    return all(abs(x - y) < 0.005 for x, y in ((a.low, b.low), (a.expected, b.expected), (a.high, b.high)))
