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
import os
import sys
import tempfile
from pathlib import Path

from generators.commands._common import add_manifest_arguments, dump_json, money, signed, use_colour
from generators.safe_text import cap_markdown, cell, md_code, md_text, message

NAME = "showback"
HELP = "actual spend per team and model from the FOCUS billing export, against budget and estimate"
DESCRIPTION = """\
Read the FOCUS billing export (Parquet, CSV or gzipped CSV, as AWS Data Exports writes it: a
directory searched recursively, files, or s3://bucket/prefix) with DuckDB, for one month, and
report per team its budget, the pre-flight estimate, the actual EffectiveCost, the variance,
the spend outside its schedule (instance hours; needs hourly data) and the forecast to the
month's end; spend per model; spend without a Team tag and its top resources. Team and model
come from the Tags column (Team or user:Team, ModelID or user:ModelID)."""
EPILOG = """\
examples:
  genai-finops showback --billing exports/focus --month 2026-10
  genai-finops showback manifests --billing s3://acme-cur/focus --format markdown
  genai-finops showback --billing focus.parquet --format json
  genai-finops showback --engine athena --month 2026-10     org.yaml billing.athena_table

exit codes: 0 ok, 1 invalid manifests or billing data (missing FOCUS columns, a bad value named
by file and row, the same rows in two files, no rows for the month, an unreadable bucket or
Prometheus), 2 usage error (including a --prometheus URL that is not http or https)"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_billing_arguments(parser, required=True)
    parser.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="table (default), json or markdown")


def add_billing_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    """The billing and token options, shared with `report`."""
    parser.add_argument("--billing", nargs="+", metavar="SRC", help="FOCUS files, directories or s3://bucket/prefix (engine duckdb)")
    parser.add_argument("--month", metavar="YYYY-MM", help="calendar month (default: the current UTC month)")
    parser.add_argument(
        "--engine",
        choices=["duckdb", "athena"],
        default="duckdb",
        help="duckdb (default, in process over --billing) or athena (org.yaml billing.athena_table in billing.athena_workgroup)",
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        default=os.environ.get("GENAI_FINOPS_PROMETHEUS_URL"),
        help="Prometheus HTTP API (or AMP, Thanos, Mimir) with the servers' token counters (default: $GENAI_FINOPS_PROMETHEUS_URL)",
    )
    parser.add_argument("--prometheus-sigv4-region", metavar="REGION",
                        help="sign requests with SigV4 (service aps) for this region: for an Amazon Managed Service for Prometheus "
                             "endpoint under another name (aps-workspaces.REGION.amazonaws.com URLs are signed without it)")
    parser.add_argument("--prompt-metric", default="vllm:prompt_tokens_total", help="prompt token counter (default: vLLM's)")
    parser.add_argument("--generation-metric", default="vllm:generation_tokens_total", help="generation token counter (default: vLLM's)")
    parser.add_argument("--model-label", default="model_name", help="the counters' label naming the model (default: model_name)")
    parser.add_argument("--gpu-util-metric", default="DCGM_FI_DEV_GPU_UTIL",
                        help="per-GPU busy percent gauge (default: NVIDIA dcgm-exporter's); README, Idle GPU, for its labels")


def compute(args: argparse.Namespace, manifests, month, estimate):
    """The showback for `args` (billing from files, S3 or Athena; tokens when --prometheus)."""
    from generators import cost, showback
    from generators.errors import UsageError

    estimates = {t.team: t.total.expected for t in estimate.teams}
    client = None
    if args.prometheus:  # checked before any billing work: a bad URL or name is a usage error
        from generators import tokens

        metrics = tokens.Metrics(args.prompt_metric, args.generation_metric, args.model_label).check()
        if not tokens.METRIC_NAME.match(args.gpu_util_metric):
            raise UsageError(f"--gpu-util-metric {message(args.gpu_util_metric, 80)!r}: not a Prometheus metric name")
        client = tokens.Client(args.prometheus, sigv4_region=args.prometheus_sigv4_region)
    if args.engine == "athena":
        report = showback.showback(manifests, [], month, estimates, athena_client=athena_client(manifests.org))
    elif not args.billing:
        raise UsageError("--billing SRC is required with --engine duckdb: FOCUS files, a directory or s3://bucket/prefix")
    else:
        report = local_showback(args, manifests, month, estimates)
    if client is not None:
        end = min(month.end, cost.Month.now())
        counts = tokens.tokens(client, month.start, end, metrics)
        showback.add_tokens(report.models, manifests, counts, estimated_per_model(estimate))
        from generators import gpu_idle

        units, unowned = gpu_idle.utilization(client, manifests, month, end, args.gpu_util_metric)
        showback.add_gpu_utilization(report, units, unowned, args.gpu_util_metric)
        report.notes += client.notes
    return report


def run(args: argparse.Namespace) -> int:
    from generators import cost
    from generators.loading import load_manifest_set
    from generators.pricing import DEFAULT_PATH, load_catalog

    month = cost.Month.parse(args.month) if args.month else cost.Month.current()
    manifests = load_manifest_set(args.paths)
    report = compute(args, manifests, month, cost.estimate(manifests, load_catalog(DEFAULT_PATH), month))
    if args.format == "json":
        print(dump_json(report.as_json()))
    elif args.format == "markdown":
        print(to_markdown(report))
    else:
        print(to_table(report, colour=use_colour(sys.stdout)))
    return 0


def estimated_per_model(estimate) -> dict[tuple[str, str], float]:
    """(model_id, team) -> the estimate's $ per million tokens at utilization_percent, pooled
    over the team's pools serving the model (generators/unit_cost.py)."""
    from generators import unit_cost

    served: dict[tuple[str, str], list] = {}
    for team in estimate.teams:
        for c in team.components:
            if c.model_id is not None and c.usd_per_million_tokens_at_utilization is not None:
                served.setdefault((c.model_id, team.team), []).append((c.units.expected, c))
    pooled = {key: unit_cost.pooled_usd_per_million_tokens(pairs)[1] for key, pairs in served.items()}
    return {key: round(value, 4) for key, value in pooled.items() if value is not None}


