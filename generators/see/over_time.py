"""Spend over months and days (`showback --months FROM..TO` / `--last N`): per team and model each
month's actual against its budget and the change from the month before, each team's daily
series with its running total and budget share, the forecast of a month in progress and the
days whose spend jumped, with the resources that drove them (the arithmetic: see/trend.py).

One SQL query (DuckDB's dialect, transpiled for Athena as showback's is) sums the billing rows
per team, model and UTC day, with the one-off part (see/attribution.py says which rows are
one-off) and how far the hourly and daily rows reach. The baseline of the first days shown
reaches back BASELINE_DAYS before them, into the data's earlier days when the files hold them.
A second query, only when there are anomalies, sums their teams' rows per resource over the
days that decide them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generators.errors import ToolError
from generators.model import ManifestSet
from generators.months import Month
from generators.see import trend
from generators.see.billing_files import utc_literal

SCHEMA_VERSION = 1
DAY = dt.timedelta(days=1)
ONE_OFF = "(ChargeFrequency = 'One-Time' OR ChargeCategory IN ('Credit', 'Adjustment'))"


@dataclass(frozen=True)
class Span:
    """From one month's start to another's end (what the row checks need of a Month)."""

    start: dt.datetime
    end: dt.datetime

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}..{self.end - DAY:%Y-%m-%d}"


def months_between(first: Month, last: Month) -> list[Month]:
    out, month = [], first
    while (month.year, month.month) <= (last.year, last.month):
        out.append(month)
        month = Month(month.year + month.month // 12, month.month % 12 + 1)
    return out


def daily_sql(source: str, team: str, model: str, span: Span, by_file: bool = False) -> str:
    """Per team, model and UTC day: EffectiveCost, its one-off part, and the latest end of the
    group's rows (how far the data reaches, read in `over_time` from the groups whose rows all end
    within two days of the day's start: hourly or daily rows). CASE, not FILTER, and no interval
    per row: 7.6 s -> 5.5 s for 23 M rows (benchmarks/over_time_scale.py)."""
    start = "CAST(ChargePeriodStart AS TIMESTAMPTZ)"
    end = "CAST(ChargePeriodEnd AS TIMESTAMPTZ)"
    cost = "CAST(EffectiveCost AS DOUBLE)"
    return f"""
        SELECT {team} AS team, {model} AS model_id, date_trunc('day', {start}) AS day,
               sum({cost}) AS cost,
               sum(CASE WHEN {ONE_OFF} THEN {cost} ELSE 0 END) AS one_off_cost,
               max({end}) AS latest_end{", filename" if by_file else ""}
        FROM {source}
        WHERE {start} >= TIMESTAMPTZ '{utc_literal(span.start)}' AND {start} < TIMESTAMPTZ '{utc_literal(span.end)}'
        GROUP BY 1, 2, 3{", 7" if by_file else ""}
    """


def resources_sql(source: str, team: str, teams: list[str], span: Span) -> str:
    """Per resource of `teams` and UTC day, EffectiveCost (what drove an anomaly)."""
    names = ", ".join("'" + t.replace("'", "''") + "'" for t in teams)
    start = "CAST(ChargePeriodStart AS TIMESTAMPTZ)"
    return f"""
        SELECT {team} AS team, ResourceId AS resource_id, date_trunc('day', {start}) AS day, sum(CAST(EffectiveCost AS DOUBLE)) AS cost
        FROM {source}
        WHERE {start} >= TIMESTAMPTZ '{utc_literal(span.start)}' AND {start} < TIMESTAMPTZ '{utc_literal(span.end)}'
          AND {team} IN ({names})
        GROUP BY 1, 2, 3
    """


@dataclass
class OverTime:
    months: list[Month]
    sources: list[str]
    teams: dict[str, dict[dt.date, tuple[float, float]]]  # team -> day -> (cost, one-off)
    models: dict[tuple[str, str, str], float]  # (month, team, model) -> cost
    budgets: dict[str, float]
    complete_through: dt.date | None
    alert_threshold: float
    anomalies: list[trend.Anomaly] = field(default_factory=list)
    unattributed: dict[str, float] = field(default_factory=dict)  # month -> spend without a Team tag

    def month_days(self, month: Month) -> list[dt.date]:
        return _month_days(month)

    def actual(self, team: str, month: Month) -> float:
        days = self.teams.get(team, {})
        return sum(days.get(d, (0.0, 0.0))[0] for d in self.month_days(month))

    def forecasts(self) -> list[tuple[str, trend.Forecast]]:
        last = self.months[-1]
        if self.complete_through is not None and self.complete_through >= (last.end - DAY).date():
            return []
        return [(team, trend.forecast(self.teams.get(team, {}), self.month_days(last), self.complete_through,
                                      frozenset(a.day for a in self.anomalies if a.team == team)))
                for team in sorted(self.budgets)]

    def as_json(self) -> dict[str, Any]:
        teams = sorted(set(self.budgets) | set(self.teams))
        months = []
        for index, month in enumerate(self.months):
            rows = []
            complete = self.complete_through is not None and self.complete_through >= (month.end - DAY).date()
            for team in teams:
                actual = self.actual(team, month)
                # a month in progress is not compared with a whole one (its forecast is)
                before = self.actual(team, self.months[index - 1]) if index and complete else None
                budget = self.budgets.get(team)
                rows.append({"team": team, "budget_usd": budget, "actual_usd": round(actual, 2),
                             "variance_usd": None if budget is None else round(actual - budget, 2),
                             "change_usd": None if before is None else round(actual - before, 2),
                             "change_share": None if not before else round((actual - before) / before, 4)})
            months.append({"month": str(month), "complete": complete, "teams": rows,
                           "unattributed_usd": round(self.unattributed.get(str(month), 0.0), 2),
                           "total_usd": round(sum(self.actual(team, month) for team in teams) + self.unattributed.get(str(month), 0.0), 2)})
        days = []
        last = self.months[-1]
        for team in teams:
            running, series = 0.0, []
            for day in self.month_days(last):
                if self.complete_through is None or day > self.complete_through:
                    break
                spend = self.teams.get(team, {}).get(day, (0.0, 0.0))[0]
                running += spend
                budget = self.budgets.get(team)
                series.append({"date": day.isoformat(), "spend_usd": round(spend, 2), "cumulative_usd": round(running, 2),
                               "budget_share": None if not budget else round(running / budget, 4)})
            days.append({"team": team, "month": str(last), "days": series})
        return {
            "schema_version": SCHEMA_VERSION, "from": str(self.months[0]), "to": str(self.months[-1]), "sources": self.sources,
            "complete_through": None if self.complete_through is None else self.complete_through.isoformat(),
            "months": months,
            "models": [{"month": m, "team": t, "model_id": model, "actual_usd": round(cost, 2)} for (m, t, model), cost in sorted(self.models.items())],
            "days": days,
            "forecasts": [{"team": team, "month": str(last), "actual_usd": round(f.actual, 2), "forecast_usd": round(f.expected, 2),
                           "low_usd": round(f.low, 2), "high_usd": round(f.high, 2), "budget_usd": self.budgets.get(team), "method": f.method,
                           "path": [{"date": d.isoformat(), "expected_usd": round(e, 2), "low_usd": round(lo, 2), "high_usd": round(hi, 2)}
                                    for d, e, lo, hi in f.path]}
                          for team, f in self.forecasts()],
            "anomalies": [a.as_json() for a in self.anomalies],
        }


@functools.lru_cache(maxsize=64)
def _month_days(month: Month) -> list[dt.date]:
    start = month.start
    return [(start + k * DAY).date() for k in range((month.end - start).days)]


def over_time(manifests: ManifestSet, files: list[Path], months: list[Month], labels: dict[Path, str] | None = None,
              athena_client: Any = None) -> OverTime:
    """The months' figures from local FOCUS files (DuckDB) or, with `athena_client`, the org's table."""
    shown = Span(months[0].start, months[-1].end)
    read = Span(shown.start - trend.BASELINE_DAYS * DAY - trend.HISTORY_DAYS * DAY, shown.end)
    if athena_client is None:
        rows, run = _local(files, read, labels)
    else:
        run = _athena(manifests, athena_client)
        rows = run(lambda source: daily_sql(source, "team", "model_id", read))
    teams: dict[str, dict[dt.date, tuple[float, float]]] = {}
    models: dict[tuple[str, str, str], float] = {}
    unattributed: dict[str, float] = {}
    horizon = None
    for team, model, day, cost, one_off, latest in rows:
        day = _date(day)
        month = f"{day:%Y-%m}"
        if latest is not None:
            reach = _moment(latest)
            if reach <= dt.datetime.combine(day, dt.time(), dt.timezone.utc) + 2 * DAY:  # hourly or daily rows only
                horizon = reach if horizon is None else max(horizon, reach)
        if team is None:
            if shown.start.date() <= day:
                unattributed[month] = unattributed.get(month, 0.0) + float(cost)
            continue
        spent, once = teams.setdefault(team, {}).get(day, (0.0, 0.0))
        teams[team][day] = (spent + float(cost), once + float(one_off))
        if model is not None and shown.start.date() <= day:
            models[(month, team, model)] = models.get((month, team, model), 0.0) + float(cost)
    if not teams and not unattributed:
        raise ToolError(f"no billing rows from {shown} (ChargePeriodStart, UTC): check --months and --billing")
    first = min(d for days in teams.values() for d in days) if teams else shown.start.date()
    # the last whole day the hourly and daily rows reach: the day before the horizon's (or the horizon's day before, at midnight)
    through = None if horizon is None else (horizon - DAY).date() if horizon.time() == dt.time(0) else horizon.date() - DAY
    found = OverTime(months, [(labels or {}).get(p) or str(p) for p in files] or ["athena"], teams,
                     models, {t.manifest.team: t.manifest.budget.monthly_usd for t in manifests.teams}, through,
                     manifests.org.anomalies.alert_threshold_usd, unattributed=unattributed)
    _find_anomalies(found, first, shown, run)
    return found


def _find_anomalies(found: OverTime, first: dt.date, shown: Span, run: Any) -> None:
    """Each team's anomalous days among the complete days shown (days without rows are zero
    from the data's first day on), then the resources that drove them."""
    last = min(found.complete_through or first, (shown.end - DAY).date())
    span = [first + k * DAY for k in range((last - first).days + 1)]
    days_shown = [d for d in span if d >= shown.start.date()]
    hits: list[trend.Anomaly] = []
    for team in sorted(found.teams):
        daily = {d: found.teams[team].get(d, (0.0, 0.0))[0] for d in span}
        hits += trend.anomalies(team, daily, days_shown, found.alert_threshold)
    if not hits:
        return
    window = Span(dt.datetime.combine(min(a.day for a in hits) - trend.BASELINE_DAYS * DAY, dt.time(), dt.timezone.utc),
                  dt.datetime.combine(max(a.day for a in hits) + DAY, dt.time(), dt.timezone.utc))
    per_resource: dict[str, dict[str, dict[dt.date, float]]] = {}
    for team, resource, day, cost in run(lambda source: resources_sql(source, "team", sorted({a.team for a in hits}), window), window):
        per_resource.setdefault(team, {}).setdefault(resource or "(no resource id)", {})[_date(day)] = float(cost)
    found.anomalies = [dataclasses.replace(a, drivers=trend.drivers(a.day, per_resource.get(a.team, {}))) for a in hits]


