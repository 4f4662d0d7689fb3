"""`genai-finops cost` as CI and people use it: formats, the budget gate's exit codes, --compare, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.manifest_helpers import REPO, example, heavy_modules_after, write_manifests

CLI = [sys.executable, "-m", "generators.cli", "cost"]
HEAVY_MODULES = ("cdktf", "jsii", "constructs", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_kubernetes", "boto3")

# A test catalog with round figures, independent of the shipped prices.json (which changes as
# prices are refreshed): every type the examples use, in their two regions.
G5X, G52X, G6X, G6E2X, GP3 = 1.0, 1.25, 0.75, 2.0, 0.1
_CITE = {"source": "test"}
_ON_DEMAND = {"g5.xlarge": G5X, "g5.2xlarge": G52X, "g6.xlarge": G6X, "g6e.2xlarge": G6E2X}
TEST_CATALOG = {
    "format": 2, "currency": "USD",
    "sources": {"test": {"url": "https://example.com/test-prices", "read": "2026-11-27"}},
    "hours_per_month_always_on": {"value": 730, **_CITE},
    "spot_discount": {family: {"low": 0.4, "high": 0.6, **_CITE} for family in ("g5", "g6", "g6e")},
    "regions": {region: {"ebs_gp3_usd_per_gb_month": {"value": GP3, **_CITE},
                         "on_demand_hourly_usd": {name: {"usd": usd, **_CITE} for name, usd in _ON_DEMAND.items()}}
                for region in ("us-east-1", "us-west-2")},
    # the examples' managed models and managed_alternative, USD per million tokens
    "bedrock": {"us-east-1": {"source": "test", "models": {
        "amazon.nova-lite-v1:0": {"input": 0.05, "output": 0.25},
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.0, "output": 15.0},
        "meta.llama3-3-70b-instruct-v1:0": {"input": 0.75, "output": 0.75},
    }}},
}
PRICES: Path | None = None


@pytest.fixture(scope="module", autouse=True)
def _test_catalog(tmp_path_factory):
    global PRICES
    PRICES = tmp_path_factory.mktemp("prices") / "prices.json"
    PRICES.write_text(json.dumps(TEST_CATALOG), encoding="utf-8")


def run(*args: str) -> subprocess.CompletedProcess:
    prices = [] if "--prices" in args else ["--prices", str(PRICES)]
    return subprocess.run([*CLI, *args, *prices, "--month", "2026-11"], cwd=REPO, capture_output=True, text=True, timeout=120)


def bravo_usd(nodes: int, hourly: float) -> float:
    """bravo's pool (always on, 100 GB per node) at `nodes` nodes of `hourly`, from the test catalog."""
    return nodes * 730 * hourly + nodes * 100 * GP3


def over_budget(root: Path) -> Path:
    bravo = example("bravo")
    bravo["budget"]["monthly_usd"] = 1000  # well under 3 nodes x 730 h
    return write_manifests(root, {"alpha": example("alpha"), "bravo": bravo})


