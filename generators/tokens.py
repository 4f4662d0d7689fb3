"""Tokens each model served in a month, from Prometheus counters (vLLM's by default).

vLLM exports `vllm:prompt_tokens_total` and `vllm:generation_tokens_total` per `model_name`
(https://docs.vllm.ai/en/latest/serving/metrics.html). Over the month, the tokens are the
increase of those counters summed over every series (pod, instance) of a model. The increase
is computed here from the raw samples, the way PromQL's increase() treats resets (a sample
lower than the one before means the counter restarted from zero, so its whole value is new),
but without increase()'s extrapolation to the window's edges: what was counted is what is
reported. Raw samples come from an instant query of a range vector through the Prometheus
HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/), which Amazon Managed
Service for Prometheus, Thanos and Mimir serve too.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from generators.errors import ToolError

URL_ENV = "GENAI_FINOPS_PROMETHEUS_URL"
PROMPT_METRIC = "vllm:prompt_tokens_total"
GENERATION_METRIC = "vllm:generation_tokens_total"
MODEL_LABEL = "model_name"
TIMEOUT_SECONDS = 60
# Samples just before the month count as the starting point of its first increase.
LOOKBACK = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Metrics:
    prompt: str = PROMPT_METRIC
    generation: str = GENERATION_METRIC
    model_label: str = MODEL_LABEL


def increase(samples: list[tuple[float, float]], start: float, end: float) -> float:
    """The counter's increase between consecutive samples whose later one falls in (start, end]:
    a sample counts what was served up to its time, so the one stamped at the month's first
    instant closes the month before. Resets counted."""
    total, previous = 0.0, None
    for at, value in samples:
        if previous is not None and start < at <= end:
            total += value - previous if value >= previous else value
        previous = value
    return total


def _get(url: str, params: dict[str, str]) -> Any:
    address = url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(address, timeout=TIMEOUT_SECONDS) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:300]
        raise ToolError(f"Prometheus at {url} answered {error.code}: {detail}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ToolError(f"Prometheus at {url} cannot be reached: {getattr(error, 'reason', error)}") from error
    if body.get("status") != "success":
        raise ToolError(f"Prometheus at {url}: {body.get('errorType', 'error')}: {body.get('error', body)}")
    return body["data"]


def instant(url: str, query: str, at: dt.datetime) -> list[dict[str, Any]]:
    """The series of an instant vector query evaluated at `at` (each {"metric": labels, "value": [t, v]})."""
    data = _get(url, {"query": query, "time": f"{at.timestamp():.3f}"})
    if data.get("resultType") != "vector":
        raise ToolError(f"Prometheus answered {query} with {data.get('resultType')}, expected an instant vector")
    return data["result"]


def tokens(url: str, start: dt.datetime, end: dt.datetime, metrics: Metrics = Metrics()) -> dict[str, dict[str, float]]:
    """{model name: {"prompt": n, "generation": n}} for the counters' increase over (start, end]."""
    window = math.ceil((end - start + LOOKBACK).total_seconds())
    out: dict[str, dict[str, float]] = {}
    for kind, metric in (("prompt", metrics.prompt), ("generation", metrics.generation)):
        data = _get(url, {"query": f"{metric}[{window}s]", "time": f"{end.timestamp():.3f}"})
        if data.get("resultType") != "matrix":
            raise ToolError(f"Prometheus answered {metric}[...] with {data.get('resultType')}, expected a matrix of samples")
        for series in data["result"]:
            model = series["metric"].get(metrics.model_label)
            if model is None:
                continue
            samples = [(float(t), float(v)) for t, v in series["values"]]
            counts = out.setdefault(model, {"prompt": 0.0, "generation": 0.0})
            counts[kind] += increase(samples, start.timestamp(), end.timestamp())
    return out
