"""A table of the report: HTML under its chart, and `<name>.csv` for finance's spreadsheets."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from typing import Any, Literal

from generators.formats import money, share
from generators.safe_text import truncate, visible


def _esc(text: Any) -> str:
    """Text from the billing data or Prometheus for HTML: control and bidi characters made
    visible (a right-to-left override would reorder what finance reads), capped, escaped."""
    return html.escape(truncate(visible(text), 512), quote=True)


Kind = Literal["text", "usd", "share", "count"]
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection"):
# text from billing data or Prometheus is written with a leading apostrophe instead.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """One table of the report: shown under its chart, and written as `<name>.csv` with --csv
    (raw figures, for finance's spreadsheets: dollars to the cent, shares as fractions)."""

    name: str
    headers: tuple[str, ...]
    kinds: tuple[Kind, ...]
    rows: tuple[tuple[Any, ...], ...]
    total: tuple[Any, ...] | None = None

    def html(self) -> str:
        def cell(tag: str, text: str, kind: Kind) -> str:
            return f'<{tag} class="text">{text}</{tag}>' if kind == "text" else f"<{tag}>{text}</{tag}>"

        head = "".join(cell("th", _esc(h), k) for h, k in zip(self.headers, self.kinds))
        body = "".join("<tr>" + "".join(cell("td", _esc(_shown(v, k)), k) for v, k in zip(row, self.kinds)) + "</tr>" for row in self.rows)
        foot = ("<tfoot><tr>" + "".join(cell("th", _esc(_shown(v, k)), k) for v, k in zip(self.total, self.kinds)) + "</tr></tfoot>"
                if self.total else "")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>"

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.headers)
        for row in (*self.rows, *((self.total,) if self.total else ())):
            writer.writerow([_raw(v, k) for v, k in zip(row, self.kinds)])
        return out.getvalue()


def _shown(value: Any, kind: Kind) -> str:
    if value is None:
        return "-"
    if kind == "usd":
        return money(value)
    if kind == "share":
        return share(value)
    if kind == "count":
        return f"{value:,}"
    return str(value)


def _raw(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "usd":
        return f"{value:.2f}"
    if kind == "share":
        return f"{value:.4f}"
    if kind == "count":
        return str(int(value))
    text = truncate(visible(value), 512)
    return "'" + text if text.startswith(FORMULA_START) else text
