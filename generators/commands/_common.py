"""Arguments and output helpers shared by the commands that read manifests."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from generators.environment import PROMETHEUS_URL_ENV
from generators.errors import ManifestError
from generators.model import ManifestSet
from generators.see.metrics import GENERATION_METRIC, GPU_UTIL_METRIC, MODEL_LABEL, PROMPT_METRIC

if TYPE_CHECKING:
    from generators.see.measure import Sources

def add_manifest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        default=None,
        help="a manifests directory (org.yaml + teams/*.yaml), or team manifest files; default: genai-finops.toml's "
             "manifests, else manifests/",
    )


def add_out_argument(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--out", default=None, metavar="DIR", help=f"{help} (default: genai-finops.toml's out, else cdktf.out)")


def apply_settings(args: argparse.Namespace) -> None:
    """Fill what the command line left out from the project's settings (generators/project.py):
    after parsing, so a bad genai-finops.toml is reported like any usage error."""
    if not (hasattr(args, "paths") or hasattr(args, "out") or hasattr(args, "suppressions")):
        return
    from generators.project import settings

    found = settings()
    if hasattr(args, "paths") and not args.paths:
        args.paths = list(found.manifests)
    if hasattr(args, "out") and args.out is None:
        args.out = found.out
    if hasattr(args, "suppressions") and args.suppressions is None:
        args.suppressions = found.suppressions


def add_only_argument(parser: argparse.ArgumentParser, what: str, help: str) -> None:
    """`--only NAME`: repeatable, or comma-separated (`--only alpha,governance`); one value per
    flag, so `--only alpha manifests` keeps `manifests` as the PATH."""
    parser.add_argument(
        "--only",
        action="extend",
        type=lambda text: [name for name in text.split(",") if name],
        metavar=what,
        help=f"{help}; repeat it or separate names with commas",
    )


def check_only_teams(only: list[str] | None, manifests: ManifestSet) -> None:
    """--only names teams of the manifests: an unknown one is a usage error with a suggestion."""
    from generators.errors import UsageError, did_you_mean

    known = {loaded.manifest.team for loaded in manifests.teams}
    unknown = [team for team in only or [] if team not in known]
    if unknown:
        raise UsageError(f"--only: no team named {', '.join(unknown)}{did_you_mean(unknown[0], known)}; known: {', '.join(sorted(known))}")


def load_manifests(args: argparse.Namespace) -> ManifestSet:
    """The validated manifests PATH names; a ManifestError goes up to cli.main, the one place
    that prints problems and exits 1."""
    from generators.manifest.loading import load_manifest_set

    return load_manifest_set(args.paths)


def print_problems(error: ManifestError) -> None:
    from generators.safe_text import message

    for problem in error.problems:
        print(message(problem, 2000), file=sys.stderr)  # a problem may quote the manifest's own text
    count = len(error.problems)
    files = len({p.path for p in error.problems})
    print(f"{count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}", file=sys.stderr)


def use_colour(stream=sys.stdout) -> bool:
    """Colour only for people: a TTY, and NO_COLOR (https://no-color.org) not set."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def dump_json(data, indent: int | None = 2) -> str:
    """JSON for machines, always valid: a NaN or infinity (which json.dumps would write as the
    bare, invalid NaN/Infinity) is a bug upstream, reported as one line, never printed."""
    import json

    from generators.errors import ToolError

    try:
        return json.dumps(data, indent=indent, allow_nan=False)
    except ValueError as error:
        raise ToolError(f"internal error: a figure is not a finite number ({error}); nothing was printed") from None


def add_billing_arguments(parser: argparse.ArgumentParser) -> None:
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
        default=os.environ.get(PROMETHEUS_URL_ENV),
        help=f"Prometheus HTTP API (or AMP, Thanos, Mimir) with the servers' token counters (default: ${PROMETHEUS_URL_ENV})",
    )
    parser.add_argument("--prometheus-sigv4-region", metavar="REGION",
                        help="sign requests with SigV4 (service aps) for this region: for an Amazon Managed Service for Prometheus "
                             "endpoint under another name (aps-workspaces.REGION.amazonaws.com URLs are signed without it)")
    parser.add_argument("--prompt-metric", default=PROMPT_METRIC, help="prompt token counter (default: vLLM's)")
    parser.add_argument("--generation-metric", default=GENERATION_METRIC, help="generation token counter (default: vLLM's)")
    parser.add_argument("--model-label", default=MODEL_LABEL, help=f"the counters' label naming the model (default: {MODEL_LABEL})")
    parser.add_argument("--gpu-util-metric", default=GPU_UTIL_METRIC,
                        help="per-GPU busy percent gauge (default: NVIDIA dcgm-exporter's); README, Idle GPU, for its labels")


def billing_sources(args: argparse.Namespace) -> Sources:
    """The sources `add_billing_arguments` parsed (the metric names are checked when used)."""
    from generators.see.measure import Prometheus, Sources
    from generators.see.tokens import Metrics

    prometheus = None
    if args.prometheus:
        metrics = Metrics(args.prompt_metric, args.generation_metric, args.model_label)
        prometheus = Prometheus(args.prometheus, metrics, args.gpu_util_metric, args.prometheus_sigv4_region)
    return Sources(tuple(args.billing or ()), args.engine, prometheus)
