"""Run one phase in this (fresh) process and print its wall time and peak memory as JSON.

Each phase gets its own process so that peak RSS belongs to that phase alone:
`ru_maxrss` of this process, plus the largest descendant (jsii's node kernel for synth,
checkov for scan), which run alongside it. jsii's node process is still running when the
phase ends (it lives as long as the interpreter), so getrusage(RUSAGE_CHILDREN), which counts
only children that were waited for, cannot see it: its peak is read from /proc (VmHWM) instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
from pathlib import Path


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def _children(pid: str) -> list[str]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    return [child for task in tasks for child in (task / "children").read_text().split()]


def _live_descendants_peak_mib() -> float:
    """The largest peak RSS (VmHWM) among this process's descendants still running.

    jsii's runtime is two node processes: a launcher and, under it, the kernel that holds
    every construct; so the whole tree is walked, not only the direct children."""
    peaks = [0.0]
    pending = _children("self")
    while pending:
        pid = pending.pop()
        pending.extend(_children(pid))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks)


def _cli(args: list[str]) -> int:
    from generators.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(args)
    if code != 0:
        sys.stderr.write(err.getvalue()[-2000:])
    return code


def run(phase: str, manifests: str, out: str) -> dict:
    result: dict = {"phase": phase}
    started = time.perf_counter()
    if phase == "validate":
        code = _cli(["validate", manifests])
    elif phase == "cost":
        code = _cli(["cost", manifests, "--format", "json"])
    elif phase == "synth":
        # The jsii start-up (node runtime + loading the AWS provider's type library) is paid
        # once per process; measured on its own, it is the floor of any synth.
        import cdktf  # noqa: F401
        import cdktf_cdktf_provider_aws.provider  # noqa: F401
        import cdktf_cdktf_provider_kubernetes.provider  # noqa: F401

        result["jsii_startup_s"] = time.perf_counter() - started
        code = _cli(["synth", manifests, "--out", out, "--quiet"])
    elif phase == "scan":
        code = _cli(["scan", "--out", out, "--manifests", manifests, "--format", "json"])
    else:
        raise SystemExit(f"unknown phase {phase}")
    result["wall_s"] = time.perf_counter() - started
    result["exit_code"] = code
    result["peak_rss_mib"] = _peak_mib(resource.RUSAGE_SELF)
    result["peak_child_rss_mib"] = max(_peak_mib(resource.RUSAGE_CHILDREN), _live_descendants_peak_mib())
    return result


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:4])))
