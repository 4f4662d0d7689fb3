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
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from generators import gpu_idle
from generators.cost import Month
from generators.errors import ToolError, display_path
from generators.safe_text import message, visible
from generators.model import WEEKDAYS, ManifestSet, Schedule
from generators.tags import MODEL_ID_TAG as MODEL_TAG
from generators.tags import TEAM_TAG

SCHEMA_VERSION = 1
# AWS writes user-defined cost-allocation tags with this prefix in its exports.
USER_TAG_PREFIX = "user:"
# Without these a row cannot be placed in time or costed. The rest are read when present: a file
# without Tags has no team to attribute to (all its spend is unattributed), but still counts.
REQUIRED_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost")
OPTIONAL_COLUMNS = ("Tags", "ResourceId", "ServiceName", "ProviderName", "ChargeCategory", "ChargeFrequency")
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
    # Spend under a Team tag no manifest has (a typo, a team that left): a leak, shown apart.
    unknown_teams: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    unattributed_usd: float = 0.0
    untagged_resources: list[dict[str, Any]] = field(default_factory=list)
    total_usd: float = 0.0
    gpu_utilization: dict[str, Any] | None = None  # with --prometheus: generators/gpu_idle.py
    # Series of a Prometheus answer passed over (malformed values, negative counters), one each.
    notes: list[str] = field(default_factory=list)

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
            **({"gpu_utilization": self.gpu_utilization} if self.gpu_utilization is not None else {}),
            "notes": self.notes,
        }


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --------------------------------------------------------------------------- finding the files


# An export bucket is written by others: what one run copies is bounded. AWS's FOCUS export of a
# large account is a few files per day; a month of 10 M hourly rows is ~300 MB of Parquet
# (benchmarks/showback_scale.py), so these leave room for the largest real ones.
MAX_S3_OBJECTS = 20_000
MAX_S3_BYTES = 32 * 1024**3


def _bad_key(key: str) -> str | None:
    """Why an S3 key cannot be a billing file's name, or None. Keys are written by whoever can
    write the bucket: they never become paths here (files are saved under names of our own), but
    a key with `..`, a leading `/`, an empty part or a control character is no export's."""
    if visible(key) != key:
        return "it holds control or bidirectional-formatting characters"
    if key.startswith("/"):
        return "it starts with /"
    if any(part in ("", ".", "..") for part in key.split("/")):
        return "it has an empty, '.' or '..' part"
    return None


