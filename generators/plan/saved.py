"""A saved `cost --format json` (the base branch's), read back for `cost --compare`: hostile
until checked (size, depth, finite numbers, the schema version this genai-finops writes)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from generators.errors import UsageError
from generators.plan.compare import TeamSide
from generators.plan.estimate import Range
from generators.safe_text import message

SCHEMA_VERSION = 2


# A saved estimate of 1,000 teams is ~2 MB.
MAX_BASE_BYTES = 64 * 1024 * 1024


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def saved_totals(path: Path) -> dict:
    """Each team's totals, budget and verdict from a saved `cost --format json` (the base branch's),
    checked before use."""
    try:
        if path.stat().st_size > MAX_BASE_BYTES:
            raise UsageError(f"--compare {path}: larger than {MAX_BASE_BYTES // 1024**2} MiB; not a saved cost --format json")
        report = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise UsageError(f"--compare {path}: nested too deeply to be a saved cost --format json") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"--compare {path}: not a readable JSON file: {message(error, 200)}") from None
    version = report.get("schema_version") if isinstance(report, dict) else None
    if version != SCHEMA_VERSION:
        raise UsageError(
            f"--compare {path}: schema_version {version!r}; this genai-finops reads {SCHEMA_VERSION}: "
            "save the base again with `genai-finops cost --format json`"
        )
    try:
        return {
            str(team["team"]): TeamSide(
                Range(*(_finite(team["total_monthly_usd"][k]) for k in ("low", "expected", "high"))),
                _finite(team["budget_usd"]),
                not (_flag(team["over_budget"]) or _flag(team["over_org_cap"])),
            )
            for team in report["teams"]
        }
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(
            f"--compare {path}: teams[].team, total_monthly_usd, budget_usd, over_budget and over_org_cap are missing or malformed "
            f"({message(repr(error), 120)})"
        ) from None


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _finite(value) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number
