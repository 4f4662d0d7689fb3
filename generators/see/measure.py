"""What showback and report measure for a month: the billing export (local files, S3 or
Athena) against the estimate, and, with a Prometheus, the tokens served and the GPUs' busy share.
`showback` and `report` parse their options into a `Sources` and call `measure`.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal

from generators.errors import UsageError
from generators.months import Month
from generators.safe_text import message
from generators.see.metrics import GPU_UTIL_METRIC, METRIC_NAME

if TYPE_CHECKING:
    from generators.model import ManifestSet
    from generators.plan.estimate import Estimate
    from generators.see.hourly import Measured
    from generators.see.over_time import OverTime
    from generators.see.prometheus import Client
    from generators.see.showback import Showback
    from generators.see.tokens import Metrics

Engine = Literal["duckdb", "athena"]


@dataclass(frozen=True)
class Prometheus:
    """Where the token counters and GPU gauges are, and their names (checked: they go into PromQL)."""

    url: str
    metrics: Metrics
    gpu_util_metric: str = GPU_UTIL_METRIC
    sigv4_region: str | None = None

    def client(self) -> Client:
        from generators.see.prometheus import Client

        self.metrics.check()
        if not METRIC_NAME.match(self.gpu_util_metric):
            raise UsageError(f"--gpu-util-metric {message(self.gpu_util_metric, 80)!r}: not a Prometheus metric name")
        return Client(self.url, sigv4_region=self.sigv4_region)


@dataclass(frozen=True)
class Sources:
    """The billing data (files, directories or s3:// prefixes for duckdb; org.yaml's table for
    athena) and, optionally, Prometheus."""

    billing: tuple[str, ...] = ()
    engine: Engine = "duckdb"
    prometheus: Prometheus | None = None


def measure(manifests: ManifestSet, month: Month, estimate: Estimate, sources: Sources, profile_tz: str | None = None) -> Showback:
    """The showback for `sources`: billing first (from files, S3 or Athena), then tokens and GPU
    busy share when Prometheus is given. A bad Prometheus URL or name is a usage error before
    any billing work."""
    from generators.see import athena, showback

    estimates = {t.team: t.total.expected for t in estimate.teams}
    client = sources.prometheus.client() if sources.prometheus is not None else None
    if sources.engine == "athena":
        report = showback.showback(manifests, [], month, estimates, athena_client=athena.athena_client(manifests.org), profile_tz=profile_tz)
    elif not sources.billing:
        raise UsageError("--billing SRC is required with --engine duckdb: FOCUS files, a directory or s3://bucket/prefix")
    else:
        report = local_showback(sources.billing, manifests, month, estimates, profile_tz)
    from generators.see import managed

    estimated = estimated_per_model(estimate)
    managed.add_managed(report.models, manifests, report.billed_tokens, estimated)
    if client is not None and sources.prometheus is not None:
        from generators.see import gpu_idle, tokens

        end = min(month.end, Month.now())
        counts = tokens.tokens(client, month.start, end, sources.prometheus.metrics)
        showback.add_tokens(report.models, manifests, counts, estimated)
        report.build_or_buy = managed.build_or_buy(report.models, estimate)
        units, unowned = gpu_idle.utilization(client, manifests, month, end, sources.prometheus.gpu_util_metric)
        showback.add_gpu_utilization(report, units, unowned, sources.prometheus.gpu_util_metric)
        report.notes += client.notes
    return report


def estimated_per_model(estimate: Estimate) -> dict[tuple[str, str], float]:
    """(model_id, team) -> the estimate's $ per million tokens at utilization_percent, pooled
    over the team's pools serving the model (generators/plan/unit_cost.py)."""
    from generators.plan.unit_cost import by_model

    pooled = {(m.model_id, m.teams[0]): m.usd_per_million_tokens_at_utilization for m in by_model(estimate, per_team=True)}
    return {key: round(value, 4) for key, value in pooled.items() if value is not None}


