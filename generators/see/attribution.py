"""The attribution both engines share: one SQL query (DuckDB's dialect; see/athena.py transpiles it
for Athena) sums the month's FOCUS rows per team, model and hour into a `sums` table, and
`summarise` turns that table into every figure showback reports."""

from __future__ import annotations

from typing import Any

from generators.errors import ToolError
from generators.model import WEEKDAYS, Schedule
from generators.months import Month
from generators.see.billing_files import utc_literal

# The untagged resources showback lists, largest first.
TOP_UNTAGGED = 10


SUMS_COLUMNS = (
    ("team", "VARCHAR"), ("model_id", "VARCHAR"), ("period_start", "TIMESTAMPTZ"), ("untagged_id", "VARCHAR"),
    ("untagged_service", "VARCHAR"), ("n", "BIGINT"), ("cost", "DOUBLE"), ("instance_cost", "DOUBLE"),
    ("one_off_cost", "DOUBLE"), ("hourly", "BOOLEAN"), ("horizon", "TIMESTAMPTZ"),
    ("token_kind", "VARCHAR"), ("provider", "VARCHAR"), ("host", "VARCHAR"), ("tokens", "DOUBLE"),
)
# Over the local `billed` relation (generators/see/billing_files.py) these are its columns.
LOCAL_TOKENS = {"token_kind": "token_kind", "tokens": "tokens", "provider": "provider", "host": "host"}


def sums_sql(source: str, team: str, model: str, month: Month, managed: dict[str, str] | None = None) -> str:
    """The one attribution query, in DuckDB's dialect: per team, model and hour, the rows, their
    EffectiveCost, the part of it that is instance time and the part that is one-off (FOCUS
    ChargeFrequency One-Time, or ChargeCategory Credit or Adjustment: a forecast adds it once and
    never runs it at a rate; a recurring purchase, billed every hour, does run); untagged rows
    keep their resource (for the top-ten list).
    Off-schedule spend is instance time (EC2 instance ids, i-..., or their ARNs): volumes are
    billed while an instance is stopped by design. `horizon` is the group's latest end
    (summarise reads completeness from the groups of hourly or daily rows only). `team` and
    `model` are SQL expressions over `source`; grouped by ordinal, which Athena (Trino) also takes.
    `managed`: the token direction, token count, service provider and host as expressions
    (generators/see/managed_tokens.py); token rows are grouped by their direction."""
    managed = managed or LOCAL_TOKENS
    start = "CAST(ChargePeriodStart AS TIMESTAMPTZ)"
    end = "CAST(ChargePeriodEnd AS TIMESTAMPTZ)"
    one_off = "(ChargeFrequency = 'One-Time' OR ChargeCategory IN ('Credit', 'Adjustment'))"
    return f"""
        SELECT {team} AS team, {model} AS model_id, {start} AS period_start,
               CASE WHEN {team} IS NULL THEN ResourceId END AS untagged_id,
               CASE WHEN {team} IS NULL THEN ServiceName END AS untagged_service,
               count(*) AS n,
               sum(CAST(EffectiveCost AS DOUBLE)) AS cost,
               coalesce(sum(CAST(EffectiveCost AS DOUBLE)) FILTER (WHERE ResourceId LIKE 'i-%' OR ResourceId LIKE '%:instance/i-%'), 0) AS instance_cost,
               coalesce(sum(CAST(EffectiveCost AS DOUBLE)) FILTER (WHERE {one_off}), 0) AS one_off_cost,
               -- Every row of a group starts at the group's hour, so the group is hourly when its
               -- earliest and latest ends are that hour's end: two cheap aggregates instead of an
               -- interval per row (benchmarks/showback_scale.py: the 10 M-row query 1.86 s -> 1.32 s).
               (min({end}) = {start} + INTERVAL 1 HOUR AND max({end}) = {start} + INTERVAL 1 HOUR) AS hourly,
               max({end}) AS horizon,
               {managed["token_kind"]} AS token_kind, {managed["provider"]} AS provider, {managed["host"]} AS host,
               sum({managed["tokens"]}) AS tokens
        FROM {source}
        WHERE {start} >= TIMESTAMPTZ '{utc_literal(month.start)}' AND {start} < TIMESTAMPTZ '{utc_literal(month.end)}'
        GROUP BY 1, 2, 3, 4, 5, 12, 13, 14
    """


