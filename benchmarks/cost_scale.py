"""Time `genai-finops cost` on 1,000 generated manifests, in a fresh process (issue 5: < 3 s).

Generates the manifests with benchmarks/generate.py, runs `python -m generators.cli cost DIR
--format json` as a new process (imports, loading, validation, pricing and output all count),
checks it succeeded, and prints the wall time against the target. A measurement, not a test.
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

TARGET_S = 3.0


def measure(count: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="genai-finops-cost-") as tmp:
        manifests = generate(Path(tmp) / "manifests", count)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "generators.cli", "cost", str(manifests), "--format", "json"],
                                  cwd=REPO, capture_output=True, text=True, env=dict(os.environ, CHECKPOINT_DISABLE="1"))
            times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                raise SystemExit(f"cost exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        teams = len(json.loads(proc.stdout)["teams"])
    return {"teams": teams, "runs": times, "best_s": min(times), "target_s": TARGET_S}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=1000, help="team manifests (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes to time (default 3; the best is reported)")
    args = parser.parse_args()
    result = measure(args.count, args.runs)
    verdict = "met" if result["best_s"] < TARGET_S else "MISSED"
    runs = ", ".join(f"{t:.2f}" for t in result["runs"])
    print(f"genai-finops cost, {result['teams']} teams, fresh process: best {result['best_s']:.2f} s (runs: {runs}) "
          f"-> {verdict} target < {TARGET_S:g} s")


if __name__ == "__main__":
    main()
