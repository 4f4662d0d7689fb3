"""Tokens each model served in a month, from Prometheus counters (vLLM's by default).

vLLM exports `vllm:prompt_tokens_total` and `vllm:generation_tokens_total` per `model_name`
(https://docs.vllm.ai/en/latest/serving/metrics.html). Over the month, the tokens are the
increase of those counters summed over every series (pod, instance) of a model, with resets
counted (a sample lower than the one before means the counter restarted from zero, so its whole
value is new) and without increase()'s extrapolation to the window's edges: what was counted is
what is reported.

The increase is computed where the data is, so memory and traffic do not grow with the scrape
rate or the month's length: the month is cut into days, and Prometheus answers, per series, the
counter's last value at each day's end (`last_over_time`) and how many resets each day holds
(`resets`), in one range query each (https://prometheus.io/docs/prometheus/latest/querying/api/
#range-queries). A day without a reset adds its end value minus the day before's. Only the
series with a reset that day, or that start that day, are read sample by sample: one request per
such day for up to RAW_BATCH of them. So the requests are at most 3 + the days with a reset per
counter (until more than RAW_BATCH series reset on one day), however many series there are.

"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from generators.errors import UsageError
from generators.safe_text import message
from generators.see.metrics import GENERATION_METRIC, LABEL_NAME, METRIC_NAME, MODEL_LABEL, PROMPT_METRIC
from generators.see.prometheus import Client, client_for

# Samples just before the month count as the starting point of its first increase.
LOOKBACK = dt.timedelta(hours=1)
# The piece of the month Prometheus sums per series; a piece with a reset is read raw.
STEP = dt.timedelta(days=1)
# Series read sample by sample in one request (a day of one series at 15 s is 5,760 samples).
RAW_BATCH = 50
# RE2's metacharacters (https://github.com/google/re2/wiki/Syntax): each is escaped with a
# backslash; nothing else is (RE2 refuses an escaped space or letter).
_RE2_SPECIAL = re.compile(r"[\\.+*?()|\[\]{}^$]")


@dataclass(frozen=True)
class Metrics:
    prompt: str = PROMPT_METRIC
    generation: str = GENERATION_METRIC
    model_label: str = MODEL_LABEL

    def check(self) -> Metrics:
        """Refuse names that are not PromQL names (they go into queries)."""
        for flag, name in (("--prompt-metric", self.prompt), ("--generation-metric", self.generation)):
            if not METRIC_NAME.match(name):
                raise UsageError(f"{flag} {message(name, 80)!r}: not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
        if not LABEL_NAME.match(self.model_label):
            raise UsageError(f"--model-label {message(self.model_label, 80)!r}: not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
        return self


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


def _selector(metric: str, series: list[dict[str, str]]) -> str:
    """A PromQL selector for these series: a label with one value among them is matched exactly,
    one with several by an alternation of the values (RE2-escaped); a series without a label is
    matched by the empty value, as PromQL does. Values are quoted for PromQL."""
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    matchers = [f"__name__={quoted(metric)}"]
    for name in sorted({name for labels in series for name in labels if LABEL_NAME.match(name)}):
        values = sorted({labels.get(name, "") for labels in series})
        if len(values) == 1:
            matchers.append(f"{name}={quoted(values[0])}")
        else:
            alternation = "|".join(_re2_escape(value) for value in values)
            matchers.append(f"{name}=~{quoted(alternation)}")
    return "{" + ", ".join(matchers) + "}"


def _re2_escape(value: str) -> str:
    return _RE2_SPECIAL.sub(lambda match: "\\" + match.group(0), value)


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


def counter_increase(client: Client, metric: str, start: dt.datetime, end: dt.datetime) -> dict[tuple[tuple[str, str], ...], float]:
    """Per series (its labels), the counter's increase over (start, end], computed by pieces
    (README, Tokens): one instant and two range queries, two more for a last partial day, and
    one raw read per (series, day) with a reset or a new series."""
    what = metric
    grid: list[dt.datetime] = []
    at = start + STEP
    while at <= end:
        grid.append(at)
        at += STEP
    boundaries = [start, *grid] + ([end] if not grid or grid[-1] < end else [])
    # values[key][k]: last value at boundaries[k]; resets[key][k]: resets in piece k (k >= 1)
    values: dict[tuple, dict[int, float]] = {}
    resets: dict[tuple, dict[int, float]] = {}
    labels_of: dict[tuple, dict[str, str]] = {}

    def keep(table: dict, labels: dict[str, str], index: int, value: float) -> None:
        key = _key(labels)
        labels_of.setdefault(key, {k: v for k, v in labels.items() if k != "__name__"})
        table.setdefault(key, {})[index] = value

    lookback = math.ceil(LOOKBACK.total_seconds())
    step = math.ceil(STEP.total_seconds())
    for labels, value in client.instant(f"last_over_time({metric}[{lookback}s])", start, what, counter=True):
        keep(values, labels, 0, value)
    if grid:
        for query, table, counter in ((f"last_over_time({metric}[{step}s])", values, True), (f"resets({metric}[{step + lookback}s])", resets, False)):
            for labels, samples in client.range(query, grid[0], grid[-1], STEP, what, counter=counter):
                for stamp, value in samples:
                    index = round((stamp - grid[0].timestamp()) / step) + 1
                    if 1 <= index <= len(grid) and abs(grid[index - 1].timestamp() - stamp) < 1:
                        keep(table, labels, index, value)
    if len(boundaries) - 1 > len(grid):  # the last, partial piece
        last = len(boundaries) - 1
        piece = math.ceil((boundaries[last] - boundaries[last - 1]).total_seconds())
        for labels, value in client.instant(f"last_over_time({metric}[{piece}s])", end, what, counter=True):
            keep(values, labels, last, value)
        for labels, value in client.instant(f"resets({metric}[{piece + lookback}s])", end, what):
            keep(resets, labels, last, value)

    out: dict[tuple, float] = {}
    pending: dict[int, list[tuple]] = {}  # piece -> series to read sample by sample
    for key, by_index in values.items():
        total = 0.0
        for index in range(1, len(boundaries)):
            now = by_index.get(index)
            if now is None:
                continue  # no sample in this piece
            before = by_index.get(index - 1)
            if before is not None and not resets.get(key, {}).get(index) and now >= before:
                total += now - before
            else:
                pending.setdefault(index, []).append(key)
        out[key] = total
    # A reset, or a series' first piece: its samples, in one request per piece for up to
    # RAW_BATCH series (their labels matched exactly, or by alternation where they differ).
    for index, keys in sorted(pending.items()):
        reach = LOOKBACK if index == 1 else STEP
        window = math.ceil((boundaries[index] - boundaries[index - 1] + reach).total_seconds())
        for first in range(0, len(keys), RAW_BATCH):
            group = set(keys[first:first + RAW_BATCH])
            selector = _selector(metric, [labels_of[key] for key in sorted(group)])
            for raw_labels, samples in client.matrix(f"{selector}[{window}s]", boundaries[index], what, counter=True):
                key = _key(raw_labels)
                if key in group:  # the alternation may match a series that is not pending: not counted twice
                    out[key] += increase(samples, boundaries[index - 1].timestamp(), boundaries[index].timestamp())
    return out


def tokens(source: str | Client, start: dt.datetime, end: dt.datetime, metrics: Metrics = Metrics()) -> dict[str, dict[str, float]]:
    """{model name: {"prompt": n, "generation": n}} for the counters' increase over (start, end]."""
    client = client_for(source)
    metrics.check()
    out: dict[str, dict[str, float]] = {}
    for kind, metric in (("prompt", metrics.prompt), ("generation", metrics.generation)):
        for key, total in counter_increase(client, metric, start, end).items():
            model = dict(key).get(metrics.model_label)
            if model is None:
                continue
            counts = out.setdefault(model, {"prompt": 0.0, "generation": 0.0})
            counts[kind] += total
    return out
