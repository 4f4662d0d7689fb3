"""Issue 17's pull-request path at scale: one changed manifest of N (default 500).

In one run, on generated manifests (benchmarks/generate.py), each step a fresh CLI process as CI
runs it:
1. full run from scratch: validate, cost --format json (saved as the base), synth, scan (empty
   scan cache);
2. one team's budget changed, then the PR gate: validate, cost --compare base.json, synth
   (reusing the unchanged stacks), scan (reusing their checkov results);
3. the jsii start-up on its own (import cdktf and both providers in a fresh process): the floor
   of any synth that builds a stack.
Prints the times, their sums and the ratio, and checks the incremental output equals a full
synth from scratch. Target (issue 17, 2-core machine): step 2 under 25 s.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import generate  # noqa: E402

TARGET_S = 25.0
CLI = [sys.executable, "-m", "generators.cli"]


def timed(args: list[str], ok: tuple[int, ...] = (0,), stdout: Path | None = None) -> float:
    """Seconds one CLI process took; with `stdout`, what it printed is kept there."""
    env = dict(os.environ, CHECKPOINT_DISABLE="1")
    started = time.perf_counter()
    proc = subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(args[:1])} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    if stdout is not None:
        stdout.write_text(proc.stdout, encoding="utf-8")
    return elapsed


def jsii_startup() -> float:
    code = "import cdktf, cdktf_cdktf_provider_aws.provider, cdktf_cdktf_provider_kubernetes.provider"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True, env=dict(os.environ, CHECKPOINT_DISABLE="1"))
    return time.perf_counter() - started


def same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all(filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


def run(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="genai-finops-incremental-") as tmp:
        root = Path(tmp)
        manifests = generate(root / "manifests", count)
        out, cache, base = root / "pr" / "cdktf.out", root / "scan-cache", root / "base.json"
        full = {
            "validate": timed(["validate", str(manifests)]),
            # Its JSON is the base the pull request's cost --compare reads.
            "cost": timed(["cost", str(manifests), "--format", "json"], ok=(0, 1), stdout=base),
            "synth": timed(["synth", str(manifests), "--out", str(out), "--quiet"]),
            "scan": timed(["scan", "--out", str(out), "--manifests", str(manifests), "--format", "json", "--cache-dir", str(cache)], ok=(0, 1)),
        }

        changed = sorted((manifests / "teams").glob("*.yaml"))[count // 2]
        text = changed.read_text(encoding="utf-8")
        changed.write_text(re.sub(r"monthly_usd: (\d+)", lambda m: f"monthly_usd: {int(m[1]) + 100}", text, count=1), encoding="utf-8")
        incremental = {
            "validate": timed(["validate", str(manifests)]),
            "cost --compare": timed(["cost", str(manifests), "--compare", str(base), "--format", "markdown"], ok=(0, 1)),
            "synth": timed(["synth", str(manifests), "--out", str(out), "--quiet"]),
            "scan": timed(["scan", "--out", str(out), "--manifests", str(manifests), "--format", "json", "--cache-dir", str(cache)], ok=(0, 1)),
        }
        scratch = root / "scratch" / "cdktf.out"
        timed(["synth", str(manifests), "--out", str(scratch), "--quiet", "--no-cache"])
        identical = same_tree(out, scratch)
        startup = jsii_startup()
    return {
        "teams": count,
        "changed": changed.name,
        "full_s": full,
        "incremental_s": incremental,
        "full_total_s": sum(full.values()),
        "incremental_total_s": sum(incremental.values()),
        "jsii_startup_s": startup,
        "incremental_equals_full_synth": identical,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=500, help="team manifests (default 500)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "incremental.json")
    args = parser.parse_args()
    result = run(args.count)
    print(f"{args.count} teams, one changed ({result['changed']}); seconds per step, each a fresh process")
    print(f"{'step':<16}{'full run':>10}{'one changed':>13}")
    for (step, full), (step2, inc) in zip(result["full_s"].items(), result["incremental_s"].items()):
        print(f"{step2:<16}{full:>10.2f}{inc:>13.2f}")
    ratio = result["full_total_s"] / result["incremental_total_s"]
    print(f"{'total':<16}{result['full_total_s']:>10.2f}{result['incremental_total_s']:>13.2f}   ratio {ratio:.1f}x")
    print(f"jsii start-up alone: {result['jsii_startup_s']:.2f} s")
    print(f"incremental synth equals a synth from scratch: {result['incremental_equals_full_synth']}")
    verdict = "met" if result["incremental_total_s"] < TARGET_S else "MISSED"
    print(f"target: one changed of {args.count} under {TARGET_S:.0f} s: {verdict}")
    result["ratio"] = ratio
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
