"""`genai-finops showback` over 10,000 small CSV files (issue 22: it took 77 s when every file
was described and sniffed on its own). The generated October of the shipped examples is split
into 10,000 CSV files of one header; a fresh process runs showback over the folder, and the
total must equal a run over the same rows in one file. A measurement, not a test:
`python benchmarks/many_files.py`.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generators.manifest.loading import load_manifest_set  # noqa: E402
from generators.months import Month  # noqa: E402
from generators.plan.pricing import load_catalog  # noqa: E402
from generators.samples import focus_sample  # noqa: E402

FILES = 10_000


def showback(source: Path) -> tuple[float, float]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "generators.cli", "showback", "--billing", str(source), "--month", "2026-10", "--format", "json"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    return time.perf_counter() - began, json.loads(done.stdout)["total_usd"]


def main() -> int:
    rows = focus_sample.rows(load_manifest_set([str(REPO / "manifests")]), load_catalog(), Month(2026, 10))
    with tempfile.TemporaryDirectory(prefix="genai-finops-many-") as scratch:
        folder = Path(scratch) / "many"
        folder.mkdir()
        per_file = -(-len(rows) // FILES)
        for index in range(FILES):
            with open(folder / f"part-{index:05d}.csv", "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(focus_sample.COLUMNS)
                writer.writerows(rows[index * per_file:(index + 1) * per_file])
        single = Path(scratch) / "one.csv"
        with open(single, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(focus_sample.COLUMNS)
            writer.writerows(rows)
        many_s, many_total = showback(folder)
        one_s, one_total = showback(single)
    print(f"{len(rows):,} rows in {FILES:,} CSV files: {many_s:.2f} s (one file: {one_s:.2f} s); totals {'equal' if abs(many_total - one_total) < 0.01 else 'DIFFER'}")
    return 0 if abs(many_total - one_total) < 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
