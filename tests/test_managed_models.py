"""Managed models (Amazon Bedrock): the manifest rules, the synthesized profile and policy, and
showback over real FOCUS sample files (../shared/focus-samples, read in place) and generated rows."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from generators.errors import ManifestError, ToolError
from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.plan.estimate import estimate
from generators.plan.pricing import load_catalog
from generators.samples import focus_sample
from generators.see import managed, showback
from tests.manifest_helpers import REPO, example, write_manifests

SAMPLES = REPO.parent / "shared" / "focus-samples"
# Never an empty parameter set (pytest would skip it quietly): without the samples the tests fail.
AI_FILES = sorted((SAMPLES / "ai_model_billing").glob("*.csv")) or [SAMPLES / "ai_model_billing" / "(not found)"]
COMMITMENT_FILES = sorted((SAMPLES / "commitment_discount_scenarios").glob("*.csv")) or [SAMPLES / "commitment_discount_scenarios" / "(not found)"]
REQUIRED = {"Team", "Project", "Owner", "Environment", "CostCenter", "ModelID"}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _sources_sums() -> dict[str, float]:
    """SOURCES.md's table: file -> sum of EffectiveCost, as the sample set's maintainers wrote it."""
    sums = {}
    for line in (SAMPLES / "SOURCES.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 5 and cells[0].endswith(".csv"):
            sums[cells[0]] = float(cells[4])
    return sums


def _direction(row: dict[str, str]) -> str | None:
    """The token direction a FOCUS 1.3 row's SkuPriceDetails states, read here with json, not SQL."""
    details = json.loads(row["SkuPriceDetails"]) if row.get("SkuPriceDetails") else {}
    direction, cache = details.get("TokenDirection"), details.get("TokenCacheAction")
    if direction == "Output":
        return "output"
    if direction == "Input":
        return {"Read": "cache_read", "Write": "cache_write"}.get(cache, "input")
    return None


def _month(rows: list[dict[str, str]]) -> Month:
    return Month.parse(rows[0]["ChargePeriodStart"][:7])


@pytest.fixture(scope="module")
def manifests(tmp_path_factory):
    root = write_manifests(tmp_path_factory.mktemp("m"), {"alpha": example("alpha", managed=True), "bravo": example("bravo", managed=True)})
    return load_manifest_set([str(root)])


# --------------------------------------------------------------------------- real FOCUS samples


def test_the_samples_are_beside_the_clone():
    assert len(AI_FILES) == 6 and len(COMMITMENT_FILES) == 3, f"../shared/focus-samples/ not found from {REPO}"


@pytest.mark.parametrize("path", AI_FILES + COMMITMENT_FILES, ids=lambda p: p.name)
def test_showback_totals_equal_each_sample_files_effective_cost_and_none_is_attributed(manifests, path):
    rows = _rows(path)
    report = showback.showback(manifests, [str(path)], _month(rows))
    in_file = sum(float(r["EffectiveCost"]) for r in rows)
    assert report.total_usd == pytest.approx(in_file, abs=0.005)
    assert report.total_usd == pytest.approx(_sources_sums()[f"{path.parent.name}/{path.name}"], abs=0.005)
    # no Tags column: every dollar is unattributed, no team or model gets any
    assert report.unattributed_usd == pytest.approx(in_file, abs=0.005)
    assert report.models == [] and all(t.actual_usd == 0 for t in report.teams)
    # the provider columns: FOCUS 1.3's where present, else 1.2's ProviderName for both
    expected: dict[tuple[str, str], float] = {}
    for r in rows:
        provider = r.get("ServiceProviderName") or r["ProviderName"]
        host = r.get("HostProviderName") or r["ProviderName"]
        expected[(provider, host)] = expected.get((provider, host), 0.0) + float(r["EffectiveCost"])
    assert {(p["provider"], p["host"]): p["actual_usd"] for p in report.providers} == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize("path", AI_FILES, ids=lambda p: p.name)
