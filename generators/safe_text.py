"""Text from outside (tag values, S3 keys, Prometheus labels and errors) made safe to show.

Billing tags, resource ids and Prometheus answers are written by whoever can tag a resource or
run an exporter. Printed raw they can drive a terminal (ESC sequences clear the screen, set the
title or plant hyperlinks; `\\r` overwrites a line with a fake total; right-to-left overrides
reorder what is read) or rewrite a PR comment (a `|` adds a table column, a backtick closes a
code span, `<img>` and links render). Every value that came from outside goes through one of
these before it reaches a terminal or markdown; JSON keeps the full value (json.dumps escapes
control characters itself).

- `visible`: control (C0, DEL, C1) and bidirectional-formatting characters shown as escapes
  (`\\x1b`, `\\u202e`), never passed through.
- `cell`: `visible`, cut to a width for a terminal table (the full value is in the JSON).
- `md_text` / `md_code`: a markdown table cell or list item: escaped, capped, identifiers in a
  code span whose fence no backtick inside can close.
- `cap_markdown`: a whole comment under GitHub's 65,536-character limit, saying what was cut.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL and C1 controls; the Unicode bidirectional formatting characters (LRM, RLM,
# ALM, LRE..RLO, LRI..PDI: https://www.unicode.org/reports/tr9/#Explicit_Directional_Formatting)
# and the line/paragraph separators, which some terminals and renderers treat as line breaks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# Markdown's backslash-escapable punctuation that can start markup in a table cell or list item.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|~])")

# A table cell in a terminal: long enough for an ARN-free resource id or a model id.
CELL_WIDTH = 48
# A value in markdown: longer than any real tag value (AWS allows 256 characters), far shorter
# than a hostile one.
MD_VALUE_LIMIT = 256
# GitHub refuses issue and pull-request comments longer than this (characters):
# https://github.com/orgs/community/discussions/27190 ("Body is too long (maximum is 65536 characters)").
GITHUB_COMMENT_LIMIT = 65_536
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """`value` as text with every control and bidi character shown as an escape."""
    return _UNSAFE.sub(_escape, str(value))


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def message(value: Any, limit: int = 300) -> str:
    """Outside text quoted in an error message: visible and capped."""
    return truncate(visible(value), limit)


def cell(value: Any, width: int = CELL_WIDTH) -> str:
    """A terminal table cell: `message` at a table's width."""
    return message(value, width)


def md_text(value: Any, limit: int = MD_VALUE_LIMIT) -> str:
    """Plain text for a markdown table cell or list item: no markup, no HTML, no new cell or line."""
    text = truncate(visible(value), limit)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_code(value: Any, limit: int = MD_VALUE_LIMIT, in_table: bool = True) -> str:
    """An identifier in a code span: the fence is longer than any backtick run inside, so nothing
    closes it early; inside a table `|` is escaped (GFM splits cells before code spans)."""
    text = truncate(visible(value), limit)
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cap_markdown(text: str, limit: int = GITHUB_COMMENT_LIMIT, what: str = "--format json") -> str:
    """`text` whole when it fits a GitHub comment; else its first lines and one line saying how
    many were cut and where the rest is."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    kept: list[str] = []
    size = 0
    reserve = 200  # room for the note
    for line in lines:
        if size + len(line) + 1 > limit - reserve:
            break
        kept.append(line)
        size += len(line) + 1
    cut = len(lines) - len(kept)
    note = f"*Cut: {cut:,} of {len(lines):,} lines not shown (GitHub comments hold at most {GITHUB_COMMENT_LIMIT:,} characters); every figure is in {what}.*"
    return "\n".join([*kept, "", note])
