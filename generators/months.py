"""Months and schedule hours: the calendar every pillar uses (the estimate, validation, showback).

Schedule hours are real elapsed hours in a concrete calendar month in the team's IANA time zone
(a window over a daylight-saving change is an hour shorter or longer that day); the longest month
a schedule allows bounds what validation accepts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from generators.errors import UsageError
from generators.model import WEEKDAYS, Schedule, hour_minute

UTC = dt.timezone.utc
# Billing data exists from AWS's first bills on; far-future years only overflow date arithmetic.
MONTH_YEARS = (2000, 2200)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            parsed = dt.datetime.strptime(text, "%Y-%m")
        except ValueError:
            raise UsageError(f"--month {text!r}: expected YYYY-MM, e.g. 2026-03") from None
        if not MONTH_YEARS[0] <= parsed.year <= MONTH_YEARS[1]:
            raise UsageError(f"--month {text!r}: the year must be from {MONTH_YEARS[0]} to {MONTH_YEARS[1]}")
        return cls(parsed.year, parsed.month)

    @classmethod
    def current(cls) -> Month:
        now = dt.datetime.now(UTC)
        return cls(now.year, now.month)

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        """The month's first instant, UTC (billing periods and FOCUS charge periods are UTC)."""
        return dt.datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=calendar.monthrange(self.year, self.month)[1])


# --------------------------------------------------------------------------- schedule hours


def schedule_hours(schedule: Schedule, month: Month) -> float:
    return _schedule_hours(schedule.timezone, tuple(schedule.weekdays), schedule.start, schedule.stop, month.year, month.month)


@lru_cache(maxsize=None)
def _schedule_hours(timezone: str, weekdays: tuple[str, ...], start: str, stop: str, year: int, month: int) -> float:
    zone = ZoneInfo(timezone)
    days = {WEEKDAYS.index(day) for day in weekdays}
    start_t, stop_t = _hhmm(start), _hhmm(stop)
    seconds = 0.0
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        date = dt.date(year, month, day)
        if date.weekday() not in days:
            continue
        # Aware datetimes in one zone subtract as wall-clock times; in UTC they give the
        # real elapsed time, which is what the instances run (and are billed) for.
        opened = dt.datetime.combine(date, start_t, zone).astimezone(UTC)
        closed = dt.datetime.combine(date, stop_t, zone).astimezone(UTC)
        seconds += max(0.0, (closed - opened).total_seconds())
    return seconds / 3600


def longest_month_hours(schedule: Schedule) -> float:
    """The most hours the schedule allows in any month: the most days its weekdays can fall on
    in a 31-day month (five of three weekdays), times its daily hours, plus one hour in a zone
    whose clocks go back once a year (a window over the change is an hour longer that day)."""
    days = {WEEKDAYS.index(day) for day in schedule.weekdays}
    most_days = max(sum(1 for d in range(31) if (first + d) % 7 in days) for first in range(7))
    zone = ZoneInfo(schedule.timezone)
    year = dt.datetime.now(UTC).year
    offsets = {dt.datetime(year, month, 1, tzinfo=zone).utcoffset() for month in range(1, 13)}
    return most_days * schedule.daily_hours + (1.0 if len(offsets) > 1 else 0.0)


def _hhmm(text: str) -> dt.time:
    return dt.time(*hour_minute(text))