def athena_client(org):
    """The Athena client for the org's billing table, in the governance region (where the
    governance stack creates the workgroup); refuses an org.yaml without the table."""
    import boto3

    from generators.app_builder import governance_region
    from generators.errors import UsageError

    billing = org.billing
    if billing is None or not billing.athena_table or not billing.athena_workgroup:
        raise UsageError("--engine athena needs billing.athena_table and billing.athena_workgroup in org.yaml")
    return boto3.client("athena", region_name=governance_region(org))


def local_showback(args, manifests, month, estimates):
    from generators import showback

    # A private directory (mkdtemp: mode 0700) that is removed whatever happens; downloaded
    # objects are saved in it under names of our own, never under their keys.
    with tempfile.TemporaryDirectory(prefix="genai-finops-billing-") as scratch:
        sources, labels = [], {}
        for index, source in enumerate(args.billing):
            if source.startswith("s3://"):
                into = Path(scratch) / f"{index:03d}"
                into.mkdir()
                labels.update(showback.download_s3(source, into))
                sources.append(str(into))
            else:
                sources.append(source)
        return showback.showback(manifests, sources, month, estimates, labels=labels)


def _count(model: dict) -> str:
    if model.get("prompt_tokens") is None:
        return "-"
    return f"{model['prompt_tokens'] + model['generation_tokens']:,}"


def _tokens_text(model: dict) -> str:
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
    out += _gpu_lines(report)
    out += _note_lines(report)
    out += ["", f"Total: {money(report.total_usd)}"]
    return "\n".join(out)


def _share(value) -> str:
    return "-" if value is None else f"{value:.0%}"


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
            else f"busy {_share(u['gpu_busy_share'])}, idle {money(u['idle_usd'])} of {money(u['actual_usd'])}"
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
        out += ["", "| Model | Team | Actual |", "| --- | --- | ---: |"]
        out += [f"| {md_code(m['model_id'])} | {md_code(m['team'])} | {money(m['actual_usd'])} |" for m in report.models]
    gpu = report.gpu_utilization
    if gpu is not None and gpu["note"]:
        out += ["", f"**Idle GPU**: {md_text(gpu['note'])}."]
    elif gpu is not None:
        out += ["", f"**Idle GPU** ({md_code(gpu['metric'], in_table=False)}): {money(gpu['idle_usd'])} of GPU spend did no work.", "",
                "| Team | Kind | Name | Model | GPU busy | Actual | Idle |", "| --- | --- | --- | --- | ---: | ---: | ---: |"]
        out += [f"| {md_code(u['team'])} | {u['kind']} | {md_code(u['name'])} | {md_code(u['model_id'])} | {_share(u['gpu_busy_share'])} | "
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