def local_showback(billing: tuple[str, ...], manifests: ManifestSet, month: Month, estimates: dict[str, float],
                   profile_tz: str | None = None) -> Showback:
    from generators.see import showback

    with _local(billing) as (sources, labels):
        return showback.showback(manifests, sources, month, estimates, labels=labels, profile_tz=profile_tz)


@contextlib.contextmanager
def _local(billing: tuple[str, ...]) -> Iterator[tuple[list[str], dict[Path, str]]]:
    """The billing sources as local paths: s3:// prefixes downloaded into a private directory
    (mkdtemp: mode 0700) that is removed whatever happens, their objects saved under names of our
    own, never under their keys; with the s3:// address of each downloaded file, for messages."""
    from generators.see.billing_sources import download_s3

    with tempfile.TemporaryDirectory(prefix="genai-finops-billing-") as scratch:
        sources, labels = [], {}
        for index, source in enumerate(billing):
            if source.startswith("s3://"):
                into = Path(scratch) / f"{index:03d}"
                into.mkdir()
                labels.update(download_s3(source, into))
                sources.append(str(into))
            else:
                sources.append(source)
        yield sources, labels


def measure_over_time(manifests: ManifestSet, months: list[Month], sources: Sources) -> OverTime:
    """Spend over `months` (see/over_time.py) from files, S3 or Athena."""
    from generators.see import athena, over_time
    from generators.see.billing_sources import billing_files

    if sources.engine == "athena":
        return over_time.over_time(manifests, [], months, athena_client=athena.athena_client(manifests.org))
    if not sources.billing:
        raise UsageError("--billing SRC is required with --engine duckdb: FOCUS files, a directory or s3://bucket/prefix")
    with _local(sources.billing) as (paths, labels):
        return over_time.over_time(manifests, billing_files(paths), months, labels=labels)


def leave_out(report: Showback, others: set[str]) -> None:
    """A view of some teams (PATH named team files): the other teams of the same manifests are
    not "unknown", and neither they nor their models are shown; a note says what was left out."""
    if not others:
        return
    left = [u for u in report.unknown_teams if u["team"] in others]
    report.unknown_teams = [u for u in report.unknown_teams if u["team"] not in others]
    report.models = [m for m in report.models if m["team"] not in others]
    if left:
        spend = sum(u["actual_usd"] for u in left)
        report.notes.append(f"showing {', '.join(t.team for t in report.teams)} only: the spend of {len(left)} other team"
                            f"{'s' if len(left) != 1 else ''} of these manifests (${spend:,.2f}) is left out")


def hourly(manifests: ManifestSet, month: Month, sources: Sources) -> Measured | None:
    """With Prometheus, each pool's and job's hourly GPU and token figures (what `recommend`
    sizes from: generators/see/hourly.py); None without it."""
    if sources.prometheus is None:
        return None
    from generators.see.hourly import measure_hours

    end = min(month.end, Month.now())
    return measure_hours(sources.prometheus.client(), manifests, month, end, sources.prometheus.gpu_util_metric, sources.prometheus.metrics)


def measure_and_hours(manifests: ManifestSet, month: Month, estimate: Estimate, sources: Sources,
                      profile_tz: str | None = None) -> tuple[Showback, Measured | None]:
    """`measure` and `hourly` together (what recommend and report need): the hourly queries go
    out on a thread of their own while the billing query runs (DuckDB and Prometheus work
    outside Python's lock, so the two overlap instead of adding up). Either one's error is raised."""
    if sources.prometheus is None:
        return measure(manifests, month, estimate, sources, profile_tz), None
    from concurrent.futures import ThreadPoolExecutor

    sources.prometheus.client()  # a bad URL or metric name is a usage error before any work
    with ThreadPoolExecutor(max_workers=1) as background:
        hours = background.submit(hourly, manifests, month, sources)
        try:
            report = measure(manifests, month, estimate, sources, profile_tz)
        except BaseException:
            hours.cancel()
            raise
        return report, hours.result()
