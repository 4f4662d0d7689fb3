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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from generators.cost import Month
from generators.errors import ToolError
from generators.model import WEEKDAYS, ManifestSet, Schedule

SCHEMA_VERSION = 1
TEAM_TAG, MODEL_TAG = "Team", "ModelID"
# AWS writes user-defined cost-allocation tags with this prefix in its exports.
USER_TAG_PREFIX = "user:"
REQUIRED_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost", "Tags", "ProviderName", "ResourceId", "ServiceName")
SUFFIXES = (".parquet", ".csv", ".csv.gz")
TOP_UNTAGGED = 10


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
    models: list[dict[str, Any]] = field(default_factory=list)
    unattributed_usd: float = 0.0
    untagged_resources: list[dict[str, Any]] = field(default_factory=list)
    total_usd: float = 0.0

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
            "models": self.models,
            "unattributed_usd": _usd(self.unattributed_usd),
            "untagged_resources": self.untagged_resources,
            "total_usd": _usd(self.total_usd),
        }


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --------------------------------------------------------------------------- finding the files


def download_s3(source: str, into: Path, new_client: Any = None) -> Path:
    """Copy the FOCUS files under s3://bucket/prefix into `into` (the default AWS credential
    chain; AWS_ENDPOINT_URL is honoured), keeping their keys as paths; returns that directory."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not bucket:
        raise ToolError(f"--billing {source}: expected s3://bucket/prefix")
    if new_client is None:
        import boto3

        new_client = lambda: boto3.client("s3")  # noqa: E731
    client = new_client()
    target = into / bucket
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", []) if item["Key"].endswith(SUFFIXES)]
        for key in keys:
            path = target / key
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, key, str(path))
    except NoCredentialsError as error:
        raise ToolError(f"--billing {source}: no AWS credentials found ({error})") from error
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise ToolError(f"--billing {source}: cannot read the bucket ({code}): check the name, region and your access") from error
    if not keys:
        raise ToolError(f"--billing {source}: no FOCUS files (.parquet, .csv, .csv.gz) under that prefix")
    return target


def billing_files(sources: Iterable[str]) -> list[Path]:
    """The FOCUS files under each source (a directory, searched recursively, or a file)."""
    found: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
        elif path.is_file():
            if not path.name.endswith(SUFFIXES):
                raise ToolError(f"--billing {source}: not a FOCUS file (.parquet, .csv or .csv.gz)")
            found.append(path)
        else:
            raise ToolError(f"--billing {source}: no such file or directory")
    if not found:
        raise ToolError(f"--billing {', '.join(sources)}: no FOCUS files (.parquet, .csv, .csv.gz) found")
    return found


# --------------------------------------------------------------------------- the query


# Tags as JSON text, whatever the file holds: a MAP (Parquet, as AWS writes it) becomes a JSON
# object; text (CSV) is the JSON object already. Computed before the parts are unioned, where a
# MAP and a VARCHAR column would otherwise meet as text of two formats.
TAGS_JSON = "CASE WHEN typeof(Tags) LIKE 'MAP%' THEN CAST(to_json(Tags) AS VARCHAR) ELSE CAST(Tags AS VARCHAR) END AS tags_json"


def _relation_sql(files: list[Path]) -> str:
    parquet = [str(p) for p in files if p.name.endswith(".parquet")]
    csv = [str(p) for p in files if not p.name.endswith(".parquet")]
    columns = ", ".join(c for c in REQUIRED_COLUMNS if c != "Tags")
    parts = []
    if parquet:
        parts.append(f"SELECT {columns}, {TAGS_JSON} FROM read_parquet({_list(parquet)}, union_by_name = true)")
    if csv:
        # The timestamps are ISO 8601 with a Z, as AWS writes them.
        parts.append(
            f"SELECT {columns}, {TAGS_JSON} FROM read_csv({_list(csv)}, header = true, union_by_name = true, "
            "types = {'Tags': 'VARCHAR', 'EffectiveCost': 'DOUBLE'})"
        )
    return " UNION ALL BY NAME ".join(parts)


def _list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _check_columns(connection: Any, files: list[Path]) -> None:
    """Every file has the FOCUS columns showback reads; else one line naming file and columns."""
    for path in files:
        reader = "read_parquet" if path.name.endswith(".parquet") else "read_csv"
        try:
            names = {row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {reader}({_list([str(path)])})").fetchall()}
        except Exception as error:  # duckdb raises its own error types for unreadable files
            raise ToolError(f"{path}: cannot be read as {'Parquet' if reader == 'read_parquet' else 'CSV'}: {str(error).splitlines()[0]}") from error
        missing = [column for column in REQUIRED_COLUMNS if column not in names]
        if missing:
            raise ToolError(f"{path}: not a FOCUS export: missing column(s) {', '.join(missing)} (needs {', '.join(REQUIRED_COLUMNS)})")


def _tag(key: str) -> str:
    """The tag's value from the Tags column as JSON text, under `key` or `user:key`."""
    return (
        f"coalesce(json_extract_string(tags_json, '$.\"{key}\"'), "
        f"json_extract_string(tags_json, '$.\"{USER_TAG_PREFIX}{key}\"'))"
    )


