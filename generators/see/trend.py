"""Spend over time, from per-team daily sums: the forecast of a month in progress and the days whose
spend jumped (pure arithmetic; see/over_time.py reads the sums from the billing data).

Forecast (a month in progress). A flat run rate (spend so far / hours so far x the month's hours)
is thrown off by a one-off charge, a quiet weekend or a trend. Here:
- one-off charges (purchases, credits, adjustments: FOCUS ChargeFrequency One-Time or
  ChargeCategory Credit/Adjustment) are counted once, in the actual, never run at a rate; so
  are the anomalous days' (they count in the actual and are left out of the rate);
- each weekday's factor is its mean ratio to the trend line over the recent complete days (up
  to HISTORY_DAYS, the previous month's included when the data holds them), so a weekend is
  forecast as a weekend;
- on the days divided by their weekday factor, a least-squares line over the last FIT_DAYS
  complete days gives the trend (factors and line are refined together until the factors settle);
  each remaining day is the line there times its weekday factor (never below zero);
- the range: every fitted day's ratio of actual to line; the remaining days at the smallest and
  the largest ratio give the low and the high.
Anomalies. A day is an anomaly when its spend exceeds the median of the team's previous
BASELINE_DAYS days by more than both MAD_FACTOR scaled MADs (1.4826 x the median absolute
deviation: the MAD's consistency constant for normal data) and the org's
anomalies.alert_threshold_usd. It needs MIN_BASELINE_DAYS of history. The resources named are
those whose spend that day rose most over their own median of the same days.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

HISTORY_DAYS = 28
FIT_DAYS = 14
BASELINE_DAYS = 14
MIN_BASELINE_DAYS = 7
MAD_FACTOR = 3.0
FIT_ROUNDS = 50  # at most; it stops when the factors settle
MAD_SCALE = 1.4826
TOP_DRIVERS = 3

Day = dt.date


@dataclass(frozen=True)
class Forecast:
    actual: float
    expected: float
    low: float
    high: float
    method: str
    # each remaining day's running total: (day, expected, low, high)
    path: tuple[tuple[Day, float, float, float], ...] = ()


def forecast(days: dict[Day, tuple[float, float]], month_days: list[Day], complete_through: Day | None,
             unusual: frozenset[Day] = frozenset()) -> Forecast:
    """The month's total from its daily (spend, one-off) sums; `complete_through` is the last
    day the data covers whole (None: no complete day). A complete month is its actual. The
    `unusual` days (anomalies) count in the actual but never shape the rate."""
    actual = sum(cost for day, (cost, _) in days.items() if day in set(month_days))
    remaining = [d for d in month_days if complete_through is None or d > complete_through]
    if not remaining:
        return Forecast(actual, actual, actual, actual, "complete month: the actual")
    history = sorted(d for d in days if complete_through is not None and d <= complete_through and d not in unusual)[-HISTORY_DAYS:]
    usage = {d: days[d][0] - days[d][1] for d in history}
    if len(history) < 2:
        return Forecast(actual, actual, actual, actual, "no complete day yet: the actual so far")
    # Weekday factors and trend depend on each other (a rising month makes its late weekdays
    # look busier): start flat, then alternate: the line through the days divided by their
    # factors, the factors as each weekday's mean ratio to that line.
    factor = dict.fromkeys(range(7), 1.0)
    fitted = history[-FIT_DAYS:]
    origin = history[0]
    for _ in range(FIT_ROUNDS):
        before = factor
        xs = [(d - origin).days for d in fitted]
        ys = [usage[d] / factor[d.weekday()] if factor[d.weekday()] > 0 else usage[d] for d in fitted]
        slope, intercept = _line(xs, ys)
        base = {d: intercept + slope * (d - origin).days for d in history}
        ratios_by_day = {w: [usage[d] / base[d] for d in history if d.weekday() == w and base[d] > 0] for w in range(7)}
        raw = {w: statistics.fmean(r) if r else 1.0 for w, r in ratios_by_day.items()}
        mean = statistics.fmean(raw.values())
        factor = {w: value / mean if mean > 0 else 1.0 for w, value in raw.items()}
        if max(abs(factor[w] - before[w]) for w in range(7)) < 1e-9:
            break
    xs = [(d - origin).days for d in fitted]
    ys = [usage[d] / factor[d.weekday()] if factor[d.weekday()] > 0 else usage[d] for d in fitted]
    slope, intercept = _line(xs, ys)

    def line(day: Day) -> float:
        return max(intercept + slope * (day - origin).days, 0.0)

    ratios = [y / line(d) for d, y in zip(fitted, ys) if line(d) > 0] or [1.0]
    rest = [line(d) * factor[d.weekday()] for d in remaining]
    expected = actual + sum(rest)
    method = (f"weekday-aware trend over the last {len(fitted)} complete days ({len(history)} for the weekday factors), "
              "one-off charges counted once")
    path, running = [], 0.0
    for day, usd in zip(remaining, rest):
        running += usd
        path.append((day, actual + running, actual + running * min(ratios), actual + running * max(ratios)))
    return Forecast(actual, expected, actual + sum(rest) * min(ratios), actual + sum(rest) * max(ratios), method, tuple(path))


def _line(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """Least squares y = intercept + slope x (flat through the mean for one distinct x)."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0, mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread
    return slope, mean_y - slope * mean_x


