"""`genai-finops cost`: the monthly estimate per team and component, against the budget.

JSON output (`--format json`), stable keys (`schema_version` changes when one does):

    schema_version         2
    month                  "YYYY-MM" the schedule hours were computed for
    currency               "USD"
    prices                 path of the price catalog used
    hours_always_on        730, the always-on month
    org_cap_usd            org.max_team_monthly_usd
    total_monthly_usd      {low, expected, high} over all teams
    gate                   {figure: expected | high, passed, failing: [team, ...]}  (the figure >
                           budget or > org cap)
    teams[]                team, path, region, budget_usd, org_cap_usd,
                           total_monthly_usd {low, expected, high}, budget_percent (expected),
                           gated_usd (the figure the gate used), over_budget, over_org_cap,
                           savings_usd {schedule, spot}, pool_limits[] (gate high, over budget
                           only: pool, max_nodes, breaks_budget_alone, largest_fitting_max_nodes),
                           schedule {timezone, hours} or null, components[]
    teams[].components[]   kind (training | inference | root-volume | node-volume |
                           managed-model), name, model_id, instance_type (a pool's types,
                           comma-separated; a managed model's foundation_model), market,
                           units {low, expected, high} (instances, nodes, GB or tokens), hours,
                           hours_basis (hours_per_month | schedule | always-on), hourly_usd
                           (after the expected spot discount; a pool's: the mean of its types),
                           hourly_range_usd {low, expected, high} (spot: after the largest,
                           middle and smallest observed discount; pools: cheapest, mean,
                           dearest), on_demand_hourly_usd, monthly_usd {low, expected, high},
                           savings_usd {schedule, spot}, usd_per_million_tokens (full load),
                           utilization_percent, usd_per_million_tokens_at_utilization, notes[]
    models[]               model_id, teams[], monthly_usd {low, expected, high},
                           usd_per_million_tokens and usd_per_million_tokens_at_utilization
                           (the pools serving it, weighted by expected node hours, and the tokens
                           bought for it from managed models; null when none declares
                           tokens_per_second_per_node and no managed model serves it)
    compare                only with --compare (a manifests directory, or a saved JSON of this
                           command): {base, teams[]: team, status (added | removed |
                           changed | unchanged: a change of totals, budget or verdict),
                           base_expected_usd, expected_usd, delta_usd, base_budget_usd,
                           budget_usd, base_within_budget, within_budget (the gate's verdict)}
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from generators.commands._common import add_manifest_arguments, dump_json, use_colour
from generators.commands._cost_json import to_json
from generators.formats import money, signed
from generators.model import GATES
from generators.plan.pricing import age_note
from generators.plan.saved import saved_totals
from generators.safe_text import cap_markdown, cell, md_code, md_text

NAME = "cost"
HELP = "monthly cost estimate per team and component, against the budget (--fail-on-budget for CI)"
DESCRIPTION = """\
Estimate each team's monthly GPU spend before anything is deployed: training instances
(spot discount, hours from hours_per_month, the schedule or 730), inference pools (low at
min_nodes, expected at desired_nodes, high at max_nodes; schedule hours where there is one),
root volumes of instances and nodes; what the schedule and spot save; cost per million tokens
at full load and at the pool's utilization_percent; the total against budget.monthly_usd. A
pool with several instance types is low at the cheapest, high at the dearest and expected at
their mean. The gate compares the expected total (or with --gate high, or org cost_gate: high,
the high one) with each budget and the org cap. An instance type or region without a price is
an error, never zero. Never included: EKS control plane, data transfer, shared cluster costs."""
EPILOG = """\
examples:
  genai-finops cost                                   table for manifests/
  genai-finops cost --format markdown --fail-on-budget   PR comment; exit 1 over budget
  genai-finops cost --compare ../main/manifests --format markdown   change per team vs. base
  genai-finops cost --compare base-cost.json          base saved earlier with --format json
  genai-finops cost --fail-on-budget --gate high      fail when max_nodes could break a budget
  genai-finops cost --format json --month 2026-03     machines; schedule hours of March 2026

