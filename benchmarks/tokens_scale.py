"""Token counts from a real Prometheus for a month of vLLM counters (issue 22): memory and
requests must not grow with the series count or the scrape rate.

For each case a month (October 2026) of `vllm:prompt_tokens_total` and
`vllm:generation_tokens_total` is generated (half the series each; one series in ten restarts
mid-month, so its counter resets), backfilled with promtool into a fresh TSDB and served by
Debian's Prometheus on 127.0.0.1. A fresh process then computes the month's tokens per model
through generators.see.tokens (as `showback --prometheus` does) and reports its peak RSS and the
number of HTTP requests; its counts are checked against the increments summed while generating.
Targets: under 200 MB peak in every case; requests that do not grow with the series count.
A measurement, not a test: `python benchmarks/tokens_scale.py` (several minutes, most of it
writing and backfilling the samples).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generators.months import Month  # noqa: E402
from generators.samples import token_sample  # noqa: E402

MONTH = Month(2026, 10)
CASES = ((10, 60), (100, 60), (1000, 60), (100, 15))  # (series, scrape interval in seconds)
TARGET_MIB = 200.0
METRICS = ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")
MODELS = ("llama-3-8b", "mistral-7b", "qwen-2-7b")


def write_counters(path: Path, series: int, interval: int, seed: int = 11) -> dict[str, dict[str, float]]:
    """The OpenMetrics file, streamed; returns the expected increase per model and kind."""
    rng = random.Random(seed)
    start, end = int(MONTH.start.timestamp()), int(MONTH.end.timestamp())
    stamps = range(start, end + 1, interval)
    expected: dict[str, dict[str, float]] = {}
    with open(path, "w", encoding="utf-8") as out:
        for kind, metric in zip(("prompt", "generation"), METRICS):
            family = metric.removesuffix("_total")
            out.write(f"# HELP {family} Tokens processed.\n# TYPE {family} counter\n")
            for index in range(series // 2):
                model = MODELS[index % len(MODELS)]
                restart = start + rng.randrange(1, len(stamps) - 1) * interval if index % 10 == 0 else None
                rate = rng.uniform(50, 500) * interval
                value, previous, lines = 0.0, None, []
                labels = f'model_name="{model}",pod="vllm-{index:04d}"'
                for at in stamps:
                    value = 0.0 if at == restart else value + round(rng.uniform(0.5, 1.5) * rate)
                    if previous is not None and at > start:
                        counts = expected.setdefault(model, {"prompt": 0.0, "generation": 0.0})
                        counts[kind] += value - previous if value >= previous else value
                    previous = value
                    lines.append(f"{metric}{{{labels}}} {value:.0f} {at}\n")
                    if len(lines) >= 10_000:
                        out.write("".join(lines))
                        lines.clear()
                out.write("".join(lines))
        out.write("# EOF\n")
    return expected


MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from generators.months import Month
from generators.see.prometheus import Client
from generators.see.tokens import tokens
month = Month(2026, 10)
client = Client({url!r})
began = time.perf_counter()
counts = tokens(client, month.start, month.end)
seconds = time.perf_counter() - began
print(json.dumps({{"counts": counts, "requests": client.requests, "notes": client.notes, "seconds": seconds,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(series: int, interval: int, scratch: Path) -> dict:
    folder = scratch / f"{series}x{interval}s"
    folder.mkdir()
    began = time.perf_counter()
    expected = write_counters(folder / "counters.om", series, interval)
    samples = series * (int((MONTH.end - MONTH.start).total_seconds()) // interval + 1)
    written = time.perf_counter() - began
    began = time.perf_counter()
    subprocess.run([token_sample.require("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=768h",
                    str(folder / "counters.om"), str(folder / "tsdb")], check=True, capture_output=True)
    (folder / "counters.om").unlink()
    backfilled = time.perf_counter() - began
    with token_sample.Prometheus(folder / "tsdb") as prometheus:
        done = subprocess.run([sys.executable, "-c", MEASURE.format(repo=str(REPO), url=prometheus.url)],
                              capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    exact = all(abs(result["counts"][m][k] - expected[m][k]) < 0.5 for m in expected for k in ("prompt", "generation"))
    return {"series": series, "interval_s": interval, "samples": samples, "requests": result["requests"],
            "peak_mib": round(result["peak_mib"], 1), "query_s": round(result["seconds"], 2), "exact": exact,
            "notes": len(result["notes"]), "write_s": round(written, 1), "backfill_s": round(backfilled, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "tokens.json"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="genai-finops-tokens-bench-") as scratch:
        for series, interval in CASES:
            rows.append(measure(series, interval, Path(scratch)))
            row = rows[-1]
            print(f"{row['series']:>5} series every {row['interval_s']:>2} s: {row['samples']:>11,} samples, "
                  f"{row['requests']:>3} requests, peak {row['peak_mib']:6.1f} MiB, query {row['query_s']:5.2f} s, "
                  f"counts {'exact' if row['exact'] else 'WRONG'} (generated in {row['write_s']} s, backfilled in {row['backfill_s']} s)",
                  flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"month": str(MONTH), "cases": rows}, indent=2) + "\n")
    worst = max(row["peak_mib"] for row in rows)
    requests = {row["requests"] for row in rows}
    print(f"peak {worst:.1f} MiB at most (target < {TARGET_MIB:.0f}); requests per case {sorted(requests)}")
    return 0 if worst < TARGET_MIB and all(row["exact"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
