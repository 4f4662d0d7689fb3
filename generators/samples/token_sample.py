"""vLLM token counters for a set of manifests over a month, in a real Prometheus: test and demo data.

Writes OpenMetrics for `vllm:prompt_tokens_total` and `vllm:generation_tokens_total` of every
pool that declares `tokens_per_second_per_node`, per node (one series per `pod`), sampled every
five minutes while the pool runs (inside the team's schedule, else all month), at the pool's
`utilization_percent` of that throughput; one pod restarts mid-month, so its counters reset.
`promtool tsdb create-blocks-from openmetrics` backfills them into a TSDB, and `Prometheus`
serves that TSDB on 127.0.0.1 (Debian's `prometheus` package provides both programs).

    python -m generators.samples.token_sample manifests --month 2026-10 --out cdktf.out/tokens \\
        --billing cdktf.out/billing --report cdktf.out/report.html --recommend   # backfill, serve, show back, report, recommend
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from generators import catalog, naming
from generators.model import ManifestSet
from generators.months import Month
from generators.samples import focus_sample
from generators.see import metrics
from generators.see.metrics import GENERATION_METRIC, MODEL_LABEL, PROMPT_METRIC
from generators.see.showback import in_schedule

STEP = dt.timedelta(minutes=5)
PROMPT_SHARE = 0.4  # of the tokens a node handles, the share that is prompt
# Prometheus deletes blocks older than its retention when it starts: keep everything.
RETENTION = "100y"
# promtool reads the whole input once per block it writes, so its default two-hour blocks make
# a month's backfill 372 passes; blocks of up to a month make it a handful (promtool's hidden
# --max-block-duration flag: prometheus/prometheus cmd/promtool/main.go, "Maximum duration
# created blocks may span. Anything less than 2h is ignored.").
MAX_BLOCK = "744h"
INSTALL_HINT = "sudo apt-get install prometheus   (Debian's package provides prometheus and promtool)"


@dataclass(frozen=True)
class Series:
    metric: str
    model: str
    pod: str
    samples: tuple[tuple[float, int], ...]  # (unix seconds, counter value)


def series_for(manifests: ManifestSet, month: Month) -> list[Series]:
    out: list[Series] = []
    steps = int((month.end - month.start) / STEP)
    for loaded in manifests.teams:
        team = loaded.manifest
        for pool in team.inference:
            if not pool.tokens_per_second_per_node:
                continue
            per_step = pool.tokens_per_second_per_node * pool.utilization_percent / 100 * STEP.total_seconds()
            model = pool.served_model_name or pool.model_id
            for node in range(max(pool.desired_nodes, 1)):
                pod = f"{pool.name}-{node}"
                prompt = generation = 0
                values: dict[str, list[tuple[float, int]]] = {PROMPT_METRIC: [], GENERATION_METRIC: []}
                restart = month.start + (month.end - month.start) / 2 if node == 0 else None
                for index in range(steps + 1):
                    at = month.start + index * STEP
                    if restart is not None and at >= restart:
                        prompt = generation = 0  # the pod restarted: its counters start again
                        restart = None
                    if index and (team.schedule is None or in_schedule(team.schedule, at - STEP)):
                        prompt += int(per_step * PROMPT_SHARE)
                        generation += int(per_step * (1 - PROMPT_SHARE))
                    values[PROMPT_METRIC].append((at.timestamp(), prompt))
                    values[GENERATION_METRIC].append((at.timestamp(), generation))
                out += [Series(metric, model, pod, tuple(samples)) for metric, samples in values.items()]
    return out


@dataclass(frozen=True)
class Gauge:
    metric: str
    labels: tuple[tuple[str, str], ...]
    samples: tuple[tuple[float, float], ...]  # (unix seconds, value)


GPU_SERVING_SWING = 10  # a serving GPU's busy percent swings this much either side of utilization_percent
TRAINING_BUSY = (70, 100)  # a training GPU alternates between these busy percents
SERVING_MEMORY_SHARE = 0.4  # of each serving GPU's memory, what its model and cache take (DCGM_FI_DEV_FB_USED)


def gpu_series_for(manifests: ManifestSet, month: Month) -> list[Gauge]:
    """DCGM GPU utilization of every pool node and training instance while it runs (as
    generators/samples/focus_sample.py bills them: pools at desired_nodes of their first type in name
    order, inside the schedule; training for its hours_per_month, else the schedule, else all
    month), the kube_node_labels that tie a node to its pool, the team and ec2_name labels an
    EC2 scrape gives training instances, each pool GPU's memory used (SERVING_MEMORY_SHARE of
    it), and one GPU of a node no pool owns."""
    steps = [month.start + index * STEP for index in range(int((month.end - month.start) / STEP))]
    out: list[Gauge] = []

    def util(labels: dict[str, str], busy: list[tuple[dt.datetime, float]]) -> Gauge:
        return Gauge(metrics.GPU_UTIL_METRIC, tuple(sorted(labels.items())), tuple((at.timestamp(), value) for at, value in busy))

    hours = focus_sample.month_hours(month)
    for team_index, loaded in enumerate(manifests.teams):
        team = loaded.manifest
        running_hours = focus_sample.running_hours(team, hours)
        open_hours = set(running_hours)
        running = [at for at in steps if at.replace(minute=0) in open_hours]
        for pool_index, pool in enumerate(team.inference):
            kind = catalog.INSTANCE_TYPES[sorted(pool.instance_types)[0]]
            gpus, memory = kind.accelerators, float(kind.accelerator_memory_mib)
            low, high = max(pool.utilization_percent - GPU_SERVING_SWING, 0), min(pool.utilization_percent + GPU_SERVING_SWING, 100)
            for node in range(pool.desired_nodes):
                host = f"ip-10-{team_index}-{pool_index}-{node}.ec2.internal"
                out.append(Gauge(metrics.NODE_LABELS_METRIC, (("label_app", pool.name), ("label_team", team.team), ("node", host)),
                                 tuple((at.timestamp(), 1.0) for at in running)))
                for gpu in range(gpus):
                    out.append(util({"Hostname": host, "gpu": str(gpu)}, [(at, low if i % 2 else high) for i, at in enumerate(running)]))
                    out.append(Gauge(metrics.FB_USED_METRIC, (("Hostname", host), ("gpu", str(gpu))),
                                     tuple((at.timestamp(), memory * SERVING_MEMORY_SHARE) for at in running)))
        for job in team.training:
            job_hours = set(focus_sample.job_hours(job, running_hours))
            ran = [at for at in steps if at.replace(minute=0) in job_hours]
            gpus = catalog.INSTANCE_TYPES[job.instance_type].accelerators
            for index in range(job.count):
                name = naming.training_instance(team.team, job.name, index)
                for gpu in range(gpus):
                    out.append(util({"Hostname": f"ip-10-{team_index}-99-{index}", "ec2_name": name, "gpu": str(gpu), "team": team.team},
                                    [(at, TRAINING_BUSY[i % 2]) for i, at in enumerate(ran)]))
    out.append(util({"Hostname": "ip-10-250-0-1.ec2.internal", "gpu": "0"}, [(at, 5.0) for at in steps[:12]]))
    return out


def write_openmetrics(path: Path, series: list[Series], gauges: Sequence[Gauge] = ()) -> Path:
    """One family per metric, its series one after the other, then the # EOF OpenMetrics needs."""
    lines: list[str] = []
    for metric in dict.fromkeys(s.metric for s in series):
        family = metric.removesuffix("_total")
        lines += [f"# HELP {family} Tokens processed.", f"# TYPE {family} counter"]
        for one in (s for s in series if s.metric == metric):
            labels = f'{MODEL_LABEL}="{one.model}",pod="{one.pod}"'
            lines += [f"{metric}{{{labels}}} {value} {at:.0f}" for at, value in one.samples]
    for metric in dict.fromkeys(g.metric for g in gauges):
        lines += [f"# HELP {metric} Generated by genai-finops.", f"# TYPE {metric} gauge"]
        for gauge in (g for g in gauges if g.metric == metric):
            labels = ",".join(f'{key}="{value}"' for key, value in gauge.labels)
            lines += [f"{metric}{{{labels}}} {value:g} {at:.0f}" for at, value in gauge.samples]
    path.write_text("\n".join(lines + ["# EOF"]) + "\n")
    return path