def download_s3(source: str, into: Path, new_client: Any = None) -> dict[Path, str]:
    """Copy the FOCUS files under s3://bucket/prefix into `into`, a private directory (the
    default AWS credential chain; AWS_ENDPOINT_URL is honoured). Each object is saved under a
    name of our own (its index and suffix), never under its key, so no key can write outside
    `into` or collide with another; returns {local path: s3://bucket/key} for messages."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    shown = message(source)
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not bucket:
        raise ToolError(f"--billing {shown}: expected s3://bucket/prefix")
    if new_client is None:
        import boto3

        new_client = lambda: boto3.client("s3")  # noqa: E731
    client = new_client()
    saved: dict[Path, str] = {}
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        objects = [item for page in pages for item in page.get("Contents", []) if str(item.get("Key", "")).endswith(SUFFIXES)]
        for item in objects:
            reason = _bad_key(item["Key"])
            if reason:
                raise ToolError(f"--billing {shown}: refusing the object {message(item['Key'])!r}: {reason}")
        if len(objects) > MAX_S3_OBJECTS:
            raise ToolError(f"--billing {shown}: {len(objects):,} FOCUS files under that prefix, more than {MAX_S3_OBJECTS:,}; name a narrower prefix (one billing period)")
        size = sum(int(item.get("Size", 0)) for item in objects)
        if size > MAX_S3_BYTES:
            raise ToolError(f"--billing {shown}: {size / 1024**3:,.1f} GiB under that prefix, more than {MAX_S3_BYTES // 1024**3} GiB; name a narrower prefix or use --engine athena")
        for index, item in enumerate(objects):
            key = item["Key"]
            suffix = next(s for s in SUFFIXES if key.endswith(s) and not (s == ".csv" and key.endswith(".csv.gz")))
            path = into / f"{index:06d}{suffix}"
            client.download_file(bucket, key, str(path))
            saved[path] = f"s3://{bucket}/{key}"
    except NoCredentialsError as error:
        raise ToolError(f"--billing {shown}: no AWS credentials found") from error
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise ToolError(f"--billing {shown}: cannot read the bucket ({message(code, 80)}): check the name, region and your access") from error
    if not saved:
        raise ToolError(f"--billing {shown}: no FOCUS files (.parquet, .csv, .csv.gz) under that prefix")
    return saved


def billing_files(sources: Iterable[str]) -> list[Path]:
    """The FOCUS files under each source (a directory, searched recursively, or a file), each
    once: a file named twice (`--billing DIR DIR/sub`, or through a link) is read once, by its
    resolved path."""
    found: dict[tuple[int, int], Path] = {}  # by (device, inode): the file itself, however it is named
    for source in sources:
        path = Path(source)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
        elif path.is_file():
            if not path.name.endswith(SUFFIXES):
                raise ToolError(f"--billing {message(source)}: not a FOCUS file (.parquet, .csv or .csv.gz)")
            candidates = [path]
        else:
            raise ToolError(f"--billing {message(source)}: no such file or directory")
        for candidate in candidates:
            identity = candidate.stat()
            found.setdefault((identity.st_dev, identity.st_ino), candidate)
    if not found:
        raise ToolError(f"--billing {message(', '.join(sources))}: no FOCUS files (.parquet, .csv, .csv.gz) found")
    return list(found.values())


# --------------------------------------------------------------------------- the query


def _tag_sql(key: str, as_map: bool) -> str:
    """The tag's value under `key` or AWS's `user:key`: map lookups where Parquet holds a MAP
    (as AWS writes it; no per-row JSON), JSON paths where the column is JSON text (CSV; a value
    that is not JSON is counted as a bad row by the checks, never a crash)."""
    # AWS's own form first: coalesce then looks the plain key up only where it is missing.
    if as_map:
        return f"coalesce(Tags['{USER_TAG_PREFIX}{key}'], Tags['{key}'])"
    return (
        f"CASE WHEN json_valid(Tags) THEN coalesce(json_extract_string(Tags, '$.\"{USER_TAG_PREFIX}{key}\"'), "
        f"json_extract_string(Tags, '$.\"{key}\"')) END"
    )


# CSV files are read with the columns of their header and no type sniffing (every value text,
# cast in SQL with TRY_CAST so a bad value is found and named, never a reader error): files with
# one header are one scan, however many there are.
CSV_OPTIONS = "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', filename = true"
MAX_CSV_HEADER = 64 * 1024


def _csv_header(path: Path) -> tuple[str, ...]:
    import csv
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            line = handle.readline(MAX_CSV_HEADER)
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise ToolError(f"cannot be read as CSV: {message(error, 120)}") from error
    return tuple(next(csv.reader([line]), []))


def _parquet_columns(connection: Any, files: list[Path]) -> dict[Path, list[str]]:
    """Each Parquet file's top-level column names, from one parquet_schema() call over all of
    them (the schema is a depth-first list: the root, then each column with its children)."""
    rows = connection.execute(f"SELECT file_name, name, num_children FROM parquet_schema({_list([str(p) for p in files])})").fetchall()
    by_name: dict[str, list[tuple[str, int]]] = {}
    for file_name, name, children in rows:
        by_name.setdefault(file_name, []).append((name, int(children or 0)))
    out: dict[Path, list[str]] = {}
    for path in files:
        elements = by_name.get(str(path), [])
        names, index = [], 1
        for _ in range(elements[0][1] if elements else 0):
            names.append(elements[index][0])
            pending = elements[index][1]
            index += 1
            while pending:  # skip this column's nested elements
                pending += elements[index][1] - 1
                index += 1
        out[path] = names
    return out


def _columns(connection: Any, files: list[Path], labels: dict[Path, str]) -> dict[Path, tuple[str, ...]]:
    """Each file's columns; every file must have the required FOCUS ones, else one line naming
    the file and what is missing. A file that cannot be read is one line naming it."""
    parquet = [p for p in files if p.name.endswith(".parquet")]
    columns: dict[Path, tuple[str, ...]] = {}
    if parquet:
        try:
            columns.update({p: tuple(c) for p, c in _parquet_columns(connection, parquet).items()})
        except Exception:  # duckdb's own error types: find the file that fails, alone
            for path in parquet:
                try:
                    columns.update({p: tuple(c) for p, c in _parquet_columns(connection, [path]).items()})
                except Exception as error:
                    raise ToolError(f"{labels[path]}: cannot be read as Parquet: {_duckdb_reason(error)}") from error
    for path in files:
        if path not in columns:
            try:
                columns[path] = _csv_header(path)
            except ToolError as error:
                raise ToolError(f"{labels[path]}: {error}") from error
        missing = [column for column in REQUIRED_COLUMNS if column not in columns[path]]
        if missing:
            raise ToolError(f"{labels[path]}: not a FOCUS export: missing column(s) {', '.join(missing)} (needs {', '.join(REQUIRED_COLUMNS)})")
    return columns


def _duckdb_reason(error: Exception) -> str:
    """DuckDB's message without its SQL echo (LINE 1: ...) and hints, on one line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip() and not line.startswith(("LINE ", "  "))]
    return message(" ".join(lines[:3]) or type(error).__name__, 300)