def test_the_token_files_tokens_are_counted_by_direction(manifests, path):
    rows = _rows(path)
    expected = dict.fromkeys(("input", "output", "cache_read", "cache_write"), 0.0)
    for r in rows:
        kind = _direction(r)
        if kind is not None:
            assert r["ConsumedUnit"] == "Tokens"
            expected[kind] += float(r["ConsumedQuantity"])
    assert sum(expected.values()) > 0, "every AI sample file bills tokens"
    report = showback.showback(manifests, [str(path)], _month(rows))
    assert report.tokens == pytest.approx(expected)
    assert report.unattributed_tokens == pytest.approx(expected)


def test_cached_tokens_are_counted_apart_from_uncached_input(manifests):
    path = SAMPLES / "ai_model_billing" / "cached_tokens_via_csp_marketplace.csv"
    report = showback.showback(manifests, [str(path)], _month(_rows(path)))
    read = sum(float(r["ConsumedQuantity"]) for r in _rows(path) if "Cache Read" in r["SkuMeter"])
    written = sum(float(r["ConsumedQuantity"]) for r in _rows(path) if "Cache Write" in r["SkuMeter"])
    assert report.tokens["cache_read"] == read > 0 and report.tokens["cache_write"] == written > 0
    assert report.tokens["input"] == 0


# --------------------------------------------------------------------------- AWS rows, tagged through the profile


def _write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _aws_row(meter: str, quantity: object, unit: str = "Tokens", cost: float = 1.0, tags: str = "") -> dict[str, object]:
    return {"ChargePeriodStart": "2026-10-01T00:00:00Z", "ChargePeriodEnd": "2026-10-01T01:00:00Z", "EffectiveCost": cost,
            "ServiceName": "Amazon Bedrock", "SkuMeter": meter, "ConsumedQuantity": quantity, "ConsumedUnit": unit, "Tags": tags}


def test_all_four_aws_usage_types_count_and_the_profiles_tags_attribute_them(manifests, tmp_path):
    tags = json.dumps({"user:Team": "bravo", "user:ModelID": "support-bot-v2"})
    rows = [_aws_row("USE1-Claude4.5Sonnet-input-tokens", 1000, tags=tags), _aws_row("USE1-Claude4.5Sonnet-output-tokens", 200, tags=tags),
            _aws_row("USE1-Claude4.5Sonnet-cache-read-input-token-count", 3000, tags=tags),
            _aws_row("USE1-Claude4.5Sonnet-cache-write-input-token-count", 40, unit="1K tokens", tags=tags),
            _aws_row("USE1-BoxUsage:g5.xlarge", 1, unit="Hrs")]
    path = _write_csv(tmp_path / "bedrock.csv", rows)
    report = showback.showback(manifests, [str(path)], Month(2026, 10))
    managed.add_managed(report.models, manifests, report.billed_tokens, {})
    (bot,) = [m for m in report.models if m["model_id"] == "support-bot-v2"]
    assert bot["kind"] == "managed" and bot["team"] == "bravo"
    assert bot["billed_tokens"] == {"input": 1000, "output": 200, "cache_read": 3000, "cache_write": 40_000}
    assert bot["usd_per_million_tokens"] == pytest.approx(4.0 / 44_200 * 1e6, abs=1e-4)
    assert report.unattributed_tokens == dict.fromkeys(("input", "output", "cache_read", "cache_write"), 0.0)


@pytest.mark.parametrize("quantity,unit", [(10, "Requests"), ("many", "Tokens"), (-5, "Tokens")])
def test_a_token_row_whose_quantity_is_not_a_token_count_is_an_error_naming_the_file(manifests, tmp_path, quantity, unit):
    path = _write_csv(tmp_path / "bad.csv", [_aws_row("USE1-NovaLite-input-tokens", quantity, unit=unit)])
    with pytest.raises(ToolError) as caught:
        showback.showback(manifests, [str(path)], Month(2026, 10))
    assert "bad.csv: row 1 (line 2): a token row" in str(caught.value) and "not a count of tokens" in str(caught.value)