JSON keys are documented in `python -m pydoc generators.commands.cost`.
exit codes: 0 ok, 1 invalid manifest, missing price or (with --fail-on-budget) a team over
its budget or the org cap, 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    parser.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="table (default), json or markdown")
    parser.add_argument("--fail-on-budget", action="store_true", help="exit 1 when a team's gated cost exceeds its budget or the org cap")
    parser.add_argument(
        "--gate", choices=GATES, help="which total --fail-on-budget compares (default: org.yaml cost_gate, else expected)"
    )
    parser.add_argument(
        "--compare", metavar="BASE", help="also show the change per team against BASE: a manifests directory or a saved --format json"
    )
    parser.add_argument("--month", metavar="YYYY-MM", help="calendar month for schedule hours (default: the current UTC month)")
    parser.add_argument("--prices", metavar="FILE", help="price catalog (default: generators/plan/prices.json)")


def run(args: argparse.Namespace) -> int:
    from generators.manifest.loading import load_manifest_set
    from generators.months import Month
    from generators.plan.compare import compare
    from generators.plan.estimate import estimate
    from generators.plan.pricing import DEFAULT_PATH, load_catalog

    month = Month.parse(args.month) if args.month else Month.current()
    catalog = load_catalog(args.prices or DEFAULT_PATH)
    head = estimate(load_manifest_set(args.paths), catalog, month, args.gate)
    changes = None
    if args.compare:
        base = saved_totals(Path(args.compare)) if Path(args.compare).is_file() else estimate(load_manifest_set([args.compare]), catalog, month)
        changes = compare(base, head)
    if args.format == "json":
        # Indented JSON goes through json's pure-Python encoder, several times slower than the
        # C one on 1,000 teams; machines reading a pipe get it compact, people on a terminal indented.
        print(dump_json(to_json(head, changes, args.compare), indent=2 if sys.stdout.isatty() else None))
    elif args.format == "markdown":
        print(to_markdown(head, changes, args.compare))
    else:
        print(to_table(head, changes, args.compare, colour=use_colour()))
    return 1 if args.fail_on_budget and head.failing else 0


# --------------------------------------------------------------------------- people


def _tokens(c) -> str:
    if c.usd_per_million_tokens is None:
        return ""
    if c.utilization_percent is None or c.utilization_percent >= 100:
        return money(c.usd_per_million_tokens)
    return f"{money(c.usd_per_million_tokens)} ({money(c.usd_per_million_tokens_at_utilization)} at {c.utilization_percent:g}%)"


def _gate_line(est) -> str:
    failing = est.failing
    figure = f"{est.gate} totals"
    if failing:
        return f"budget gate ({figure}): {len(failing)} team(s) over budget or org cap: {', '.join(t.team for t in failing)}"
    return f"budget gate ({figure}): every team within its budget and the org cap"


def _limit_lines(team) -> list[str]:
    from generators.plan.estimate import pool_limits

    if team.gate != "high" or not team.over_budget:
        return []
    lines = []
    for pool, top, alone, fits in pool_limits(team):
        verdict = f"max_nodes {top} alone breaks the budget" if alone else f"max_nodes {top} breaks it only with the rest at high"
        advice = (
            f"the largest max_nodes that fits is {fits}"
            if fits is not None
            else "no max_nodes down to desired_nodes fits: lower other costs or raise the budget"
        )
        lines.append(f"pool `{pool}`: {verdict}; {advice}")
    return lines


def _status(team) -> str:
    if team.over_org_cap:
        return "OVER ORG CAP"
    return "OVER BUDGET" if team.over_budget else "ok"


def _component_label(c) -> str:
    return f"{c.kind} {c.name}"