@dataclass(frozen=True)
class Anomaly:
    team: str
    day: Day
    spend: float
    baseline: float  # the median of the previous BASELINE_DAYS days
    threshold: float  # what the spend had to exceed: baseline + max(MAD_FACTOR x scaled MAD, alert threshold)
    drivers: tuple[tuple[str, float, float], ...]  # (resource, spend that day, increase over its own median)

    @property
    def impact(self) -> float:
        return self.spend - self.baseline

    def as_json(self) -> dict:
        return {"team": self.team, "date": self.day.isoformat(), "spend_usd": round(self.spend, 2), "baseline_usd": round(self.baseline, 2),
                "impact_usd": round(self.impact, 2), "threshold_usd": round(self.threshold, 2),
                "resources": [{"resource_id": r, "spend_usd": round(s, 2), "increase_usd": round(i, 2)} for r, s, i in self.drivers]}


def is_anomaly(spend: float, previous: list[float], alert_threshold: float) -> tuple[bool, float, float]:
    """(anomaly?, baseline median, the spend it had to exceed) for one day against the days
    before it (oldest first; the last BASELINE_DAYS count)."""
    window = previous[-BASELINE_DAYS:]
    if len(window) < MIN_BASELINE_DAYS:
        return False, 0.0, float("inf")
    median = statistics.median(window)
    if spend <= median + alert_threshold:  # under the dollar floor: no MAD can make it an anomaly
        return False, median, median + alert_threshold
    mad = statistics.median(abs(v - median) for v in window) * MAD_SCALE
    bar = median + max(MAD_FACTOR * mad, alert_threshold)
    return spend > bar, median, bar


def anomalies(team: str, days: dict[Day, float], shown: list[Day], alert_threshold: float) -> list[Anomaly]:
    """The team's anomalous days among `shown` (their drivers: `drivers`, once the resources'
    spend of those days is read)."""
    found = []
    # the days before each day, oldest first, by position (a scan of every day per day was
    # quadratic: 17 s for 100 teams over a year, benchmarks/over_time_scale.py)
    ordered = sorted(days)
    values = [days[d] for d in ordered]
    position = {d: i for i, d in enumerate(ordered)}
    span = dt.timedelta(days=BASELINE_DAYS)
    for day in shown:
        i = position.get(day)
        if i is None:
            continue
        first, oldest = i, day - span
        while first > 0 and ordered[first - 1] >= oldest:
            first -= 1
        previous = values[first:i]
        hit, baseline, bar = is_anomaly(days[day], previous, alert_threshold)
        if hit:
            found.append(Anomaly(team, day, days[day], baseline, bar, ()))
    return found


def drivers(day: Day, resources: dict[str, dict[Day, float]]) -> tuple[tuple[str, float, float], ...]:
    """The resources whose spend on `day` rose most over their own median of the BASELINE_DAYS
    before it: (resource, spend that day, increase), largest first, TOP_DRIVERS of them."""
    window = [day - dt.timedelta(days=k) for k in range(1, BASELINE_DAYS + 1)]
    rises = []
    for resource, spend in resources.items():
        own = statistics.median([spend.get(d, 0.0) for d in window])
        rises.append((resource, spend.get(day, 0.0), spend.get(day, 0.0) - own))
    return tuple(sorted((r for r in rises if r[2] > 0), key=lambda r: (-r[2], r[0]))[:TOP_DRIVERS])
