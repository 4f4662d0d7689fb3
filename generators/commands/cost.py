"""`genai-finops cost`: the monthly estimate per team and component, against the budget.

JSON output (`--format json`), stable keys:

    month                  "YYYY-MM" the schedule hours were computed for
    currency               "USD"
    prices                 path of the price catalog used
    hours_always_on        730, the always-on month
    org_cap_usd            org.max_team_monthly_usd
    total_monthly_usd      {low, expected, high} over all teams
    gate                   {passed, failing: [team, ...]}  (expected > budget or > org cap)
    teams[]                team, path, region, budget_usd, org_cap_usd,
                           total_monthly_usd {low, expected, high}, budget_percent (expected),
                           over_budget, over_org_cap, savings_usd {schedule, spot},
                           schedule {timezone, hours} or null, components[]
    teams[].components[]   kind (training | inference | root-volume), name, instance_type,
                           market, units {low, expected, high} (instances, nodes or GB), hours,
                           hours_basis (hours_per_month | schedule | always-on), hourly_usd
                           (after spot), on_demand_hourly_usd, monthly_usd {low, expected,
                           high}, savings_usd {schedule, spot}, usd_per_million_tokens, notes[]
    compare                only with --compare: {base, teams[]: team, status (added | removed |
                           changed | unchanged), base_expected_usd, expected_usd, delta_usd}
"""

from __future__ import annotations

import argparse
import json
import sys

from generators.commands._common import add_manifest_arguments, use_colour

