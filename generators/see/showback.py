"""Showback: what each team and model actually spent, from a FOCUS billing export, with DuckDB.

FOCUS (FinOps Open Cost and Usage Specification, https://focus.finops.org/) is the column set
AWS Data Exports writes ("FOCUS 1.2 with AWS columns"). Showback reads, for one calendar month
(a row belongs to the month its ChargePeriodStart falls in, UTC):

- cost: `EffectiveCost`, the amortized cost (a commitment purchase is not counted again on top
  of the usage it covers: https://focus.finops.org/focus-specification/, EffectiveCost);
- team and model: the `Tags` column, a JSON object in CSV and a map in Parquet; the user tag
  keys appear as `Team` or, as AWS prefixes user tags, `user:Team` (likewise ModelID);
- every `ProviderName`: rows of other clouds in the same FOCUS files count too;
- off-schedule spend: for a team with a schedule, the instance hours (ResourceId an EC2
  instance, `i-...` or its ARN) whose hour, in the team's time zone, lies outside the schedule:
  what the off-hours function should have stopped, or opted-out resources. It needs hourly rows.

The attribution is SQL that DuckDB runs in process over the files in place (Parquet, CSV and
gzipped CSV); schedules and forecasts are applied in Python to per-team hourly sums.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from generators.errors import ToolError
from generators.model import WEEKDAYS, ManifestSet, Schedule
from generators.months import Month
from generators.safe_text import message
from generators.see import gpu_idle
from generators.see.attribution import summarise, sums_sql
from generators.see.billing_files import Labels, check_rows, columns_of, relation_sql, which_file_fails
from generators.see.billing_sources import billing_files
from generators.see.managed import token_totals

SCHEMA_VERSION = 1


@dataclass
class TeamSpend:
    team: str
    budget_usd: float | None
    estimate_usd: float | None
    actual_usd: float
    off_schedule_usd: float | None  # None: no schedule, or not hourly data
    off_schedule_note: str | None
    forecast_usd: float

    @property
    def variance_usd(self) -> float | None:
        return None if self.estimate_usd is None else self.actual_usd - self.estimate_usd


@dataclass
class Showback:
    month: Month
    sources: list[str]
    rows: int
    complete: bool  # the data reaches the end of the month
    teams: list[TeamSpend] = field(default_factory=list)
    # Spend under a Team tag no manifest has (a typo, a team that left): a leak, shown apart.
    unknown_teams: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    unattributed_usd: float = 0.0
    untagged_resources: list[dict[str, Any]] = field(default_factory=list)
    total_usd: float = 0.0
    gpu_utilization: dict[str, Any] | None = None  # with --prometheus: generators/see/gpu_idle.py
    # Series of a Prometheus answer passed over (malformed values, negative counters), one each.
    notes: list[str] = field(default_factory=list)
    # Token rows of managed models (generators/see/managed_tokens.py): totals by direction over every
    # row, those without a Team tag, spend by service provider and host, and build or buy.
    tokens: dict[str, float] = field(default_factory=dict)
    unattributed_tokens: dict[str, float] = field(default_factory=dict)
    providers: list[dict[str, Any]] = field(default_factory=list)
    build_or_buy: list[dict[str, Any]] = field(default_factory=list)
    # (model_id, team, direction, tokens, cost) of the token rows: what see/managed.py reads (not in as_json)
    billed_tokens: list[tuple[Any, Any, str, float, float]] = field(default_factory=list)
    # recommend only (not in as_json): per team, billed instance hours by (ISO weekday, hour) -> weeks
    busy_hours: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "month": str(self.month),
            "currency": "USD",
            "cost_column": "EffectiveCost",
            "sources": self.sources,
            "rows": self.rows,
            "month_complete": self.complete,
            "teams": [
                {
                    "team": t.team,
                    "budget_usd": t.budget_usd,
                    "estimate_usd": _usd(t.estimate_usd),
                    "actual_usd": _usd(t.actual_usd),
                    "variance_usd": _usd(t.variance_usd),
                    "off_schedule_usd": _usd(t.off_schedule_usd),
                    "off_schedule_note": t.off_schedule_note,
                    "forecast_usd": _usd(t.forecast_usd),
                }
                for t in self.teams
            ],
            "unknown_teams": self.unknown_teams,
            "models": self.models,
            "unattributed_usd": _usd(self.unattributed_usd),
            "untagged_resources": self.untagged_resources,
            "total_usd": _usd(self.total_usd),
            "tokens": {kind: int(round(count)) for kind, count in self.tokens.items()},
            "unattributed_tokens": {kind: int(round(count)) for kind, count in self.unattributed_tokens.items()},
            "providers": self.providers,
            "build_or_buy": self.build_or_buy,
            **({"gpu_utilization": self.gpu_utilization} if self.gpu_utilization is not None else {}),
            "notes": self.notes,
        }


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def query(files: list[Path], month: Month, schedules: dict[str, Schedule] | None = None,
          labels: dict[Path, str] | None = None, profile_tz: str | None = None) -> dict[str, Any]:
    """The attribution over local files, with DuckDB: the files' columns, one checking scan of
    every row, then the sums. `labels` names the files in messages (s3://... for downloads)."""
    import duckdb

    labels = Labels(labels or {})
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        columns = columns_of(connection, files, labels)
        with tempfile.TemporaryDirectory(prefix="genai-finops-csv-") as scratch:
            connection.execute(f"CREATE TEMP VIEW billed AS {relation_sql(connection, files, columns, Path(scratch))}")
        check_rows(connection, month, files, labels)
        connection.execute(f"CREATE TEMP TABLE sums AS {sums_sql('billed', 'team', 'model_id', month)}")
        return summarise(connection, schedules or {}, profile_tz)
    except ToolError:
        raise
    except Exception as error:
        raise ToolError(which_file_fails(files, labels, error)) from error
    finally:
        connection.close()


def add_gpu_utilization(report: Showback, units: list, unowned: int, metric: str) -> None:
    """Busy share and idle dollars per pool and training job (generators/see/gpu_idle.py), in place."""
    spend = {(m["model_id"], m["team"]): m["actual_usd"] for m in report.models}
    rows = gpu_idle.with_spend(units, spend)
    measured = [r for r in rows if r["gpu_busy_share"] is not None]
    report.gpu_utilization = {
        "metric": metric,
        "units": rows,
        "unowned_series": unowned,
        "idle_usd": _usd(sum(r["idle_usd"] for r in measured if r["idle_usd"] is not None)) if measured else None,
        "note": None if measured or unowned else f"no {metric} series in Prometheus for this month",
    }


# --------------------------------------------------------------------------- attribution


def in_schedule(schedule: Schedule, hour_start: dt.datetime) -> bool:
    """Whether the hour that starts at `hour_start` (aware) lies inside the schedule's window."""
    local = hour_start.astimezone(ZoneInfo(schedule.timezone))
    if WEEKDAYS[local.weekday()] not in schedule.weekdays:
        return False
    return schedule.start <= local.strftime("%H:%M") < schedule.stop


def served_names(manifests: ManifestSet) -> dict[tuple[str, str], set[str]]:
    """(model_id, team) -> the model names its pools' servers report (served_model_name, else
    model_id: docs/manifest.md)."""
    names: dict[tuple[str, str], set[str]] = {}
    for loaded in manifests.teams:
        for pool in loaded.manifest.inference:
            names.setdefault((pool.model_id, loaded.manifest.team), set()).add(pool.served_model_name or pool.model_id)
    return names


def add_tokens(
    models: list[dict[str, Any]],
    manifests: ManifestSet,
    counts: dict[str, dict[str, float]],
    estimated: dict[tuple[str, str], float] | None = None,
) -> None:
    """Tokens served and actual $ per million tokens for each model entry, in place.

    $ per million tokens is everything the model cost in the month (every row tagged with its
    ModelID for that team) divided by its prompt plus generation tokens; per million output
    tokens, divided by the generation tokens alone. A model with spend and no tokens says so.
    """
    names = served_names(manifests)
    for entry in models:
        if entry.get("kind") == "managed":  # its tokens are billed: generators/see/managed.py
            continue
        served = names.get((entry["model_id"], entry["team"]), set())
        found = [counts[name] for name in sorted(served) if name in counts]
        prompt = sum(c["prompt"] for c in found)
        generation = sum(c["generation"] for c in found)
        entry["served_model_names"] = sorted(served)
        entry["prompt_tokens"] = int(round(prompt)) if found else None
        entry["generation_tokens"] = int(round(generation)) if found else None
        total = prompt + generation
        entry["usd_per_million_tokens"] = round(entry["actual_usd"] / total * 1e6, 4) if total else None
        entry["usd_per_million_output_tokens"] = round(entry["actual_usd"] / generation * 1e6, 4) if generation else None
        entry["estimated_usd_per_million_tokens"] = (estimated or {}).get((entry["model_id"], entry["team"]))
        if total:
            entry["tokens_note"] = None
        elif not served:
            entry["tokens_note"] = "no inference pool of the team serves this model"
        else:
            entry["tokens_note"] = f"no tokens reported for {', '.join(sorted(served))}"


def forecast(actual: float, one_off: float, complete: bool, elapsed_hours: float, month_hours: float) -> float:
    """The month's expected end: the actual when the month is complete; else the usage part run
    at its rate to the month's end plus the one-off charges once (a one-time purchase or tax, a
    credit or an adjustment does not recur every hour, so a credit never runs down the forecast)."""
    if complete:
        return actual
    return one_off + (actual - one_off) / elapsed_hours * month_hours


def showback(
    manifests: ManifestSet,
    sources: list[str],
    month: Month,
    estimates: dict[str, float] | None = None,
    athena_client: Any = None,
    labels: dict[Path, str] | None = None,
    profile_tz: str | None = None,
) -> Showback:
    """From local FOCUS files (`sources`) with DuckDB, or with `athena_client` from the org's
    billing.athena_table. `labels` names downloaded files in messages (their s3:// address)."""
    schedules = {loaded.manifest.team: loaded.manifest.schedule for loaded in manifests.teams if loaded.manifest.schedule}
    if athena_client is not None:
        from generators.see.athena import query_athena

        billing = manifests.org.billing
        assert billing is not None, "the Athena engine is chosen only with org billing settings"
        files: list[Path] = []
        data = query_athena(billing, month, athena_client, schedules=schedules, profile_tz=profile_tz)
        where = f"Athena table {billing.athena_table}"
    else:
        files = billing_files(sources)
        data = query(files, month, schedules, labels, profile_tz)
        where = message(", ".join(sorted(set((labels or {}).values())) or sources))
    if data["rows"] == 0:
        raise ToolError(f"no billing rows for {month} in {where} (ChargePeriodStart in {month}, UTC): check --month and --billing")
    horizon = data["horizon"]
    complete = horizon is not None and horizon >= month.end
    elapsed_hours = max((min(horizon, month.end) - month.start).total_seconds() / 3600, 1.0) if horizon else 1.0
    month_hours = (month.end - month.start).total_seconds() / 3600

    manifests_by_team = {loaded.manifest.team: loaded.manifest for loaded in manifests.teams}

    teams: list[TeamSpend] = []
    for team in sorted(manifests_by_team):
        manifest = manifests_by_team[team]
        actual = data["by_team"].get(team, 0.0)
        off, note = None, None
        if manifest.schedule is None:
            note = "no schedule"
        else:
            cost, hourly = data["off_schedule"].get(team, (0.0, True))
            if not hourly:
                note = "cannot be computed: the export is not hourly"
            else:
                off = cost
        teams.append(
            TeamSpend(
                team=team,
                budget_usd=manifest.budget.monthly_usd,
                estimate_usd=(estimates or {}).get(team),
                actual_usd=actual,
                off_schedule_usd=off,
                off_schedule_note=note,
                forecast_usd=forecast(actual, data["one_off_by_team"].get(team, 0.0), complete, elapsed_hours, month_hours),
            )
        )
    unknown = [
        {"team": team, "actual_usd": round(cost, 2)}
        for team, cost in sorted(data["by_team"].items(), key=lambda item: (-item[1], item[0]))
        if team not in manifests_by_team
    ]
    return Showback(
        month=month,
        sources=[(labels or {}).get(p) or str(p) for p in files] or [f"athena:{manifests.org.billing.athena_table if manifests.org.billing else ''}"],
        rows=data["rows"],
        complete=complete,
        teams=teams,
        unknown_teams=unknown,
        models=[{"model_id": model, "team": team, "actual_usd": round(float(cost), 2)} for model, team, cost in data["models"]],
        unattributed_usd=data["unattributed"],
        untagged_resources=[
            {"resource_id": resource, "service": service, "actual_usd": round(float(cost), 2)} for resource, service, cost in data["untagged"]
        ],
        total_usd=data["total"],
        busy_hours=data["busy_hours"],
        billed_tokens=data["tokens"],
        tokens=token_totals(data["tokens"]),
        unattributed_tokens=token_totals([row for row in data["tokens"] if row[1] is None]),
        providers=[{"provider": p, "host": h, "actual_usd": round(cost, 2)} for p, h, cost in data["providers"]],
    )
