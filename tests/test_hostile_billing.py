"""Hostile and broken billing input (issue 22): every bad file, key, value and tag is built here,
and each test asserts the exit code, the one line, and what must not have been written or printed.

The rows are the generated October of the shipped examples (generators/samples/focus_sample.py), changed
one value at a time; expected figures are summed from those rows, never read from the output.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generators.errors import ToolError
from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.plan.pricing import load_catalog
from generators.safe_text import GITHUB_COMMENT_LIMIT
from generators.samples import focus_sample
from generators.see.billing_sources import download_s3
from generators.see.showback import showback
from tests.manifest_helpers import REPO
from tests.moto_server import point_boto3_at

OCTOBER = Month(2026, 10)
COL = {name: index for index, name in enumerate(focus_sample.COLUMNS)}
# Control characters, a right-to-left override, markdown and HTML in one tag value.
EVIL = "x\x1b[2J\x1b]0;owned\x07\r$0.00 TOTAL\u202etxt.exe`|<img src=x onerror=alert(1)>\n# heading [link](http://evil)"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def manifests():
    return load_manifest_set(["manifests"])


@pytest.fixture(scope="module")
def generated(manifests) -> list[tuple]:
    return focus_sample.rows(manifests, load_catalog(), OCTOBER)


def write_csv(path: Path, rows: list[tuple], columns: tuple[str, ...] = tuple(focus_sample.COLUMNS)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def changed(row: tuple, **values) -> tuple:
    out = list(row)
    for name, value in values.items():
        out[COL[name]] = value
    return tuple(out)


def team_of(row: tuple) -> str | None:
    return json.loads(row[COL["Tags"]]).get("user:Team")


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --------------------------------------------------------------------------- S3 keys


@pytest.mark.parametrize("key", ["focus/../../../escaped.csv", "/focus/abs.csv", "focus//double.csv", "focus/x\x1b[2J.csv"])
def test_a_hostile_s3_key_is_refused_by_name_and_nothing_is_written(manifests, generated, moto, monkeypatch, tmp_path_factory, tmp_path, key):
    moto.reset()
    point_boto3_at(moto, monkeypatch, tmp_path_factory)
    s3 = moto.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="acme-cur")
    body = write_csv(tmp_path / "src.csv", generated[:10]).read_bytes()
    s3.put_object(Bucket="acme-cur", Key=key, Body=body)
    into = tmp_path / "into"
    into.mkdir()

    with pytest.raises(ToolError, match=r"refusing the object") as refused:
        download_s3("s3://acme-cur/", into)

    assert "\x1b" not in str(refused.value)
    assert list(into.iterdir()) == []
    assert not (tmp_path / "escaped.csv").exists() and not Path("/escaped.csv").exists() and not Path("/focus/abs.csv").exists()


def test_a_key_that_is_also_a_folder_of_another_is_no_collision(manifests, generated, moto, monkeypatch, tmp_path_factory, tmp_path):
    moto.reset()
    point_boto3_at(moto, monkeypatch, tmp_path_factory)
    s3 = moto.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="acme-cur")
    half = len(generated) // 2
    s3.put_object(Bucket="acme-cur", Key="focus/x.csv", Body=write_csv(tmp_path / "a.csv", generated[:half]).read_bytes())
    s3.put_object(Bucket="acme-cur", Key="focus/x.csv/y.csv", Body=write_csv(tmp_path / "b.csv", generated[half:]).read_bytes())
    into = tmp_path / "into"
    into.mkdir()

    saved = download_s3("s3://acme-cur/focus", into)

    assert sorted(saved.values()) == ["s3://acme-cur/focus/x.csv", "s3://acme-cur/focus/x.csv/y.csv"]
    report = showback(manifests, [str(into)], OCTOBER, labels=saved)
    assert report.total_usd == pytest.approx(sum(r[COL["EffectiveCost"]] for r in generated))


# --------------------------------------------------------------------------- bad numbers


@pytest.mark.parametrize("bad, shown", [("NaN", "'NaN'"), ("Infinity", "'Infinity'"), ("-inf", "'-inf'"), ("", "empty"), ("12,5", "'12,5'")])
def test_a_bad_effective_cost_names_the_file_and_row_and_reports_nothing(generated, tmp_path, bad, shown):
    rows = list(generated[:50])
    rows[37] = changed(rows[37], EffectiveCost=bad)
    path = write_csv(tmp_path / "focus.csv", rows)

    for fmt in ("table", "json"):
        result = run("showback", "--billing", str(path), "--month", "2026-10", "--format", fmt)
        assert result.returncode == 1 and result.stdout == ""
        line = one_line(result)
        assert f"{path}: row 38 (line 39): EffectiveCost is {shown}, expected a finite number" in line


def test_a_nan_in_parquet_is_refused_too(generated, tmp_path):
    import duckdb

    source = write_csv(tmp_path / "plain.csv", generated[:20])
    target = tmp_path / "focus.parquet"
    connection = duckdb.connect()
    connection.execute(f"COPY (SELECT * REPLACE (CASE WHEN ResourceId = '{generated[4][COL['ResourceId']]}' AND ChargePeriodStart = "
                       f"'{generated[4][COL['ChargePeriodStart']]}' THEN 'NaN'::DOUBLE ELSE EffectiveCost END AS EffectiveCost) "
                       f"FROM read_csv('{source}', header = true, all_varchar = true, types = {{'EffectiveCost': 'DOUBLE'}})) TO '{target}' (FORMAT parquet)")
    connection.close()

    result = run("showback", "--billing", str(target), "--month", "2026-10", "--format", "json")

    assert result.returncode == 1 and result.stdout == ""
    assert "focus.parquet: row 5: EffectiveCost is 'nan'" in one_line(result)


def test_a_charge_period_that_is_not_a_date_and_tags_that_are_not_json_are_named(generated, tmp_path):
    rows = list(generated[:10])
    rows[2] = changed(rows[2], ChargePeriodStart="yesterday")
    result = run("showback", "--billing", str(write_csv(tmp_path / "a" / "focus.csv", rows)), "--month", "2026-10")
    assert result.returncode == 1 and "row 3 (line 4): ChargePeriodStart is 'yesterday'" in one_line(result)

    rows = list(generated[:10])
    rows[6] = changed(rows[6], Tags='{"user:Team": "alpha"')
    result = run("showback", "--billing", str(write_csv(tmp_path / "b" / "focus.csv", rows)), "--month", "2026-10")
    assert result.returncode == 1 and "row 7 (line 8): Tags is" in one_line(result) and "expected a JSON object" in result.stderr


def test_a_row_with_more_fields_than_the_header_names_the_file(generated, tmp_path):
    path = write_csv(tmp_path / "focus.csv", generated[:5])
    with open(path, "a", encoding="utf-8") as out:
        out.write(",".join(["x"] * (len(focus_sample.COLUMNS) + 3)) + "\n")

    result = run("showback", "--billing", str(path), "--month", "2026-10")

    assert result.returncode == 1
    assert one_line(result).startswith(f"genai-finops showback: {path}: cannot be read: ")


def test_the_month_is_bounded(tmp_path):
    result = run("showback", "--billing", str(tmp_path), "--month", "9999-12")
    assert result.returncode == 2 and "the year must be from 2000 to 2200" in one_line(result)


# --------------------------------------------------------------------------- credits, completeness, duplicates


def test_a_credit_is_shown_negative_never_run_rated_and_never_a_negative_bar(manifests, generated, tmp_path):
    # The first ten days of October, and a one-time credit of $5,000 to alpha on the 2nd.
    ten_days = [r for r in generated if r[COL["ChargePeriodStart"]] < "2026-10-11"]
    alpha_row = next(r for r in ten_days if team_of(r) == "alpha")
    credit = changed(alpha_row, ChargeCategory="Credit", ChargeFrequency="One-Time", EffectiveCost=-5000.0, BilledCost=-5000.0,
                     ResourceId=None, ChargePeriodStart="2026-10-02T00:00:00Z", ChargePeriodEnd="2026-10-02T01:00:00Z")
    path = write_csv(tmp_path / "focus.csv", [*ten_days, credit])

    report = showback(manifests, [str(path)], OCTOBER)

    alpha = next(t for t in report.teams if t.team == "alpha")
    usage = sum(r[COL["EffectiveCost"]] for r in ten_days if team_of(r) == "alpha")
    assert alpha.actual_usd == pytest.approx(usage - 5000)
    assert not report.complete
    elapsed = 10 * 24  # hours the hourly usage rows reach
    assert alpha.forecast_usd == pytest.approx(usage / elapsed * 31 * 24 - 5000)

    html = tmp_path / "report.html"
    result = run("report", "--html", str(html), "--billing", str(path), "--month", "2026-10")
    assert result.returncode == 0, result.stderr
    text = html.read_text()
    assert not re.search(r'width="-', text) and "nan" not in text.lower().replace("finance", "")


def test_a_monthly_row_does_not_make_a_month_complete(manifests, generated, tmp_path):
    ten_days = [r for r in generated if r[COL["ChargePeriodStart"]] < "2026-10-11"]
    whole_month = changed(ten_days[0], Tags="{}", ResourceId="support", ChargePeriodStart="2026-10-01T00:00:00Z",
                          ChargePeriodEnd="2026-11-01T00:00:00Z", EffectiveCost=100.0)
    report = showback(manifests, [str(write_csv(tmp_path / "focus.csv", [*ten_days, whole_month]))], OCTOBER)
    assert not report.complete
    alpha = next(t for t in report.teams if t.team == "alpha")
    assert alpha.forecast_usd > alpha.actual_usd * 3


def test_a_folder_named_twice_is_read_once(manifests, generated, tmp_path):
    path = write_csv(tmp_path / "exports" / "sub" / "focus.csv", generated)
    once = showback(manifests, [str(path)], OCTOBER).total_usd
    twice = showback(manifests, [str(tmp_path / "exports"), str(tmp_path / "exports" / "sub"), str(path)], OCTOBER).total_usd
    assert twice == pytest.approx(once) == pytest.approx(sum(r[COL["EffectiveCost"]] for r in generated))


def test_one_export_in_two_formats_is_refused_naming_both(generated, tmp_path):
    folder = tmp_path / "exports"
    focus_sample.write(folder / "parquet", generated, "parquet")
    focus_sample.write(folder / "csv", generated, "csv")

    result = run("showback", "--billing", str(folder), "--month", "2026-10")

    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result)
    assert "focus-00001.csv.gz and " in line and "focus-00001.snappy.parquet hold the same" in line and "read one of them" in line


# --------------------------------------------------------------------------- unknown teams


def test_spend_under_a_team_no_manifest_has_is_shown_apart_everywhere(manifests, generated, tmp_path):
    rows = list(generated) + [changed(generated[0], Tags='{"user:Team": "alhpa"}', EffectiveCost=123.45)]
    path = write_csv(tmp_path / "focus.csv", rows)

    data = json.loads(run("showback", "--billing", str(path), "--month", "2026-10", "--format", "json").stdout)
    assert data["unknown_teams"] == [{"team": "alhpa", "actual_usd": 123.45}]
    assert "alhpa" not in {t["team"] for t in data["teams"]}
    assert "alhpa" in run("showback", "--billing", str(path), "--month", "2026-10").stdout
    assert "| `alhpa` | $123.45 |" in run("showback", "--billing", str(path), "--month", "2026-10", "--format", "markdown").stdout
    html = tmp_path / "r.html"
    assert run("report", "--html", str(html), "--billing", str(path), "--month", "2026-10").returncode == 0
    assert "Spend under a Team tag no manifest has" in html.read_text() and "alhpa" in html.read_text()


# --------------------------------------------------------------------------- injection


def hostile_rows(generated: list[tuple], value: str) -> list[tuple]:
    untagged = [changed(r, Tags="{}", ResourceId=value, ServiceName=value) for r in generated[:3]]
    unknown = [changed(generated[5], Tags=json.dumps({"user:Team": value, "user:ModelID": value}), EffectiveCost=10.0)]
    return [*generated, *untagged, *unknown]


def test_tag_values_cannot_drive_the_terminal(generated, tmp_path):
    path = write_csv(tmp_path / "focus.csv", hostile_rows(generated, EVIL))

    result = run("showback", "--billing", str(path), "--month", "2026-10")

    assert result.returncode == 0, result.stderr
    assert not CONTROL.search(result.stdout)
    assert "\\x1b[2J" in result.stdout and "\\u202e" in result.stdout  # made visible, not dropped silently


def test_a_200_kb_tag_is_cut_in_the_table_and_whole_in_the_json(generated, tmp_path):
    huge = "A" * 200_000
    path = write_csv(tmp_path / "focus.csv", hostile_rows(generated, huge))

    table = run("showback", "--billing", str(path), "--month", "2026-10")
    data = json.loads(run("showback", "--billing", str(path), "--month", "2026-10", "--format", "json").stdout)

    assert max(len(line) for line in table.stdout.splitlines()) < 200
    assert data["unknown_teams"][0]["team"] == huge


def rendered(markdown: str):
    """The markdown as a GFM-like renderer shows it (tables, autolinks: markdown-it-py's
    gfm-like preset), parsed back into its elements."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Elements(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags: list[str] = []
            self.rows: list[list[str]] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.rows[-1].append(tag)

    parser = Elements()
    parser.feed(MarkdownIt("gfm-like").render(markdown))
    return parser