def summarise(connection: Any, schedules: dict[str, Schedule], profile_tz: str | None = None) -> dict[str, Any]:
    """Every figure showback reports, from the `sums` table (local or fetched from Athena).

    Off-schedule spend is computed here too, in SQL, for the teams in `schedules`: an hour is
    outside when, in the team's time zone, its weekday is not a schedule day or its start is not
    in [start, stop) (as `in_schedule` decides it). Only one row per team comes back."""
    (bad,) = connection.execute("SELECT count(*) FROM sums WHERE cost IS NULL OR NOT isfinite(cost) OR NOT isfinite(one_off_cost)").fetchone()
    if bad:  # the local path checked every row first; Athena's answer is checked here
        raise ToolError(f"the billing data has {bad:,} team-hour sums of EffectiveCost that are empty, NaN or infinite: fix the rows with such a cost")
    # How far the data reaches: only groups whose rows all end within a day of their start (hourly
    # or daily rows) say so; a group holding a monthly row (support, a tax) says nothing about
    # how complete the month is. Over the groups, not the rows: a filter per row cost the 10 M-row
    # query a second (benchmarks/showback_scale.py).
    count, total, horizon = connection.execute(
        "SELECT coalesce(sum(n), 0), coalesce(sum(cost), 0), max(horizon) FILTER (WHERE horizon <= period_start + INTERVAL 1 DAY) FROM sums"
    ).fetchone()
    by_team = connection.execute("SELECT team, sum(cost), sum(one_off_cost) FROM sums WHERE team IS NOT NULL GROUP BY team").fetchall()
    connection.execute("CREATE OR REPLACE TEMP TABLE schedules (team VARCHAR, tz VARCHAR, days INTEGER[], start_at VARCHAR, stop_at VARCHAR)")
    if schedules:
        connection.executemany(
            "INSERT INTO schedules VALUES (?, ?, ?, ?, ?)",
            [(team, s.timezone, [WEEKDAYS.index(d) + 1 for d in s.weekdays], s.start, s.stop) for team, s in sorted(schedules.items())],
        )
    local = "timezone(k.tz, sums.period_start)"
    off_schedule = connection.execute(f"""
        SELECT sums.team,
               coalesce(sum(sums.instance_cost) FILTER (WHERE NOT (list_contains(k.days, isodow({local}))
                                                                AND strftime({local}, '%H:%M') >= k.start_at
                                                                AND strftime({local}, '%H:%M') < k.stop_at)), 0),
               bool_and(sums.hourly)
        FROM sums JOIN schedules AS k ON sums.team = k.team
        GROUP BY sums.team
    """).fetchall()
    models = connection.execute(
        "SELECT model_id, team, sum(cost) FROM sums WHERE model_id IS NOT NULL GROUP BY model_id, team ORDER BY model_id, team"
    ).fetchall()
    untagged = connection.execute(
        f"SELECT untagged_id, untagged_service, sum(cost) AS c FROM sums WHERE team IS NULL GROUP BY untagged_id, untagged_service "
        f"ORDER BY c DESC, untagged_id LIMIT {TOP_UNTAGGED}"
    ).fetchall()
    (unattributed,) = connection.execute("SELECT coalesce(sum(cost), 0) FROM sums WHERE team IS NULL").fetchone()
    tokens = connection.execute(
        "SELECT model_id, team, token_kind, sum(tokens), sum(cost) FROM sums WHERE token_kind IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    ).fetchall()
    providers = connection.execute(
        "SELECT provider, host, sum(cost) AS c FROM sums GROUP BY 1, 2 ORDER BY c DESC, provider, host"
    ).fetchall()
    busy: dict[str, dict[tuple[int, int], int]] = {}
    if profile_tz is not None:
        # recommend's schedules: per team, the hours of the week (ISO weekday, hour, in
        # `profile_tz`) in which its instances were billed, and in how many weeks.
        for team, day, hour, weeks in connection.execute(
            "SELECT team, isodow(timezone(?, period_start)), hour(timezone(?, period_start)), count(DISTINCT period_start) FROM sums "
            "WHERE team IS NOT NULL AND instance_cost > 0 AND hourly GROUP BY 1, 2, 3", [profile_tz, profile_tz]
        ).fetchall():
            busy.setdefault(team, {})[(int(day), int(hour))] = int(weeks)
    return {
        "busy_hours": busy,
        "rows": int(count),
        "total": float(total),
        "horizon": horizon,
        "by_team": {team: float(cost) for team, cost, _ in by_team},
        "one_off_by_team": {team: float(one_off) for team, _, one_off in by_team},
        "off_schedule": {team: (float(cost), bool(hourly)) for team, cost, hourly in off_schedule},
        "models": models,
        "untagged": untagged,
        "unattributed": float(unattributed),
        "tokens": [(model, team, kind, float(count or 0), float(cost)) for model, team, kind, count, cost in tokens],
        "providers": [(provider, host, float(cost)) for provider, host, cost in providers],
    }
