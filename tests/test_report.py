"""`genai-finops report` opened in a real browser: Debian's Chromium, driven by Playwright.

The test checks what a person would: the page loads with no console error and no request
beyond its own file (scripts, styles and fonts are inline: it must open from an e-mail
attachment), shows the gate's verdict and every team's figures, and leaves a screenshot in
test-artifacts/ for CI to keep.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.plan.estimate import estimate
from generators.plan.pricing import load_catalog
from generators.samples import focus_sample
from tests.manifest_helpers import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
OCTOBER = Month(2026, 10)
# Flags for a sandbox without a network: no background services reaching out (which would
# show up as failed requests), no first-run UI.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    manifests = load_manifest_set(["manifests"])
    billing = focus_sample.write(root / "billing", focus_sample.rows(manifests, load_catalog(), OCTOBER), "parquet")
    html = root / "out" / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "generators.cli", "report", "--html", str(html), "--billing", str(billing), "--month", "2026-10"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return html


@pytest.fixture(scope="module")
def page_seen(report):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: make install puts Debian's package there (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    console, requests, failed = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        page.on("console", lambda message: console.append((message.type, message.text)))
        page.on("pageerror", lambda error: console.append(("pageerror", str(error))))
        page.on("request", lambda request: requests.append(request.url))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(report.as_uri())
        text = page.inner_text("body")
        svgs = page.locator("svg").count()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    return {"console": console, "requests": requests, "failed": failed, "text": text, "svgs": svgs}


def test_the_report_loads_with_no_console_error_and_no_network_request(page_seen, report):
    assert [entry for entry in page_seen["console"] if entry[0] in ("error", "pageerror", "warning")] == []
    assert page_seen["requests"] == [report.as_uri()] and page_seen["failed"] == []


def test_the_report_needs_nothing_from_elsewhere(report):
    text = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<script" not in text and "@import" not in text and "url(" not in text


def test_the_report_shows_the_verdict_and_each_teams_estimate(page_seen):
    expected = estimate(load_manifest_set(["manifests"]), load_catalog(), OCTOBER)
    text = page_seen["text"]
    assert "budget gate passed (expected totals)" in text
    for team in expected.teams:
        assert team.team in text
        assert f"${team.total.expected:,.2f}" in text or f"${team.total.expected:,.0f}" in text
    # teams, models, savings and leaks, each with its table; over time: the months and one running
    # total per team (tests/test_over_time.py checks those)
    assert page_seen["svgs"] == 3 + 1 + len(expected.teams)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_the_report_is_readable_by_others_and_replaced_whole(report):
    assert stat.S_IMODE(report.stat().st_mode) == 0o644
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".report.html.")]


def test_an_estimate_only_report_needs_no_billing(tmp_path):
    html = tmp_path / "estimate.html"
    done = subprocess.run([sys.executable, "-m", "generators.cli", "report", "--html", str(html)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "budget gate" in html.read_text() and "Top untagged resources" not in html.read_text()


def test_the_round_ticks_of_an_axis_and_the_budget_line():
    from generators.see.report import ticks

    assert ticks(137, percent=True) == [0, 50, 100]
    assert ticks(82.3, percent=True) == [0, 20, 40, 60, 80, 100]
    assert ticks(3026.49) == [0, 1000, 2000, 3000]
    assert ticks(12.5) == [0, 2.5, 5, 7.5, 10, 12.5]


def test_the_tables_finance_reads_totals_people_and_what_was_spent_apart_from_the_gate(tmp_path):
    """bravo's budget sits between what it spent and its high estimate: with --gate high the
    estimate's gate says over budget while what was spent is within; every table is a CSV with
    raw figures and a totals row, and a tag that looks like a formula stays text."""
    import csv
    import json

    from tests.manifest_helpers import example, write_manifests

    manifests = load_manifest_set(["manifests"])
    rows = focus_sample.rows(manifests, load_catalog(), OCTOBER)
    evil = "=HYPERLINK(\"http://evil\",\"x\")"
    tags_at = focus_sample.COLUMNS.index("Tags")
    rows.append(tuple(f'{{"user:Team":"{evil.replace(chr(34), chr(92) + chr(34))}"}}' if i == tags_at else v for i, v in enumerate(rows[0])))
    billing = focus_sample.write(tmp_path / "billing", rows, "parquet")
    spent = json.loads(subprocess.run([sys.executable, "-m", "generators.cli", "showback", "--billing", str(billing), "--month", "2026-10",
                                       "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=120).stdout)
    actual = {t["team"]: t["actual_usd"] for t in spent["teams"]}
    teams = {name: example(name) for name in ("alpha", "bravo", "charlie")}
    high = next(t for t in estimate(manifests, load_catalog(), OCTOBER, "high").teams if t.team == "bravo").total.high
    teams["bravo"]["budget"]["monthly_usd"] = round((actual["bravo"] + high) / 2, 2)
    root = write_manifests(tmp_path / "m", teams)
    done = subprocess.run([sys.executable, "-m", "generators.cli", "report", str(root), "--html", str(tmp_path / "r.html"), "--csv",
                           str(tmp_path / "csv"), "--billing", str(billing), "--month", "2026-10", "--gate", "high"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert written == ["anomalies.csv", "models.csv", "months.csv", "recommendations.csv", "savings_and_leaks.csv", "teams.csv", "unknown_teams.csv",
                       "untagged_resources.csv"]
    promised = json.loads(subprocess.run([sys.executable, "-m", "generators.cli", "recommend", str(root), "--billing", str(billing), "--month",
                                          "2026-10", "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=120).stdout)
    recommended = list(csv.DictReader((tmp_path / "csv" / "recommendations.csv").open()))
    assert [r["Change"] for r in recommended[:-1]] == [r["id"] for r in promised["recommendations"]]
    assert float(recommended[-1]["Saving per month"]) == promised["total_monthly_saving_usd"]
    table = list(csv.DictReader((tmp_path / "csv" / "teams.csv").open()))
    by_team = {row["Team"]: row for row in table}
    bravo = by_team["bravo"]
    assert bravo["Estimate gate"] == "over budget" and bravo["Spent"] == "within budget"
    assert bravo["Owner"] == teams["bravo"]["owner"] and bravo["Cost center"] == teams["bravo"]["cost_center"]
    assert float(bravo["Actual"]) == actual["bravo"] and float(bravo["Spent of budget"]) == round(actual["bravo"] / teams["bravo"]["budget"]["monthly_usd"], 4)
    total = by_team["Total"]
    assert float(total["Budget"]) == round(sum(t["budget"]["monthly_usd"] for t in teams.values()), 2)
    assert float(total["Actual"]) == round(sum(actual.values()), 2)
    unknown = list(csv.reader((tmp_path / "csv" / "unknown_teams.csv").open()))
    assert unknown[1][0] == "'" + evil
    page = (tmp_path / "r.html").read_text()
    assert "over budget" in page and "within budget" in page and ">100%<" in page and "estimated, against always-on" in page
    # Axis ticks of the charts over time are round dollars on purpose ($2,000, not $2,000.00):
    # Vega's SVGs (class "marks") are left out of the check.
    figures = re.sub(r'<svg[^>]*class="marks".*?</svg>', "", page, flags=re.S)
    assert not re.search(r"\$\d{1,3}(,\d{3})*[^.,\d]", figures), "one money format: every dollar figure has cents"
