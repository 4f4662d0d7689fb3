"""`make bench`: validate, cost, synth and scan for N generated teams, in one run.

For each N (default 10, 100, 500) it generates N team manifests, then runs each phase in a
fresh process (benchmarks/measure.py) and records wall time and peak memory. Synth is split
into the jsii start-up and the per-stack time. Prints a table and writes JSON
(benchmarks/results/scale.json). Figures are measurements on this machine, not assertions:
targets are checked here and reported, never in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import generate  # noqa: E402

# Issue 7's targets on a 2-core machine.
TARGETS = {
    "validate+cost_500_s": 2.0,
    "synth_500_s": 120.0,
    "synth_500_peak_mib": 2048.0,
    "scan_500_s": 60.0,
}
PHASES = ("validate", "cost", "synth", "scan")


def measure(phase: str, manifests: Path, out: Path) -> dict:
    env = dict(os.environ, CHECKPOINT_DISABLE="1")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "measure.py"), phase, str(manifests), str(out)],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=1800,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"{phase} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - started
    if result["exit_code"] != 0:
        raise SystemExit(f"{phase} exited {result['exit_code']}:\n{proc.stderr[-3000:]}")
    return result


def run(sizes: list[int], phases: tuple[str, ...]) -> dict:
    rows = []
    with tempfile.TemporaryDirectory(prefix="genai-finops-bench-") as tmp:
        for n in sizes:
            manifests = generate(Path(tmp) / f"manifests-{n}", n)
            out = Path(tmp) / f"out-{n}"
            row: dict = {"teams": n, "stacks": n + 1}
            for phase in phases:
                print(f"  N={n}: {phase} ...", file=sys.stderr, flush=True)
                row[phase] = measure(phase, manifests, out)
            if "synth" in row:
                synth = row["synth"]
                synth["per_stack_s"] = (synth["wall_s"] - synth["jsii_startup_s"]) / row["stacks"]
            rows.append(row)
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "targets": TARGETS,
        "rows": rows,
    }


def table(report: dict) -> str:
    header = f"{'teams':>5} | {'phase':<8} | {'wall s':>8} | {'process s':>9} | {'peak MiB':>8} | {'child MiB':>9} | notes"
    lines = [header, "-" * len(header)]
    for row in report["rows"]:
        for phase in PHASES:
            if phase not in row:
                continue
            m = row[phase]
            notes = ""
            if phase == "synth":
                notes = f"jsii start-up {m['jsii_startup_s']:.2f} s, {m['per_stack_s'] * 1000:.0f} ms/stack"
            lines.append(
                f"{row['teams']:>5} | {phase:<8} | {m['wall_s']:>8.2f} | {m['process_wall_s']:>9.2f} | "
                f"{m['peak_rss_mib']:>8.0f} | {m['peak_child_rss_mib']:>9.0f} | {notes}"
            )
    return "\n".join(lines)


def verdicts(report: dict) -> list[str]:
    row = next((r for r in report["rows"] if r["teams"] == 500), None)
    if row is None:
        return []
    out = []

    def check(label: str, value: float, target: float, unit: str) -> None:
        out.append(f"{'met   ' if value <= target else 'MISSED'} {label}: {value:.2f} {unit} (target < {target:g} {unit})")

    if "validate" in row and "cost" in row:
        check("validate + cost, 500 teams (process wall)", row["validate"]["process_wall_s"] + row["cost"]["process_wall_s"], TARGETS["validate+cost_500_s"], "s")
    if "synth" in row:
        check("synth, 500 teams (process wall)", row["synth"]["process_wall_s"], TARGETS["synth_500_s"], "s")
        peak = row["synth"]["peak_rss_mib"] + row["synth"]["peak_child_rss_mib"]
        check("synth, 500 teams, peak memory (python + node)", peak, TARGETS["synth_500_peak_mib"], "MiB")
    if "scan" in row:
        check("scan, 500 stacks (process wall)", row["scan"]["process_wall_s"], TARGETS["scan_500_s"], "s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500], help="team counts (default: 10 100 500)")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "scale.json")
    args = parser.parse_args()
    report = run(args.sizes, tuple(args.phases))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(table(report))
    for line in verdicts(report):
        print(line)
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