def require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise SystemExit(f"{program} is not installed: {INSTALL_HINT}")
    return found


def backfill(openmetrics: Path, tsdb: Path) -> None:
    tsdb.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [require("promtool"), "tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={MAX_BLOCK}", str(openmetrics), str(tsdb)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"promtool could not backfill {openmetrics}: {done.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Prometheus:
    """A real Prometheus on 127.0.0.1 serving `tsdb`, scraping nothing; stopped on exit."""

    def __init__(self, tsdb: Path) -> None:
        self.tsdb = tsdb
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        self._config = Path(tempfile.mkdtemp(prefix="genai-finops-prometheus-")) / "prometheus.yml"

    def __enter__(self) -> "Prometheus":
        self._config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        # Its log goes to a file: a pipe nobody reads fills up and stalls it.
        self._log = (self._config.parent / "prometheus.log").open("wb")
        self._process = subprocess.Popen(
            [
                require("prometheus"),
                f"--config.file={self._config}",
                f"--storage.tsdb.path={self.tsdb}",
                f"--storage.tsdb.retention.time={RETENTION}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SystemExit(f"prometheus exited: {(self._config.parent / 'prometheus.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise SystemExit("prometheus did not become ready within 60 s")

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._log.close()
        shutil.rmtree(self._config.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    from generators.cli import main as cli
    from generators.manifest.loading import load_manifest_set
    from generators.samples import sample_parser

    parser = sample_parser("python -m generators.samples.token_sample", __doc__)
    parser.add_argument("--billing", metavar="SRC", help="then run showback on SRC with the tokens from this Prometheus")
    parser.add_argument("--report", metavar="FILE", help="with --billing, also write the HTML report with those tokens")
    parser.add_argument("--recommend", action="store_true", help="with --billing, then run recommend with this Prometheus")
    args = parser.parse_args(argv)
    month = Month.parse(args.month)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    manifests = load_manifest_set(args.paths)
    openmetrics = write_openmetrics(out / "tokens.om", series_for(manifests, month), gpu_series_for(manifests, month))
    backfill(openmetrics, out / "tsdb")
    print(f"backfilled {openmetrics} into {out / 'tsdb'}", file=sys.stderr)
    if not args.billing:
        return 0
    with Prometheus(out / "tsdb") as prometheus:
        common = [*args.paths, "--billing", args.billing, "--month", args.month, "--prometheus", prometheus.url]
        code = cli(["showback", *common])
        if code == 0 and args.report:
            code = cli(["report", *common, "--html", args.report])
        if code == 0 and args.recommend:
            code = cli(["recommend", *common])
        return code


if __name__ == "__main__":
    sys.exit(main())