def _component_detail(c) -> str:
    if c.kind == "root-volume":
        return f"{c.units.expected:g} GB gp3"
    if c.kind == "node-volume":
        return f"{c.units.low:g}/{c.units.expected:g}/{c.units.high:g} GB gp3, {c.hours:.1f} h ({c.hours_basis})"
    if c.kind == "managed-model":
        return f"{c.units.expected / 1e6:,.1f} M tokens on {c.instance_type}"
    units = f"{c.units.expected:g}" if c.units.low == c.units.high else f"{c.units.low:g}/{c.units.expected:g}/{c.units.high:g}"
    return f"{units} x {c.instance_type} {c.market}, {c.hours:.1f} h ({c.hours_basis}) at {money(c.hourly_usd)}/h"


# Tables fit a 120-column terminal: the widest text column wraps onto continuation lines.
MAX_WIDTH = 120


def _grid(headers: list[str], rows: list[list[str]], right: set[int], wrap: int | None = None, width: int = MAX_WIDTH) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    if wrap is not None:
        others = sum(w for i, w in enumerate(widths) if i != wrap) + 2 * (len(widths) - 1)
        widths[wrap] = max(len(headers[wrap]), min(widths[wrap], width - others))

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    for row in rows:
        pieces = textwrap.wrap(row[wrap], widths[wrap], break_on_hyphens=False) if wrap is not None and len(row[wrap]) > widths[wrap] else None
        if not pieces:
            out.append(line(row))
            continue
        assert wrap is not None  # pieces come only from the wrapped column
        out.append(line([*row[:wrap], pieces[0], *row[wrap + 1 :]]))
        out += [line(["" if i != wrap else piece for i in range(len(row))]) for piece in pieces[1:]]
    return out


def _change_cells(ch) -> list[str]:
    """Base, now, delta (expected totals), the budget (or its change) and the gate's verdict (or its change)."""
    base, head = ch.base, ch.head
    if base and head and abs(base.budget_usd - head.budget_usd) >= 0.005:
        budget = f"{money(base.budget_usd)} -> {money(head.budget_usd)}"
    else:
        budget = money((head or base).budget_usd)
    return [money(base.total.expected) if base else "-", money(head.total.expected) if head else "-", signed(ch.delta_expected_usd), budget, ch.verdict]


def to_table(est, changes=None, base_dir=None, colour: bool = False) -> str:
    red, green, reset = ("\033[31m", "\033[32m", "\033[0m") if colour else ("", "", "")
    out = [f"Monthly cost estimate for {est.month} (USD; prices: {est.prices_path}, read {est.prices_read}; always-on = {est.hours_always_on:g} h)", ""]
    note = age_note(est.prices_read)
    if note:
        out += [f"{red}warning: {note}{reset}", ""]
    rows = [
        [t.team, t.region, money(t.budget_usd), money(t.total.low), money(t.total.expected), money(t.total.high),
         f"{t.budget_percent:.1f}%", money(t.schedule_savings_usd), money(t.spot_savings_usd), _status(t)]
        for t in est.teams
    ]
    lines = _grid(["TEAM", "REGION", "BUDGET", "LOW", "EXPECTED", "HIGH", "OF BUDGET", "SCHEDULE SAVES", "SPOT SAVES", "STATUS"], rows,
                  right={2, 3, 4, 5, 6, 7, 8})
    for index, team in enumerate(est.teams):
        mark = red if team.over_budget or team.over_org_cap else green
        lines[index + 2] = lines[index + 2].replace(_status(team), f"{mark}{_status(team)}{reset}") if colour else lines[index + 2]
    out += lines
    out.append(f"{'total':<6} expected {money(est.total.expected)} (low {money(est.total.low)}, high {money(est.total.high)})")
    out.append("LOW: pools at min_nodes on their cheapest type; EXPECTED: desired_nodes at the mean price; HIGH: max_nodes on the")
    out.append(f"dearest type. OF BUDGET: the {est.gate} figure, which the gate compares. Never included: EKS control plane, data transfer.")
    for team in est.teams:
        where = f"schedule {team.schedule_hours:.1f} h in {est.month} ({team.timezone})" if team.schedule_hours is not None else ""
        heading = f"{team.team} ({team.path}{', ' + where if where else ''})"
        out += ["", heading if len(heading) <= MAX_WIDTH else f"{team.team} ({team.path})"]
        if len(heading) > MAX_WIDTH and where:
            out.append(f"  {where}")
        rows = [
            [_component_label(c), _component_detail(c) + ("; " + "; ".join(c.notes) if c.notes else ""), money(c.monthly_usd.expected),
             f"{money(c.monthly_usd.low)}-{money(c.monthly_usd.high)}" if c.monthly_usd.low != c.monthly_usd.high else "",
             _tokens(c)]
            for c in team.components
        ]
        out += ["  " + line for line in _grid(["COMPONENT", "DETAIL AND NOTES", "EXPECTED", "RANGE", "$/1M TOKENS"], rows, right={2, 3, 4},
                                              wrap=1, width=MAX_WIDTH - 2)]
    if changes is not None:
        out += ["", f"Change against {cell(base_dir, 120)}"]
        rows = [[cell(ch.team), ch.status, *_change_cells(ch)] for ch in changes]
        out += _grid(["TEAM", "STATUS", "BASE", "NOW", "DELTA", "BUDGET", "GATE"], rows, right={2, 3, 4, 5})
    for team in est.failing:
        out += [f"{team.team}: {line}" for line in _limit_lines(team)]
    out += ["", f"{red if est.failing else green}{_gate_line(est)}{reset}"]
    return "\n".join(out)


