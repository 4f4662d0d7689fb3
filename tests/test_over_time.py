"""`showback --months` / `--last`: spend by month and day, the forecast of a month in progress and
anomalies, on generated months with a known trend (generators/samples/trend_sample.py: a weekly
rhythm, steady growth, a day's noise, a credit and one planted runaway instance), read by real
DuckDB. Every expected figure comes from trend_sample's formula, never from the output."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.samples import trend_sample
from generators.see import trend
from tests.manifest_helpers import REPO

UNTIL = dt.datetime(2026, 10, 16, tzinfo=dt.timezone.utc)  # October is in progress: 15 whole days
OCTOBER = [dt.date(2026, 10, d) for d in range(1, 32)]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def teams() -> list[str]:
    return [t.manifest.team for t in load_manifest_set(["manifests"]).teams]


@pytest.fixture(scope="module")
def billing(tmp_path_factory):
    out = tmp_path_factory.mktemp("trend")
    trend_sample.write(load_manifest_set(["manifests"]), out, Month(2026, 8), UNTIL)
    return out


@pytest.fixture(scope="module")
def doc(billing) -> dict:
    done = run("showback", "manifests", "--billing", str(billing), "--months", "2026-08..2026-10", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def month_days(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    return [first + dt.timedelta(days=k) for k in range(31) if (first + dt.timedelta(days=k)).month == month]


def test_each_month_is_the_sum_of_its_generated_days_and_the_change_is_month_over_month(doc, teams):
    assert [m["month"] for m in doc["months"]] == ["2026-08", "2026-09", "2026-10"]
    assert [m["complete"] for m in doc["months"]] == [True, True, False]
    for m, (year, month) in zip(doc["months"], [(2026, 8), (2026, 9), (2026, 10)]):
        days = [d for d in month_days(year, month) if d < UNTIL.date()]
        for row in m["teams"]:
            index = teams.index(row["team"])
            assert row["actual_usd"] == pytest.approx(sum(trend_sample.day_total(index, d) for d in days), abs=0.02)
            assert row["variance_usd"] == pytest.approx(row["actual_usd"] - row["budget_usd"], abs=0.02)
    august, september, october = doc["months"]
    for before, after in zip(august["teams"], september["teams"]):
        assert after["change_usd"] == pytest.approx(after["actual_usd"] - before["actual_usd"], abs=0.02)
    assert all(row["change_usd"] is None for row in august["teams"] + october["teams"])  # first month; a month in progress


def test_daily_series_run_up_to_the_last_whole_day_with_the_budget_share(doc, teams):
    assert doc["complete_through"] == "2026-10-15"
    for series in doc["days"]:
        index = teams.index(series["team"])
        budget = next(r["budget_usd"] for r in doc["months"][-1]["teams"] if r["team"] == series["team"])
        expected = [trend_sample.day_total(index, d) for d in OCTOBER[:15]]
        assert [d["date"] for d in series["days"]] == [d.isoformat() for d in OCTOBER[:15]]
        assert [d["spend_usd"] for d in series["days"]] == pytest.approx(expected, abs=0.02)
        assert series["days"][-1]["cumulative_usd"] == pytest.approx(sum(expected), abs=0.05)
        assert series["days"][-1]["budget_share"] == pytest.approx(sum(expected) / budget, abs=1e-4)


def test_the_forecast_range_holds_the_true_month_and_beats_the_flat_run_rate(doc, teams):
    ours = flat = 0.0
    for f in doc["forecasts"]:
        index = teams.index(f["team"])
        truth = sum(trend_sample.day_total(index, d) for d in OCTOBER)
        so_far = sum(trend_sample.day_total(index, d) for d in OCTOBER[:15])
        assert f["low_usd"] <= truth <= f["high_usd"], (f, truth)
        ours += abs(f["forecast_usd"] - truth)
        flat += abs(so_far / 15 * 31 - truth)
    assert len(doc["forecasts"]) == len(teams) and ours < flat / 2


def test_a_credit_is_counted_once_never_run_at_a_rate():
    """The same days with and without the credit: the forecasts differ by the credit alone."""
    with_credit, without = {}, {}
    for day in [dt.date(2026, 9, 1) + dt.timedelta(days=k) for k in range(45)]:
        usage = trend_sample.daily_spend(0, day)
        credit = trend_sample.CREDIT_USD if day == trend_sample.CREDIT_DAY else 0.0
        with_credit[day], without[day] = (usage + credit, credit), (usage, 0.0)
    through = dt.date(2026, 10, 15)
    difference = trend.forecast(with_credit, OCTOBER, through).expected - trend.forecast(without, OCTOBER, through).expected
    assert difference == pytest.approx(trend_sample.CREDIT_USD)


def test_the_planted_anomaly_is_found_with_its_day_team_and_resource_and_nothing_else(doc, teams):
    (anomaly,) = doc["anomalies"]
    assert (anomaly["team"], anomaly["date"]) == (teams[trend_sample.ANOMALY_TEAM_INDEX], trend_sample.ANOMALY_DAY.isoformat())
    assert anomaly["resources"][0]["resource_id"] == trend_sample.ANOMALY_RESOURCE
    assert anomaly["resources"][0]["increase_usd"] == pytest.approx(trend_sample.ANOMALY_USD, abs=0.02)
    previous = [trend_sample.day_total(trend_sample.ANOMALY_TEAM_INDEX, trend_sample.ANOMALY_DAY - dt.timedelta(days=k)) for k in range(14, 0, -1)]
    assert anomaly["baseline_usd"] == pytest.approx(sorted(previous)[6] / 2 + sorted(previous)[7] / 2, abs=0.02)


def test_a_day_under_the_org_threshold_is_no_anomaly():
    days = [100.0, 102.0, 98.0, 101.0, 99.0, 100.0, 103.0, 97.0]
    assert trend.is_anomaly(180.0, days, alert_threshold=50)[0]
    assert not trend.is_anomaly(180.0, days, alert_threshold=100)[0]  # 80 above the median: under $100
    assert not trend.is_anomaly(500.0, days[:5], alert_threshold=0)[0]  # too little history to judge


def test_last_n_months_and_the_table_and_markdown(billing):
    table = run("showback", "manifests", "--billing", str(billing), "--last", "2", "--month", "2026-10")
    assert table.returncode == 0, table.stderr
    assert "2026-09" in table.stdout and "2026-08" not in table.stdout and trend_sample.ANOMALY_RESOURCE in table.stdout
    markdown = run("showback", "manifests", "--billing", str(billing), "--months", "2026-09..2026-10", "--format", "markdown")
    assert "| Day | Team |" in markdown.stdout and "(so far)" in markdown.stdout


@pytest.mark.parametrize("args, message", [
    (["--months", "2026-10"], "expected FROM..TO"),
    (["--months", "2026-10..2026-08"], "FROM is after TO"),
    (["--last", "0"], "expected 1 to 36"),
    (["--months", "2026-08..2026-10", "--last", "2"], "give one"),
])
def test_bad_month_ranges_are_usage_errors(billing, args, message):
    done = run("showback", "manifests", "--billing", str(billing), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_the_daily_query_is_athenas_dialect_too():
    import sqlglot

    from generators.see.athena import tag
    from generators.see.over_time import Span, daily_sql

    span = Span(dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    sql = sqlglot.transpile(daily_sql('"cur"."focus"', tag("Team"), tag("ModelID"), span), read="duckdb", write="athena")[0]
    tree = sqlglot.parse_one(sql, read="athena")
    assert "DATE_TRUNC('DAY'" in sql.upper() and tree.find(sqlglot.exp.Group) is not None


def test_the_report_draws_the_months_the_running_totals_and_the_anomalies_in_chromium(billing, tmp_path, teams):
    import csv
    import shutil
    from pathlib import Path

    from tests.test_report import ARTIFACTS, CHROMIUM, FLAGS

    html, tables = tmp_path / "report.html", tmp_path / "csv"
    done = run("report", "manifests", "--billing", str(billing), "--month", "2026-10", "--html", str(html), "--csv", str(tables))
    assert done.returncode == 0, done.stderr
    months = {row["Team"]: row for row in csv.DictReader((tables / "months.csv").open())}
    for index, team in enumerate(teams):
        september = sum(trend_sample.day_total(index, d) for d in month_days(2026, 9))
        assert float(months[team]["2026-09"]) == pytest.approx(september, abs=0.02)
    (anomaly,) = list(csv.DictReader((tables / "anomalies.csv").open()))
    assert anomaly["Day"] == trend_sample.ANOMALY_DAY.isoformat() and trend_sample.ANOMALY_RESOURCE in anomaly["Largest increases"]

    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists() or shutil.which("chromium"), "make install puts Debian's chromium there"
    console, requests = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.on("console", lambda message: console.append((message.type, message.text)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(html.as_uri())
        charts = page.locator("svg.marks")  # Vega's SVG root
        drawn = [charts.nth(i).bounding_box() for i in range(charts.count())]
        section = page.locator("h2:has-text('Over time')").bounding_box()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "over-time.png"), clip={"x": 0, "y": section["y"], "width": 1100, "height": 1500}, full_page=True)
        text = page.inner_text("body")
        browser.close()
    assert [c for c in console if c[0] in ("error", "warning")] == [] and requests == [html.as_uri()]
    assert len(drawn) == 1 + len(teams) and all(box["width"] > 300 and box["height"] > 150 for box in drawn)
    assert "Oct 04" in text or "Oct 11" in text  # the time axis reads as dates, not numbers


def test_a_hostile_team_name_in_a_chart_is_escaped_text():
    from generators.see.report_time import trend_chart

    name = "\u202eevil<svg onload=alert(1)>"
    doc = {"months": [{"month": "2026-10", "complete": True, "total_usd": 5.0, "teams": [{"team": name, "actual_usd": 5.0, "budget_usd": None}]}]}
    svg = trend_chart(doc)
    assert "<svg onload" not in svg and "\u202e" not in svg and "&lt;svg onload" in svg


def test_athena_gives_what_duckdb_gives_through_the_real_client_path(billing, moto, monkeypatch, tmp_path_factory):
    """The daily and the resources queries answered by moto's Athena (its static results, filled
    with what DuckDB computes from the same files, as text cells like GetQueryResults gives)."""
    import urllib.request

    import duckdb

    from generators.model import Billing
    from generators.see import over_time as ot
    from tests.test_showback import point_boto3_at

    manifests = load_manifest_set(["manifests"])
    months = ot.months_between(Month(2026, 8), Month(2026, 10))
    via_duckdb = ot.over_time(manifests, sorted(billing.rglob("*.parquet")), months)
    read = ot.Span(months[0].start - (trend.BASELINE_DAYS + trend.HISTORY_DAYS) * ot.DAY, months[-1].end)
    (hit,) = via_duckdb.anomalies
    window = ot.Span(dt.datetime.combine(hit.day - trend.BASELINE_DAYS * ot.DAY, dt.time(), dt.timezone.utc),
                     dt.datetime.combine(hit.day + ot.DAY, dt.time(), dt.timezone.utc))
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    source = (f"(SELECT *, coalesce(Tags['user:Team'], Tags['Team']) AS team, coalesce(Tags['user:ModelID'], Tags['ModelID']) AS model_id "
              f"FROM read_parquet('{billing}/**/*.parquet')) AS billed")

    def as_results(sql: str) -> dict:
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description]

        def cell(value) -> dict:
            if value is None:
                return {}
            if isinstance(value, dt.datetime):
                return {"VarCharValue": value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000 UTC")}
            return {"VarCharValue": str(value)}

        return {"rows": [{"Data": [{"VarCharValue": n} for n in names]}] + [{"Data": [cell(v) for v in row]} for row in cursor.fetchall()]}

    results = [as_results(ot.daily_sql(source, "team", "model_id", read)), as_results(ot.resources_sql(source, "team", [hit.team], window))]
    moto.reset()
    point_boto3_at(moto, monkeypatch, tmp_path_factory)
    request = urllib.request.Request(f"{moto.endpoint}/moto-api/static/athena/query-results", data=json.dumps({"results": results}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    athena = moto.client("athena", region_name="us-east-1")
    athena.create_work_group(Name="finops", Configuration={"ResultConfiguration": {"OutputLocation": "s3://acme-athena-results/"}})
    org = manifests.org.model_copy(update={"billing": Billing(export_bucket="acme-cur", athena_workgroup="finops", athena_table="cur.focus")})
    via_athena = ot.over_time(manifests.model_copy(update={"org": org}), [], months, athena_client=athena)
    assert via_athena.as_json() | {"sources": None} == via_duckdb.as_json() | {"sources": None}
    sent = [athena.get_query_execution(QueryExecutionId=q)["QueryExecution"]["Query"] for q in athena.list_query_executions(WorkGroup="finops")["QueryExecutionIds"]]
    assert len(sent) == 2 and all("element_at(tags, 'user:team')" in q.lower() for q in sent)


def test_a_files_daily_sums_are_kept_and_an_unchanged_file_is_not_read_again(tmp_path, monkeypatch):
    """The second run reads no billing file it read before: a file overwritten in place with
    garbage of the same size and modification time still gives the first run's figures (what
    is kept is keyed by path, size, time and inode); a changed time reads it again and fails."""
    import os

    from generators.environment import CACHE_DIR_ENV
    from generators.see import over_time as ot

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    data = tmp_path / "billing"
    trend_sample.write(load_manifest_set(["manifests"]), data, Month(2026, 8), UNTIL)
    manifests = load_manifest_set(["manifests"])
    months = ot.months_between(Month(2026, 8), Month(2026, 10))
    files = sorted(data.rglob("*.parquet"))
    first = ot.over_time(manifests, files, months).as_json()
    assert len(list((tmp_path / "cache" / "daily").glob("*.json"))) == len(files)
    # August: kept, and outside the days the anomaly's resources are read from (Sep 25 - Oct 9)
    august = next(p for p in files if "2026-08" in str(p))
    stat = august.stat()
    august.write_bytes(b"\0" * stat.st_size)
    os.utime(august, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ot.over_time(manifests, files, months).as_json() == first
    os.utime(august, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    from generators.errors import ToolError

    with pytest.raises(ToolError):
        ot.over_time(manifests, files, months)


def test_a_kept_entry_in_another_shape_is_recomputed_and_a_copy_of_a_kept_file_is_refused(tmp_path, monkeypatch):
    import shutil

    from generators.environment import CACHE_DIR_ENV
    from generators.errors import ToolError
    from generators.see import over_time as ot

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    data = tmp_path / "billing"
    trend_sample.write(load_manifest_set(["manifests"]), data, Month(2026, 9), UNTIL)
    manifests = load_manifest_set(["manifests"])
    months = ot.months_between(Month(2026, 9), Month(2026, 10))
    files = sorted(data.rglob("*.parquet"))
    first = ot.over_time(manifests, files, months).as_json()
    for entry in (tmp_path / "cache" / "daily").glob("*.json"):
        entry.write_text('{"version": 1, "count": "x", "rows": [[1, 2, 3]]}')
    assert ot.over_time(manifests, files, months).as_json() == first  # read again, not trusted
    copy = data / "copy.parquet"
    shutil.copyfile(files[0], copy)
    with pytest.raises(ToolError, match="hold the same"):
        ot.over_time(manifests, [*files, copy], months)
