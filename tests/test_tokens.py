"""Tokens served per model, from a real Prometheus (Debian's package) on 127.0.0.1.

The module fixture writes the vLLM counters `generators.samples.token_sample` generates for the shipped
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

from generators.errors import ToolError
from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.samples import token_sample
from generators.see.metrics import GENERATION_METRIC, PROMPT_METRIC
from generators.see.tokens import Metrics, increase, tokens
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
def gauges(manifests) -> list[token_sample.Gauge]:
    return token_sample.gpu_series_for(manifests, OCTOBER)


@pytest.fixture(scope="module")
def prometheus(generated, gauges, tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prometheus")
    renamed = [
        dataclasses.replace(s, metric=OTHER.prompt if s.metric == PROMPT_METRIC else OTHER.generation, model=f"tgi-{s.model}")
        for s in generated
    ]
    token_sample.backfill(token_sample.write_openmetrics(root / "counters.om", generated + renamed, gauges), root / "tsdb")
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


def test_prometheus_sums_by_day_and_only_days_with_a_reset_are_read_raw(prometheus, generated):
    """Requests: per counter one instant and two range queries, plus one per day on which a
    series resets or first appears (its samples are read raw): counted here from the generated
    samples, never from the code. None depends on how many series there are."""
    from generators.see.prometheus import Client
    from generators.see.tokens import STEP

    start = OCTOBER.start.timestamp()
    raw_days = 0
    for metric in (PROMPT_METRIC, GENERATION_METRIC):
        days = set()
        for series in (s for s in generated if s.metric == metric):
            in_month = [(at, value) for at, value in series.samples if start < at <= OCTOBER.end.timestamp()]
            before = [at for at, _ in series.samples if start - 3600 <= at <= start]
            if in_month and not before:
                days.add(int((in_month[0][0] - start - 1) // STEP.total_seconds()))
            for (before_at, earlier), (at, later) in zip(series.samples, series.samples[1:]):
                if later < earlier and start < at <= OCTOBER.end.timestamp():
                    day = int((at - start - 1) // STEP.total_seconds())
                    days.add(day)
                    # each day's resets() window reaches an hour into the day before (a reset
                    # across midnight is seen): a reset in a day's last hour is seen twice
                    end_of_day = start + (day + 1) * STEP.total_seconds()
                    if before_at >= end_of_day - 3600 and end_of_day < OCTOBER.end.timestamp():
                        days.add(day + 1)
        raw_days += len(days)
    assert raw_days >= 1  # the reset above

    client = Client(prometheus)
    tokens(client, OCTOBER.start, OCTOBER.end)

    assert client.requests == 2 * 3 + raw_days
    assert client.notes == []


def test_metric_names_are_configurable_for_other_servers(prometheus, generated):
    counts = tokens(prometheus, OCTOBER.start, OCTOBER.end, OTHER)
    assert set(counts) == {"tgi-chatbot-v3", "tgi-summarizer-v2"}
    assert counts["tgi-chatbot-v3"]["prompt"] == expected(generated, PROMPT_METRIC)["chatbot-v3"]


def test_an_unreachable_prometheus_is_one_line():
    with pytest.raises(ToolError, match=r"Prometheus at http://127.0.0.1:9 cannot be reached"):
        tokens("http://127.0.0.1:9", OCTOBER.start, OCTOBER.end)


def test_a_metric_name_that_is_not_promql_is_refused_before_any_query():
    from generators.errors import UsageError

    with pytest.raises(UsageError, match=r"--prompt-metric 'not a metric\{': not a Prometheus metric name"):
        tokens("http://127.0.0.1:9", OCTOBER.start, OCTOBER.end, Metrics(prompt="not a metric{", generation=GENERATION_METRIC))


def test_a_bad_query_is_prometheus_own_message(prometheus):
    from generators.see.prometheus import Client

    with pytest.raises(ToolError, match=r"answered HTTP 400: bad_data: .*parse error"):
        Client(prometheus).instant("not a metric{", OCTOBER.end)


def test_showback_divides_each_models_spend_by_its_tokens(prometheus, generated, tmp_path, manifests):
    from generators.plan.pricing import load_catalog
    from generators.samples import focus_sample

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
    import os

    from generators.plan.pricing import load_catalog
    from generators.samples import focus_sample

    billing = focus_sample.write(tmp_path, focus_sample.rows(manifests, load_catalog(), OCTOBER), "parquet")
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "showback", "--billing", str(billing), "--month", "2026-10"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=dict(os.environ, GENAI_FINOPS_PROMETHEUS_URL=prometheus),
    )
    assert result.returncode == 0, result.stderr
    assert "tokens, $" in result.stdout and "per 1M output" in result.stdout


# --------------------------------------------------------------------------- idle GPU


def expected_busy(gauges: list[token_sample.Gauge], manifests, samples: bool = False) -> dict[tuple[str, str, str], float]:
    """(team, kind, name) -> mean of its generated GPU samples / 100 (or, with `samples`, how
    many there are), owners read from the generated labels: a node's pool from its
    kube_node_labels series, a training job from the team and Name tag an EC2 scrape gives."""
    from generators.see import metrics

    node_pool = {dict(g.labels)["node"]: (dict(g.labels)["label_team"], dict(g.labels)["label_app"])
                 for g in gauges if g.metric == metrics.NODE_LABELS_METRIC}
    jobs = {(t.manifest.team, f"{t.manifest.team}-{j.name}-{i}"): j.name for t in manifests.teams for j in t.manifest.training for i in range(j.count)}
    sums: dict[tuple[str, str, str], list[float]] = {}
    for gauge in (g for g in gauges if g.metric == metrics.GPU_UTIL_METRIC):
        labels = dict(gauge.labels)
        if "ec2_name" in labels:
            owner = (labels["team"], "training", jobs[(labels["team"], labels["ec2_name"])])
        elif labels["Hostname"] in node_pool:
            owner = (node_pool[labels["Hostname"]][0], "inference", node_pool[labels["Hostname"]][1])
        else:
            continue
        total = sums.setdefault(owner, [0.0, 0])
        total[0] += sum(value for _, value in gauge.samples)
        total[1] += len(gauge.samples)
    return {owner: (count if samples else value / count / 100) for owner, (value, count) in sums.items()}


def test_gpu_busy_share_per_pool_and_job_is_the_mean_of_its_samples(prometheus, gauges, manifests):
    from generators.see import gpu_idle

    units, unowned = gpu_idle.utilization(prometheus, manifests, OCTOBER)
    busy = expected_busy(gauges, manifests)
    measured = {(u.team, u.kind, u.name): u.busy_share for u in units if u.busy_share is not None}
    assert set(measured) == set(busy) and len(busy) >= 4
    for owner, share in busy.items():
        assert measured[owner] == pytest.approx(share, abs=1e-9), owner
    assert unowned == 1  # the GPU of a node no pool owns


def test_showback_reports_idle_dollars_as_spend_times_the_idle_share(prometheus, gauges, tmp_path, manifests):
    from generators.plan.pricing import load_catalog
    from generators.samples import focus_sample

    rows = focus_sample.rows(manifests, load_catalog(), OCTOBER)
    billing = focus_sample.write(tmp_path, rows, "parquet")
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "showback", "--billing", str(billing), "--month", "2026-10", "--format", "json",
         "--prometheus", prometheus],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    gpu = json.loads(result.stdout)["gpu_utilization"]
    busy, samples = expected_busy(gauges, manifests), expected_busy(gauges, manifests, samples=True)
    # A unit's spend: its team and model's EffectiveCost in the generated rows, split between the
    # team's units of that model by their GPU samples (alpha trains and evaluates one model).
    column = {name: index for index, name in enumerate(focus_sample.COLUMNS)}
    spend: dict[tuple[str, str], float] = {}
    for row in rows:
        tags = json.loads(row[column["Tags"]])
        if "user:Team" in tags:
            key = (tags["user:Team"], tags["user:ModelID"])
            spend[key] = spend.get(key, 0.0) + row[column["EffectiveCost"]]
    model_of = {(u["team"], u["kind"], u["name"]): u["model_id"] for u in gpu["units"]}
    assert len({(t, m) for (t, _, _), m in model_of.items()}) < len(model_of), "the examples share a model between two units"
    for unit in gpu["units"]:
        owner = (unit["team"], unit["kind"], unit["name"])
        siblings = [o for o, m in model_of.items() if o[0] == unit["team"] and m == unit["model_id"]]
        share = samples[owner] / sum(samples[o] for o in siblings)
        unit_spend = spend[(unit["team"], unit["model_id"])] * share
        assert unit["gpu_busy_share"] == pytest.approx(busy[owner], abs=1e-4), owner
        assert unit["actual_usd"] == pytest.approx(unit_spend, abs=0.01), owner
        assert unit["idle_usd"] == pytest.approx(unit_spend * (1 - busy[owner]), abs=0.02), owner
    assert gpu["idle_usd"] == pytest.approx(sum(u["idle_usd"] for u in gpu["units"]), abs=0.05)
    assert gpu["unowned_series"] == 1


def test_without_dcgm_series_the_showback_says_so(prometheus, tmp_path, manifests):
    from generators.plan.pricing import load_catalog
    from generators.samples import focus_sample

    billing = focus_sample.write(tmp_path, focus_sample.rows(manifests, load_catalog(), OCTOBER), "parquet")
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "showback", "--billing", str(billing), "--month", "2026-10",
         "--prometheus", prometheus, "--gpu-util-metric", "no_such_gpu_metric"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Idle GPU: no no_such_gpu_metric series in Prometheus for this month" in result.stdout


def test_the_report_shows_idle_gpu_time_as_a_leak(prometheus, tmp_path, manifests):
    from generators.plan.pricing import load_catalog
    from generators.samples import focus_sample

    billing = focus_sample.write(tmp_path, focus_sample.rows(manifests, load_catalog(), OCTOBER), "parquet")
    args = ["--billing", str(billing), "--month", "2026-10", "--prometheus", prometheus]
    shown = subprocess.run([sys.executable, "-m", "generators.cli", "showback", *args, "--format", "json"],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    html = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "generators.cli", "report", *args, "--html", str(html)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert shown.returncode == done.returncode == 0, done.stderr
    page = html.read_text()
    idle = json.loads(shown.stdout)["gpu_utilization"]["idle_usd"]
    assert "<h3>Idle GPU time (DCGM)</h3>" in page
    # the one money format (generators/formats.py)
    assert f'<td class="text">idle GPU time</td><td>${idle:,.2f}</td>' in page