def _relation_sql(connection: Any, files: list[Path], columns: dict[Path, tuple[str, ...]], scratch: Path) -> str:
    """One SELECT over all Parquet files and one per CSV header, unioned by name; each gives
    the required columns cast (TRY_CAST: NULL where a value is bad, for the checks to name), the
    optional ones (NULL where missing), `team` and `model_id` from Tags, `bad_tags` and
    `filename`."""
    parts = []
    parquet = [p for p in files if p.name.endswith(".parquet")]
    csv_groups: dict[tuple[str, ...], list[Path]] = {}
    for path in files:
        if not path.name.endswith(".parquet"):
            csv_groups.setdefault(columns[path], []).append(path)
    if parquet:
        reader = f"read_parquet({_list([str(p) for p in parquet])}, union_by_name = true, filename = true)"
        types = {str(name): str(kind) for name, kind, *_ in connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
        parts.append(_select(reader, types, as_map=types.get("Tags", "").startswith("MAP")))
    if csv_groups:
        # DuckDB opens each CSV file at a fixed cost (~0.9 ms here, 9 s for 10,000 files): small
        # files of one header are first joined into one (their rows copied as they are, with the
        # file's name), and every CSV row is read once into a temporary table that the checks
        # and the sums both scan (benchmarks/many_files.py: 10,000 small files 77 s -> 2 s).
        csv_parts = []
        for number, (header, group) in enumerate(csv_groups.items()):
            small = [p for p in group if p.stat().st_size <= SMALL_CSV_BYTES] if len(group) > 1 else []
            joined_set = set(small)
            large = [p for p in group if p not in joined_set]
            if small:
                joined = _join_csv(small, header, scratch / f"joined-{number}.csv")
                csv_parts.append(_select(_csv_reader([joined], (*header, "filename"), filename=False), dict.fromkeys(header, "VARCHAR"), as_map=False))
            if large:
                csv_parts.append(_select(_csv_reader(large, header), dict.fromkeys(header, "VARCHAR"), as_map=False))
        connection.execute(f"CREATE TEMP TABLE csv_rows AS {' UNION ALL BY NAME '.join(csv_parts)}")
        parts.append("SELECT * FROM csv_rows")
    return " UNION ALL BY NAME ".join(parts)


# A CSV file up to this size is joined with the others of its header before DuckDB reads it.
SMALL_CSV_BYTES = 1024 * 1024


def _join_csv(paths: list[Path], header: tuple[str, ...], target: Path) -> Path:
    """The rows of `paths` (one header) in one CSV file, each with its file's name; a file that
    is not CSV text is one line naming it (a row with the wrong number of fields is named by
    DuckDB's reading of that file alone, _which_file_fails)."""
    import csv
    import gzip

    with open(target, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*header, "filename"])
        for path in paths:
            opener = gzip.open if path.name.endswith(".gz") else open
            try:
                with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
                    rows = csv.reader(handle)
                    next(rows, None)
                    writer.writerows([*row, str(path)] for row in rows)
            except (OSError, UnicodeDecodeError, EOFError, csv.Error) as error:
                raise ToolError(f"cannot be read as CSV: {message(error, 120)}") from error
    return target


