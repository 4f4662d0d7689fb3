"""Reading a FOCUS billing export safely, for showback: finding the files (local or s3://),
their columns, one relation over all of them for DuckDB, and the check of every row before
anything is summed (README, "Billing data is hostile until checked").

Files are found once each (by device and inode); S3 objects are saved under names of our own;
CSV files are read by their header without type sniffing, small ones joined first; every value
is cast with TRY_CAST so that a bad one is found and named by file and row, never a reader
error or a NaN in a figure.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from generators.errors import ToolError, display_path
from generators.months import Month
from generators.safe_text import message
from generators.see.managed_tokens import BAD_TOKENS, bad_tokens_message, token_columns_sql
from generators.tags import MODEL_ID_TAG as MODEL_TAG
from generators.tags import TEAM_TAG, USER_TAG_PREFIX

# Without these a row cannot be placed in time or costed. The rest are read when present: a file
# without Tags has no team to attribute to (all its spend is unattributed), but still counts.
REQUIRED_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost")
OPTIONAL_COLUMNS = ("Tags", "ResourceId", "ServiceName", "ProviderName", "ChargeCategory", "ChargeFrequency")
# Read to count managed-model tokens and to name who provides a service (generators/see/managed_tokens.py);
# they become `token_kind`, `tokens`, `token_unit`, `provider` and `host`, never columns of their own.
TOKEN_COLUMNS = ("ConsumedQuantity", "ConsumedUnit", "SkuMeter", "x_UsageType", "SkuPriceDetails", "ServiceProviderName", "HostProviderName")

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


def _open_csv(path: Path) -> Any:
    """A CSV file as text, gzipped or not (AWS writes both)."""
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def _csv_header(path: Path) -> tuple[str, ...]:
    import csv

    try:
        with _open_csv(path) as handle:
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


def columns_of(connection: Any, files: list[Path], labels: dict[Path, str]) -> dict[Path, tuple[str, ...]]:
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


def relation_sql(connection: Any, files: list[Path], columns: dict[Path, tuple[str, ...]], scratch: Path) -> str:
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
    DuckDB's reading of that file alone, which_file_fails)."""
    import csv

    with open(target, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*header, "filename"])
        for path in paths:
            try:
                with _open_csv(path) as handle:
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
    optional += token_columns_sql(types)
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


def check_rows(connection: Any, month: Month, files: list[Path], labels: dict[Path, str],
               known: dict[Path, tuple[int, tuple[str, ...]]] | None = None) -> dict[Path, tuple[int, tuple[str, ...]]]:
    """One scan of every row before anything is summed: a charge period that is not a date/time,
    an EffectiveCost in the month that is empty, NaN, infinite or not a number, a Tags value that
    is not JSON: the first such row is named (file and row) and nothing is reported. Two files
    holding the same rows (one export written twice, as Parquet and as CSV, or copied) would
    double every figure: refused, naming both. `known`: the (row count, fingerprint) of files
    checked before and not scanned now (see/daily_cache.py), compared too; returns those of the
    files scanned."""
    in_month = f"ChargePeriodStart >= TIMESTAMPTZ '{utc_literal(month.start)}' AND ChargePeriodStart < TIMESTAMPTZ '{utc_literal(month.end)}'"
    per_file = connection.execute(f"""
        SELECT filename, count(*),
               count(*) FILTER (WHERE ChargePeriodStart IS NULL OR ChargePeriodEnd IS NULL
                                OR ({in_month} AND (EffectiveCost IS NULL OR NOT isfinite(EffectiveCost))) OR bad_tags
                                -- a token row whose quantity is not a count of tokens
                                OR ({BAD_TOKENS})),
               -- what a file holds, to find one export written twice: cheap aggregates (hashing
               -- every row doubled the 10 M-row query, benchmarks/showback_scale.py)
               round(sum(EffectiveCost), 4), min(ChargePeriodStart), max(ChargePeriodEnd), sum(hash(ResourceId, ChargePeriodStart))
        FROM billed GROUP BY filename ORDER BY filename
    """).fetchall()
    by_name = {str(path): path for path in files}
    for name, _, bad, *_ in per_file:
        if bad:
            raise ToolError(_first_bad_row(connection, by_name[name], month, labels[by_name[name]]))
    scanned = {by_name[name]: (int(count), tuple(str(value) for value in what)) for name, count, _, *what in per_file}
    refuse_copies({**(known or {}), **scanned}, labels)
    return scanned


