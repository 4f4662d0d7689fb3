"""Months of hourly FOCUS rows with a known trend, a weekly rhythm, a credit and one planted
anomaly: the data `showback --months` is tested and demonstrated on.

Each team of the manifests spends, per UTC day, `daily_spend(team_index, day)`: its base, times
the weekday's factor (weekends quiet), times a steady growth per day since the first day, spread
evenly over RESOURCES instances and the 24 hours, with a day's noise of up to NOISE. On ANOMALY_DAY the team ANOMALY_TEAM also runs
ANOMALY_RESOURCE for ANOMALY_USD that day; on CREDIT_DAY the first team gets a credit of
CREDIT_USD (ChargeCategory Credit: a one-off the forecast must not run at a rate). Rows stop at
`until` (exclusive), so the last month may be in progress. One Parquet file per billing period,
in AWS's layout (focus_sample.write).

    python -m generators.samples.trend_sample manifests --from 2026-08 --until 2026-10-16 --out cdktf.out/trend
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from pathlib import Path

from generators.model import ManifestSet
from generators.months import Month
from generators.samples import focus_sample

FIRST_DAY = dt.date(2026, 8, 1)  # growth counts from here
BASES = (180.0, 420.0, 95.0, 260.0)  # $ a day, by team index (cycled)
WEEKDAY = (1.0, 1.05, 1.1, 1.05, 0.95, 0.35, 0.3)  # Monday .. Sunday
GROWTH = 0.006  # a day, on the base: +18% a month
NOISE = 0.08
RESOURCES = 3
ANOMALY_TEAM_INDEX, ANOMALY_DAY, ANOMALY_USD = 1, dt.date(2026, 10, 9), 1500.0
ANOMALY_RESOURCE = "i-0a11ce0ff1ce0b0b5"
CREDIT_DAY, CREDIT_USD = dt.date(2026, 10, 3), -300.0


def daily_spend(team_index: int, day: dt.date) -> float:
    """The team's usage that day (without the planted anomaly and credit): the trend, the
    weekday and a day's noise of up to NOISE either way (seeded by team and day)."""
    noise = 1 + NOISE * random.Random(team_index * 1_000_003 + day.toordinal()).uniform(-1, 1)
    return BASES[team_index % len(BASES)] * WEEKDAY[day.weekday()] * (1 + GROWTH * (day - FIRST_DAY).days) * noise


def day_total(team_index: int, day: dt.date) -> float:
    """Everything the team is billed that day: usage, the anomaly, the credit."""
    extra = ANOMALY_USD if (team_index, day) == (ANOMALY_TEAM_INDEX, ANOMALY_DAY) else 0.0
    credit = CREDIT_USD if (team_index, day) == (0, CREDIT_DAY) else 0.0
    return daily_spend(team_index, day) + extra + credit


def write(manifests: ManifestSet, out: Path, first: Month, until: dt.datetime) -> list[Path]:
    """The rows from `first` to `until` (exclusive, UTC), one file per billing period."""
    teams = [loaded.manifest for loaded in manifests.teams]
    written = []
    month = first
    while month.start < until:
        rows = focus_sample._Rows(month)
        hour = month.start
        while hour < min(month.end, until):
            day = hour.date()
            for index, team in enumerate(teams):
                tags = focus_sample._tags(team, team.tags.get("ModelID", "shared"))
                for number in range(RESOURCES):
                    resource = focus_sample.Resource(team.region, f"i-{index:02d}{number:015d}", f"{team.team}-{number}", "Instance", "sku-trend", tags)
                    usd = daily_spend(index, day) / 24 / RESOURCES
                    rows.add(hour, resource, focus_sample.Charge("Usage", "generated usage", 1.0, "Hours", usd, usd, usd))
                if (index, day) == (ANOMALY_TEAM_INDEX, ANOMALY_DAY):
                    resource = focus_sample.Resource(team.region, ANOMALY_RESOURCE, f"{team.team}-runaway", "Instance", "sku-trend", tags)
                    usd = ANOMALY_USD / 24
                    rows.add(hour, resource, focus_sample.Charge("Usage", "a runaway instance", 1.0, "Hours", usd, usd, usd))
                if (index, day, hour.hour) == (0, CREDIT_DAY, 12):
                    resource = focus_sample.Resource(team.region, "", "", "", "", tags)
                    rows.add(hour, resource, focus_sample.Charge("Credit", "a service credit", 1.0, "Credit", CREDIT_USD, CREDIT_USD, CREDIT_USD))
            hour += dt.timedelta(hours=1)
        written.append(focus_sample.write(out, rows.out))
        month = Month(month.year + month.month // 12, month.month % 12 + 1)
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    from generators.manifest.loading import load_manifest_set

    parser = argparse.ArgumentParser(prog="python -m generators.samples.trend_sample", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["manifests"])
    parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM")
    parser.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="the first day without rows")
    parser.add_argument("--out", required=True, metavar="DIR")
    args = parser.parse_args(argv)
    until = dt.datetime.combine(dt.date.fromisoformat(args.until), dt.time(), dt.timezone.utc)
    files = write(load_manifest_set(args.paths), Path(args.out), Month.parse(args.first), until)
    print(json.dumps([str(f) for f in files]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
