"""Daily sums per billing file, kept between runs: `showback --months` reads a past month's files
once. AWS rewrites a billing period's files while the period is open and leaves them alone after,
so over a year eleven months of files are unchanged from one run to the next.

An entry holds one local file's per (team, model, UTC day) sums of every row (see/over_time.py
daily_sql, over the whole file) and the fingerprint its row checks gave (to find the same rows in
two files). It is found by the file's resolved path, size, modification time and inode, and the
version of the query that made it: a changed file or a changed query is a miss, and the file is
read and checked again. Entries are written atomically into a directory of our own (mode 0700);
one that cannot be read back in the expected shape is a miss, never an error or a wrong figure.
Downloads from S3 land in new temporary files each run, so they are never found here.

Where: $GENAI_FINOPS_CACHE_DIR, else $XDG_CACHE_HOME/genai-finops, else ~/.cache/genai-finops;
under it `daily/`. Deleting it costs one slower run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generators.environment import CACHE_DIR_ENV

# Raised whenever daily_sql, its columns or what an entry holds change.
VERSION = 1
# A day's sums of one file: team, model, date, cost, one-off cost, latest end (ISO).
Row = tuple[Any, Any, dt.date, float, float, dt.datetime | None]


def cache_dir() -> Path:
    base = os.environ.get(CACHE_DIR_ENV) or str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "genai-finops")
    return Path(base) / "daily"


@dataclass(frozen=True)
class Entry:
    count: int
    fingerprint: tuple[str, ...]
    rows: list[Row]


def _key(path: Path) -> str:
    stat = path.stat()
    identity = json.dumps([VERSION, str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino])
    return hashlib.sha256(identity.encode()).hexdigest()


def load(path: Path) -> Entry | None:
    """The file's entry, or None (none yet, the file changed, or an entry not in our shape)."""
    try:
        data = json.loads((cache_dir() / f"{_key(path)}.json").read_text(encoding="utf-8"))
        rows: list[Row] = [(team, model, dt.date.fromisoformat(day), float(cost), float(once),
                            dt.datetime.fromisoformat(end) if end is not None else None)
                           for team, model, day, cost, once, end in data["rows"]]
        if data["version"] != VERSION or not all(isinstance(v, str) for v in data["fingerprint"]):
            return None
        if not all((team is None or isinstance(team, str)) and (model is None or isinstance(model, str)) for team, model, *_ in rows):
            return None
        return Entry(int(data["count"]), tuple(data["fingerprint"]), rows)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(path: Path, count: int, fingerprint: tuple[str, ...], rows: list[Row]) -> None:
    """Keep the file's sums (atomically; a cache that cannot be written is only slower)."""
    from generators.files import write_atomically

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps({"version": VERSION, "count": count, "fingerprint": list(fingerprint),
                           "rows": [[team, model, day.isoformat(), cost, once, end.isoformat() if end is not None else None]
                                    for team, model, day, cost, once, end in rows]})
        write_atomically(folder / f"{_key(path)}.json", body)
    except OSError:
        return