def test_tag_values_cannot_add_columns_markup_or_html_to_a_pr_comment(generated, tmp_path):
    path = write_csv(tmp_path / "focus.csv", hostile_rows(generated, EVIL))

    result = run("showback", "--billing", str(path), "--month", "2026-10", "--format", "markdown")

    assert result.returncode == 0, result.stderr
    assert not CONTROL.search(result.stdout)
    page = rendered(result.stdout)
    assert not {"img", "a", "h1", "script"} & set(page.tags)
    assert page.tags.count("h3") == 1  # the comment's own heading only
    # every body row has as many cells as the header of its table
    widths: list[int] = []
    for row in page.rows:
        if row and row[0] == "th":
            widths.append(len(row))
        else:
            assert len(row) == widths[-1], page.rows
    assert len(widths) >= 4  # teams, unknown teams, models, untagged resources


def test_a_markdown_comment_stays_under_githubs_limit_and_says_what_was_cut(generated, tmp_path):
    many = [changed(generated[i % 50], Tags=json.dumps({"user:Team": f"team-{i:05d}-" + "z" * 200}), EffectiveCost=1.0 + i)
            for i in range(600)]
    path = write_csv(tmp_path / "focus.csv", [*generated, *many])

    text = run("showback", "--billing", str(path), "--month", "2026-10", "--format", "markdown").stdout

    assert len(text.rstrip("\n")) <= GITHUB_COMMENT_LIMIT
    assert re.search(r"Cut: [\d,]+ of [\d,]+ lines not shown", text)


