"""`showback --months FROM..TO` / `--last N`: spend over months and days (a module of the showback
command, not a command: cli skips names starting with an underscore).

JSON output (`--format json`), stable keys (`schema_version` changes when one does):

    schema_version, from, to, sources, complete_through (the last whole UTC day the data covers)
    months[]      month, complete, teams[] (team, budget_usd, actual_usd, variance_usd = actual -
                  budget, change_usd and change_share against the month before: null for the
                  first month and for a month in progress), unattributed_usd, total_usd
    models[]      month, team, model_id, actual_usd
    days[]        per team, the last month's complete days: team, month, days[] (date, spend_usd,
                  cumulative_usd, budget_share = cumulative / budget)
    forecasts[]   the last month, when in progress: team, actual_usd, forecast_usd, low_usd,
                  high_usd, budget_usd, method (see/trend.py), path[] (each remaining day's running
                  total: date, expected_usd, low_usd, high_usd)
    anomalies[]   team, date, spend_usd, baseline_usd (median of the 14 days before), impact_usd,
                  threshold_usd, resources[] (resource_id, spend_usd, increase_usd over its own
                  median): the largest increases first
"""

from __future__ import annotations

import argparse

from generators.errors import UsageError
from generators.formats import money, share, signed
from generators.months import Month
from generators.safe_text import cap_markdown, cell, md_code, md_text

MAX_MONTHS = 36


def months_of(args: argparse.Namespace) -> list[Month] | None:
    """The months --months or --last name (None: neither, one month as before)."""
    from generators.see.over_time import months_between

    if args.months and args.last is not None:
        raise UsageError("--months and --last name the months two ways: give one")
    if args.months:
        first, sep, last = args.months.partition("..")
        if not sep:
            raise UsageError(f"--months {args.months!r}: expected FROM..TO, e.g. 2026-08..2026-10")
        found = months_between(Month.parse(first), Month.parse(last))
        if not found:
            raise UsageError(f"--months {args.months!r}: FROM is after TO")
    elif args.last is not None:
        if not 1 <= args.last <= MAX_MONTHS:
            raise UsageError(f"--last {args.last}: expected 1 to {MAX_MONTHS} months")
        end = Month.parse(args.month) if args.month else Month.current()
        start = Month(end.year + (end.month - args.last) // 12, (end.month - args.last) % 12 + 1)
        found = months_between(start, end)
    else:
        return None
    if len(found) > MAX_MONTHS:
        raise UsageError(f"--months {args.months}: {len(found)} months, at most {MAX_MONTHS}")
    return found


def to_table(doc: dict) -> str:
    months = doc["months"]
    teams = [t["team"] for t in months[0]["teams"]]
    header = ["TEAM", *(m["month"] + ("" if m["complete"] else "*") for m in months), "CHANGE", "BUDGET"]
    rows = []
    for index, team in enumerate(teams):
        last = months[-1]["teams"][index]
        before = next((m["teams"][index]["change_usd"] for m in reversed(months) if m["teams"][index]["change_usd"] is not None), None)
        rows.append([cell(team), *(money(m["teams"][index]["actual_usd"]) for m in months), signed(before), money(last["budget_usd"])])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [f"Spend by month, {doc['from']} to {doc['to']} (EffectiveCost, USD; data complete through {doc['complete_through'] or 'no whole day'})",
           "", line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    if any(not m["complete"] for m in months):
        out.append("* in progress; CHANGE is the last complete month's")
    if doc["forecasts"]:
        out += ["", f"Forecast for {doc['to']} (low - high):"]
        out += [f"  {cell(f['team'])}: {money(f['forecast_usd'])} ({money(f['low_usd'])} - {money(f['high_usd'])}), "
                f"budget {money(f['budget_usd'])}{'  OVER BUDGET' if f['budget_usd'] is not None and f['forecast_usd'] > f['budget_usd'] else ''}"
                for f in doc["forecasts"]]
    out += ["", f"Anomalies ({len(doc['anomalies'])}):" if doc["anomalies"] else "Anomalies: none"]
    for a in doc["anomalies"]:
        out.append(f"  {a['date']} {cell(a['team'])}: {money(a['spend_usd'])} against a baseline of {money(a['baseline_usd'])} "
                   f"({signed(a['impact_usd'])})")
        out += [f"    {cell(r['resource_id'], 80)}: {money(r['spend_usd'])} ({signed(r['increase_usd'])})" for r in a["resources"]]
    return "\n".join(out)


def to_markdown(doc: dict) -> str:
    months = doc["months"]
    teams = [t["team"] for t in months[0]["teams"]]
    out = [f"### GPU spend by month, {doc['from']} to {doc['to']}", "",
           "| Team | " + " | ".join(m["month"] + ("" if m["complete"] else " (so far)") for m in months) + " | Budget |",
           "| --- | " + " | ".join("---:" for _ in months) + " | ---: |"]
    for index, team in enumerate(teams):
        out.append(f"| {md_code(team)} | " + " | ".join(money(m["teams"][index]["actual_usd"]) for m in months)
                   + f" | {money(months[-1]['teams'][index]['budget_usd'])} |")
    if doc["forecasts"]:
        out += ["", "| Team | Forecast | Low | High | Budget | Budget share |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {md_code(f['team'])} | {money(f['forecast_usd'])} | {money(f['low_usd'])} | {money(f['high_usd'])} | {money(f['budget_usd'])} | "
                f"{share(f['forecast_usd'] / f['budget_usd']) if f['budget_usd'] else '-'} |" for f in doc["forecasts"]]
    if doc["anomalies"]:
        out += ["", "| Day | Team | Spend | Baseline | Impact | Resources |", "| --- | --- | ---: | ---: | ---: | --- |"]
        out += [f"| {a['date']} | {md_code(a['team'])} | {money(a['spend_usd'])} | {money(a['baseline_usd'])} | {signed(a['impact_usd'])} | "
                + ", ".join(f"{md_code(r['resource_id'])} {signed(r['increase_usd'])}" for r in a["resources"]) + " |" for a in doc["anomalies"]]
    else:
        out += ["", md_text("No anomalies.")]
    return cap_markdown("\n".join(out))