def _csv_reader(paths: list[Path], header: tuple[str, ...], filename: bool = True) -> str:
    """read_csv over files that share `header`: its columns as text, no sniffing."""
    spec = "{" + ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for name in header) + "}"
    options = CSV_OPTIONS if filename else CSV_OPTIONS.replace(", filename = true", "")
    return f"read_csv({_list([str(p) for p in paths])}, {options}, columns = {spec})"


def _select(reader: str, types: dict[str, str], as_map: bool) -> str:
    optional = [f'"{c}"' if c in types else f"CAST(NULL AS VARCHAR) AS {c}" for c in OPTIONAL_COLUMNS if c != "Tags"]
    if "Tags" in types:
        tags = [f"{_tag_sql(TEAM_TAG, as_map)} AS team", f"{_tag_sql(MODEL_TAG, as_map)} AS model_id",
                "false AS bad_tags" if as_map else "(Tags IS NOT NULL AND NOT json_valid(Tags)) AS bad_tags"]
    else:
        tags = ["CAST(NULL AS VARCHAR) AS team", "CAST(NULL AS VARCHAR) AS model_id", "false AS bad_tags"]
    # A column already of the type is passed through untouched (a cast, even a no-op TRY_CAST,
    # made the 10 M-row Parquet query twice as slow); text is cast with TRY_CAST.
    cast = [_as(name, kind, types.get(name, "")) for name, kind in
            (("ChargePeriodStart", "TIMESTAMP WITH TIME ZONE"), ("ChargePeriodEnd", "TIMESTAMP WITH TIME ZONE"), ("EffectiveCost", "DOUBLE"))]
    return f"SELECT {', '.join([*cast, *optional, *tags, 'filename'])} FROM {reader}"


def _as(name: str, wanted: str, have: str) -> str:
    if have == wanted:
        return name
    short = "TIMESTAMPTZ" if wanted.startswith("TIMESTAMP") else wanted
    return f"TRY_CAST({name} AS {short}) AS {name}"


def _list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _check_rows(connection: Any, month: Month, files: list[Path], labels: dict[Path, str]) -> None:
    """One scan of every row before anything is summed: a charge period that is not a date/time,
    an EffectiveCost in the month that is empty, NaN, infinite or not a number, a Tags value that
    is not JSON: the first such row is named (file and row) and nothing is reported. Two files
    holding the same rows (one export written twice, as Parquet and as CSV, or copied) would
    double every figure: refused, naming both."""
    in_month = f"ChargePeriodStart >= TIMESTAMPTZ '{_utc(month.start)}' AND ChargePeriodStart < TIMESTAMPTZ '{_utc(month.end)}'"
    per_file = connection.execute(f"""
        SELECT filename, count(*),
               count(*) FILTER (WHERE ChargePeriodStart IS NULL OR ChargePeriodEnd IS NULL
                                OR ({in_month} AND (EffectiveCost IS NULL OR NOT isfinite(EffectiveCost))) OR bad_tags),
               -- what a file holds, to find one export written twice: cheap aggregates (hashing
               -- every row doubled the 10 M-row query, benchmarks/showback_scale.py)
               round(sum(EffectiveCost), 4), min(ChargePeriodStart), max(ChargePeriodEnd), sum(hash(ResourceId, ChargePeriodStart))
        FROM billed GROUP BY filename ORDER BY filename
    """).fetchall()
    by_name = {str(path): path for path in files}
    for name, _, bad, *_ in per_file:
        if bad:
            raise ToolError(_first_bad_row(connection, by_name[name], month, labels[by_name[name]]))
    seen: dict[tuple[Any, ...], str] = {}
    for name, count, _, *what in per_file:
        fingerprint = tuple(what)
        if count and (count, fingerprint) in seen:
            first = seen[(count, fingerprint)]
            raise ToolError(
                f"{labels[by_name[first]]} and {labels[by_name[name]]} hold the same {count:,} billing rows (one export written twice, "
                "e.g. as Parquet and as CSV, or a copy): every figure would count twice; read one of them"
            )
        seen[(count, fingerprint)] = name