def test_generated_bedrock_rows_bill_the_declared_tokens_at_the_catalogs_prices(manifests, tmp_path):
    catalog = load_catalog()
    month = Month(2026, 10)
    path = focus_sample.write(tmp_path / "billing", focus_sample.rows(manifests, catalog, month), "csv")
    report = showback.showback(manifests, [str(path)], month)
    est = estimate(manifests, catalog, month)
    from generators.see.measure import estimated_per_model

    managed.add_managed(report.models, manifests, report.billed_tokens, estimated_per_model(est))
    for loaded in manifests.teams:
        team = loaded.manifest
        for model in team.managed_models:
            (entry,) = [m for m in report.models if (m["model_id"], m["team"]) == (model.model_id, team.team)]
            prices = catalog.token_prices(team.region, model.foundation_model)
            want = (model.input_tokens_per_month * prices.input + model.output_tokens_per_month * prices.output) / 1e6
            assert entry["actual_usd"] == pytest.approx(want, abs=0.01)
            assert entry["billed_tokens"]["input"] == model.input_tokens_per_month
            assert entry["billed_tokens"]["output"] == model.output_tokens_per_month
            tokens = model.input_tokens_per_month + model.output_tokens_per_month
            assert entry["usd_per_million_tokens"] == pytest.approx(entry["actual_usd"] / tokens * 1e6, abs=1e-4)
            assert entry["estimated_usd_per_million_tokens"] == pytest.approx(want / tokens * 1e6, abs=1e-3)


# --------------------------------------------------------------------------- build or buy


def test_build_or_buy_prices_the_measured_tokens_on_the_alternative_and_finds_the_break_even(manifests):
    catalog = load_catalog()
    est = estimate(manifests, catalog, Month(2026, 10))
    alternative = catalog.token_prices("us-east-1", "meta.llama3-3-70b-instruct-v1:0")
    models = [{"model_id": "chatbot-v3", "team": "bravo", "actual_usd": 2729.64, "prompt_tokens": 900_000_000, "generation_tokens": 300_000_000}]
    (row,) = managed.build_or_buy(models, est)
    want = (900_000_000 * alternative.input + 300_000_000 * alternative.output) / 1e6
    assert row["managed_alternative"] == "meta.llama3-3-70b-instruct-v1:0"
    assert row["managed_usd"] == pytest.approx(want, abs=0.01)
    assert row["difference_usd"] == pytest.approx(2729.64 - want, abs=0.01)
    assert row["cheaper"] == ("managed" if want < 2729.64 else "self-hosted")
    # at the break-even volume (same mix of input and output) buying costs what the pool did
    scale = row["break_even_tokens_per_month"] / 1_200_000_000
    assert alternative.cost(900_000_000 * scale, 300_000_000 * scale) == pytest.approx(2729.64, rel=1e-6)
    # a model without measured tokens, or without an alternative, has no row
    assert managed.build_or_buy([{**models[0], "prompt_tokens": None, "generation_tokens": None}], est) == []
    assert managed.build_or_buy([{**models[0], "model_id": "gpt2-finetune-v1", "team": "alpha"}], est) == []


# --------------------------------------------------------------------------- manifest rules


def _problems(tmp_path, team: dict) -> list[str]:
    root = write_manifests(tmp_path / "m", {"bravo": team})
    with pytest.raises(ManifestError) as caught:
        manifests = load_manifest_set([str(root)])
        estimate(manifests, load_catalog(), Month(2026, 10))
    return [str(p) for p in caught.value.problems]


def test_a_managed_model_name_is_unique_within_the_manifest(tmp_path):
    team = example("bravo", managed=True)
    team["managed_models"][0]["name"] = "chatbot"
    (problem,) = _problems(tmp_path, team)
    assert "managed_models[0].name" in problem and "already used by inference[0]" in problem


