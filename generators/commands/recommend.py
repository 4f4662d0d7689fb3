"""`genai-finops recommend`: manifest changes from what was measured, each with its evidence and
the saving the estimator confirms (the work is generators/act/recommend.py).

JSON output (`--format json`), stable keys (`schema_version` changes when one does):

    schema_version            1
    month                     "YYYY-MM"
    recommendations[]         id (kind:team:target, stable), kind, team, target (inference/<name>,
                              training/<name> or team), file, line, field (e.g. inference[0].market),
                              current, proposed, monthly_saving_usd (expected estimate before minus
                              after, as `cost` computes it), evidence[] (what, value, source),
                              writes (whether --write makes it), note
    skipped[]                 kind, team, target, reason
    total_monthly_saving_usd  what --write saves: per team, the estimate before minus after all
                              its changes together (less than the sum when two touch one pool)
"""

from __future__ import annotations

import argparse
import sys

from generators.commands._common import add_billing_arguments, add_manifest_arguments, add_only_argument, billing_sources, check_only_teams, dump_json
from generators.formats import money
from generators.safe_text import cap_markdown, cell, md_code, md_text

NAME = "recommend"
HELP = "manifest changes from measured waste (spot, schedules, pool sizes, ...), with evidence and savings; --write edits the manifests"
DESCRIPTION = """\
Read the month's billing (and, with --prometheus, GPU and token series) and propose manifest
changes, each with the figures it rests on and its monthly saving: the expected estimate before
minus after, computed by the same code as `cost`, so the pull request's cost diff is what was
promised. --write edits the manifests in place (comments, key order and every other line kept),
validates the edited set and writes nothing if any file would be invalid. Kinds that need series
Prometheus was not given for, and savings under org.yaml recommend.min_monthly_saving_usd, are
listed as skipped with the reason."""
EPILOG = """\
examples:
  genai-finops recommend --billing cur/ --month 2026-10
  genai-finops recommend --billing cur/ --month 2026-10 --format markdown > pr-body.md
  genai-finops recommend --billing cur/ --month 2026-10 --write --only alpha

exit codes: 0 done (with or without recommendations), 1 invalid manifests, billing or an edit
that would not validate (nothing written), 2 usage error"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_billing_arguments(parser)
    add_only_argument(parser, "TEAM", "recommend for these teams only")
    parser.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="table (default), json or markdown (a PR body)")
    parser.add_argument("--write", action="store_true", help="make the changes in the manifests (validated first; all or nothing)")


def run(args: argparse.Namespace) -> int:
    from generators.act.recommend import from_measured, write
    from generators.manifest.loading import load_manifest_set
    from generators.months import Month
    from generators.plan.estimate import estimate
    from generators.plan.pricing import DEFAULT_PATH, load_catalog
    from generators.see.measure import measure_and_hours

    month = Month.parse(args.month) if args.month else Month.current()
    sources = billing_sources(args)
    manifests = load_manifest_set(args.paths)
    check_only_teams(args.only, manifests)
    catalog = load_catalog(DEFAULT_PATH)
    measured, hours = measure_and_hours(manifests, month, estimate(manifests, catalog, month), sources, profile_tz=manifests.org.recommend.timezone)
    found = from_measured(manifests, catalog, month, measured, hours, set(args.only or []))
    if args.write:
        written = write(manifests, found.items)
        print(f"wrote {len(written)} manifest{'s' if len(written) != 1 else ''}: {', '.join(written) or 'none'}", file=sys.stderr)
    if args.format == "json":
        print(dump_json(found.as_json()))
    elif args.format == "markdown":
        print(to_markdown(found))
    else:
        print(to_table(found))
    return 0


def _value(value) -> str:
    """A current or proposed value: (none) for a field the manifest does not have yet, a mapping
    (a proposed schedule) as compact JSON."""
    import json

    return "(none)" if value is None else json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _saving(usd: float) -> str:
    """A saving, or what a change made for capacity costs (a negative saving), said so."""
    return f"{money(usd)}/month" if usd >= 0 else f"costs {money(-usd)}/month more"


def to_table(found) -> str:
    out = [f"Recommendations for {found.month} (monthly savings: expected estimate before minus after)", ""]
    if not found.items:
        out.append("none")
    for r in found.items:
        out.append(f"{cell(r.id, 80)}  {_saving(r.monthly_saving_usd)}")
        out.append(f"  {cell(r.file, 120)}:{r.line}: {r.field}: {cell(_value(r.current))} -> {cell(_value(r.proposed), 120)}{'' if r.writes else ' (advice)'}")
        out += [f"  {cell(e.what, 60)}: {cell(e.value, 80)} ({cell(e.source, 120)})" for e in r.evidence]
        if r.note:
            out.append(f"  note: {cell(r.note, 160)}")
    out += ["", f"--write saves {money(found.total_monthly_saving_usd)} a month; {len(found.skipped)} skipped (--format json lists them)"]
    return "\n".join(out)


def to_markdown(found) -> str:
    """A pull request body: each change, its evidence and its saving; what was skipped, folded."""
    out = [f"### GPU cost recommendations for {found.month}", "",
           f"Applying these saves **{money(found.total_monthly_saving_usd)} a month** (expected estimate before minus after, "
           "as `genai-finops cost` computes it).", ""]
    for r in found.items:
        out += [f"#### {md_code(r.id, in_table=False)}: {_saving(r.monthly_saving_usd)}", "",
                f"{md_code(f'{r.file}:{r.line}', in_table=False)} `{r.field}`: {md_code(_value(r.current), in_table=False)} → "
                f"{md_code(_value(r.proposed), in_table=False)}{'' if r.writes else ' (advice, not written)'}", ""]
        out += [f"- {md_text(e.what)}: {md_text(e.value)} ({md_text(e.source)})" for e in r.evidence]
        if r.note:
            out += ["", f"> {md_text(r.note)}"]
        out.append("")
    if found.skipped:
        out += ["<details><summary>Skipped</summary>", "", "| Kind | Team | Target | Why |", "| --- | --- | --- | --- |"]
        out += [f"| {s.kind} | {md_code(s.team)} | {md_code(s.target)} | {md_text(s.reason)} |" for s in found.skipped]
        out += ["", "</details>"]
    return cap_markdown("\n".join(out))
