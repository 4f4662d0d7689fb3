"""`genai-finops report`: one self-contained HTML file for people who would rather look than read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generators.commands._common import add_billing_arguments, add_manifest_arguments, billing_sources
from generators.files import write_atomically
from generators.model import GATES

NAME = "report"
# The months the report's "Over time" section shows, ending with --month.
REPORT_MONTHS = 3
HELP = "write one self-contained HTML report: budgets, estimates, actual spend, models, savings and leaks"
DESCRIPTION = """\
Write one HTML file that needs nothing else (no script, font or style from anywhere: it opens
from disk, an e-mail attachment or a CI artifact): per team the budget, the estimate's low,
expected and high and, with --billing, the actual spend and forecast, as bars against a budget
line, with the gate's verdict; cost by model and $ per million tokens estimated and, with
--prometheus, actual; the savings schedules and spot bring and the off-schedule and untagged
spend; the figures behind every chart in a table; and the sources."""
EPILOG = """\
examples:
  genai-finops report --html report.html                                   estimate only
  genai-finops report --html report.html --csv tables --billing cur/ --month 2026-10   and every table as CSV
  genai-finops report --html report.html --billing exports/focus --month 2026-10
  genai-finops report --html report.html --billing s3://acme-cur/focus --prometheus http://prometheus:9090

exit codes: 0 written, 1 invalid manifests or billing data, 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument("--html", required=True, metavar="FILE", help="where to write the report (replaced atomically)")
    parser.add_argument("--csv", metavar="DIR", help="also write every table as DIR/<table>.csv (raw figures, for spreadsheets)")
    parser.add_argument("--gate", choices=GATES, help="the figure the verdict compares (default: org.yaml cost_gate)")
    add_billing_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from generators.manifest.loading import load_manifest_set
    from generators.months import Month
    from generators.plan.estimate import estimate
    from generators.plan.pricing import DEFAULT_PATH, load_catalog
    from generators.see import report
    from generators.see.measure import measure_and_hours

    month = Month.parse(args.month) if args.month else Month.current()
    sources = billing_sources(args)
    manifests = load_manifest_set(args.paths)
    catalog = load_catalog(DEFAULT_PATH)
    est = estimate(manifests, catalog, month, args.gate)
    spent, found, over = None, None, None
    if sources.billing or sources.engine == "athena":
        from generators.act.recommend import from_measured
        from generators.see.measure import measure_over_time
        from generators.see.over_time import months_between

        spent, hours = measure_and_hours(manifests, month, est, sources, profile_tz=manifests.org.recommend.timezone)
        found = from_measured(manifests, catalog, month, spent, hours)
        first = Month(month.year + (month.month - REPORT_MONTHS) // 12, (month.month - REPORT_MONTHS) % 12 + 1)
        over = measure_over_time(manifests, months_between(first, month), sources).as_json()
    data = report.ReportData(
        month=str(month), generated=report.now(), prices=est.prices_path, gate=est.gate, estimate=est,
        showback=spent.as_json() if spent else None, billing_sources=spent.sources if spent else [],
        recommendations=found.as_json() if found else None, over_time=over,
    )
    tables = report.tables(data)
    write_atomically(Path(args.html), report.render(data, tables))
    print(f"wrote {args.html}", file=sys.stderr)
    if args.csv:
        Path(args.csv).mkdir(parents=True, exist_ok=True)
        for table in tables:
            write_atomically(Path(args.csv) / f"{table.name}.csv", table.csv())
        print(f"wrote {', '.join(f'{table.name}.csv' for table in tables)} to {args.csv}", file=sys.stderr)
    return 0