@pytest.mark.parametrize("field,value,words", [
    ("foundation_model", "arn:aws:bedrock:us-east-1::foundation-model/x", "expected text matching"),
    ("input_tokens_per_month", -1, "greater than or equal to 0"),
    ("output_tokens_per_month", 1.5, "expected a whole number"),
    ("provider", "openai", "bedrock"),
    ("name", "support--bot", "inferenceProfileName"),  # two hyphens in a row: Bedrock refuses the profile name
])
def test_each_bad_field_is_named_at_its_line(tmp_path, field, value, words):
    team = example("bravo", managed=True)
    team["managed_models"][0][field] = value
    problems = _problems(tmp_path, team)
    assert any(f"managed_models[0].{field}" in p and words in p and re.search(r"bravo\.yaml:\d+:\d+", p) for p in problems), problems


# --------------------------------------------------------------------------- synthesized (real cdktf)


def _profiles(synthesized_examples, stack: str) -> list[dict]:
    return list(synthesized_examples.resources(stack, "aws_bedrock_inference_profile").values())


def test_each_managed_model_gets_a_profile_tagged_with_every_required_tag(synthesized_examples):
    (bot,) = _profiles(synthesized_examples, "bravo")
    assert bot["name"] == "genai-finops-bravo-support-bot"
    assert REQUIRED <= set(bot["tags"]) and bot["tags"]["Team"] == "bravo" and bot["tags"]["ModelID"] == "support-bot-v2"
    (labeler,) = _profiles(synthesized_examples, "alpha")
    assert labeler["tags"]["ModelID"] == "labeler-v1"
    assert _profiles(synthesized_examples, "charlie") == []


def test_copy_from_is_the_system_profiles_arn_or_the_foundation_models(synthesized_examples):
    """The ARN forms of InferenceProfileModelSource.copyFrom
    (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_InferenceProfileModelSource.html):
    arn:aws(...):bedrock:(region):(account):(inference-profile|foundation-model)/[a-zA-Z0-9-:.]+;
    a foundation model's ARN has no account."""
    (bot,) = _profiles(synthesized_examples, "bravo")
    (labeler,) = _profiles(synthesized_examples, "alpha")
    system = bot["model_source"][0]["copy_from"]
    foundation = labeler["model_source"][0]["copy_from"]
    assert re.fullmatch(r"arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:bedrock:us-east-1:\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}"
                        r":inference-profile/us\.anthropic\.claude-sonnet-4-5-20250929-v1:0", system)
    assert re.fullmatch(r"arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:bedrock:us-east-1::foundation-model/amazon\.nova-lite-v1:0", foundation)
    for arn in (system, foundation):
        assert re.fullmatch(r"[a-zA-Z0-9-:.]+", arn.rsplit("/", 1)[1])


def test_profile_names_meet_bedrocks_limit(synthesized_examples):
    """inferenceProfileName: 1-64 characters of ([0-9a-zA-Z][ _-]?)+
    (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateInferenceProfile.html)."""
    for stack in ("alpha", "bravo"):
        for profile in _profiles(synthesized_examples, stack):
            assert len(profile["name"]) <= 64 and re.fullmatch(r"([0-9a-zA-Z][ _-]?)+", profile["name"])


def test_invoke_roles_may_call_the_model_only_through_the_teams_profile(synthesized_examples):
    """InvokeModel on the application profile, and on the system profile and foundation model it
    routes to only with bedrock:InferenceProfileArn = that profile
    (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html)."""
    policies = {p["name"]: p for p in synthesized_examples.resources("bravo", "aws_iam_policy").values()}
    policy = policies["genai-finops-bravo-support-bot-invoke"]
    (profile_address,) = synthesized_examples.resources("bravo", "aws_bedrock_inference_profile")
    own_arn = f"${{aws_bedrock_inference_profile.{profile_address}.arn}}"
    through, routed = json.loads(policy["policy"])["Statement"]
    assert through["Resource"] == own_arn and "Condition" not in through
    assert set(through["Action"]) == set(routed["Action"]) == {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
    assert routed["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": own_arn}}
    assert any(r.endswith(":inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0") for r in routed["Resource"])
    assert any(r.endswith(":bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0") for r in routed["Resource"])
    attachments = list(synthesized_examples.resources("bravo", "aws_iam_role_policy_attachment").values())
    invoke = [a for a in attachments if "support-bot" in a["policy_arn"]]
    assert [a["role"] for a in invoke] == ["bravo-app"]
    # alpha's model names no roles: a profile, no policy
    assert not any(p["name"].endswith("-invoke") for p in synthesized_examples.resources("alpha", "aws_iam_policy").values())