def _first_bad_row(connection: Any, path: Path, month: Month, label: str) -> str:
    """`label: row N (line N+1 for CSV): what is wrong`, for the first bad row of one file."""
    is_csv = not path.name.endswith(".parquet")
    if is_csv:
        header = _csv_header(path)
        reader = _csv_reader([path], header)
        tags = "Tags" if "Tags" in header else "NULL"
    else:
        reader = f"read_parquet({_list([str(path)])})"
        tags = "NULL"
    row = connection.execute(f"""
        SELECT n, s, e, c, t FROM (
            SELECT row_number() OVER () AS n, CAST(ChargePeriodStart AS VARCHAR) AS s, CAST(ChargePeriodEnd AS VARCHAR) AS e,
                   CAST(EffectiveCost AS VARCHAR) AS c, CAST({tags} AS VARCHAR) AS t,
                   TRY_CAST(ChargePeriodStart AS TIMESTAMPTZ) AS start_at, TRY_CAST(ChargePeriodEnd AS TIMESTAMPTZ) AS end_at,
                   TRY_CAST(EffectiveCost AS DOUBLE) AS cost
            FROM {reader})
        WHERE start_at IS NULL OR end_at IS NULL
           OR (start_at >= TIMESTAMPTZ '{_utc(month.start)}' AND start_at < TIMESTAMPTZ '{_utc(month.end)}'
               AND (cost IS NULL OR NOT isfinite(cost)))
           OR (t IS NOT NULL AND NOT json_valid(t))
        ORDER BY n LIMIT 1
    """).fetchone()
    if row is None:  # cannot happen: the scan found one
        return f"{label}: a row with a bad value"
    number, start, end, cost, tags_text = row
    where = f"{label}: row {number:,}" + (f" (line {number + 1:,})" if is_csv else "")
    if start is None or _try_time(connection, start) is None:
        return f"{where}: ChargePeriodStart is {_shown(start)}, expected an ISO 8601 date/time such as 2026-10-01T00:00:00Z"
    if end is None or _try_time(connection, end) is None:
        return f"{where}: ChargePeriodEnd is {_shown(end)}, expected an ISO 8601 date/time such as 2026-10-01T01:00:00Z"
    if cost is None or _try_number(connection, cost) is None:
        return f"{where}: EffectiveCost is {_shown(cost)}, expected a finite number (negative for credits)"
    return f"{where}: Tags is {_shown(tags_text)}, expected a JSON object such as {{\"user:Team\": \"alpha\"}}"


def _shown(value: Any) -> str:
    return "empty" if value is None or value == "" else repr(message(value, 60))


def _try_time(connection: Any, text: str) -> Any:
    return connection.execute("SELECT TRY_CAST(? AS TIMESTAMPTZ)", [text]).fetchone()[0]


def _try_number(connection: Any, text: str) -> float | None:
    value = connection.execute("SELECT TRY_CAST(? AS DOUBLE)", [text]).fetchone()[0]
    return value if value is not None and math.isfinite(value) else None


SUMS_COLUMNS = (
    ("team", "VARCHAR"), ("model_id", "VARCHAR"), ("period_start", "TIMESTAMPTZ"), ("untagged_id", "VARCHAR"),
    ("untagged_service", "VARCHAR"), ("n", "BIGINT"), ("cost", "DOUBLE"), ("instance_cost", "DOUBLE"),
    ("one_off_cost", "DOUBLE"), ("hourly", "BOOLEAN"), ("horizon", "TIMESTAMPTZ"),
)


