"""Time `genai-finops recommend --prometheus` end to end for 500 teams (issue 25).

Targets on this 2-core machine: under 20 s and 1 GB peak for 500 teams, a month of hourly FOCUS
rows (about 10 million, written by DuckDB as showback_scale.py writes them) and a Prometheus
holding every pool's and training job's hourly series (generators/samples/hourly_sample.py,
two samples an hour: rate() needs two); and a number of Prometheus requests that does not grow
with the team count: the same run at 50 teams must send as many. Requests are counted by
Prometheus itself (`prometheus_http_requests_total` on its /metrics, before and after), not by
the code under test. Each run is a fresh process (imports, loading, estimate, billing query,
Prometheus, recommendations, JSON), its peak RSS its own (DuckDB runs in process; Prometheus is
another process and not counted). A measurement, not a test: `python benchmarks/recommend_scale.py`.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import generate  # noqa: E402
from benchmarks.showback_scale import MONTH, write_focus  # noqa: E402
from generators import catalog, naming  # noqa: E402
from generators.manifest.loading import load_manifest_set  # noqa: E402
from generators.months import Month  # noqa: E402
from generators.samples import hourly_sample, token_sample  # noqa: E402

TARGET_S, TARGET_MIB = 20.0, 1024.0
SLOT = 1800


def plans(manifests: Path, seed: int = 5) -> tuple[list[hourly_sample.PoolPlan], list[hourly_sample.JobPlan], int]:
    """Every pool and job of the generated teams, busy by day and quiet by night; returns them and
    the number of series they make."""
    rng = random.Random(seed)
    month = Month.parse(MONTH)
    hours = int((month.end - month.start).total_seconds() // 3600)
    day = [8 <= h % 24 < 18 for h in range(hours)]
    pools, jobs, series = [], [], 0
    for loaded in load_manifest_set([str(manifests)]).teams:
        team = loaded.manifest
        for pool in team.inference:
            gpus = min(catalog.INSTANCE_TYPES[t].accelerators for t in pool.instance_types)
            peak = max(pool.desired_nodes, 1)
            nodes = [peak if d else max(pool.min_nodes, 1) for d in day]
            busy = [n * gpus * rng.uniform(0.2, 0.9) for n in nodes]
            pools.append(hourly_sample.PoolPlan(team.team, pool.name, pool.served_model_name or pool.model_id, gpus, nodes, busy,
                                                [b * 800 for b in busy], [rng.choice([0.0, 0.0, 2.0]) if d else 0.0 for d in day],
                                                gpus * rng.uniform(4096, 16384)))
            series += peak * (1 + 2 * gpus) + 3
        for job in team.training:
            gpus = catalog.INSTANCE_TYPES[job.instance_type].accelerators
            idle = rng.random() < 0.3
            share = [(0.02 if idle and h % 3 else 0.8) if day[h] else None for h in range(hours)]
            jobs.append(hourly_sample.JobPlan(team.team, [naming.training_instance(team.team, job.name, i) for i in range(job.count)], gpus,
                                              share, gpus * 8192.0))
            series += job.count * gpus * 2
    return pools, jobs, series


def api_requests(url: str) -> float:
    """The query API requests Prometheus has answered, from its own /metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("prometheus_http_requests_total{") and ('handler="/api/v1/query"' in line or 'handler="/api/v1/query_range"' in line))


def timed_recommend(manifests: Path, billing: Path, url: str) -> dict:
    probe = (
        "import resource, sys, contextlib, io\n"
        "from generators.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['recommend', sys.argv[1], '--billing', sys.argv[2], '--month', sys.argv[3], '--prometheus', sys.argv[4], '--format', 'json'])\n"
        "import json; found = json.loads(out.getvalue())\n"
        "print(code, len(found['recommendations']), found['total_monthly_saving_usd'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    before = api_requests(url)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", probe, str(manifests), str(billing), MONTH, url], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"recommend failed:\n{proc.stderr[-3000:]}")
    code, count, total, peak = proc.stdout.split()[-4:]
    if code != "0":
        raise SystemExit(f"recommend exited {code}:\n{proc.stderr[-3000:]}")
    return {"wall_s": wall, "peak_rss_mib": float(peak), "recommendations": int(count), "total_monthly_saving_usd": float(total),
            "prometheus_requests": api_requests(url) - before}


def case(root: Path, teams: int, resources: int, runs: int) -> dict:
    manifests = generate(root / "manifests", teams)
    started = time.perf_counter()
    rows = write_focus(root / "billing", teams, resources, 10)
    pools, jobs, series = plans(manifests)
    openmetrics = hourly_sample.write(root / "hourly.om", Month.parse(MONTH), pools, jobs, slot=SLOT)
    token_sample.backfill(openmetrics, root / "tsdb")
    openmetrics.unlink()
    written = time.perf_counter() - started
    with token_sample.Prometheus(root / "tsdb") as server:
        measured = [timed_recommend(manifests, root / "billing", server.url) for _ in range(runs)]
    best = min(measured, key=lambda r: r["wall_s"])
    return {"teams": teams, "rows": rows, "pools": len(pools), "jobs": len(jobs), "series": series, "written_s": written,
            "runs": measured, "best_wall_s": best["wall_s"], "peak_rss_mib": max(r["peak_rss_mib"] for r in measured),
            "prometheus_requests": best["prometheus_requests"], "recommendations": best["recommendations"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--teams", type=int, default=500)
    parser.add_argument("--small", type=int, default=50, help="the smaller run whose Prometheus requests must equal the large one's")
    parser.add_argument("--resources", type=int, default=27, help="billed resources per team (27: ~10M rows for 500 teams)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    for teams in (args.small, args.teams):
        with tempfile.TemporaryDirectory(prefix="genai-finops-recommend-") as tmp:
            results.append(case(Path(tmp), teams, args.resources, args.runs))
    small, large = results
    met_s, met_mib = large["best_wall_s"] < TARGET_S, large["peak_rss_mib"] < TARGET_MIB
    flat = small["prometheus_requests"] == large["prometheus_requests"]
    for r in results:
        print(f"recommend --prometheus, {r['teams']} teams: {r['rows']:,} FOCUS rows, {r['pools']} pools and {r['jobs']} jobs "
              f"({r['series']:,} series, data written in {r['written_s']:.0f} s)")
        print(f"  wall {r['best_wall_s']:.2f} s best of {len(r['runs'])}, peak RSS {r['peak_rss_mib']:.0f} MiB, "
              f"{r['prometheus_requests']:.0f} Prometheus requests, {r['recommendations']} recommendations, "
              f"{r['rows'] / r['best_wall_s']:,.0f} rows/s")
    print(f"targets at {large['teams']} teams: wall < {TARGET_S:g} s {'met' if met_s else 'MISSED'}; peak RSS < {TARGET_MIB:.0f} MiB "
          f"{'met' if met_mib else 'MISSED'}; Prometheus requests {small['prometheus_requests']:.0f} at {small['teams']} teams and "
          f"{large['prometheus_requests']:.0f} at {large['teams']}: {'flat' if flat else 'GROWING'}")
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "recommend.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