def refuse_copies(fingerprints: dict[Path, tuple[int, tuple[str, ...]]], labels: dict[Path, str]) -> None:
    """Two files with the same rows (count and fingerprint) are one export read twice: refused."""
    seen: dict[tuple[int, tuple[str, ...]], Path] = {}
    for path, (count, fingerprint) in sorted(fingerprints.items()):
        if count and (count, fingerprint) in seen:
            first = seen[(count, fingerprint)]
            raise ToolError(
                f"{labels[first]} and {labels[path]} hold the same {count:,} billing rows (one export written twice, "
                "e.g. as Parquet and as CSV, or a copy): every figure would count twice; read one of them"
            )
        seen[(count, fingerprint)] = path


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
           OR (start_at >= TIMESTAMPTZ '{utc_literal(month.start)}' AND start_at < TIMESTAMPTZ '{utc_literal(month.end)}'
               AND (cost IS NULL OR NOT isfinite(cost)))
           OR (t IS NOT NULL AND NOT json_valid(t))
        ORDER BY n LIMIT 1
    """).fetchone()
    if row is None:  # not one of those: a token row whose quantity is not a count of tokens
        return _first_bad_token_row(connection, path, reader, label, is_csv)
    number, start, end, cost, tags_text = row
    where = f"{label}: row {number:,}" + (f" (line {number + 1:,})" if is_csv else "")
    if start is None or _try_time(connection, start) is None:
        return f"{where}: ChargePeriodStart is {_shown(start)}, expected an ISO 8601 date/time such as 2026-10-01T00:00:00Z"
    if end is None or _try_time(connection, end) is None:
        return f"{where}: ChargePeriodEnd is {_shown(end)}, expected an ISO 8601 date/time such as 2026-10-01T01:00:00Z"
    if cost is None or _try_number(connection, cost) is None:
        return f"{where}: EffectiveCost is {_shown(cost)}, expected a finite number (negative for credits)"
    return f"{where}: Tags is {_shown(tags_text)}, expected a JSON object such as {{\"user:Team\": \"alpha\"}}"


def _first_bad_token_row(connection: Any, path: Path, reader: str, label: str, is_csv: bool) -> str:
    types = {str(name): str(kind) for name, kind, *_ in connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    quantity = "CAST(ConsumedQuantity AS VARCHAR)" if "ConsumedQuantity" in types else "NULL"
    unit = "CAST(ConsumedUnit AS VARCHAR)" if "ConsumedUnit" in types else "NULL"
    row = connection.execute(f"""
        SELECT n, u, q FROM (
            SELECT row_number() OVER () AS n, {unit} AS u, {quantity} AS q, {', '.join(token_columns_sql(types))} FROM {reader})
        WHERE {BAD_TOKENS} ORDER BY n LIMIT 1
    """).fetchone()
    if row is None:  # cannot happen: the scan found one
        return f"{label}: a row with a bad value"
    number, unit_text, quantity_text = row
    return f"{label}: row {number:,}" + (f" (line {number + 1:,})" if is_csv else "") + f": {bad_tokens_message(unit_text, quantity_text)}"


def _shown(value: Any) -> str:
    return "empty" if value is None or value == "" else repr(message(value, 60))


def _try_time(connection: Any, text: str) -> Any:
    return connection.execute("SELECT TRY_CAST(? AS TIMESTAMPTZ)", [text]).fetchone()[0]


def _try_number(connection: Any, text: str) -> float | None:
    value = connection.execute("SELECT TRY_CAST(? AS DOUBLE)", [text]).fetchone()[0]
    return value if value is not None and math.isfinite(value) else None


class Labels(dict):
    """How messages name a file: its s3:// address for a download, else its display path,
    worked out only for a file a message names."""

    def __missing__(self, path: Path) -> str:
        return display_path(path)


def which_file_fails(files: list[Path], labels: dict[Path, str], error: Exception) -> str:
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


def utc_literal(moment: dt.datetime) -> str:
    """A timestamp literal both DuckDB and Trino read: date, time, then the zone name."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + " UTC"
