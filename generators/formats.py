"""How figures are written for people, in one place: every table, markdown and the report use
these, so a dollar amount reads the same everywhere."""

from __future__ import annotations


def money(value: float | None) -> str:
    """Dollars: $1,234.50, or - when there is no figure."""
    return "-" if value is None else f"${value:,.2f}"


def signed(value: float | None) -> str:
    """A change in dollars with its sign: +$12.00, -$3.50, or - when there is no figure."""
    return "-" if value is None else f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def share(value: float | None) -> str:
    """A fraction as a whole percent: 0.94 -> 94%, or - when there is no figure."""
    return "-" if value is None else f"{value:.0%}"