def _date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace(" UTC", "+00:00"))


# Every row of a file: its daily sums are kept whatever span asked for them (see/daily_cache.py).
EVERYTHING = Span(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc))


def _local(files: list[Path], span: Span, labels: dict[Path, str] | None) -> tuple[list[tuple], Any]:
    """The daily sums of local files over `span`, and a runner of SQL over their checked rows (for
    the resources behind an anomaly). A file whose sums are kept (see/daily_cache.py) is not read;
    the others are checked (every row) and summed per file and day, and their sums kept. Files
    downloaded from S3 (`labels`) are new each run and neither looked up nor kept."""
    from generators.see import daily_cache
    from generators.see.billing_files import Labels, refuse_copies, which_file_fails

    named = Labels(labels or {})
    hits = {path: entry for path in files if path not in (labels or {}) and (entry := daily_cache.load(path)) is not None}
    misses = [path for path in files if path not in hits]
    known = {path: (entry.count, entry.fingerprint) for path, entry in hits.items()}
    per_file: dict[Path, list[daily_cache.Row]] = {path: entry.rows for path, entry in hits.items()}
    if misses:
        connection = _connect(misses, named)
        try:
            from generators.see.billing_files import check_rows

            scanned = check_rows(connection, EVERYTHING, misses, named, known)  # type: ignore[arg-type]  # a Span has what a Month has there
            by_name = {str(path): path for path in misses}
            for team, model, day, cost, once, latest, name in connection.execute(daily_sql("billed", "team", "model_id", EVERYTHING, True)).fetchall():
                per_file.setdefault(by_name[name], []).append((team, model, _date(day), float(cost), float(once),
                                                               _moment(latest) if latest is not None else None))
        except ToolError:
            raise
        except Exception as error:
            raise ToolError(which_file_fails(misses, named, error)) from error
        finally:
            connection.close()
        for path in misses:
            if path not in (labels or {}):
                daily_cache.store(path, *scanned[path], per_file.get(path, []))
    else:
        refuse_copies(known, named)
    summed: dict[tuple[Any, Any, dt.date], list[Any]] = {}
    first, last = span.start.date(), (span.end - DAY).date()
    for rows in per_file.values():
        for team, model, day, cost, once, latest in rows:
            if first <= day <= last:
                total = summed.setdefault((team, model, day), [0.0, 0.0, None])
                total[0] += cost
                total[1] += once
                total[2] = latest if total[2] is None or (latest is not None and latest > total[2]) else total[2]
    rows_out = [(team, model, day, cost, once, latest) for (team, model, day), (cost, once, latest) in summed.items()]

    def run(sql: Any, window: Span | None = None) -> list[tuple]:
        """`sql` over the files whose rows reach into `window` (all without one): a kept file's
        days say whether it does, so the rest are not even opened."""
        chosen = [path for path in files if window is None or _overlaps(per_file.get(path), window)]
        if not chosen:
            return []
        connection = _connect(chosen, named)
        try:
            return connection.execute(sql("billed")).fetchall()
        except ToolError:
            raise
        except Exception as error:
            raise ToolError(which_file_fails(chosen, named, error)) from error
        finally:
            connection.close()

    return rows_out, run


