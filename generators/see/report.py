"""One self-contained HTML report: budgets, estimates, actual spend, models, savings and leaks.

Plain SVG drawn here, inline CSS and system fonts: the file makes no request of any kind, so
it opens from disk, an e-mail attachment or a CI artifact. The charts over time (time axes,
ticks, legends) are Vega-Lite's, rendered to static SVG before the page is written
(see/report_time.py), so no charting library is inlined. Every chart has the table of its
figures under it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Iterable

from generators.formats import money, share
from generators.plan import unit_cost
from generators.plan.pricing import age_note
from generators.see.report_table import FORMULA_START, Kind, Table, _esc, _raw, _shown  # noqa: F401 - the report's names

WIDTH = 760
LABEL = 210
ROW = 34
COLOURS = {"budget": "#c62828", "estimate": "#90caf9", "expected": "#1565c0", "actual": "#2e7d32", "forecast": "#81c784",
           "savings": "#6a1b9a", "leak": "#ef6c00"}


@dataclass(frozen=True)
class ReportData:
    month: str
    generated: str
    prices: str
    gate: str
    estimate: Any  # generators.plan.estimate.Estimate
    showback: dict[str, Any] | None  # Showback.as_json(), with tokens when there were any
    billing_sources: list[str]
    recommendations: dict[str, Any] | None = None  # act.recommend.Recommendations.as_json(), with billing data
    over_time: dict[str, Any] | None = None  # see.over_time.OverTime.as_json(): the months up to this one


_money = money  # one money format for the page, the CLI's (generators/formats.py)


def _scale(values: Iterable[float | None]) -> float:
    top = max([v for v in values if v is not None] + [1.0])
    return top * 1.08


def _x(value: float, top: float) -> float:
    return LABEL + (WIDTH - LABEL - 20) * value / top


def nice_step(limit: float, most: int = 5) -> float:
    """The tick step: 1, 2, 2.5 or 5 times a power of ten, giving at most `most` steps to `limit`."""
    raw = max(limit, 1e-9) / most
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)


def ticks(limit: float, percent: bool = False) -> list[float]:
    """Round values from 0 to `limit`; on a share-of-budget axis 100 % is always one of them."""
    step = nice_step(limit)
    values = [round(index * step, 10) for index in range(int(limit / step + 1e-9) + 1)]
    if percent and 100.0 not in values:
        values = sorted(values + [100.0])
    return values


def _axis(top: float, height: float, percent: bool = False) -> str:
    parts = []
    values = ticks(top / 1.08, percent)
    for index, value in enumerate(values):
        x = _x(value, top)
        text = f"{value:g}%" if percent else _money(value)
        anchor = "end" if index == len(values) - 1 else "start" if index == 0 else "middle"
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 18:.1f}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{height - 4:.1f}" class="tick" text-anchor="{anchor}">{_esc(text)}</text>')
    return "".join(parts)


def teams_chart(data: ReportData) -> str:
    """Per team, on a scale of its own budget (the red line at 100 %): the estimate's low-high
    range with its expected mark, and the actual and forecast when there is billing data. Teams
    with budgets of very different sizes stay readable side by side."""
    actual = {t["team"]: t for t in (data.showback or {}).get("teams", [])}
    teams = list(data.estimate.teams)
    percents = [v / t.budget_usd * 100 for t in teams
                for v in (t.total.high, actual.get(t.team, {}).get("actual_usd"), actual.get(t.team, {}).get("forecast_usd")) if v is not None]
    top = _scale(percents + [100.0])
    height = len(teams) * ROW * 2 + 30
    parts = [f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Estimate and actual spend per team, as a share of its budget">',
             "<title>Estimate and actual spend per team, as a share of its budget</title>", _axis(top, height, percent=True)]
    for index, team in enumerate(teams):
        y = index * ROW * 2 + 6
        percent = lambda usd: usd / team.budget_usd * 100  # noqa: E731
        low, expected, high = percent(team.total.low), percent(team.total.expected), percent(team.total.high)
        parts.append(f'<text x="0" y="{y + 14}" class="label">{_esc(team.team)}</text>')
        spent_share = f"; spent {share(actual[team.team]['actual_usd'] / team.budget_usd)}" if team.team in actual else ""
        parts.append(f'<text x="0" y="{y + 28}" class="sub">{_esc(f"budget {_money(team.budget_usd)}")}</text>')
        parts.append(f'<text x="0" y="{y + 42}" class="sub">{_esc(f"estimate {_verdict(team)}{spent_share}")}</text>')
        parts.append(f'<rect x="{_x(low, top):.1f}" y="{y}" width="{max(_x(high, top) - _x(low, top), 2):.1f}" height="14" '
                     f'fill="{COLOURS["estimate"]}"><title>estimate {_money(team.total.low)} to {_money(team.total.high)}</title></rect>')
        parts.append(f'<rect x="{_x(expected, top) - 1.5:.1f}" y="{y - 2}" width="3" height="18" fill="{COLOURS["expected"]}">'
                     f"<title>expected {_money(team.total.expected)}</title></rect>")
        spent = actual.get(team.team)
        if spent:
            # A month of credits can be negative: no bar is drawn below zero (the table says the figure).
            parts.append(f'<rect x="{LABEL}" y="{y + 18}" width="{max(_x(percent(spent["actual_usd"]), top) - LABEL, 0):.1f}" height="14" '
                         f'fill="{COLOURS["actual"]}"><title>actual {_money(spent["actual_usd"])}</title></rect>')
            if spent["forecast_usd"] and spent["forecast_usd"] > max(spent["actual_usd"], 0):
                start, end = _x(percent(max(spent["actual_usd"], 0)), top), _x(percent(spent["forecast_usd"]), top)
                parts.append(f'<rect x="{start:.1f}" y="{y + 18}" width="{end - start:.1f}" height="14" '
                             f'fill="{COLOURS["forecast"]}"><title>forecast {_money(spent["forecast_usd"])}</title></rect>')
        bx = _x(100.0, top)
        parts.append(f'<line x1="{bx:.1f}" y1="{y - 4}" x2="{bx:.1f}" y2="{y + 36}" stroke="{COLOURS["budget"]}" stroke-width="2" '
                     f'stroke-dasharray="4 2"><title>budget {_money(team.budget_usd)}</title></line>')
    parts.append("</svg>")
    return "".join(parts)


def _verdict(team: Any) -> str:
    if team.over_org_cap:
        return "over org cap"
    return "over budget" if team.over_budget else "within budget"


def bars(title: str, rows: list[tuple[str, float]], colour: str | list[str]) -> str:
    top = _scale(value for _, value in rows)
    height = len(rows) * ROW + 30
    parts = [f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>', _axis(top, height)]
    for index, (label, value) in enumerate(rows):
        y = index * ROW + 6
        fill = colour[index] if isinstance(colour, list) else colour
        parts.append(f'<text x="0" y="{y + 14}" class="label">{_esc(label)}</text>'
                     f'<rect x="{LABEL}" y="{y}" width="{max(_x(max(value, 0), top) - LABEL, 1):.1f}" height="18" fill="{fill}">'
                     f"<title>{_esc(label)}: {_money(value)}</title></rect>"
                     f'<text x="{_x(max(value, 0), top) + 4:.1f}" y="{y + 14}" class="value">{_esc(_money(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _spent(team: Any, spent: dict[str, Any] | None, complete: bool) -> str:
    """What was spent against the budget, apart from the estimate's gate: over, forecast over,
    or within (the month so far, when it is in progress)."""
    if not spent:
        return "-"
    if spent["actual_usd"] > team.budget_usd:
        return "over budget"
    if not complete and spent["forecast_usd"] is not None and spent["forecast_usd"] > team.budget_usd:
        return "forecast over budget"
    return "within budget"


def tables(data: ReportData) -> list[Table]:
    """Every table of the report, in its order."""
    est, sb = data.estimate, data.showback
    actual = {t["team"]: t for t in (sb or {}).get("teams", [])}
    complete = bool(sb and sb.get("month_complete"))
    teams = Table(
        "teams",
        ("Team", "Owner", "Cost center", "Budget", "Low", "Expected", "High", "Estimate gate", "Actual", "Forecast", "Spent of budget", "Spent"),
        ("text", "text", "text", "usd", "usd", "usd", "usd", "text", "usd", "usd", "share", "text"),
        tuple((t.team, t.owner, t.cost_center, t.budget_usd, t.total.low, t.total.expected, t.total.high, _verdict(t),
               actual.get(t.team, {}).get("actual_usd"), actual.get(t.team, {}).get("forecast_usd"),
               actual[t.team]["actual_usd"] / t.budget_usd if t.team in actual else None, _spent(t, actual.get(t.team), complete))
              for t in est.teams),
        total=("Total", "", "", sum(t.budget_usd for t in est.teams), est.total.low, est.total.expected, est.total.high, "",
               sum(a["actual_usd"] for a in actual.values()) if sb else None,
               sum(a["forecast_usd"] or 0 for a in actual.values()) if sb else None,
               sum(a["actual_usd"] for a in actual.values()) / sum(t.budget_usd for t in est.teams) if sb and est.teams else None, ""),
    )
    found = [teams]
    models = _models(est, sb)
    if models:
        found.append(Table("models", ("Model", "Cost", "Estimated $/1M tokens", "Actual $/1M tokens", "Tokens"),
                           ("text", "usd", "usd", "usd", "count"), tuple(models)))
    buy = (sb or {}).get("build_or_buy") or []
    if buy:
        found.append(Table("build_or_buy", ("Model", "Team", "Managed alternative", "Input tokens", "Output tokens", "Self-hosted", "Managed",
                                            "Difference", "Break-even tokens/month"),
                           ("text", "text", "text", "count", "count", "usd", "usd", "usd", "count"),
                           tuple((r["model_id"], r["team"], r["managed_alternative"], r["input_tokens"], r["output_tokens"], r["self_hosted_usd"],
                                  r["managed_usd"], r["difference_usd"], r["break_even_tokens_per_month"]) for r in buy)))
    found.append(Table("savings_and_leaks", ("What", "USD per month"), ("text", "usd"), tuple(_leaks(est, sb))))
    gpu = (sb or {}).get("gpu_utilization")
    if gpu and gpu.get("idle_usd") is not None:
        found.append(Table("idle_gpu", ("Team", "Pool or job", "Model", "GPU busy", "Actual", "Idle"),
                           ("text", "text", "text", "share", "usd", "usd"),
                           tuple((u["team"], f"{u['kind']} {u['name']}", u["model_id"], u["gpu_busy_share"], u["actual_usd"], u["idle_usd"])
                                 for u in gpu["units"])))
    if sb and sb.get("unknown_teams"):
        found.append(Table("unknown_teams", ("Team tag", "Actual"), ("text", "usd"), tuple((u["team"], u["actual_usd"]) for u in sb["unknown_teams"])))
    recs = data.recommendations
    if recs and recs["recommendations"]:
        found.append(Table("recommendations", ("Change", "Where", "Current", "Proposed", "Saving per month"),
                           ("text", "text", "text", "text", "usd"),
                           tuple((r["id"] + ("" if r["writes"] else " (advice, not in the total)"), f"{r['file']}:{r['line']} {r['field']}",
                                  _plain(r["current"]), _plain(r["proposed"]),
                                  r["monthly_saving_usd"]) for r in recs["recommendations"]),
                           total=("Together (what recommend --write saves)", "", "", "", recs["total_monthly_saving_usd"])))
    untagged = [r for r in (sb or {}).get("untagged_resources", []) if r["actual_usd"] > 0]
    if untagged:
        found.append(Table("untagged_resources", ("Resource", "Service", "Actual"), ("text", "text", "usd"),
                           tuple((r["resource_id"], r["service"], r["actual_usd"]) for r in untagged)))
    if data.over_time:
        from generators.see import report_time

        found += report_time.tables(data.over_time)
    return found


def _plain(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k} {' '.join(v) if isinstance(v, list) else v}" for k, v in value.items())
    return str(value)


def _leaks(est: Any, sb: dict[str, Any] | None) -> list[tuple[str, float]]:
    """Savings first (estimated: the plan against always-on, on-demand capacity), then what leaked."""
    leaks = [("schedule savings (estimated, against always-on)", sum(t.schedule_savings_usd for t in est.teams)),
             ("spot savings (estimated, against on-demand)", sum(t.spot_savings_usd for t in est.teams))]
    if sb:
        leaks += [("off-schedule spend", sum(t["off_schedule_usd"] or 0 for t in sb["teams"])), ("untagged spend", sb["unattributed_usd"])]
        if sb.get("unknown_teams"):
            leaks.append(("spend under unknown teams", sum(u["actual_usd"] for u in sb["unknown_teams"])))
        gpu = sb.get("gpu_utilization")
        if gpu and gpu.get("idle_usd") is not None:
            leaks.append(("idle GPU time", gpu["idle_usd"]))
    return leaks


def render(data: ReportData, built: list[Table] | None = None) -> str:
    """The page; `built` is `tables(data)` when the caller already has them (report --csv)."""
    est, sb = data.estimate, data.showback
    failing = [t.team for t in est.failing]
    verdict = (f"Estimate's budget gate failed ({data.gate} totals): {', '.join(failing)}" if failing
               else f"Estimate's budget gate passed ({data.gate} totals): every team within its budget and the org cap")
    by_name = {table.name: table for table in (built if built is not None else tables(data))}
    sections = [
        f"<h1>GPU FinOps report, {_esc(data.month)}</h1>",
        f'<p class="verdict {"bad" if failing else "good"}">{_esc(verdict)}</p>',
        "<h2>Teams: estimate and actual against the budget</h2>",
        '<p class="legend"><span style="background:#90caf9"></span>estimate low to high '
        '<span style="background:#1565c0"></span>expected '
        + ('<span style="background:#2e7d32"></span>actual <span style="background:#81c784"></span>forecast ' if sb else "")
        + '<span style="background:#c62828"></span>budget</p>',
        teams_chart(data),
        by_name["teams"].html(),
        "<p class=\"note\">Low: every pool at min_nodes on its cheapest type; expected: desired_nodes at the mean price; "
        "high: max_nodes on the dearest type. Estimate gate: the estimate against the budget (what CI gates on); spent: the "
        "actual spend against it. The estimate leaves out the EKS control plane, data transfer and shared cluster costs.</p>",
    ]
    if "models" in by_name:
        models = by_name["models"]
        sections += ["<h2>Cost by model</h2>",
                     bars("Monthly cost by model" + (" (actual)" if sb else " (expected)"), [(m[0], m[1]) for m in models.rows], COLOURS["expected"]),
                     models.html()]
    if "build_or_buy" in by_name:
        buy = by_name["build_or_buy"]
        rows = [row for r in buy.rows for row in ((f"{r[0]} self-hosted", r[5]), (f"{r[0]} bought", r[6]))]
        sections += ["<h2>Build or buy</h2>",
                     '<p class="legend"><span style="background:#2e7d32"></span>self-hosted (actual) '
                     '<span style="background:#ef6c00"></span>bought: the same tokens on the managed alternative (named in the table)</p>',
                     bars("Self-hosted spend against the same tokens bought from the managed alternative", rows,
                          [COLOURS["actual"], COLOURS["leak"]] * len(buy.rows)),
                     buy.html(),
                     '<p class="note">The month\'s measured input (prompt) and output (generation) tokens at the alternative\'s '
                     "on-demand prices in the team's region (price catalog). Difference: self-hosted minus managed (above zero, buying "
                     "was cheaper). Break-even: the monthly tokens, at this month's mix, at which buying would cost what the pool did: "
                     "below it buying is cheaper, above it the pool is.</p>"]
    leaks = by_name["savings_and_leaks"]
    fills = [COLOURS["savings"]] * 2 + [COLOURS["leak"]] * (len(leaks.rows) - 2)
    sections += ["<h2>Savings and leaks</h2>",
                 '<p class="legend"><span style="background:#6a1b9a"></span>saved (estimated) <span style="background:#ef6c00"></span>leaked</p>',
                 bars("Savings the schedules and spot bring, and spend that leaks", [(label.split(" (")[0], value) for label, value in leaks.rows], fills),
                 leaks.html()]
    if data.over_time:
        from generators.see import report_time

        sections += report_time.section(data.over_time, by_name)
    if "recommendations" in by_name:
        sections += ["<h2>Recommendations</h2>",
                     '<p class="note">Manifest changes from what was measured; each saving is the estimate before minus after '
                     "(`genai-finops recommend` for the evidence, `--write` to make them).</p>", by_name["recommendations"].html()]
    if "idle_gpu" in by_name:
        sections += ["<h3>Idle GPU time (DCGM)</h3>", by_name["idle_gpu"].html()]
    if "unknown_teams" in by_name:
        sections += ["<h3>Spend under a Team tag no manifest has</h3>",
                     '<p class="note">A typo in a tag or a team that left: nobody budgets this spend.</p>', by_name["unknown_teams"].html()]
    if sb and sb.get("notes"):
        sections += ["<h3>Notes</h3>", "<ul>" + "".join(f"<li>{_esc(n)}</li>" for n in sb["notes"]) + "</ul>"]
    if "untagged_resources" in by_name:
        sections += ["<h3>Top untagged resources</h3>", by_name["untagged_resources"].html()]
    read = data.estimate.prices_read
    sources = [f"price catalog: {data.prices}, read {read}"] + [f"billing: {s}" for s in data.billing_sources]
    note = age_note(read)
    if note:
        sources.append(f"warning: {note}")
    sections += ["<h2>Sources</h2>", "<ul>" + "".join(f"<li>{_esc(s)}</li>" for s in sources) + "</ul>",
                 f'<p class="note">Generated {_esc(data.generated)} by genai-finops.</p>']
    return PAGE.format(title=_esc(f"GPU FinOps report {data.month}"), body="\n".join(sections))


def _models(est: Any, sb: dict[str, Any] | None) -> list[tuple[str, float, float | None, float | None, int | None]]:
    """(model, cost, estimated $/1M, actual $/1M, tokens): actual cost with billing data, else expected.
    The estimated $/1M is the one `cost` and `showback` print (generators/plan/unit_cost.py)."""
    if sb:
        rows = []
        for m in sb["models"]:
            tokens = None if m.get("prompt_tokens") is None else m["prompt_tokens"] + m["generation_tokens"]
            if m.get("kind") == "managed" and m.get("billed_tokens"):
                tokens = sum(m["billed_tokens"].values())
            rows.append((f"{m['model_id']} ({m['team']})", m["actual_usd"], m.get("estimated_usd_per_million_tokens"),
                         m.get("usd_per_million_tokens"), tokens))
        return rows
    return [(m.model_id, m.monthly_usd.expected, m.usd_per_million_tokens_at_utilization, None, None) for m in unit_cost.by_model(est)]


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1040px; color: #212121; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #e0e0e0; }}
svg {{ width: 100%; height: auto; display: block; margin: .5rem 0; }}
svg .label {{ font-size: 13px; font-weight: 600; }} svg .sub {{ font-size: 11px; fill: #616161; }}
svg .tick, svg .value {{ font-size: 11px; fill: #424242; }} svg .grid {{ stroke: #eeeeee; }}
table {{ border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 1rem; }}
th, td {{ border-bottom: 1px solid #eeeeee; padding: .3rem .5rem; text-align: right; }}
th:first-child, td:first-child, th.text, td.text {{ text-align: left; }}
.verdict {{ padding: .6rem .8rem; border-radius: 4px; font-weight: 600; }}
.good {{ background: #e8f5e9; color: #1b5e20; }} .bad {{ background: #ffebee; color: #b71c1c; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 .3rem 0 .8rem; vertical-align: middle; }}
.note {{ font-size: .8rem; color: #616161; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: .5rem; }} figure {{ margin: 0; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