NAME = "cost"
HELP = "monthly cost estimate per team and component, against the budget (--fail-on-budget for CI)"
DESCRIPTION = """\
Estimate each team's monthly GPU spend before anything is deployed: training instances
(spot discount, hours from hours_per_month, the schedule or 730), inference pools (low at
min_nodes, expected at desired_nodes, high at max_nodes; schedule hours where there is one),
root volumes; what the schedule and spot save; cost per million tokens; the total against
budget.monthly_usd. An instance type or region without a price is an error, never zero."""
EPILOG = """\
examples:
  genai-finops cost                                   table for manifests/
  genai-finops cost --format markdown --fail-on-budget   PR comment; exit 1 over budget
  genai-finops cost --compare ../main/manifests --format markdown   change per team vs. base
  genai-finops cost --format json --month 2026-03     machines; schedule hours of March 2026

JSON keys are documented in `python -m pydoc generators.commands.cost`.
exit codes: 0 ok, 1 invalid manifest, missing price or (with --fail-on-budget) a team over
its budget or the org cap, 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="table (default), json or markdown")
    parser.add_argument("--fail-on-budget", action="store_true", help="exit 1 when a team's expected cost exceeds its budget or the org cap")
    parser.add_argument("--compare", metavar="BASE_DIR", help="also show the change per team against the manifests in BASE_DIR")
    parser.add_argument("--month", metavar="YYYY-MM", help="calendar month for schedule hours (default: the current UTC month)")
    parser.add_argument("--prices", metavar="FILE", help="price catalog (default: generators/prices.json)")


def run(args: argparse.Namespace) -> int:
    from generators import cost
    from generators.loading import load_manifest_set
    from generators.pricing import DEFAULT_PATH, load_catalog

    month = cost.Month.parse(args.month) if args.month else cost.Month.current()
    catalog = load_catalog(args.prices or DEFAULT_PATH)
    head = cost.estimate(load_manifest_set(args.paths), catalog, month)
    changes = None
    if args.compare:
        base = cost.estimate(load_manifest_set([args.compare]), catalog, month)
        changes = cost.compare(base, head)
    if args.format == "json":
        # Indented JSON goes through json's pure-Python encoder, several times slower than the
        # C one on 1,000 teams; machines reading a pipe get it compact, people on a terminal indented.
        print(json.dumps(to_json(head, changes, args.compare), indent=2 if sys.stdout.isatty() else None))
    elif args.format == "markdown":
        print(to_markdown(head, changes, args.compare))
    else:
        print(to_table(head, changes, args.compare, colour=use_colour()))
    return 1 if args.fail_on_budget and head.failing else 0


# --------------------------------------------------------------------------- json


def _usd(value: float) -> float:
    return round(value, 2)


def _range(r) -> dict:
    return {"low": _usd(r.low), "expected": _usd(r.expected), "high": _usd(r.high)}


def to_json(est, changes=None, base_dir=None) -> dict:
    report = {
        "month": str(est.month),
        "currency": "USD",
        "prices": est.prices_path,
        "hours_always_on": est.hours_always_on,
        "org_cap_usd": est.org_cap_usd,
        "total_monthly_usd": _range(est.total),
        "gate": {"passed": not est.failing, "failing": [t.team for t in est.failing]},
        "teams": [
            {
                "team": t.team,
                "path": t.path,
                "region": t.region,
                "budget_usd": t.budget_usd,
                "org_cap_usd": t.org_cap_usd,
                "total_monthly_usd": _range(t.total),
                "budget_percent": round(t.budget_percent, 1),
                "over_budget": t.over_budget,
                "over_org_cap": t.over_org_cap,
                "savings_usd": {"schedule": _usd(t.schedule_savings_usd), "spot": _usd(t.spot_savings_usd)},
                "schedule": {"timezone": t.timezone, "hours": round(t.schedule_hours, 2)} if t.schedule_hours is not None else None,
                "components": [
                    {
                        "kind": c.kind,
                        "name": c.name,
                        "instance_type": c.instance_type,
                        "market": c.market,
                        "units": {"low": c.units.low, "expected": c.units.expected, "high": c.units.high},
                        "hours": round(c.hours, 2) if c.hours is not None else None,
                        "hours_basis": c.hours_basis,
                        "hourly_usd": round(c.hourly_usd, 6) if c.hourly_usd is not None else None,
                        "on_demand_hourly_usd": c.on_demand_hourly_usd,
                        "monthly_usd": _range(c.monthly_usd),
                        "savings_usd": {"schedule": _usd(c.schedule_savings_usd), "spot": _usd(c.spot_savings_usd)},
                        "usd_per_million_tokens": round(c.usd_per_million_tokens, 4) if c.usd_per_million_tokens is not None else None,
                        "notes": list(c.notes),
                    }
                    for c in t.components
                ],
            }
            for t in est.teams
        ],
    }
    if changes is not None:
        report["compare"] = {
            "base": base_dir,
            "teams": [
                {
                    "team": ch.team,
                    "status": ch.status,
                    "base_expected_usd": _usd(ch.base_usd.expected) if ch.base_usd else None,
                    "expected_usd": _usd(ch.head_usd.expected) if ch.head_usd else None,
                    "delta_usd": _usd(ch.delta_expected_usd),
                }
                for ch in changes
            ],
        }
    return report


# --------------------------------------------------------------------------- people


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _signed(value: float) -> str:
    return f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def _status(team) -> str:
    if team.over_org_cap:
        return "OVER ORG CAP"
    return "OVER BUDGET" if team.over_budget else "ok"


def _component_label(c) -> str:
    return f"{c.kind} {c.name}"


def _component_detail(c) -> str:
    if c.kind == "root-volume":
        return f"{c.units.expected:g} GB gp3"
    units = f"{c.units.expected:g}" if c.units.low == c.units.high else f"{c.units.low:g}/{c.units.expected:g}/{c.units.high:g}"
    return f"{units} x {c.instance_type} {c.market}, {c.hours:.1f} h ({c.hours_basis}) at {_money(c.hourly_usd)}/h"


def _grid(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def to_table(est, changes=None, base_dir=None, colour: bool = False) -> str:
    red, green, reset = ("\033[31m", "\033[32m", "\033[0m") if colour else ("", "", "")
    out = [f"Monthly cost estimate for {est.month} (USD; prices: {est.prices_path}; always-on = {est.hours_always_on:g} h)", ""]
    rows = [
        [t.team, t.region, _money(t.budget_usd), _money(t.total.low), _money(t.total.expected), _money(t.total.high),
         f"{t.budget_percent:.1f}%", _money(t.schedule_savings_usd), _money(t.spot_savings_usd), _status(t)]
        for t in est.teams
    ]
    lines = _grid(["TEAM", "REGION", "BUDGET", "LOW", "EXPECTED", "HIGH", "OF BUDGET", "SCHEDULE SAVES", "SPOT SAVES", "STATUS"], rows,
                  right={2, 3, 4, 5, 6, 7, 8})
    for index, team in enumerate(est.teams):
        mark = red if team.over_budget or team.over_org_cap else green
        lines[index + 2] = lines[index + 2].replace(_status(team), f"{mark}{_status(team)}{reset}") if colour else lines[index + 2]
    out += lines
    out.append(f"{'total':<6} expected {_money(est.total.expected)} (low {_money(est.total.low)}, high {_money(est.total.high)})")
    for team in est.teams:
        where = f", schedule {team.schedule_hours:.1f} h in {est.month} ({team.timezone})" if team.schedule_hours is not None else ""
        out += ["", f"{team.team} ({team.path}{where})"]
        rows = [
            [_component_label(c), _component_detail(c), _money(c.monthly_usd.expected),
             f"{_money(c.monthly_usd.low)}-{_money(c.monthly_usd.high)}" if c.monthly_usd.low != c.monthly_usd.high else "",
             f"{_money(c.usd_per_million_tokens)}" if c.usd_per_million_tokens is not None else "", "; ".join(c.notes)]
            for c in team.components
        ]
        out += ["  " + line for line in _grid(["COMPONENT", "DETAIL", "EXPECTED", "RANGE", "$/1M TOKENS", "NOTES"], rows, right={2, 3, 4})]
    if changes is not None:
        out += ["", f"Change against {base_dir}"]
        rows = [[ch.team, ch.status, _money(ch.base_usd.expected) if ch.base_usd else "-",
                 _money(ch.head_usd.expected) if ch.head_usd else "-", _signed(ch.delta_expected_usd)] for ch in changes]
        out += _grid(["TEAM", "STATUS", "BASE", "NOW", "DELTA"], rows, right={2, 3, 4})
    failing = est.failing
    out += ["", f"{red}budget gate: {len(failing)} team(s) over budget or org cap: {', '.join(t.team for t in failing)}{reset}"
            if failing else f"{green}budget gate: every team within its budget and the org cap{reset}"]
    return "\n".join(out)


def to_markdown(est, changes=None, base_dir=None) -> str:
    out = [f"### GPU cost estimate for {est.month}", ""]
    failing = est.failing
    out.append(f"**Budget gate failed**: {', '.join(f'`{t.team}`' for t in failing)} over budget or the org cap."
               if failing else "**Budget gate passed**: every team is within its budget and the org cap.")
    out += ["", "| Team | Region | Budget | Low | Expected | High | Of budget | Schedule saves | Spot saves | Status |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for t in est.teams:
        out.append(f"| `{t.team}` | {t.region} | {_money(t.budget_usd)} | {_money(t.total.low)} | {_money(t.total.expected)} | "
                   f"{_money(t.total.high)} | {t.budget_percent:.1f}% | {_money(t.schedule_savings_usd)} | "
                   f"{_money(t.spot_savings_usd)} | {_status(t)} |")
    if changes is not None:
        out += ["", f"#### Change against `{base_dir}`", "", "| Team | Change | Base | Now | Delta |", "| --- | --- | ---: | ---: | ---: |"]
        for ch in changes:
            out.append(f"| `{ch.team}` | {ch.status} | {_money(ch.base_usd.expected) if ch.base_usd else '-'} | "
                       f"{_money(ch.head_usd.expected) if ch.head_usd else '-'} | {_signed(ch.delta_expected_usd)} |")
    for t in est.teams:
        out += ["", f"<details><summary><code>{t.team}</code>: components</summary>", "",
                "| Component | Detail | Expected | $/1M tokens | Notes |", "| --- | --- | ---: | ---: | --- |"]
        for c in t.components:
            tokens = _money(c.usd_per_million_tokens) if c.usd_per_million_tokens is not None else ""
            out.append(f"| {_component_label(c)} | {_component_detail(c)} | {_money(c.monthly_usd.expected)} | {tokens} | {'; '.join(c.notes)} |")
        out += ["", "</details>"]
    out += ["", f"<sub>Prices: `{est.prices_path}`; always-on month = {est.hours_always_on:g} h; "
            f"inference low/expected/high = min/desired/max nodes.</sub>"]
    return "\n".join(out)