def test_the_report_draws_build_or_buy_from_the_one_formula(manifests):
    from generators.see.report import ReportData, render, tables

    catalog = load_catalog()
    est = estimate(manifests, catalog, Month(2026, 10))
    models = [{"model_id": "chatbot-v3", "team": "bravo", "actual_usd": 2729.64, "prompt_tokens": 900_000_000, "generation_tokens": 300_000_000,
               "kind": "self-hosted"}]
    rows = managed.build_or_buy(models, est)
    shown = {"teams": [], "models": models, "month_complete": True, "unattributed_usd": 0.0, "build_or_buy": rows}
    data = ReportData(month="2026-10", generated="now", prices="prices.json", gate="expected", estimate=est, showback=shown, billing_sources=[])
    (table,) = [t for t in tables(data) if t.name == "build_or_buy"]
    (row,) = table.rows
    assert row[5] == rows[0]["self_hosted_usd"] and row[6] == rows[0]["managed_usd"] and row[8] == rows[0]["break_even_tokens_per_month"]
    page = render(data)
    assert "<h2>Build or buy</h2>" in page and "chatbot-v3 self-hosted" in page and "chatbot-v3 bought" in page
    assert "meta.llama3-3-70b-instruct-v1:0" in page


def test_every_profile_field_meets_bedrocks_own_api_model(synthesized_examples):
    """Each value the stacks send to CreateInferenceProfile against the constraints of Bedrock's API
    model as AWS ships it in botocore (bedrock 2023-04-20 service-2.json): name, description,
    modelSource.copyFrom (interpolations filled with a real partition and account), every tag."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock")

    def fits(shape_name: str, value: str) -> bool:
        meta = model.shape_for(shape_name).metadata
        return meta.get("min", 0) <= len(value) <= meta["max"] and re.fullmatch(meta["pattern"], value) is not None

    filled = {r"\$\{data\.aws_partition\.[\w-]+\.partition\}": "aws", r"\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}": "123456789012"}
    profiles = _profiles(synthesized_examples, "alpha") + _profiles(synthesized_examples, "bravo")
    assert len(profiles) == 2
    for profile in profiles:
        assert fits("InferenceProfileName", profile["name"]), profile["name"]
        assert fits("InferenceProfileDescription", profile["description"]), profile["description"]
        source = profile["model_source"][0]["copy_from"]
        for pattern, value in filled.items():
            source = re.sub(pattern, value, source)
        assert fits("InferenceProfileModelSourceArn", source), source
        assert len(profile["tags"]) <= model.shape_for("TagList").metadata["max"]
        for key, value in profile["tags"].items():
            assert fits("TagKey", key) and re.fullmatch(model.shape_for("TagValue").metadata["pattern"], value), (key, value)


def test_a_tag_bedrock_cannot_take_is_refused_where_it_is_written(tmp_path):
    team = example("bravo", managed=True)
    team["project"] = "assistant-équipe"
    team["managed_models"][0]["model_id"] = "bot#2"
    problems = _problems(tmp_path, team)
    assert any(p.split(": ", 1)[1].startswith("project: tag value 'assistant-équipe': Bedrock accepts only ASCII") for p in problems), problems
    assert any("managed_models[0].model_id: becomes the ModelID tag" in p for p in problems), problems
