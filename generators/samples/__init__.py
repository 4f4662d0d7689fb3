"""Generated data for the demo and the tests: FOCUS billing rows and vLLM token counters that
follow the manifests (schedules, spot, pools), so `make demo` shows back a realistic month.

- `focus_sample`: `python -m generators.samples.focus_sample manifests --month 2026-10 --out DIR`
- `token_sample`: backfills token counters into a real Prometheus and runs showback and report.
"""

from __future__ import annotations

import argparse


def sample_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The arguments both generators take: the manifests, the month and where to write."""
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["manifests"])
    parser.add_argument("--month", required=True, metavar="YYYY-MM")
    parser.add_argument("--out", required=True, metavar="DIR")
    return parser