# --------------------------------------------------------------------------- where output goes


def test_the_report_writes_only_regular_files(tmp_path):
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    for target, kind in ((fifo, "a FIFO"), (tmp_path, "a directory"), (Path("/dev/full"), "a device")):
        result = run("report", "--html", str(target))
        assert result.returncode == 1 and f"is {kind}; only a regular file is written" in one_line(result)
    assert fifo.is_fifo()
    result = run("report", "--html", "/proc/self/genai-finops.html")
    assert result.returncode == 1 and "cannot be written" in one_line(result)


# --------------------------------------------------------------------------- Athena's answer, JSON


def test_a_nan_in_athenas_answer_is_one_line_not_a_figure():
    import boto3
    from botocore.stub import Stubber

    from generators.model import Billing
    from generators.see.athena import query_athena
    from generators.see.attribution import SUMS_COLUMNS

    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"}}})
    header = {"Data": [{"VarCharValue": name} for name, _ in SUMS_COLUMNS]}
    values = {"team": "alpha", "model_id": "m", "period_start": "2026-10-01 00:00:00.000 UTC", "n": "3", "cost": "NaN",
              "instance_cost": "0", "one_off_cost": "0", "hourly": "true", "horizon": "2026-10-01 01:00:00.000 UTC"}
    row = {"Data": [{"VarCharValue": values[name]} if name in values else {} for name, _ in SUMS_COLUMNS]}
    stub.add_response("get_query_results", {"ResultSet": {"Rows": [header, row]}, "UpdateCount": 0})
    stub.activate()
    billing = Billing(export_bucket="acme-cur", athena_workgroup="finops", athena_table="cur.focus")

    with pytest.raises(ToolError, match=r"1 team-hour sums of EffectiveCost that are empty, NaN or infinite"):
        query_athena(billing, OCTOBER, client)


