"""The cdktf App for an AppPlan: the one place that turns the plan into stacks.

Used by `genai-finops synth` (stacks/synthesis.py) and by `main.py`, the entry point
`cdktf synth` runs, so both produce the same stacks.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from cdktf import App

from generators.provision.app_builder import AppPlan, StackPlan
from modules.offhours_schedule import BUILD_DIR
from stacks.governance_stack import GovernanceStack
from stacks.team_stack import TeamStack

Progress = Callable[[int, int, StackPlan], None]


def build_app(plan: AppPlan, outdir: str | None = None, progress: Progress | None = None) -> App:
    # Stack traces in the metadata cost time and memory at hundreds of stacks and say nothing
    # a reviewer needs; the construct path is kept.
    app = App(outdir=outdir, stack_traces=False) if outdir else App(stack_traces=False)
    for index, stack in enumerate(plan.stacks, start=1):
        if progress is not None:
            progress(index, len(plan.stacks), stack)
        kind = GovernanceStack if stack.kind == "governance" else TeamStack
        kind(app, stack, plan.org, plan.stack_dir(stack.name))
    return app


def synth_app(app: App) -> None:
    """Write the app's stacks, then remove what was built only to be copied into them (the
    off-hours function's zip, which each stack holds as its own asset)."""
    app.synth()
    shutil.rmtree(Path(app.outdir) / BUILD_DIR, ignore_errors=True)