def sums_sql(source: str, team: str, model: str, month: Month) -> str:
    """The one attribution query, in DuckDB's dialect: per team, model and hour, the rows, their
    EffectiveCost, the part of it that is instance time and the part that is one-off (FOCUS
    ChargeFrequency One-Time, or ChargeCategory Credit or Adjustment: a forecast adds it once and
    never runs it at a rate; a recurring purchase, billed every hour, does run); untagged rows
    keep their resource (for the top-ten list).
    Off-schedule spend is instance time (EC2 instance ids, i-..., or their ARNs): volumes are
    billed while an instance is stopped by design. `horizon` is the group's latest end
    (summarise reads completeness from the groups of hourly or daily rows only). `team` and
    `model` are SQL expressions over `source`; grouped by ordinal, which Athena (Trino) also takes."""
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
               max({end}) AS horizon
        FROM {source}
        WHERE {start} >= TIMESTAMPTZ '{_utc(month.start)}' AND {start} < TIMESTAMPTZ '{_utc(month.end)}'
        GROUP BY 1, 2, 3, 4, 5
    """


def _utc(moment: dt.datetime) -> str:
    """A timestamp literal both DuckDB and Trino read: date, time, then the zone name."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def athena_sql(table: str, month: Month) -> str:
    """The attribution query for Athena, over the table AWS's FOCUS export is catalogued as
    (Tags a map<string,string>): the same SQL, transpiled to Athena's Trino dialect, with
    element_at for tags (Trino's map subscript fails on a missing key)."""
    import sqlglot

    def tag(key: str) -> str:
        return f"coalesce(element_at(Tags, '{USER_TAG_PREFIX}{key}'), element_at(Tags, '{key}'))"

    return sqlglot.transpile(sums_sql(table, tag(TEAM_TAG), tag(MODEL_TAG), month), read="duckdb", write="athena")[0]


def query(files: list[Path], month: Month, schedules: dict[str, Schedule] | None = None,
          labels: dict[Path, str] | None = None) -> dict[str, Any]:
    """The attribution over local files, with DuckDB: the files' columns, one checking scan of
    every row, then the sums. `labels` names the files in messages (s3://... for downloads)."""
    import duckdb

    labels = _Labels(labels or {})
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        columns = _columns(connection, files, labels)
        with tempfile.TemporaryDirectory(prefix="genai-finops-csv-") as scratch:
            connection.execute(f"CREATE TEMP VIEW billed AS {_relation_sql(connection, files, columns, Path(scratch))}")
        _check_rows(connection, month, files, labels)
        connection.execute(f"CREATE TEMP TABLE sums AS {sums_sql('billed', 'team', 'model_id', month)}")
        return summarise(connection, schedules or {})
    except ToolError:
        raise
    except Exception as error:
        raise ToolError(_which_file_fails(files, labels, error)) from error
    finally:
        connection.close()


class _Labels(dict):
    """How messages name a file: its s3:// address for a download, else its display path,
    worked out only for a file a message names."""

    def __missing__(self, path: Path) -> str:
        return display_path(path)


def _which_file_fails(files: list[Path], labels: dict[Path, str], error: Exception) -> str:
    """DuckDB stopped on a file (a CSV row with more fields than the header, a truncated
    Parquet page) and says where in it but not which: read each alone to name it."""
    import duckdb

    connection = duckdb.connect()
    try:
        for path in files:
            try:
                reader = (f"read_parquet({_list([str(path)])})" if path.name.endswith(".parquet")
                          else _csv_reader([path], _csv_header(path)))
                connection.execute(f"SELECT count(*) FROM {reader}").fetchone()
            except ToolError as alone:
                return f"{labels[path]}: {alone}"
            except Exception as alone:
                return f"{labels[path]}: cannot be read: {_duckdb_reason(alone)}"
    finally:
        connection.close()
    return f"reading the billing data failed: {_duckdb_reason(error)}"


def summarise(connection: Any, schedules: dict[str, Schedule]) -> dict[str, Any]:
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
    return {
        "rows": int(count),
        "total": float(total),
        "horizon": horizon,
        "by_team": {team: float(cost) for team, cost, _ in by_team},
        "one_off_by_team": {team: float(one_off) for team, _, one_off in by_team},
        "off_schedule": {team: (float(cost), bool(hourly)) for team, cost, hourly in off_schedule},
        "models": models,
        "untagged": untagged,
        "unattributed": float(unattributed),
    }


