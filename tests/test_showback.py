"""`showback` with the real DuckDB over real Parquet and CSV files the generator writes.

Expected figures are computed here from the generated rows themselves (plain Python over the
same tuples the files were written from), never copied from showback's output.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from generators.errors import ToolError
from generators.manifest.loading import load_manifest_set
from generators.model import WEEKDAYS
from generators.months import Month
from generators.plan.pricing import load_catalog
from generators.samples import focus_sample
from generators.see.billing_sources import download_s3
from generators.see.showback import showback
from tests.manifest_helpers import REPO
from tests.moto_server import point_boto3_at

OCTOBER = Month(2026, 10)
COL = {name: index for index, name in enumerate(focus_sample.COLUMNS)}


@pytest.fixture(scope="module")
def manifests():
    return load_manifest_set(["manifests"])


@pytest.fixture(scope="module")
def generated(manifests) -> list[tuple]:
    return focus_sample.rows(manifests, load_catalog(), OCTOBER)


@pytest.fixture(scope="module")
def parquet(generated, tmp_path_factory) -> Path:
    return focus_sample.write(tmp_path_factory.mktemp("parquet"), generated, "parquet")


def team_of(row: tuple) -> str | None:
    return json.loads(row[COL["Tags"]]).get("user:Team")


def cost(row: tuple) -> float:
    return row[COL["EffectiveCost"]]


def start(row: tuple) -> dt.datetime:
    return dt.datetime.fromisoformat(row[COL["ChargePeriodStart"]].replace("Z", "+00:00"))


# --------------------------------------------------------------------------- sums


def test_totals_per_team_model_and_untagged_equal_the_generated_rows(manifests, generated, parquet):
    report = showback(manifests, [str(parquet)], OCTOBER)

    assert report.rows == len(generated)
    assert report.total_usd == pytest.approx(sum(cost(r) for r in generated))
    for team in report.teams:
        assert team.actual_usd == pytest.approx(sum(cost(r) for r in generated if team_of(r) == team.team))
    assert report.unattributed_usd == pytest.approx(sum(cost(r) for r in generated if team_of(r) is None))
    models = {(m["model_id"], m["team"]): m["actual_usd"] for m in report.models}
    for (model, team), usd in models.items():
        expected = sum(cost(r) for r in generated if team_of(r) == team and json.loads(r[COL["Tags"]]).get("user:ModelID") == model)
        assert usd == pytest.approx(expected, abs=0.005)
    assert report.untagged_resources[0]["resource_id"] == "i-0untaggedgpu00001"


def test_the_savings_plan_purchase_is_billed_but_not_counted_again(manifests, generated, parquet):
    report = showback(manifests, [str(parquet)], OCTOBER)
    billed = sum(r[COL["BilledCost"]] for r in generated)
    assert billed > report.total_usd  # the purchase's 500 and the undiscounted usage are in BilledCost only


def test_csv_and_parquet_give_the_same_answer(manifests, generated, parquet, tmp_path):
    csv = focus_sample.write(tmp_path, generated, "csv")
    assert csv.name.endswith(".csv.gz")
    assert showback(manifests, [str(csv)], OCTOBER).as_json() | {"sources": None} == showback(manifests, [str(parquet)], OCTOBER).as_json() | {"sources": None}


def test_plain_team_tag_keys_count_like_user_prefixed_ones(manifests, generated, tmp_path):
    plain = [r[: COL["Tags"]] + (r[COL["Tags"]].replace('"user:', '"'),) + r[COL["Tags"] + 1 :] for r in generated]
    report = showback(manifests, [str(focus_sample.write(tmp_path, plain, "csv"))], OCTOBER)
    assert {t.team: round(t.actual_usd, 6) for t in report.teams} == {
        t.team: round(t.actual_usd, 6) for t in showback(manifests, [str(focus_sample.write(tmp_path / "p", generated, "csv"))], OCTOBER).teams
    }


def test_rows_belong_to_the_month_their_charge_period_starts_in(manifests, generated, tmp_path):
    november = focus_sample.rows(manifests, load_catalog(), Month(2026, 11))
    focus_sample.write(tmp_path / "oct", generated, "parquet")
    focus_sample.write(tmp_path / "nov", november, "parquet")
    report = showback(manifests, [str(tmp_path)], OCTOBER)  # the directory is searched recursively
    assert report.rows == len(generated) and report.total_usd == pytest.approx(sum(cost(r) for r in generated))


# --------------------------------------------------------------------------- schedule and forecast


def outside(schedule, hour: dt.datetime) -> bool:
    local = hour.astimezone(ZoneInfo(schedule.timezone))
    return WEEKDAYS[local.weekday()] not in schedule.weekdays or not (schedule.start <= local.strftime("%H:%M") < schedule.stop)


def test_off_schedule_is_the_instance_hours_outside_the_team_schedule(manifests, generated, parquet):
    report = {t.team: t for t in showback(manifests, [str(parquet)], OCTOBER).teams}
    for loaded in manifests.teams:
        team = loaded.manifest
        if team.schedule is None:
            assert report[team.team].off_schedule_usd is None and report[team.team].off_schedule_note == "no schedule"
            continue
        expected = sum(
            cost(r) for r in generated
            if team_of(r) == team.team and r[COL["ResourceId"]].startswith("i-") and outside(team.schedule, start(r))
        )
        assert expected > 0  # the generator leaves a training instance running on a few evenings
        assert report[team.team].off_schedule_usd == pytest.approx(expected)


def test_daily_data_says_off_schedule_cannot_be_computed_never_zero(manifests, generated, tmp_path):
    daily = [r[: COL["ChargePeriodEnd"]] + ((start(r) + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z"),) + r[COL["ChargePeriodEnd"] + 1 :] for r in generated]
    alpha = next(t for t in showback(manifests, [str(focus_sample.write(tmp_path, daily, "parquet"))], OCTOBER).teams if t.team == "alpha")
    assert alpha.off_schedule_usd is None and "not hourly" in alpha.off_schedule_note


def test_a_month_in_progress_is_forecast_at_its_run_rate(manifests, generated, tmp_path):
    cut = OCTOBER.start + dt.timedelta(days=10)
    partial = [r for r in generated if start(r) < cut]
    report = showback(manifests, [str(focus_sample.write(tmp_path, partial, "parquet"))], OCTOBER)
    assert not report.complete
    month_hours = (OCTOBER.end - OCTOBER.start).total_seconds() / 3600
    for team in report.teams:
        assert team.forecast_usd == pytest.approx(team.actual_usd / (10 * 24) * month_hours)


# --------------------------------------------------------------------------- bad input


def test_a_file_that_is_not_focus_names_the_missing_columns(manifests, tmp_path):
    bad = tmp_path / "cur.csv"
    bad.write_text("lineItem/UnblendedCost,lineItem/UsageStartDate\n1.0,2026-10-01T00:00:00Z\n")
    with pytest.raises(ToolError, match=r"cur\.csv: not a FOCUS export: missing column\(s\) ChargePeriodStart, ChargePeriodEnd, EffectiveCost"):
        showback(manifests, [str(bad)], OCTOBER)


def test_a_month_without_rows_is_an_error_not_a_zero(manifests, parquet):
    with pytest.raises(ToolError, match="no billing rows for 2026-09"):
        showback(manifests, [str(parquet)], Month(2026, 9))


def test_a_missing_source_or_a_directory_without_focus_files_is_one_line(manifests, tmp_path):
    with pytest.raises(ToolError, match="no such file or directory"):
        showback(manifests, [str(tmp_path / "nope")], OCTOBER)
    with pytest.raises(ToolError, match=r"no FOCUS files \(\.parquet, \.csv, \.csv\.gz\) found"):
        showback(manifests, [str(tmp_path)], OCTOBER)


def test_a_corrupt_file_is_one_line(manifests, tmp_path):
    broken = tmp_path / "focus.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ToolError, match="cannot be read as Parquet"):
        showback(manifests, [str(broken)], OCTOBER)


# --------------------------------------------------------------------------- S3 (moto server)


def test_s3_exports_are_read_like_local_ones(manifests, generated, parquet, moto, monkeypatch, tmp_path_factory, tmp_path):
    moto.reset()
    point_boto3_at(moto, monkeypatch, tmp_path_factory)
    s3 = moto.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="acme-cur")
    s3.upload_file(str(parquet), "acme-cur", "focus/genai/data/BILLING_PERIOD=2026-10/focus-00001.snappy.parquet")
    s3.put_object(Bucket="acme-cur", Key="focus/genai/metadata/manifest.json", Body=b"{}")  # not a FOCUS file: skipped

    saved = download_s3("s3://acme-cur/focus", tmp_path)
    assert list(saved.values()) == ["s3://acme-cur/focus/genai/data/BILLING_PERIOD=2026-10/focus-00001.snappy.parquet"]
    assert all(path.parent == tmp_path for path in saved)  # saved under names of our own, never under the key
    report = showback(manifests, [str(tmp_path)], OCTOBER, labels=saved)
    assert report.total_usd == pytest.approx(sum(cost(r) for r in generated))
    assert report.sources == list(saved.values())
    with pytest.raises(ToolError, match=r"s3://no-such-bucket/focus: cannot read the bucket \(NoSuchBucket\)"):
        download_s3("s3://no-such-bucket/focus", tmp_path)


# --------------------------------------------------------------------------- the command


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", "showback", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_command_json_table_and_markdown(parquet, generated):
    result = run("--billing", str(parquet), "--month", "2026-10", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1 and report["cost_column"] == "EffectiveCost"
    for team in report["teams"]:
        assert {"team", "budget_usd", "estimate_usd", "actual_usd", "variance_usd", "off_schedule_usd", "forecast_usd"} <= set(team)
        assert team["variance_usd"] == pytest.approx(team["actual_usd"] - team["estimate_usd"], abs=0.011)
    table = run("--billing", str(parquet), "--month", "2026-10").stdout
    assert table.startswith("Showback for 2026-10") and "n/a (no schedule)" in table
    markdown = run("--billing", str(parquet), "--month", "2026-10", "--format", "markdown").stdout
    assert markdown.startswith("### GPU showback for 2026-10") and "| `bravo` |" in markdown


def test_command_bad_billing_is_exit_one_without_a_traceback(tmp_path):
    result = run("--billing", str(tmp_path / "missing"), "--month", "2026-10")
    assert result.returncode == 1
    assert "no such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_gzip_csv_is_really_gzip(generated, tmp_path):
    path = focus_sample.write(tmp_path, generated[:5], "csv")
    with gzip.open(path, "rt") as handle:
        assert handle.readline().strip().split(",") == list(focus_sample.COLUMNS)


# --------------------------------------------------------------------------- Athena (moto server)


def test_the_athena_query_is_the_same_attribution_in_athenas_dialect():
    import sqlglot

    from generators.see.athena import athena_sql

    sql = athena_sql('"cur"."focus"', OCTOBER)
    tree = sqlglot.parse_one(sql, read="athena")  # parses as Athena (Trino)
    assert "ELEMENT_AT(Tags, 'user:Team')" in sql and "Tags['" not in sql  # Trino's subscript fails on a missing key
    assert "GROUP BY 1, 2, 3, 4, 5, 12, 13, 14" in sql and "GROUP BY ALL" not in sql
    assert [select.alias for select in tree.selects] == ["team", "model_id", "period_start", "untagged_id", "untagged_service", "n", "cost",
                                                        "instance_cost", "one_off_cost", "hourly", "horizon", "token_kind", "provider",
                                                        "host", "tokens"]
    # token directions from the usage type AWS's FOCUS 1.2 export writes in SkuMeter
    assert "LOWER(SkuMeter) LIKE '%-cache-read-input-token-count'" in sql
    assert "'2026-10-01 00:00:00 UTC'" in sql and "'2026-11-01 00:00:00 UTC'" in sql


def athena_result_rows(parquet: Path) -> list[dict]:
    """What Athena would answer: the sums query's rows (run here by DuckDB on the same data), as
    GetQueryResults rows of VarCharValue cells, the header first."""
    import duckdb

    from generators.see.attribution import SUMS_COLUMNS, sums_sql
    from generators.see.managed_tokens import athena_token_sql

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    source = f"(SELECT *, coalesce(Tags['user:Team'], Tags['Team']) AS team, coalesce(Tags['user:ModelID'], Tags['ModelID']) AS model_id FROM read_parquet('{parquet}')) AS billed"
    rows = connection.execute(sums_sql(source, "team", "model_id", OCTOBER, athena_token_sql())).fetchall()
    connection.close()

    def cell(value) -> dict:
        if value is None:
            return {}
        if isinstance(value, dt.datetime):
            return {"VarCharValue": value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000 UTC")}
        if isinstance(value, bool):
            return {"VarCharValue": str(value).lower()}
        return {"VarCharValue": str(value)}

    header = {"Data": [{"VarCharValue": name} for name, _ in SUMS_COLUMNS]}
    return [header] + [{"Data": [cell(v) for v in row]} for row in rows]


def test_athena_engine_gives_what_duckdb_gives_through_the_real_client_path(manifests, parquet, moto, monkeypatch, tmp_path_factory):
    import urllib.request

    from generators.model import Billing

    moto.reset()
    point_boto3_at(moto, monkeypatch, tmp_path_factory)
    body = json.dumps({"results": [{"rows": athena_result_rows(parquet)}]}).encode()
    request = urllib.request.Request(f"{moto.endpoint}/moto-api/static/athena/query-results", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    athena = moto.client("athena", region_name="us-east-1")
    athena.create_work_group(Name="finops", Configuration={"ResultConfiguration": {"OutputLocation": "s3://acme-athena-results/"}})
    billing = Billing(export_bucket="acme-cur", athena_workgroup="finops", athena_table="cur.focus")
    org = manifests.org.model_copy(update={"billing": billing})
    with_billing = manifests.model_copy(update={"org": org})

    athena_report = showback(with_billing, [], OCTOBER, athena_client=athena, profile_tz="Europe/Berlin")
    duckdb_report = showback(manifests, [str(parquet)], OCTOBER, profile_tz="Europe/Berlin")
    via_athena, via_duckdb = athena_report.as_json(), duckdb_report.as_json()

    assert via_athena["sources"] == ["athena:cur.focus"]
    assert via_athena | {"sources": None} == via_duckdb | {"sources": None}
    # recommend's schedules rest on the hours of the week each team's instances were billed in
    assert athena_report.busy_hours and athena_report.busy_hours == duckdb_report.busy_hours
    (execution,) = athena.list_query_executions(WorkGroup="finops")["QueryExecutionIds"]
    sent = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]
    assert sent["Query"].startswith("SELECT COALESCE(ELEMENT_AT(Tags, 'user:Team')") and sent["QueryExecutionContext"]["Database"] == "cur"


def test_a_failed_athena_query_is_one_line(manifests):
    import boto3
    from botocore.stub import Stubber

    from generators.model import Billing
    from generators.see.athena import query_athena

    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("start_query_execution", {"QueryExecutionId": "1b4d-0000"})
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "1b4d-0000", "Status": {
        "State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.cur.focus' does not exist"}}})
    stub.activate()
    billing = Billing(export_bucket="acme-cur", athena_workgroup="finops", athena_table="cur.focus")
    with pytest.raises(ToolError, match=r"Athena query 1b4d-0000 failed: TABLE_NOT_FOUND"):
        query_athena(billing, OCTOBER, client)