def to_markdown(est, changes=None, base_dir=None) -> str:
    out = [f"### GPU cost estimate for {est.month}", ""]
    failing = est.failing
    out.append(f"**Budget gate failed** (comparing {est.gate} totals): {', '.join(f'`{t.team}`' for t in failing)} over budget or the org cap."
               if failing else f"**Budget gate passed** (comparing {est.gate} totals): every team is within its budget and the org cap.")
    for team in failing:
        out += [f"- `{team.team}`: {line}" for line in _limit_lines(team)]
    out += ["", "| Team | Region | Budget | Low | Expected | High | Of budget | Schedule saves | Spot saves | Status |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for t in est.teams:
        out.append(f"| `{t.team}` | {t.region} | {money(t.budget_usd)} | {money(t.total.low)} | {money(t.total.expected)} | "
                   f"{money(t.total.high)} | {t.budget_percent:.1f}% | {money(t.schedule_savings_usd)} | "
                   f"{money(t.spot_savings_usd)} | {_status(t)} |")
    if changes is not None:
        out += [
            "", f"#### Change against {md_code(base_dir, in_table=False)}", "",
            "| Team | Change | Base | Now | Delta | Budget | Gate |", "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for ch in changes:
            out.append(f"| {md_code(ch.team)} | {ch.status} | " + " | ".join(_change_cells(ch)) + " |")
    for t in est.teams:
        out += ["", f"<details><summary><code>{t.team}</code>: components</summary>", "",
                "| Component | Detail | Expected | $/1M tokens | Notes |", "| --- | --- | ---: | ---: | --- |"]
        for c in t.components:
            tokens = _tokens(c)
            out.append(f"| {_component_label(c)} | {_component_detail(c)} | {money(c.monthly_usd.expected)} | {tokens} | {'; '.join(c.notes)} |")
        out += ["", "</details>"]
    note = age_note(est.prices_read)
    if note:
        out += ["", f"**Warning**: {md_text(note)}."]
    out += ["", f"<sub>Prices: {md_code(est.prices_path, in_table=False)}, read {est.prices_read}; always-on month = {est.hours_always_on:g} h; "
            f"inference low/expected/high = min nodes at the cheapest type / desired at the mean / max at the dearest; "
            f"the gate compares {est.gate} totals. Not included: EKS control plane, data transfer, shared cluster costs.</sub>"]
    return cap_markdown("\n".join(out))