def _overlaps(rows: list | None, window: Span) -> bool:
    """Whether a file's daily sums (None: not known) have a day inside `window`."""
    if rows is None:
        return True
    first, last = window.start.date(), (window.end - DAY).date()
    return any(first <= day <= last for _, _, day, *_ in rows)


def _connect(files: list[Path], named: Any) -> Any:
    """A DuckDB connection with the `billed` view over `files`, as showback reads them."""
    import tempfile

    import duckdb

    from generators.see.billing_files import columns_of, relation_sql

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    try:
        columns = columns_of(connection, files, named)
        with tempfile.TemporaryDirectory(prefix="genai-finops-csv-") as scratch:
            connection.execute(f"CREATE TEMP VIEW billed AS {relation_sql(connection, files, columns, Path(scratch))}")
    except BaseException:
        connection.close()
        raise
    return connection


def _athena(manifests: ManifestSet, client: Any) -> Any:
    """A runner of the same SQL on Athena, over org.yaml's billing.athena_table."""
    from generators.see.athena import fetch_athena, tag

    billing = manifests.org.billing
    assert billing is not None and billing.athena_table is not None, "the Athena engine is chosen only with org billing settings"
    database, table = billing.athena_table.split(".", 1)
    source = f'(SELECT *, {tag("Team")} AS team, {tag("ModelID")} AS model_id FROM "{database}"."{table}") AS billed'

    def run(sql: Any, window: Span | None = None) -> list[tuple]:
        import sqlglot

        return fetch_athena(billing, sqlglot.transpile(sql(source), read="duckdb", write="athena")[0], client)

    return run
