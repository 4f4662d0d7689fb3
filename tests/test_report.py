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
    assert "Budget gate passed (expected totals)" in text
    for team in expected.teams:
        assert team.team in text
        assert f"${team.total.expected:,.2f}" in text or f"${team.total.expected:,.0f}" in text
    assert page_seen["svgs"] == 3  # teams, models, savings and leaks: each with its table
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_the_report_is_readable_by_others_and_replaced_whole(report):
    assert stat.S_IMODE(report.stat().st_mode) == 0o644
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".report.html.")]


def test_an_estimate_only_report_needs_no_billing(tmp_path):
    html = tmp_path / "estimate.html"
    done = subprocess.run([sys.executable, "-m", "generators.cli", "report", "--html", str(html)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Budget gate" in html.read_text() and "Top untagged resources" not in html.read_text()