def add_gpu_utilization(report: Showback, units: list, unowned: int, metric: str) -> None:
    """Busy share and idle dollars per pool and training job (generators/gpu_idle.py), in place."""
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


# Athena answers a query asynchronously: poll its state, at most this long.
ATHENA_POLL_SECONDS = 1.0
ATHENA_TIMEOUT_SECONDS = 900


def query_athena(billing: Any, month: Month, client: Any, sleep: Any = None, schedules: dict[str, Schedule] | None = None) -> dict[str, Any]:
    """The same attribution in Athena over `billing.athena_table`, in `billing.athena_workgroup`;
    its per team/model/hour sums are fetched and summarised locally like DuckDB's.
    https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html"""
    import time

    import duckdb
    from botocore.exceptions import BotoCoreError, ClientError

    sleep = sleep or time.sleep
    database, table = billing.athena_table.split(".", 1)
    sql = athena_sql(f'"{database}"."{table}"', month)
    try:
        started = client.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=billing.athena_workgroup
        )
        execution_id = started["QueryExecutionId"]
        waited = 0.0
        while True:
            status = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                raise ToolError(f"Athena query {execution_id} {status['State'].lower()}: {status.get('StateChangeReason', 'no reason given')}")
            if waited >= ATHENA_TIMEOUT_SECONDS:
                raise ToolError(f"Athena query {execution_id} still {status['State']} after {ATHENA_TIMEOUT_SECONDS} s")
            sleep(ATHENA_POLL_SECONDS)
            waited += ATHENA_POLL_SECONDS
        pages = client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id)
        raw = [[cell.get("VarCharValue") for cell in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise ToolError(f"Athena ({billing.athena_workgroup}, {billing.athena_table}) failed: {code}: {error}") from error
    names = [name for name, _ in SUMS_COLUMNS]
    # The first row of a SELECT's results is its column names.
    if not raw or raw[0] != names:
        raise ToolError(f"Athena returned columns {raw[0] if raw else 'none'}, expected {names}")
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute("CREATE TEMP TABLE text_sums (" + ", ".join(f"{name} VARCHAR" for name in names) + ")")
        if raw[1:]:
            connection.executemany(f"INSERT INTO text_sums VALUES ({', '.join('?' for _ in names)})", raw[1:])
        casts = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in SUMS_COLUMNS)
        connection.execute(f"CREATE TEMP TABLE sums AS SELECT {casts} FROM text_sums")
        return summarise(connection, schedules or {})
    finally:
        connection.close()


# --------------------------------------------------------------------------- attribution


def in_schedule(schedule: Schedule, hour_start: dt.datetime) -> bool:
    """Whether the hour that starts at `hour_start` (aware) lies inside the schedule's window."""
    local = hour_start.astimezone(ZoneInfo(schedule.timezone))
    if WEEKDAYS[local.weekday()] not in schedule.weekdays:
        return False
    return schedule.start <= local.strftime("%H:%M") < schedule.stop


def served_names(manifests: ManifestSet) -> dict[tuple[str, str], set[str]]:
    """(model_id, team) -> the model names its pools' servers report (served_model_name, else
    model_id: ../shared/spec/manifest-v1.md)."""
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
) -> Showback:
    """From local FOCUS files (`sources`) with DuckDB, or with `athena_client` from the org's
    billing.athena_table. `labels` names downloaded files in messages (their s3:// address)."""
    schedules = {loaded.manifest.team: loaded.manifest.schedule for loaded in manifests.teams if loaded.manifest.schedule}
    if athena_client is not None:
        billing = manifests.org.billing
        files: list[Path] = []
        data = query_athena(billing, month, athena_client, schedules=schedules)
        where = f"Athena table {billing.athena_table}"
    else:
        files = billing_files(sources)
        data = query(files, month, schedules, labels)
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
        sources=[(labels or {}).get(p) or str(p) for p in files] or [f"athena:{manifests.org.billing.athena_table}"],
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
    )