def query(files: list[Path], month: Month) -> dict[str, Any]:
    import duckdb

    connection = duckdb.connect()
    try:
        _check_columns(connection, files)
        rows_sql = f"""
            WITH source AS ({_relation_sql(files)}),
            normalised AS (
                SELECT
                    CAST(ChargePeriodStart AS TIMESTAMPTZ) AS period_start,
                    CAST(ChargePeriodEnd AS TIMESTAMPTZ) AS period_end,
                    CAST(EffectiveCost AS DOUBLE) AS cost,
                    tags_json,
                    ResourceId AS resource_id,
                    ServiceName AS service
                FROM source
            )
            SELECT period_start, period_end, cost, {_tag(TEAM_TAG)} AS team, {_tag(MODEL_TAG)} AS model_id, resource_id, service
            FROM normalised
            WHERE period_start >= TIMESTAMPTZ '{month.start.isoformat()}' AND period_start < TIMESTAMPTZ '{month.end.isoformat()}'
        """
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(f"CREATE TEMP TABLE rows AS {rows_sql}")
        count, total, horizon = connection.execute("SELECT count(*), coalesce(sum(cost), 0), max(period_end) FROM rows").fetchone()
        by_team = connection.execute("SELECT team, sum(cost) FROM rows WHERE team IS NOT NULL GROUP BY team").fetchall()
        # Off-schedule spend is instance time: EC2 instance ids (i-...) or their ARNs. Volumes are
        # billed while an instance is stopped by design, so they are not ghost compute.
        hourly = connection.execute(
            "SELECT team, period_start, coalesce(sum(cost) FILTER (WHERE resource_id LIKE 'i-%' OR resource_id LIKE '%:instance/i-%'), 0), "
            "bool_and(period_end - period_start = INTERVAL 1 HOUR) "
            "FROM rows WHERE team IS NOT NULL GROUP BY team, period_start"
        ).fetchall()
        models = connection.execute(
            "SELECT model_id, team, sum(cost) FROM rows WHERE model_id IS NOT NULL GROUP BY model_id, team ORDER BY model_id, team"
        ).fetchall()
        untagged = connection.execute(
            f"SELECT resource_id, service, sum(cost) AS c FROM rows WHERE team IS NULL GROUP BY resource_id, service "
            f"ORDER BY c DESC, resource_id LIMIT {TOP_UNTAGGED}"
        ).fetchall()
        (unattributed,) = connection.execute("SELECT coalesce(sum(cost), 0) FROM rows WHERE team IS NULL").fetchone()
    except ToolError:
        raise
    except Exception as error:
        raise ToolError(f"reading the billing data failed: {str(error).splitlines()[0]}") from error
    finally:
        connection.close()
    return {
        "rows": int(count),
        "total": float(total),
        "horizon": horizon,
        "by_team": {team: float(cost) for team, cost in by_team},
        "hourly": hourly,
        "models": models,
        "untagged": untagged,
        "unattributed": float(unattributed),
    }


# --------------------------------------------------------------------------- attribution


def in_schedule(schedule: Schedule, hour_start: dt.datetime) -> bool:
    """Whether the hour that starts at `hour_start` (aware) lies inside the schedule's window."""
    local = hour_start.astimezone(ZoneInfo(schedule.timezone))
    if WEEKDAYS[local.weekday()] not in schedule.weekdays:
        return False
    return schedule.start <= local.strftime("%H:%M") < schedule.stop


def showback(manifests: ManifestSet, sources: list[str], month: Month, estimates: dict[str, float] | None = None) -> Showback:
    files = billing_files(sources)
    data = query(files, month)
    if data["rows"] == 0:
        raise ToolError(f"no billing rows for {month} in {', '.join(sources)} (ChargePeriodStart in {month}, UTC): check --month and --billing")
    horizon = data["horizon"]
    complete = horizon is not None and horizon >= month.end
    elapsed_hours = max((min(horizon, month.end) - month.start).total_seconds() / 3600, 1.0) if horizon else 1.0
    month_hours = (month.end - month.start).total_seconds() / 3600

    manifests_by_team = {loaded.manifest.team: loaded.manifest for loaded in manifests.teams}
    hourly_by_team: dict[str, list[tuple[dt.datetime, float, bool]]] = {}
    for team, start, cost, is_hour in data["hourly"]:
        hourly_by_team.setdefault(team, []).append((start, float(cost), bool(is_hour)))

    teams: list[TeamSpend] = []
    for team in sorted(set(manifests_by_team) | set(data["by_team"])):
        manifest = manifests_by_team.get(team)
        actual = data["by_team"].get(team, 0.0)
        off, note = None, None
        if manifest is None:
            note = "not in the manifests"
        elif manifest.schedule is None:
            note = "no schedule"
        else:
            rows = hourly_by_team.get(team, [])
            if rows and not all(is_hour for _, _, is_hour in rows):
                note = "cannot be computed: the export is not hourly"
            else:
                off = sum(cost for start, cost, _ in rows if not in_schedule(manifest.schedule, start))
        teams.append(
            TeamSpend(
                team=team,
                budget_usd=manifest.budget.monthly_usd if manifest else None,
                estimate_usd=(estimates or {}).get(team),
                actual_usd=actual,
                off_schedule_usd=off,
                off_schedule_note=note,
                forecast_usd=actual if complete else actual / elapsed_hours * month_hours,
            )
        )
    return Showback(
        month=month,
        sources=[str(p) for p in files],
        rows=data["rows"],
        complete=complete,
        teams=teams,
        models=[{"model_id": model, "team": team, "actual_usd": round(float(cost), 2)} for model, team, cost in data["models"]],
        unattributed_usd=data["unattributed"],
        untagged_resources=[
            {"resource_id": resource, "service": service, "actual_usd": round(float(cost), 2)} for resource, service, cost in data["untagged"]
        ],
        total_usd=data["total"],
    )
