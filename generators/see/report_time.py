"""The report's "Over time" section: per team, the month's running total against the budget line
with the forecast range, the spend month over month, and the anomalies.

Time axes, their ticks and legends are drawn by Vega-Lite (charts declared with Altair, rendered
to static SVG in process by vl-convert: no browser, no request), inlined into the one HTML file
like the hand-drawn charts. Labels from the billing data are text nodes Vega escapes; the same
figures are in the tables under the charts and in the CSV files.
"""

from __future__ import annotations

from typing import Any

from generators.safe_text import truncate, visible
from generators.see.report_table import Table


def _label(text: Any) -> str:
    """A name from the billing data for a chart: control and bidi characters made visible, capped
    (Vega escapes it as SVG text)."""
    return truncate(visible(text), 64)

WIDTH, HEIGHT = 340, 170
COLOURS = {"actual": "#2e7d32", "forecast": "#81c784", "budget": "#c62828"}


def tables(over: dict[str, Any]) -> list[Table]:
    months = [m for m in over["months"] if m["total_usd"] or m is over["months"][-1]]
    teams = [t["team"] for t in months[0]["teams"]]
    out = [Table("months", ("Team", *(m["month"] + ("" if m["complete"] else " (so far)") for m in months), "Budget"),
                 ("text", *(["usd"] * len(months)), "usd"),  # type: ignore[arg-type]  # Kind literals
                 tuple((team, *(m["teams"][i]["actual_usd"] for m in months), months[-1]["teams"][i]["budget_usd"]) for i, team in enumerate(teams)))]
    if over["forecasts"]:
        out.append(Table("forecasts", ("Team", "So far", "Forecast", "Low", "High", "Budget"), ("text", "usd", "usd", "usd", "usd", "usd"),
                         tuple((f["team"], f["actual_usd"], f["forecast_usd"], f["low_usd"], f["high_usd"], f["budget_usd"]) for f in over["forecasts"])))
    out.append(Table("anomalies", ("Day", "Team", "Spend", "Baseline", "Impact", "Largest increases"), ("text", "text", "usd", "usd", "usd", "text"),
                     tuple((a["date"], a["team"], a["spend_usd"], a["baseline_usd"], a["impact_usd"],
                            ", ".join(f"{r['resource_id']} +{r['increase_usd']:,.2f}" for r in a["resources"])) for a in over["anomalies"])))
    return out


def _svg(chart: Any) -> str:
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return svg[svg.index("<svg"):]  # no XML declaration inside HTML


def month_chart(over: dict[str, Any], team: str) -> str:
    """The team's running total this month, the forecast's range and expected path to the month's
    end, and the budget line."""
    import altair as alt

    series = next(s for s in over["days"] if s["team"] == team)
    forecast = next((f for f in over["forecasts"] if f["team"] == team), None)
    budget = next(r["budget_usd"] for r in over["months"][-1]["teams"] if r["team"] == team)
    points = [{"date": d["date"], "usd": d["cumulative_usd"], "line": "actual"} for d in series["days"]]
    band: list[dict[str, Any]] = []
    if forecast:
        start = points[-1] if points else None
        band = ([{"date": start["date"], "low": start["usd"], "high": start["usd"]}] if start else []) + [
            {"date": p["date"], "low": p["low_usd"], "high": p["high_usd"]} for p in forecast["path"]]
        points += ([dict(start, line="forecast")] if start else []) + [
            {"date": p["date"], "usd": p["expected_usd"], "line": "forecast"} for p in forecast["path"]]
    x = alt.X("date:T", title=None, axis=alt.Axis(format="%b %d", labelAngle=0, tickCount=5))
    y = alt.Y("usd:Q", title="running total", axis=alt.Axis(format="$,.0f"))
    colour = alt.Color("line:N", title=None, scale=alt.Scale(domain=["actual", "forecast", "budget"],
                                                             range=[COLOURS["actual"], COLOURS["forecast"], COLOURS["budget"]]),
                       legend=alt.Legend(orient="bottom"))
    layers = [alt.Chart(alt.Data(values=points)).mark_line().encode(x=x, y=y, color=colour,
                                                                  strokeDash=alt.condition("datum.line == 'forecast'", alt.value([4, 3]), alt.value([1, 0])))]
    if band:
        layers.insert(0, alt.Chart(alt.Data(values=band)).mark_area(opacity=0.25, color=COLOURS["forecast"]).encode(
            x=x, y=alt.Y("low:Q", title="running total"), y2="high:Q"))
    if budget:
        layers.append(alt.Chart(alt.Data(values=[{"usd": budget, "line": "budget"}])).mark_rule(strokeWidth=2).encode(y="usd:Q", color=colour))
    return _svg(alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=f"{_label(team)}, {over['to']}"))


def trend_chart(over: dict[str, Any]) -> str:
    """Every team's spend per month (the month in progress marked so far)."""
    import altair as alt

    values = [{"month": m["month"] + "-01", "team": _label(row["team"]), "usd": row["actual_usd"]}
              for m in over["months"] if m["total_usd"] or m is over["months"][-1] for row in m["teams"]]
    chart = alt.Chart(alt.Data(values=values)).mark_line(point=True).encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount={"interval": "month", "step": 1})),
        y=alt.Y("usd:Q", title="spend per month", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("team:N", title="team", legend=alt.Legend(orient="right")))
    return _svg(chart.properties(width=WIDTH * 2 - 60, height=HEIGHT + 30, title="Spend by month (the last one so far)"))


def section(over: dict[str, Any], by_name: dict[str, Table]) -> list[str]:
    teams = [t["team"] for t in over["months"][-1]["teams"] if t["budget_usd"] is not None]  # the manifests' teams
    out = ["<h2>Over time</h2>",
           f'<p class="note">Data complete through {over["complete_through"] or "no whole day"} (UTC). The forecast of a month in '
           "progress follows the recent days by weekday and their trend; one-off charges and anomalous days count once. "
           "An anomaly is a day far above the team's median of the 14 days before it (and by at least org.yaml "
           "anomalies.alert_threshold_usd).</p>",
           trend_chart(over), by_name["months"].html(),
           '<div class="charts">' + "".join(f'<figure>{month_chart(over, team)}</figure>' for team in teams) + "</div>"]
    if "forecasts" in by_name:
        out.append(by_name["forecasts"].html())
    out += ["<h3>Anomalies</h3>", by_name["anomalies"].html() if by_name["anomalies"].rows else "<p>None.</p>"]
    return out
