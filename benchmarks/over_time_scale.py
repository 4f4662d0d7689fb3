"""Time `showback --months` over twelve months of hourly FOCUS data for 500 teams (issue 27).

Targets on this 2-core machine: the 12-month trend with daily series, forecast and anomalies
under 20 s and 2 GB peak, and at most 2x DuckDB's own floor for the same grouping (a sum grouped
by month and Team tag over the same files, in a fresh process). The data (about 10 million rows a
month, Parquet partitioned by billing period as AWS writes it, the last month half done so there
is a forecast) is written by DuckDB from `range()`, as showback_scale.py writes one month; one
team's instance runs away for a day, so there is an anomaly. Each run is a fresh process (imports,
loading, the checks of every row, the query, the arithmetic, the JSON). A measurement, not a test:
`python benchmarks/over_time_scale.py` (the data takes a few minutes to write).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import generate  # noqa: E402
from generators.environment import CACHE_DIR_ENV  # noqa: E402
from generators.months import Month  # noqa: E402

TARGET_S, TARGET_MIB, TARGET_RATIO = 20.0, 2048.0, 2.0
LAST = Month(2026, 10)
ANOMALY_TEAM, ANOMALY_DAY = 7, 9  # team-0007's resource 0 runs away on the 9th of the last month


def write_month(out: Path, month: Month, teams: int, resources: int, hours: int, files: int) -> None:
    import duckdb

    target = out / "data" / f"BILLING_PERIOD={month}"
    target.mkdir(parents=True)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    start = f"TIMESTAMPTZ '{month.start:%Y-%m-%d} 00:00:00+00'"
    runaway = f"(t = {ANOMALY_TEAM} AND r = 0 AND h // 24 = {ANOMALY_DAY - 1})" if month == LAST else "false"
    per_file = -(-teams // files)
    for part in range(files):
        first, last = part * per_file, min(teams, (part + 1) * per_file)
        cost = f"CASE WHEN {runaway} THEN 40.0 WHEN r % 3 = 2 THEN 0.08 * 200 / 730 ELSE 1.006 * (1 - (r % 2) * 0.55) * (1 + t % 7 * 0.01) END"
        connection.execute(f"""
            COPY (
                SELECT {start} AS BillingPeriodStart, {start} + INTERVAL 1 MONTH AS BillingPeriodEnd,
                       {start} + to_hours(h) AS ChargePeriodStart, {start} + to_hours(h + 1) AS ChargePeriodEnd,
                       'Usage' AS ChargeCategory, 'Usage-Based' AS ChargeFrequency, 'AWS' AS ProviderName,
                       'Amazon Elastic Compute Cloud' AS ServiceName, 'us-east-1' AS RegionId,
                       CASE WHEN r % 3 = 2 THEN 'vol-' ELSE 'i-' END || lpad(CAST(t * 1000 + r AS VARCHAR), 17, '0') AS ResourceId,
                       {cost} AS ListCost, {cost} AS BilledCost, {cost} AS EffectiveCost,
                       MAP {{'user:Team': 'team-' || lpad(CAST(t AS VARCHAR), 4, '0'), 'user:ModelID': 'model-' || CAST(t AS VARCHAR)}} AS Tags
                FROM range({first}, {last}) teams(t), range({resources}) resources(r), range({hours}) hours(h)
            ) TO '{target / f"focus-{part:05d}.snappy.parquet"}' (FORMAT parquet)
        """)
    connection.close()


def write_year(out: Path, teams: int, resources: int, files: int) -> tuple[int, list[Month]]:
    months = []
    month = Month(LAST.year - 1, LAST.month + 1) if LAST.month < 12 else Month(LAST.year, 1)
    while (month.year, month.month) <= (LAST.year, LAST.month):
        months.append(month)
        month = Month(month.year + month.month // 12, month.month % 12 + 1)
    rows = 0
    for month in months:
        hours = 16 * 24 if month == LAST else int((month.end - month.start).total_seconds() // 3600)
        write_month(out, month, teams, resources, hours, files)
        rows += teams * resources * hours
    return rows, months


FLOOR = ("SELECT date_trunc('month', ChargePeriodStart) AS m, Tags['user:Team'] AS team, sum(EffectiveCost) "
         "FROM read_parquet('{files}', hive_partitioning = false) GROUP BY 1, 2")


def floor_s(billing: Path) -> float:
    probe = ("import duckdb, sys, time; c = duckdb.connect(); c.execute(\"SET TimeZone = 'UTC'\"); t = time.perf_counter(); "
             "c.sql(sys.argv[1].format(files=sys.argv[2] + '/**/*.parquet')).fetchall(); print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", probe, FLOOR, str(billing)], check=True, capture_output=True, text=True)
    return float(proc.stdout.split()[-1])


def timed(manifests: Path, billing: Path, first: Month, cache: Path) -> dict:
    probe = (
        "import resource, sys, time, contextlib, io, json\n"
        "from generators.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['showback', sys.argv[1], '--billing', sys.argv[2], '--months', sys.argv[3], '--format', 'json'])\n"
        "doc = json.loads(out.getvalue())\n"
        "print(code, len(doc['anomalies']), len(doc['forecasts']), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    started = time.perf_counter()
    env = {**os.environ, CACHE_DIR_ENV: str(cache)}
    proc = subprocess.run([sys.executable, "-c", probe, str(manifests), str(billing), f"{first}..{LAST}"], cwd=REPO, capture_output=True, text=True,
                          env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"showback --months failed:\n{proc.stderr[-3000:]}")
    code, anomalies, forecasts, peak = proc.stdout.split()[-4:]
    if code != "0":
        raise SystemExit(f"showback exited {code}:\n{proc.stderr[-3000:]}")
    return {"wall_s": wall, "peak_rss_mib": float(peak), "anomalies": int(anomalies), "forecasts": int(forecasts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--teams", type=int, default=500)
    parser.add_argument("--resources", type=int, default=27, help="billed resources per team (27: ~10M rows a month for 500 teams)")
    parser.add_argument("--files", type=int, default=10, help="Parquet files per billing period")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genai-finops-over-time-") as tmp:
        manifests = generate(Path(tmp) / "manifests", args.teams)
        started = time.perf_counter()
        rows, months = write_year(Path(tmp) / "billing", args.teams, args.resources, args.files)
        written = time.perf_counter() - started
        # Cold: every file read (a fresh cache each run). Warm: the month in progress rewritten by
        # AWS since the last run (its files touched), the eleven before kept from the first run.
        cold = [timed(manifests, Path(tmp) / "billing", months[0], Path(tmp) / f"cold-{n}") for n in range(args.runs)]
        timed(manifests, Path(tmp) / "billing", months[0], Path(tmp) / "warm")
        warm = []
        for _ in range(args.runs):
            for path in (Path(tmp) / "billing" / "data" / f"BILLING_PERIOD={LAST}").glob("*.parquet"):
                os.utime(path)
            warm.append(timed(manifests, Path(tmp) / "billing", months[0], Path(tmp) / "warm"))
        floors = [floor_s(Path(tmp) / "billing") for _ in range(args.runs)]
    best, best_warm = min(cold, key=lambda r: r["wall_s"]), min(warm, key=lambda r: r["wall_s"])
    floor = min(floors)
    runs = cold + warm
    result = {"teams": args.teams, "rows": rows, "months": len(months), "write_s": written, "cold": cold, "warm": warm,
              "best_cold_s": best["wall_s"], "best_warm_s": best_warm["wall_s"],
              "peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "rows_per_s": rows / best["wall_s"], "floor_s": floor,
              "ratio_to_floor": best["wall_s"] / floor, "targets": {"wall_s": TARGET_S, "peak_rss_mib": TARGET_MIB, "ratio": TARGET_RATIO}}
    print(f"showback --months, {args.teams} teams, {len(months)} months, {rows:,} hourly FOCUS rows (written in {written:.0f} s)")
    print(f"  cold      {best['wall_s']:.2f} s best of {args.runs} fresh processes, every file read (target < {TARGET_S:g} s): "
          f"{'met' if best['wall_s'] < TARGET_S else 'MISSED'}")
    print(f"  warm      {best_warm['wall_s']:.2f} s best of {args.runs}, the month in progress read again, eleven kept "
          f"(target < {TARGET_S:g} s): {'met' if best_warm['wall_s'] < TARGET_S else 'MISSED'}")
    print(f"  peak RSS  {result['peak_rss_mib']:.0f} MiB (target < {TARGET_MIB:.0f} MiB): {'met' if result['peak_rss_mib'] < TARGET_MIB else 'MISSED'}")
    print(f"  rate      {result['rows_per_s']:,.0f} rows/s cold; {best['anomalies']} anomalies, {best['forecasts']} forecasts")
    print(f"  ratio     cold {result['ratio_to_floor']:.2f}x DuckDB's sum grouped by month and Team tag, {floor:.2f} s in a fresh process "
          f"(target <= {TARGET_RATIO:g}x): {'met' if result['ratio_to_floor'] <= TARGET_RATIO else 'MISSED'}")
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "over_time.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
