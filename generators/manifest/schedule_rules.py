"""The rules of a team's schedule: an IANA time zone (with a hint for "UTC+2" and near misses), a
window that does not cross midnight, and training hours that fit in the schedule's longest month."""

from __future__ import annotations

import difflib
import re
import zoneinfo
from functools import lru_cache

from generators.errors import Problem
from generators.model import TeamManifest
from generators.yaml_source import SourceDocument


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_schedule(doc: SourceDocument, manifest: TeamManifest) -> list[Problem]:
    if manifest.schedule is None:
        return []
    if manifest.environment == "prod":
        # manifest v1, "Schedules": off-hours never stops prod resources, so a schedule would
        # promise savings that never happen (and scale a prod Deployment to zero at night).
        return [
            doc.problem(
                ("schedule",),
                "a prod manifest may not have a schedule: off-hours never stops prod resources; remove schedule or use dev or staging",
            )
        ]
    wrong = check_timezone(doc, ("schedule", "timezone"), manifest.schedule.timezone)
    return wrong or _hours_within_schedule(doc, manifest)


def check_timezone(doc: SourceDocument, field: tuple, name: str) -> list[Problem]:
    """An IANA time zone name, with a hint that keeps the offset the author meant."""
    return [] if name in _timezones() else [doc.problem(field, f"'{name}' is not an IANA time zone; {_timezone_hint(name)}")]


# "UTC+9", "GMT-5:00": fixed offsets, which the tz database names Etc/GMT-9 (POSIX signs are inverted).
OFFSET_PATTERN = re.compile(r"^(?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?00)?$", re.IGNORECASE)
IANA_HINT = "use an Area/City name such as Europe/Berlin or Asia/Tokyo (the list: https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)"


def _timezone_hint(name: str) -> str:
    """A suggestion that never changes the offset the author meant.

    Only a likely typo of an Area/City name gets a "did you mean" (abbreviations like JST are
    too close to others, MST, that mean other offsets); a fixed offset gets its Etc/ name, with
    the note that it has no daylight saving time; anything else, how to find the name.
    """
    offset = OFFSET_PATTERN.match(name.strip())
    if offset:
        sign, hours = offset.groups()
        etc = "Etc/GMT" if int(hours) == 0 else f"Etc/GMT{'-' if sign == '+' else '+'}{int(hours)}"
        if etc in _timezones():
            return f"a fixed offset is {etc} (no daylight saving time), or {IANA_HINT}"
    if "/" in name:
        hint = difflib.get_close_matches(name, [zone for zone in sorted(_timezones()) if "/" in zone], n=1, cutoff=0.8)
        if hint:
            return f"did you mean '{hint[0]}'?"
    return IANA_HINT


def _hours_within_schedule(doc: SourceDocument, manifest: TeamManifest) -> list[Problem]:
    """manifest v1, Schedules: hours_per_month may not exceed what the schedule allows."""
    from generators.months import longest_month_hours

    assert manifest.schedule is not None
    most = longest_month_hours(manifest.schedule)
    return [
        doc.problem(
            ("training", index, "hours_per_month"),
            f"{job.hours_per_month:g} hours is more than the schedule allows in any month ({most:g} h: "
            f"{manifest.schedule.start}-{manifest.schedule.stop} on {', '.join(manifest.schedule.weekdays)}); "
            "off-hours stops the instances outside it: lower hours_per_month or widen the schedule",
        )
        for index, job in enumerate(manifest.training)
        if job.hours_per_month is not None and job.hours_per_month > most
    ]
