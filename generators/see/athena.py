"""The Athena engine (`showback --engine athena`): the attribution query over the table AWS's FOCUS
export is catalogued as, in the org's workgroup; the per team/model/hour sums come back and are
summarised locally exactly as DuckDB's are (generators/see/attribution.py)."""

from __future__ import annotations

from typing import Any

from generators.errors import ToolError, UsageError
from generators.model import OrgPolicy, Schedule
from generators.months import Month
from generators.see.attribution import SUMS_COLUMNS, summarise, sums_sql
from generators.tags import MODEL_ID_TAG as MODEL_TAG
from generators.tags import TEAM_TAG, USER_TAG_PREFIX


def tag(key: str) -> str:
    """A user tag's value in Athena (Tags a map<string,string>): element_at, as Trino's map
    subscript fails on a missing key; `user:` prefixed as AWS writes user tags, or not."""
    return f"coalesce(element_at(Tags, '{USER_TAG_PREFIX}{key}'), element_at(Tags, '{key}'))"


def athena_sql(table: str, month: Month) -> str:
    """The attribution query for Athena, over the table AWS's FOCUS export is catalogued as:
    the same SQL, transpiled to Athena's Trino dialect."""
    import sqlglot

    from generators.see.managed_tokens import athena_token_sql

    return sqlglot.transpile(sums_sql(table, tag(TEAM_TAG), tag(MODEL_TAG), month, athena_token_sql()), read="duckdb", write="athena")[0]


# Athena answers a query asynchronously: poll its state, at most this long.
ATHENA_POLL_SECONDS = 1.0
ATHENA_TIMEOUT_SECONDS = 900


def query_athena(billing: Any, month: Month, client: Any, sleep: Any = None, schedules: dict[str, Schedule] | None = None,
                 profile_tz: str | None = None) -> dict[str, Any]:
    """The same attribution in Athena over `billing.athena_table`, in `billing.athena_workgroup`;
    its per team/model/hour sums are fetched and summarised locally like DuckDB's."""
    import duckdb

    database, table = billing.athena_table.split(".", 1)
    raw = fetch_athena(billing, athena_sql(f'"{database}"."{table}"', month), client, sleep, header=True)
    names = [name for name, _ in SUMS_COLUMNS]
    # The first row of a SELECT's results is its column names.
    if not raw or list(raw[0]) != names:
        raise ToolError(f"Athena returned columns {raw[0] if raw else 'none'}, expected {names}")
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute("CREATE TEMP TABLE text_sums (" + ", ".join(f"{name} VARCHAR" for name in names) + ")")
        if raw[1:]:
            connection.executemany(f"INSERT INTO text_sums VALUES ({', '.join('?' for _ in names)})", [list(r) for r in raw[1:]])
        casts = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in SUMS_COLUMNS)
        connection.execute(f"CREATE TEMP TABLE sums AS SELECT {casts} FROM text_sums")
        return summarise(connection, schedules or {}, profile_tz)
    finally:
        connection.close()


def fetch_athena(billing: Any, sql: str, client: Any, sleep: Any = None, header: bool = False) -> list[tuple]:
    """Run `sql` in `billing.athena_workgroup` and return its rows as text cells (None where
    empty), without the header row unless `header`.
    https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html"""
    import time

    from botocore.exceptions import BotoCoreError, ClientError

    sleep = sleep or time.sleep
    database, _ = billing.athena_table.split(".", 1)
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
    return [tuple(row) for row in (raw if header else raw[1:])]


def athena_client(org: OrgPolicy) -> Any:
    """The Athena client for the org's billing table, in the governance region (where the
    governance stack creates the workgroup); refuses an org.yaml without the table."""
    import boto3

    from generators.provision.app_builder import governance_region

    billing = org.billing
    if billing is None or not billing.athena_table or not billing.athena_workgroup:
        raise UsageError("--engine athena needs billing.athena_table and billing.athena_workgroup in org.yaml")
    return boto3.client("athena", region_name=governance_region(org))
