"""The project's own error type: every problem with the input, with where it is.

Commands catch `ManifestError` (and only it) and print each problem as
`path:line:col: field.path: message`, then exit 1. Anything else escaping is a bug.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ManifestError(Exception):
    """One or more problems in the manifests. Never raised with an empty list."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("ManifestError needs at least one problem")
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """The command line itself is wrong (exit 2), e.g. a PATH that does not exist."""


class ToolError(Exception):
    """An external tool or a data file the command depends on failed (exit 1), with a message for people."""


def format_path(parts: tuple[str | int, ...]) -> str:
    """('training', 0, 'count') -> 'training[0].count'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def display_path(path: Path) -> str:
    """How every message names a file: relative to the working directory when inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest of `choices`, else "": the one suggestion every
    message uses (manifest fields, --only names, mistyped options)."""
    hint = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{hint[0]}'?)" if hint else ""
