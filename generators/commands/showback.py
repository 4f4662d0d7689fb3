"""`genai-finops showback`: actual spend per team and model from a FOCUS billing export.

JSON output (`--format json`), stable keys (`schema_version` changes when one does):

    schema_version      1
    month               "YYYY-MM": rows whose ChargePeriodStart falls in it (UTC)
    currency, cost_column   "USD", "EffectiveCost" (amortized)
    sources             the files read; rows: how many rows of the month
    month_complete      whether the data reaches the month's end (else forecasts are run rates)
    teams[]             team, budget_usd, estimate_usd (expected, as `cost` computes it),
                        actual_usd, variance_usd (actual - estimate), off_schedule_usd (null
                        when it cannot be computed, with off_schedule_note saying why),
                        forecast_usd (the run rate to the month's end)
    models[]            model_id, team, actual_usd; with --prometheus also served_model_names,
                        prompt_tokens, generation_tokens, usd_per_million_tokens (actual spend /
                        (prompt + generation) x 1e6), usd_per_million_output_tokens (/ generation),
                        estimated_usd_per_million_tokens (the estimate's, at utilization_percent),
                        tokens_note (why there is no figure)
                        kind (managed: a managed_models entry, bought per token | self-hosted |
                        unknown); billed_tokens {input, output, cache_read, cache_write} where its
                        rows bill tokens; for a managed model usd_per_million_tokens is its spend
                        over all four and estimated_usd_per_million_tokens the estimate's
    tokens, unattributed_tokens   token rows by direction: all of them, and those without a Team tag
    providers[]         provider (ServiceProviderName, else ProviderName), host (HostProviderName,
                        else ProviderName), actual_usd
    build_or_buy[]      with --prometheus: team, model_id, managed_alternative, input_tokens,
                        output_tokens (measured), self_hosted_usd (the model's actual), managed_usd
                        (those tokens at the alternative's prices), difference_usd (self-hosted -
                        managed), cheaper, break_even_tokens_per_month, prices {input, output} per 1M
    unknown_teams[]     spend under a Team tag no manifest has (team, actual_usd), largest first
    unattributed_usd    spend with no Team tag; untagged_resources[]: the top ten by cost
                        (resource_id, service, actual_usd)
    total_usd           every row of the month
    gpu_utilization     with --prometheus: metric, units[] (team, kind: inference | training,
                        name, model_id, gpu_busy_share (0-1, mean of its GPUs' DCGM samples;
                        null without series), gpu_samples, actual_usd (its model's spend, split
                        between the team's units of that model by samples), idle_usd (actual x
                        (1 - busy share))), unowned_series, idle_usd (the sum), note
    notes[]             Prometheus series passed over (a value that is not a finite number, a
                        negative counter, labels in the wrong shape), one sentence each
"""

from __future__ import annotations

import argparse
import sys

from generators.commands._common import add_billing_arguments, add_manifest_arguments, billing_sources, dump_json, use_colour
from generators.formats import money, share, signed
from generators.safe_text import cap_markdown, cell, md_code, md_text

