"""`synth` without the CLI: validate, build the stacks, write them atomically.

The output directory is replaced as a whole: stacks are written into a temporary directory
beside it, checked, and only then renamed into place, so a failed or interrupted run leaves
the previous output exactly as it was. cdktf (and the jsii start-up) is imported only here,
inside `synthesize`, never when the module is imported.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from generators.errors import ToolError, UsageError
from generators.model import ManifestSet
from generators.provision import synth_cache
from generators.provision.app_builder import STACK_FILE, STACKS_DIR, STATE_DIR, AppPlan, StackPlan, plan_app

# Terraform's local state and the backup it writes next to it.
STATE_FILE_PATTERNS = ("*.tfstate", "*.tfstate.backup")
# cdktf writes this at the top of every output directory; its presence tells us a directory
# is a previous synth output that may be replaced.
CDKTF_MANIFEST = "manifest.json"
# jsii prints a banner on every start under Node 20 (end of life 2026-04-30); the warning is
# about the machine, not the run, so it is silenced for the major version we run on.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass(frozen=True)
class SynthResult:
    out_dir: Path
    stacks: tuple[str, ...]
    reused: tuple[str, ...] = ()

    def stack_file(self, name: str) -> Path:
        return self.out_dir / STACKS_DIR / name / STACK_FILE


def check_out_dir(out_dir: Path) -> None:
    """Refuse to replace a directory that is not a previous synth output (e.g. `--out .`), or
    one that holds Terraform state (replacing it would delete the state)."""
    state_files = sorted(path for pattern in STATE_FILE_PATTERNS for path in out_dir.rglob(pattern)) if out_dir.is_dir() else []
    if state_files:
        listed = ", ".join(str(path) for path in state_files[:5]) + (f" and {len(state_files) - 5} more" if len(state_files) > 5 else "")
        raise UsageError(
            f"--out {out_dir}: holds Terraform state ({listed}); synth replaces this directory as a whole and "
            f"would delete it. Move each stack's state to {STATE_DIR}/<stack>.tfstate in the project root, where the "
            "local backend keeps it now (or migrate to the S3 backend), then run synth again"
        )
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / CDKTF_MANIFEST).is_file())):
        raise UsageError(
            f"--out {out_dir}: exists and is not a genai-finops/cdktf output directory (no {CDKTF_MANIFEST}); "
            "synth replaces its output directory as a whole, so choose an empty or new one"
        )


def synthesize(
    manifests: ManifestSet,
    out_dir: Path,
    only: Iterable[str] | None = None,
    progress: Callable[[int, int, StackPlan], None] | None = None,
    reuse: bool = True,
    starting: Callable[[], None] | None = None,
) -> SynthResult:
    """Write every planned stack to `out_dir`, atomically. With `reuse`, a stack whose inputs are
    unchanged since the previous synth into `out_dir` (generators/provision/synth_cache.py) is copied from
    it instead of synthesized; when none changed, cdktf is not even started."""
    out_dir = out_dir.resolve()
    check_out_dir(out_dir)
    plan = plan_app(manifests, only, out_dir)
    digests = synth_cache.stack_digests(manifests, plan)
    unchanged = set(synth_cache.unchanged_stacks(out_dir, digests, STACKS_DIR)) if reuse else set()
    previous = _cdktf_manifest(out_dir) if unchanged else {}
    reused = [name for name in plan.names if name in unchanged and name in previous.get("stacks", {})]
    build = replace(plan, stacks=tuple(stack for stack in plan.stacks if stack.name not in reused))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        if build.stacks:
            if starting:
                starting()
            _synth_into(build, staging, progress)
        if reused:
            _copy_reused(out_dir, staging, reused, previous)
        _check_written(plan, staging)
        synth_cache.write_digests(staging, digests, STACKS_DIR)
        _replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SynthResult(out_dir, tuple(plan.names), tuple(reused))


def _cdktf_manifest(out_dir: Path) -> dict:
    """The previous output's cdktf manifest.json; {} on any doubt, so nothing is reused."""
    try:
        manifest = json.loads((out_dir / CDKTF_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("stacks"), dict) else {}


def _copy_reused(out_dir: Path, staging: Path, reused: list[str], previous: dict) -> None:
    """The reused stacks' directories, byte for byte, and their entries in cdktf's manifest.json."""
    path = staging / CDKTF_MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"stacks": {}, "version": previous.get("version")}
    for name in reused:
        shutil.copytree(out_dir / STACKS_DIR / name, staging / STACKS_DIR / name)
        manifest["stacks"][name] = previous["stacks"][name]
    # cdktf lists the stacks in name order; a manifest written from scratch must equal its own.
    manifest["stacks"] = dict(sorted(manifest["stacks"].items()))
    path.write_text(synth_cache.cdktf_json(manifest), encoding="utf-8")


def _synth_into(plan: AppPlan, staging: Path, progress) -> None:
    from stacks.app import build_app, synth_app  # the jsii start-up is paid here, and only here

    app = build_app(plan, str(staging), progress)
    try:
        synth_app(app)
    except Exception as error:  # jsii surfaces construct and validation errors as RuntimeError/JSIIError
        raise ToolError(f"cdktf synth failed: {error}") from error


def _check_written(plan: AppPlan, staging: Path) -> None:
    for name in plan.names:
        path = staging / STACKS_DIR / name / STACK_FILE
        try:
            json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise ToolError(f"cdktf did not write a readable {path.relative_to(staging)}: {error}") from error


def _replace(staging: Path, out_dir: Path) -> None:
    """Swap the new output in with renames (atomic on one file system); then drop the old one."""
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.rename(out_dir, retired / out_dir.name)
    try:
        os.rename(staging, out_dir)
    except OSError:
        os.rename(retired / out_dir.name, out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)
