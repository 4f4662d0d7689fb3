"""Tokens served per model, from a real Prometheus (Debian's package) on 127.0.0.1.

The module fixture writes the vLLM counters `generators.token_sample` generates for the shipped
examples over October 2026 (one pod restarts mid-month, so a counter resets), plus the same
counters under other names (as another server would name them), backfills them with promtool
and starts Prometheus on that TSDB. Expected token counts are summed here from the generated
samples, never read back from the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Iterator

import pytest

from generators import token_sample
from generators.cost import Month
from generators.errors import ToolError
from generators.loading import load_manifest_set
from generators.tokens import GENERATION_METRIC, PROMPT_METRIC, Metrics, increase, tokens
from tests.manifest_helpers import REPO

OCTOBER = Month(2026, 10)
OTHER = Metrics(prompt="tgi:prompt_tokens_total", generation="tgi:generation_tokens_total")


@pytest.fixture(scope="module")
def manifests():
    return load_manifest_set(["manifests"])


@pytest.fixture(scope="module")
def generated(manifests) -> list[token_sample.Series]:
    return token_sample.series_for(manifests, OCTOBER)


@pytest.fixture(scope="module")
def prometheus(generated, tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prometheus")
    renamed = [
        dataclasses.replace(s, metric=OTHER.prompt if s.metric == PROMPT_METRIC else OTHER.generation, model=f"tgi-{s.model}")
        for s in generated
    ]
    token_sample.backfill(token_sample.write_openmetrics(root / "counters.om", generated + renamed), root / "tsdb")
    with token_sample.Prometheus(root / "tsdb") as server:
        yield server.url


def expected(generated: list[token_sample.Series], metric: str) -> dict[str, int]:
    """Per model, the increments between consecutive samples whose later one is in October."""
    start, end = OCTOBER.start.timestamp(), OCTOBER.end.timestamp()
    out: dict[str, int] = {}
    for series in (s for s in generated if s.metric == metric):
        for (_, before), (at, value) in zip(series.samples, series.samples[1:]):
            if start < at <= end:
                out[series.model] = out.get(series.model, 0) + (value - before if value >= before else value)
    return out


def test_increase_counts_resets_and_only_the_window():
    samples = [(0, 100), (10, 150), (20, 30), (30, 80), (40, 90)]
    assert increase(samples, 0, 40) == (150 - 100) + 30 + (80 - 30) + (90 - 80)
    assert increase(samples, 10, 30) == 30 + 50  # the pairs ending at 20 and 30
    assert increase([(5, 7)], 0, 10) == 0  # one sample: nothing to difference


def test_the_generated_counters_include_a_reset(generated):
    assert any(later < earlier for s in generated for (_, earlier), (_, later) in zip(s.samples, s.samples[1:]))


def test_tokens_per_model_equal_the_generated_increments_resets_included(prometheus, generated):
    counts = tokens(prometheus, OCTOBER.start, OCTOBER.end)
    prompt, generation = expected(generated, PROMPT_METRIC), expected(generated, GENERATION_METRIC)
    assert set(counts) == set(prompt) == {"chatbot-v3", "summarizer-v2"}
    for model in counts:
        assert counts[model] == {"prompt": prompt[model], "generation": generation[model]}


def test_metric_names_are_configurable_for_other_servers(prometheus, generated):
    counts = tokens(prometheus, OCTOBER.start, OCTOBER.end, OTHER)
    assert set(counts) == {"tgi-chatbot-v3", "tgi-summarizer-v2"}
    assert counts["tgi-chatbot-v3"]["prompt"] == expected(generated, PROMPT_METRIC)["chatbot-v3"]


def test_an_unreachable_prometheus_is_one_line():
    with pytest.raises(ToolError, match=r"Prometheus at http://127.0.0.1:9 cannot be reached"):
        tokens("http://127.0.0.1:9", OCTOBER.start, OCTOBER.end)


def test_a_bad_query_is_prometheus_own_message(prometheus):
    with pytest.raises(ToolError, match="bad_data"):
        tokens(prometheus, OCTOBER.start, OCTOBER.end, Metrics(prompt="not a metric{", generation=GENERATION_METRIC))


def test_showback_divides_each_models_spend_by_its_tokens(prometheus, generated, tmp_path, manifests):
    from generators import focus_sample
    from generators.pricing import load_catalog

    billing = focus_sample.write(tmp_path, focus_sample.rows(manifests, load_catalog(), OCTOBER), "parquet")
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "showback", "--billing", str(billing), "--month", "2026-10", "--format", "json",
         "--prometheus", prometheus],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    models = {m["model_id"]: m for m in json.loads(result.stdout)["models"]}
    prompt, generation = expected(generated, PROMPT_METRIC), expected(generated, GENERATION_METRIC)
    chatbot = models["chatbot-v3"]
    assert (chatbot["prompt_tokens"], chatbot["generation_tokens"]) == (prompt["chatbot-v3"], generation["chatbot-v3"])
    assert chatbot["usd_per_million_tokens"] == pytest.approx(chatbot["actual_usd"] / (prompt["chatbot-v3"] + generation["chatbot-v3"]) * 1e6, rel=1e-4)
    assert chatbot["usd_per_million_output_tokens"] == pytest.approx(chatbot["actual_usd"] / generation["chatbot-v3"] * 1e6, rel=1e-4)
    assert chatbot["estimated_usd_per_million_tokens"] is not None
    # a model only trained, never served: no division by zero, a reason instead
    assert models["gpt2-finetune-v1"]["usd_per_million_tokens"] is None
    assert models["gpt2-finetune-v1"]["tokens_note"] == "no inference pool of the team serves this model"


def test_prometheus_url_comes_from_the_environment_too(prometheus, tmp_path, manifests):
    from generators import focus_sample
    from generators.pricing import load_catalog
    import os

    billing = focus_sample.write(tmp_path, focus_sample.rows(manifests, load_catalog(), OCTOBER), "parquet")
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "showback", "--billing", str(billing), "--month", "2026-10"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=dict(os.environ, GENAI_FINOPS_PROMETHEUS_URL=prometheus),
    )
    assert result.returncode == 0, result.stderr
    assert "tokens, $" in result.stdout and "per 1M output" in result.stdout