NAME = "showback"
HELP = "actual spend per team and model from the FOCUS billing export, against budget and estimate"
DESCRIPTION = """\
Read the FOCUS billing export (Parquet, CSV or gzipped CSV, as AWS Data Exports writes it: a
directory searched recursively, files, or s3://bucket/prefix) with DuckDB, for one month, and
report per team its budget, the pre-flight estimate, the actual EffectiveCost, the variance,
the spend outside its schedule (instance hours; needs hourly data) and the forecast to the
month's end; spend per model; spend without a Team tag and its top resources. Team and model
come from the Tags column (Team or user:Team, ModelID or user:ModelID). Managed models
(Bedrock, through their tagged inference profiles) are shown with their tokens by direction
(input, output, cache read, cache write) and their actual $ per million tokens; with
--prometheus, each self-hosted model whose pool names a managed_alternative gets a build-or-buy
line: its measured tokens priced on that model, the difference and the break-even volume."""
EPILOG = """\
examples:
  genai-finops showback --billing exports/focus --month 2026-10
  genai-finops showback manifests --billing s3://acme-cur/focus --format markdown
  genai-finops showback --billing focus.parquet --format json
  genai-finops showback --engine athena --month 2026-10     org.yaml billing.athena_table
  genai-finops showback --billing exports/focus --months 2026-08..2026-10     trend, forecast, anomalies
  genai-finops showback --billing exports/focus --last 3 --format json

exit codes: 0 ok, 1 invalid manifests or billing data (missing FOCUS columns, a bad value named
by file and row, the same rows in two files, no rows for the month, an unreadable bucket or
Prometheus), 2 usage error (including a --prometheus URL that is not http or https)"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_billing_arguments(parser)
    parser.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="table (default), json or markdown")
    over = parser.add_argument_group("over time (the JSON keys: generators/commands/_over_time.py)")
    over.add_argument("--months", metavar="FROM..TO", help="spend by month from FROM to TO (YYYY-MM..YYYY-MM), with daily series, "
                      "the forecast of a month in progress and anomalies")
    over.add_argument("--last", type=int, metavar="N", help="the same for the last N months, ending with --month (default: this month)")


def run(args: argparse.Namespace) -> int:
    from generators.commands import _over_time
    from generators.manifest.loading import load_manifest_set, teams_beside
    from generators.months import Month
    from generators.plan.estimate import estimate
    from generators.plan.pricing import DEFAULT_PATH, load_catalog
    from generators.see.measure import leave_out, measure

    months = _over_time.months_of(args)
    sources = billing_sources(args)
    if months is not None:
        from generators.see.measure import measure_over_time

        doc = measure_over_time(load_manifest_set(args.paths), months, sources).as_json()
        print(dump_json(doc) if args.format == "json" else _over_time.to_markdown(doc) if args.format == "markdown" else _over_time.to_table(doc))
        return 0
    month = Month.parse(args.month) if args.month else Month.current()
    manifests = load_manifest_set(args.paths)
    report = measure(manifests, month, estimate(manifests, load_catalog(DEFAULT_PATH), month), sources)
    leave_out(report, teams_beside(args.paths))
    if args.format == "json":
        print(dump_json(report.as_json()))
    elif args.format == "markdown":
        print(to_markdown(report))
    else:
        print(to_table(report, colour=use_colour(sys.stdout)))
    return 0


def _count(model: dict) -> str:
    if model.get("prompt_tokens") is None:
        return "-"
    return f"{model['prompt_tokens'] + model['generation_tokens']:,}"


def _billed(model: dict) -> str:
    billed = model.get("billed_tokens") or {}
    return ", ".join(f"{count:,} {kind.replace('_', ' ')}" for kind, count in billed.items() if count)


def _tokens_text(model: dict) -> str:
    if model.get("kind") == "managed":
        if model.get("usd_per_million_tokens") is None:
            return f"; managed; {cell(model.get('tokens_note') or 'no token rows in the billing data', 120)}"
        estimated = model.get("estimated_usd_per_million_tokens")
        versus = f" (estimated {money(estimated)})" if estimated is not None else ""
        return f"; managed: {_billed(model)} tokens, {money(model['usd_per_million_tokens'])} per 1M{versus}"
    if "prompt_tokens" not in model:
        return ""
    if model["usd_per_million_tokens"] is None:
        return f"; {cell(model['tokens_note'], 120)}"
    estimated = model["estimated_usd_per_million_tokens"]
    versus = f" (estimated {money(estimated)})" if estimated is not None else ""
    return f"; {_count(model)} tokens, {money(model['usd_per_million_tokens'])} per 1M{versus}, {money(model['usd_per_million_output_tokens'])} per 1M output"


def _off(team) -> str:
    return money(team.off_schedule_usd) if team.off_schedule_usd is not None else f"n/a ({team.off_schedule_note})"


def _rows(report) -> list[list[str]]:
    return [
        [t.team, money(t.budget_usd), money(t.estimate_usd), money(t.actual_usd), signed(t.variance_usd), _off(t), money(t.forecast_usd)]
        for t in report.teams
    ]


HEADERS = ["TEAM", "BUDGET", "ESTIMATE", "ACTUAL", "VARIANCE", "OFF-SCHEDULE", "FORECAST"]


def to_table(report, colour: bool = False) -> str:
    """For a terminal: every value from the billing data or Prometheus through `cell` (control
    and bidi characters made visible, long values cut; the JSON keeps them whole)."""
    red, reset = ("\033[31m", "\033[0m") if colour else ("", "")
    rows = _rows(report)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    state = "complete" if report.complete else "in progress: forecast is the run rate to month end"
    out = [f"Showback for {report.month} (EffectiveCost, USD; {report.rows:,} rows; month {state})", "", line(HEADERS), line(["-" * w for w in widths])]
    for team, row in zip(report.teams, rows):
        text = line(row)
        if colour and team.budget_usd is not None and team.forecast_usd > team.budget_usd:
            text = f"{red}{text}{reset}"
        out.append(text)
    if report.unknown_teams:
        out += ["", f"Spend under a Team tag no manifest has ({money(sum(u['actual_usd'] for u in report.unknown_teams))}):"]
        out += [f"  {cell(u['team'])}: {money(u['actual_usd'])}" for u in report.unknown_teams]
    out += ["", "By model:"] + [f"  {cell(m['model_id'])} ({cell(m['team'])}): {money(m['actual_usd'])}{_tokens_text(m)}" for m in report.models]
    out += ["", f"Without a Team tag: {money(report.unattributed_usd)}"]
    out += [f"  {cell(r['resource_id'])} ({cell(r['service'], 32)}): {money(r['actual_usd'])}" for r in report.untagged_resources if r["actual_usd"] > 0]
    out += _build_or_buy_lines(report)
    if len(report.providers) > 1:
        out += ["", "By provider (service provider / host):"]
        out += [f"  {cell(p['provider'] or '-')} / {cell(p['host'] or '-')}: {money(p['actual_usd'])}" for p in report.providers]
    out += _gpu_lines(report)
    out += _note_lines(report)
    out += ["", f"Total: {money(report.total_usd)}"]
    return "\n".join(out)


def _build_or_buy_lines(report) -> list[str]:
    if not report.build_or_buy:
        return []
    out = ["", "Build or buy (the month's measured tokens on the pool's managed_alternative):"]
    for row in report.build_or_buy:
        out.append(f"  {cell(row['model_id'])} ({row['team']}): self-hosted {money(row['self_hosted_usd'])}, on {row['managed_alternative']} "
                   f"{money(row['managed_usd'])} ({signed(row['difference_usd'])}); {row['cheaper']} is cheaper at "
                   f"{row['input_tokens'] + row['output_tokens']:,} tokens; break-even {_volume(row['break_even_tokens_per_month'])} tokens/month")
    return out


def _volume(tokens: int | None) -> str:
    return "-" if tokens is None else f"{tokens:,}"


def _gpu_lines(report) -> list[str]:
    gpu = report.gpu_utilization
    if gpu is None:
        return []
    if gpu["note"]:
        return ["", f"Idle GPU: {cell(gpu['note'], 200)}"]
    out = ["", f"Idle GPU ({cell(gpu['metric'])}): {money(gpu['idle_usd'])} of GPU spend did no work"]
    for u in gpu["units"]:
        detail = (
            "no GPU series"
            if u["gpu_busy_share"] is None
            else f"busy {share(u['gpu_busy_share'])}, idle {money(u['idle_usd'])} of {money(u['actual_usd'])}"
        )
        out.append(f"  {u['team']} {u['kind']} {u['name']} ({cell(u['model_id'])}): {detail}")
    if gpu["unowned_series"]:
        out.append(f"  {gpu['unowned_series']} GPU series belong to no pool or training job")
    return out


def _note_lines(report) -> list[str]:
    """What was passed over in the Prometheus answers (malformed series), one line each."""
    return ["", "Notes:", *(f"  {cell(note, 200)}" for note in report.notes)] if report.notes else []


def to_markdown(report) -> str:
    """A PR or issue comment: every cell escaped (md_code for identifiers, md_text for prose),
    and the whole kept under GitHub's comment limit, saying what was cut."""
    out = [f"### GPU showback for {report.month}", ""]
    out.append(f"EffectiveCost from {report.rows:,} FOCUS rows; the month is {'complete' if report.complete else 'in progress (forecast = run rate)'}.")
    out += ["", "| Team | Budget | Estimate | Actual | Variance | Off-schedule | Forecast |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    out += [f"| {md_code(r[0])} | " + " | ".join(md_text(c) for c in r[1:]) + " |" for r in _rows(report)]
    if report.unknown_teams:
        out += ["", f"**Spend under a Team tag no manifest has**: {money(sum(u['actual_usd'] for u in report.unknown_teams))}.", "",
                "| Unknown team | Actual |", "| --- | ---: |"]
        out += [f"| {md_code(u['team'])} | {money(u['actual_usd'])} |" for u in report.unknown_teams]
    if any("prompt_tokens" in m for m in report.models):
        out += ["", "| Model | Team | Actual | Tokens | $/1M tokens | $/1M output | Estimated $/1M |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        out += [
            f"| {md_code(m['model_id'])} | {md_code(m['team'])} | {money(m['actual_usd'])} | {_count(m)} | {money(m['usd_per_million_tokens'])} | "
            f"{money(m['usd_per_million_output_tokens'])} | {money(m['estimated_usd_per_million_tokens'])} |"
            for m in report.models
        ]
    else:
        out += ["", "| Model | Team | Kind | Actual | Tokens billed | $/1M tokens | Estimated $/1M |", "| --- | --- | --- | ---: | --- | ---: | ---: |"]
        out += [f"| {md_code(m['model_id'])} | {md_code(m['team'])} | {m.get('kind', '')} | {money(m['actual_usd'])} | {md_text(_billed(m)) or '-'} | "
                f"{money(m.get('usd_per_million_tokens'))} | {money(m.get('estimated_usd_per_million_tokens'))} |" for m in report.models]
    if report.build_or_buy:
        out += ["", "**Build or buy** (the month's measured tokens on the pool's managed alternative):", "",
                "| Model | Team | Managed alternative | Tokens (in / out) | Self-hosted | Managed | Difference | Break-even tokens/month |",
                "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {md_code(r['model_id'])} | {md_code(r['team'])} | {md_code(r['managed_alternative'])} | {r['input_tokens']:,} / {r['output_tokens']:,} | "
                f"{money(r['self_hosted_usd'])} | {money(r['managed_usd'])} | {signed(r['difference_usd'])} | {_volume(r['break_even_tokens_per_month'])} |"
                for r in report.build_or_buy]
    gpu = report.gpu_utilization
    if gpu is not None and gpu["note"]:
        out += ["", f"**Idle GPU**: {md_text(gpu['note'])}."]
    elif gpu is not None:
        out += ["", f"**Idle GPU** ({md_code(gpu['metric'], in_table=False)}): {money(gpu['idle_usd'])} of GPU spend did no work.", "",
                "| Team | Kind | Name | Model | GPU busy | Actual | Idle |", "| --- | --- | --- | --- | ---: | ---: | ---: |"]
        out += [f"| {md_code(u['team'])} | {u['kind']} | {md_code(u['name'])} | {md_code(u['model_id'])} | {share(u['gpu_busy_share'])} | "
                f"{money(u['actual_usd'])} | {money(u['idle_usd'])} |" for u in gpu["units"]]
    out += ["", f"**Without a Team tag**: {money(report.unattributed_usd)} (total {money(report.total_usd)})."]
    top = [r for r in report.untagged_resources if r["actual_usd"] > 0]
    if top:
        out += ["", "| Untagged resource | Service | Actual |", "| --- | --- | ---: |"]
        out += [f"| {md_code(r['resource_id'])} | {md_code(r['service'])} | {money(r['actual_usd'])} |" for r in top]
    if report.notes:
        # A note quotes Prometheus labels: in a code span, where nothing renders (links included).
        out += ["", "**Notes**:", *(f"- {md_code(note, 400, in_table=False)}" for note in report.notes)]
    return cap_markdown("\n".join(out))