def test_json_output_is_never_invalid_json():
    from generators.commands._common import dump_json

    assert json.loads(dump_json({"a": 1.5})) == {"a": 1.5}
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ToolError, match="a figure is not a finite number"):
            dump_json({"teams": [{"actual_usd": bad}]})


def test_small_files_read_together_still_name_the_file_and_row(generated, tmp_path):
    folder = tmp_path / "parts"
    for index in range(5):
        write_csv(folder / f"part-{index}.csv", generated[index * 10:(index + 1) * 10])
    rows = list(generated[30:40])
    rows[4] = changed(rows[4], EffectiveCost="NaN")
    write_csv(folder / "part-3.csv", rows)

    result = run("showback", "--billing", str(folder), "--month", "2026-10")
    assert result.returncode == 1 and f"{folder / 'part-3.csv'}: row 5 (line 6): EffectiveCost is 'NaN'" in one_line(result)

    write_csv(folder / "part-3.csv", generated[30:40])
    with open(folder / "part-1.csv", "a", encoding="utf-8") as out:
        out.write(",".join(["x"] * (len(focus_sample.COLUMNS) + 2)) + "\n")
    result = run("showback", "--billing", str(folder), "--month", "2026-10")
    assert result.returncode == 1 and one_line(result).startswith(f"genai-finops showback: {folder / 'part-1.csv'}: cannot be read: ")


def test_many_small_files_give_what_one_file_gives(manifests, generated, tmp_path):
    one = showback(manifests, [str(write_csv(tmp_path / "one.csv", generated))], OCTOBER).as_json()
    folder = tmp_path / "parts"
    step = len(generated) // 40 + 1
    for index in range(40):
        write_csv(folder / f"part-{index:02d}.csv", generated[index * step:(index + 1) * step])
    many = showback(manifests, [str(folder)], OCTOBER).as_json()
    assert many | {"sources": None} == one | {"sources": None}
