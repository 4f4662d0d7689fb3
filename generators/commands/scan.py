"""`genai-finops scan`: checkov with our CKV_GFO_* checks over every synthesized stack, one run.

Three parts: generators/scan/checkov_adapter.py runs checkov (every use of its internals, with the
version it was checked against); generators/scan/results.py turns its report into results,
fails closed when our checks did not run and applies the reviewed suppressions, per resource
or construct path; generators/scan/render.py writes cli, json, SARIF and JUnit XML from those
results, so a suppressed finding never fails the gate and is still shown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generators.commands._common import add_manifest_arguments, add_out_argument
from generators.errors import UsageError, display_path
from generators.scan import checkov_adapter, render
from generators.scan import results as scan_results

NAME = "scan"
HELP = "checkov (offline) with our CKV_GFO_* checks over the synthesized stacks; exit 1 on any unsuppressed failure"
DESCRIPTION = """\
Run checkov once over every DIR/stacks/<stack>/cdk.tf.json (framework terraform_json, offline),
with the built-in checks and ours from policies/ (CKV_GFO_*), apply the reviewed suppressions
per resource (genai-finops' own about its constructs, then the project's: --suppressions, or
genai-finops.toml's, or suppressions.yaml) and report passed, failed and suppressed results
per stack; a project suppression that matches nothing is warned about. PATH's org.yaml gives
the required tags and allowed types. Resource addresses read <stack>/<type>.<name>; a suppression names either that
address (resource:) or the construct path printed beside it (construct:), both as globs.
checkov is $GENAI_FINOPS_CHECKOV (make sets it), else `checkov` on PATH, else the one
make install put in .venv/tools/checkov. checkov's results for a stack whose input is
unchanged (its staged JSON, our checks, the org policy, the checkov version) are reused from
--cache-dir (beside DIR), so checkov runs only over changed stacks; --no-cache runs it over all."""
EPILOG = """\
examples:
  genai-finops scan                                   cdktf.out/ (the default), table for people
  genai-finops scan --out cdktf.out --format sarif --output-file scan.sarif
  genai-finops scan --format junitxml --output-file scan.xml
  genai-finops scan --no-cache                        checkov over every stack, ignoring earlier results

exit codes: 0 no unsuppressed failure, 1 a check failed (or checkov/manifests/suppressions are
broken), 2 usage error (e.g. DIR holds no synthesized stacks: run genai-finops synth first)"""

# genai-finops' own accepted findings about its constructs (each with its reason): applied to every
# project's stacks, never reported as unused (a project without the construct simply has no match).
BUILT_IN_SUPPRESSIONS = checkov_adapter.POLICIES_DIR / "suppressions.yaml"


def default_cache(out: str) -> Path:
    """Beside the output it serves (synth replaces the output directory as a whole), whatever the
    working directory: `.cdktf.out.genai-finops-cache/scan` for `cdktf.out`. Content-addressed: an
    entry is only used for the exact input it was made from, so it may be deleted at any time."""
    target = Path(out)
    return target.parent / f".{target.name}.genai-finops-cache" / "scan"
RENDERERS = {
    "cli": render.render_cli,
    "json": render.render_json,
    "sarif": render.render_sarif,
    "junitxml": render.render_junitxml,
}


def configure(parser: argparse.ArgumentParser) -> None:
    add_manifest_arguments(parser)
    add_out_argument(parser, "synth output directory holding stacks/")
    parser.add_argument("--format", choices=["cli", "json", "sarif", "junitxml"], default="cli", help="cli table (default), json, "
        "sarif (GitHub code scanning) or junitxml")
    parser.add_argument("--output-file", metavar="FILE", help="write the report here instead of stdout")
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="checkov results per unchanged stack, reused by the next scan (default: .<out>.genai-finops-cache/scan beside DIR)"
    )
    parser.add_argument("--no-cache", action="store_true", help="run checkov over every stack; reuse no earlier result")
    parser.add_argument(
        "--suppressions", metavar="FILE", help="the project's reviewed suppressions (default: genai-finops.toml's suppressions, else "
        "suppressions.yaml when it exists, else none); genai-finops' own, about its constructs, always apply"
    )


def run(args: argparse.Namespace) -> int:
    from generators.files import write_atomically
    from generators.manifest.loading import load_org_policy
    from generators.scan.suppressions import load_suppressions

    stacks = scan_results.load_stacks(Path(args.out))
    # The org's required tags and allowed types are all scan needs: the teams are not re-read.
    if len(args.paths) != 1:
        raise UsageError(f"scan reads one manifests directory (for its org.yaml), got {len(args.paths)}: {' '.join(args.paths)}")
    org = load_org_policy(args.paths[0])
    built_in = load_suppressions(BUILT_IN_SUPPRESSIONS, "genai-finops built-in suppressions")
    own: list = []
    shown = ""
    if args.suppressions:
        suppressions_path = Path(args.suppressions)
        if not suppressions_path.is_file():
            raise UsageError(f"{args.suppressions}: suppression file not found")
        shown = display_path(suppressions_path)
        own = load_suppressions(suppressions_path, shown)
    checkov = checkov_adapter.find_checkov()

    print(f"scanning {len(stacks)} stack{'s' if len(stacks) != 1 else ''} with checkov ({checkov}) ...", file=sys.stderr)
    started = time.monotonic()
    policy = {"required_tags": list(org.required_tags), "allowed_instance_types": list(org.allowed_instance_types)}
    cache = None if args.no_cache else Path(args.cache_dir) if args.cache_dir else default_cache(args.out)
    report = checkov_adapter.run_checkov(checkov, stacks, policy, cache=cache)
    reported = scan_results.results_from_report(report, stacks)
    # Only what checkov reported counts: the stack-level budget result below is ours, not checkov's.
    scan_results.require_our_checks(reported, stacks)
    results = reported + scan_results.stack_budget_results(stacks)
    unused = [s for s in scan_results.apply_suppressions(results, own + built_in) if any(s is mine for mine in own)]
    version = report.get("summary", {}).get("checkov_version", "unknown")
    reused = report.get("reused") or []
    note = f" ({len(reused)} of {len(stacks)} stacks unchanged, their results reused)" if reused else ""
    print(f"checkov {version}: {len(results)} results in {time.monotonic() - started:.1f} s{note}", file=sys.stderr)
    for suppression in unused:
        print(f"warning: {shown}:{suppression.line}: suppression {suppression.describe()} matched no failed check; remove it", file=sys.stderr)

    results.sort(key=lambda r: (r.stack, r.status != "failed", r.check_id, r.resource))
    text = RENDERERS[args.format](results, stacks, version, unused, colour=_colour(args))
    if args.output_file:
        write_atomically(Path(args.output_file), text)
    else:
        sys.stdout.write(text)
    return 1 if any(r.status == "failed" for r in results) else 0


def _colour(args: argparse.Namespace) -> bool:
    from generators.commands._common import use_colour

    return args.format == "cli" and not args.output_file and use_colour(sys.stdout)
