"""Writing files so that a reader never sees a part: output, caches, the price catalog."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from generators.errors import ToolError, display_path


def write_atomically(target: Path, text: str) -> None:
    """Write `text` to `target` through a temporary file beside it: a reader sees the old file or
    the new one, never a part. Only a regular file (or a path where nothing is yet) is written:
    a directory, a link, a FIFO, a device (/dev/full) or a /proc entry is refused in one line,
    never replaced; a failure to write is one line too, and leaves the old file as it was."""
    target = Path(target)
    shown = display_path(target)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise ToolError(f"{shown}: cannot be written: {error.strerror or error}") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a symbolic link" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise ToolError(f"{shown}: is {kind}; only a regular file is written (name a new or existing file)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise ToolError(f"{shown}: cannot be written: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(staging, 0o644)  # mkstemp makes it private; these files are for sharing
        os.replace(staging, target)
    except OSError as error:
        Path(staging).unlink(missing_ok=True)
        raise ToolError(f"{shown}: cannot be written: {error.strerror or error}") from None
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