def test_json_has_the_documented_keys_per_team_and_component():
    result = run("--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["month"] == "2026-11" and report["currency"] == "USD"
    assert [t["team"] for t in report["teams"]] == ["alpha", "bravo", "charlie"]
    for team in report["teams"]:
        assert {"team", "budget_usd", "total_monthly_usd", "budget_percent", "gated_usd", "over_budget", "savings_usd", "components", "pool_limits"} <= set(team)
        assert set(team["total_monthly_usd"]) == {"low", "expected", "high"}
        for component in team["components"]:
            assert {"kind", "name", "model_id", "monthly_usd", "savings_usd", "hours", "hours_basis", "usd_per_million_tokens",
                    "utilization_percent", "usd_per_million_tokens_at_utilization", "notes"} <= set(component)
    assert report["schema_version"] == 2 and report["gate"]["figure"] == "expected"
    bravo = report["teams"][1]
    # the shipped bravo buys 300 M input and 60 M output tokens of support-bot (test catalog: $3 and $15 per 1M)
    support_bot = 300 * 3.0 + 60 * 15.0
    assert bravo["total_monthly_usd"]["expected"] == round(bravo_usd(3, (G5X + G52X) / 2) + support_bot, 2)
    (bot,) = [c for c in bravo["components"] if c["kind"] == "managed-model"]
    assert bot["name"] == "support-bot" and bot["monthly_usd"]["expected"] == round(support_bot, 2)
    assert bot["usd_per_million_tokens"] == round(support_bot / 360, 4)
    models = {m["model_id"]: m for m in report["models"]}
    assert set(models) == {"gpt2-finetune-v1", "chatbot-v3", "summarizer-v2", "labeler-v1", "support-bot-v2"}
    assert models["support-bot-v2"]["usd_per_million_tokens"] == round(support_bot / 360, 4)
    assert models["chatbot-v3"]["teams"] == ["bravo"]
    assert models["chatbot-v3"]["usd_per_million_tokens"] == round((G5X + G52X) / 2 / (2400 * 3600) * 1e6, 4)
    assert models["gpt2-finetune-v1"]["usd_per_million_tokens"] is None
    assert bravo["budget_percent"] == round((bravo_usd(3, (G5X + G52X) / 2) + support_bot) / 40000 * 100, 1)


def test_gate_passes_with_exit_zero_when_every_team_is_within_budget():
    result = run("--fail-on-budget", "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["gate"] == {"figure": "expected", "passed": True, "failing": []}


def test_gate_fails_with_exit_one_when_a_team_exceeds_its_budget(tmp_path):
    root = over_budget(tmp_path)
    result = run(str(root), "--fail-on-budget", "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["gate"] == {"figure": "expected", "passed": False, "failing": ["bravo"]}


def test_over_budget_without_the_gate_flag_still_exits_zero(tmp_path):
    assert run(str(over_budget(tmp_path))).returncode == 0


def test_markdown_is_a_pr_comment_with_a_team_table_and_the_gate_verdict(tmp_path):
    result = run(str(over_budget(tmp_path)), "--format", "markdown")
    lines = result.stdout.splitlines()
    assert lines[0] == "### GPU cost estimate for 2026-11"
    assert "**Budget gate failed** (comparing expected totals): `bravo` over budget or the org cap." in lines
    header = lines.index("| Team | Region | Budget | Low | Expected | High | Of budget | Schedule saves | Spot saves | Status |")
    assert lines[header + 2].startswith("| `alpha` | us-east-1 |")
    low, expected, high = bravo_usd(2, G5X), bravo_usd(3, (G5X + G52X) / 2), bravo_usd(8, G52X)
    assert f"| `bravo` | us-east-1 | $1,000.00 | ${low:,.2f} | ${expected:,.2f} | ${high:,.2f} | {expected / 1000 * 100:.1f}% |" in lines[header + 3]
    assert lines[header + 3].endswith("| OVER BUDGET |")
    assert "<details><summary><code>bravo</code>: components</summary>" in lines


def test_table_has_no_colour_when_not_a_terminal():
    result = run()
    assert result.returncode == 0
    assert "\033[" not in result.stdout
    assert result.stdout.startswith("Monthly cost estimate for 2026-11")
    assert "budget gate (expected totals): every team within its budget and the org cap" in result.stdout


def test_compare_shows_added_removed_and_changed_teams(tmp_path):
    base = write_manifests(tmp_path / "base", {"alpha": example("alpha"), "bravo": example("bravo")})
    bravo = example("bravo")
    bravo["inference"][0]["desired_nodes"] = 4
    head = write_manifests(tmp_path / "head", {"bravo": bravo, "charlie": example("charlie")})
    result = run(str(head), "--compare", str(base), "--format", "json")
    assert result.returncode == 0, result.stderr
    changes = {c["team"]: c for c in json.loads(result.stdout)["compare"]["teams"]}
    assert {t: c["status"] for t, c in changes.items()} == {"alpha": "removed", "bravo": "changed", "charlie": "added"}
    assert changes["bravo"]["delta_usd"] == round(bravo_usd(1, (G5X + G52X) / 2), 2)
    assert changes["alpha"]["expected_usd"] is None
    markdown = run(str(head), "--compare", str(base), "--format", "markdown").stdout
    assert f"#### Change against `{base}`" in markdown


def test_missing_price_exits_one_with_path_line_col_field_message(tmp_path):
    alpha = example("alpha")
    alpha["region"] = "eu-west-1"
    org = example("org")
    org["networks"]["eu-west-1"] = {"subnet_id": "subnet-0c1b2c3d4e5f60001", "security_group_ids": ["sg-0c1b2c3d4e5f60001"]}
    root = write_manifests(tmp_path, {"alpha": alpha}, org=org)
    result = run(str(root))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any("training[0].instance_type: no on-demand price for g5.xlarge in eu-west-1" in line for line in lines)
    path, line_no, column = lines[0].split(":", 3)[:3]
    assert path.endswith("alpha.yaml") and line_no.isdigit() and column.isdigit()


def test_invalid_manifest_uses_the_loader_problems_and_exit_one(tmp_path):
    alpha = example("alpha")
    alpha["training"][0]["count"] = 0
    result = run(str(write_manifests(tmp_path, {"alpha": alpha})))
    assert result.returncode == 1
    assert "training[0].count" in result.stderr and "Traceback" not in result.stderr


def test_bad_month_is_a_usage_error():
    result = subprocess.run([*CLI, "--month", "2026-13"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "expected YYYY-MM" in result.stderr


def test_help_shows_examples():
    result = subprocess.run([*CLI, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "examples:" in result.stdout and "--fail-on-budget" in result.stdout


def test_cost_never_imports_cdktf_jsii_providers_or_boto3():
    body = (
        "import io, contextlib\n"
        "from generators.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['cost', 'manifests', '--format', 'json'])\n"
    )
    assert heavy_modules_after(body, HEAVY_MODULES) == ("0", [])


def test_compare_reads_a_saved_json_of_the_base_as_well(tmp_path):
    base = write_manifests(tmp_path / "base", {"alpha": example("alpha"), "bravo": example("bravo")})
    saved = tmp_path / "base-cost.json"
    saved.write_text(run(str(base), "--format", "json").stdout)
    bravo = example("bravo")
    bravo["inference"][0]["desired_nodes"] = 4
    head = write_manifests(tmp_path / "head", {"alpha": example("alpha"), "bravo": bravo})

    from_json = json.loads(run(str(head), "--compare", str(saved), "--format", "json").stdout)["compare"]["teams"]
    from_dir = json.loads(run(str(head), "--compare", str(base), "--format", "json").stdout)["compare"]["teams"]

    assert from_json == from_dir
    assert {c["team"]: c["status"] for c in from_json} == {"alpha": "unchanged", "bravo": "changed"}


def test_compare_refuses_a_json_without_the_schema_version(tmp_path):
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps({"teams": []}))
    result = run("--compare", str(saved))
    assert result.returncode == 2
    assert "schema_version None; this genai-finops reads 2" in result.stderr and "Traceback" not in result.stderr


def test_gate_high_names_the_pool_and_the_largest_max_nodes_that_fits(tmp_path):
    bravo = example("bravo")
    bravo["inference"][0].update(min_nodes=1, desired_nodes=1, max_nodes=100)
    per_node = 730 * G52X + 100 * GP3
    bravo["budget"]["monthly_usd"] = round(100 * per_node / 4)  # the high estimate is 4x the budget
    root = write_manifests(tmp_path, {"bravo": bravo})

    assert run(str(root), "--fail-on-budget").returncode == 0  # expected: one node, well within
    result = run(str(root), "--fail-on-budget", "--gate", "high", "--format", "markdown")

    assert result.returncode == 1
    fits = int(bravo["budget"]["monthly_usd"] // per_node)
    assert f"- `bravo`: pool `chatbot`: max_nodes 100 alone breaks the budget; the largest max_nodes that fits is {fits}" in result.stdout
    assert "**Budget gate failed** (comparing high totals)" in result.stdout


def test_every_cost_output_says_the_catalogs_date_and_warns_when_it_is_old(tmp_path):
    import datetime as dt

    from generators.plan.pricing import DEFAULT_PATH, MAX_AGE_DAYS, age_note

    today = dt.date(2026, 12, 2)
    assert age_note((today - dt.timedelta(days=MAX_AGE_DAYS)).isoformat(), today) is None
    assert f"{MAX_AGE_DAYS + 1} days ago" in str(age_note((today - dt.timedelta(days=MAX_AGE_DAYS + 1)).isoformat(), today))

    catalog = json.loads(DEFAULT_PATH.read_text())
    read = "2026-01-01"
    for source in catalog["sources"].values():
        source["read"] = read
    old = tmp_path / "prices.json"
    old.write_text(json.dumps(catalog))
    age = (dt.datetime.now(dt.timezone.utc).date() - dt.date.fromisoformat(read)).days
    shown = {fmt: subprocess.run([*CLI, "manifests", "--prices", str(old), "--format", fmt], cwd=REPO, capture_output=True, text=True, timeout=120)
             for fmt in ("table", "markdown", "json")}
    assert all(done.returncode == 0 for done in shown.values())
    assert f"read {read}" in shown["table"].stdout and f"warning: the price catalog was read on {read}, {age} days ago" in shown["table"].stdout
    assert f"read {read}" in shown["markdown"].stdout and f"{age} days ago" in shown["markdown"].stdout
    data = json.loads(shown["json"].stdout)
    assert data["prices_read"] == read and f"{age} days ago" in data["prices_note"]
    fresh = json.loads(subprocess.run([*CLI, "manifests", "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=120).stdout)
    from generators.plan.pricing import load_catalog

    assert fresh["prices_read"] == load_catalog().read_on and fresh["prices_note"] == age_note(load_catalog().read_on)
