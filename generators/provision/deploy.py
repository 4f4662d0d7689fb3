"""`genai-finops deploy`: the pinned cdktf CLI on the stacks `synth` wrote, with output a CI log
can be read in.

`cdktf deploy` without a terminal prints its progress line ("1 Stack deploying  0 Stacks done ...")
again and again and repeats each Terraform warning per step, so one error ends up hundreds of
lines above the end of the log. This runs `cdktf deploy --skip-synth --output OUT --no-color`,
passes every other line through as it comes, drops the progress lines and repeats, and, when the
deploy fails, prints each error block again at the end, after a rule.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

# The CLI genai-finops was built and tested with (package.json pins the same for this repository).
CDKTF_CLI = "cdktf-cli@0.21.0"
PROGRESS = re.compile(r"^\s*\d+ Stacks? deploying\s+\d+ Stacks? done\s+\d+ Stacks? waiting\s*$")
ERROR_START = re.compile(r"^\s*(?:[a-z0-9-]+\s{2,})?(?:[│|]\s*)?Error:")  # cdktf prefixes a stack's lines with its name


@dataclass
class Condensed:
    """What `condense` kept: the lines shown as they came, and the error blocks for the end."""

    errors: list[list[str]] = field(default_factory=list)
    dropped: int = 0
    _seen: set[str] = field(default_factory=set)
    _block: list[str] | None = None

    def feed(self, line: str) -> str | None:
        """The line to show now, or None when it is progress or a repeat."""
        text = line.rstrip("\n")
        if PROGRESS.match(text):
            self._close()
            self.dropped += 1
            return None
        if ERROR_START.match(text):
            self._close()
            self._block = [text]
        elif self._block is not None:
            if text.strip() or (self._block and self._block[-1].strip()):
                self._block.append(text)
        stripped = text.strip()
        # Terraform repeats the same warning box for every step; a line seen before is dropped,
        # except blank ones and box edges, which keep what is shown readable.
        if stripped and stripped not in ("╷", "╵", "│") and stripped in self._seen and self._block is None:
            self.dropped += 1
            return None
        self._seen.add(stripped)
        return text

    def _close(self) -> None:
        if self._block:
            while self._block and not self._block[-1].strip():
                self._block.pop()
            if self._block not in self.errors:
                self.errors.append(self._block)
        self._block = None

    def finish(self) -> list[list[str]]:
        self._close()
        return self.errors


def cdktf_command(project: Path) -> list[str]:
    """The project's own pinned CLI (node_modules, from package.json), else npx with the pin."""
    local = project / "node_modules" / ".bin" / "cdktf"
    if local.exists():
        return [str(local)]
    npx = shutil.which("npx")
    if npx is None:
        from generators.errors import ToolError

        raise ToolError("deploy needs Node.js 20 (npx) for the cdktf CLI: install Node.js, or run `npm install cdktf-cli@0.21.0`")
    return [npx, "--yes", CDKTF_CLI]


def deploy(out: Path, stacks: Iterable[str], extra: Iterable[str], show: Callable[[str], None], project: Path | None = None) -> tuple[int, Condensed]:
    """Run the deploy; every shown line goes to `show`; (exit code, what was kept)."""
    project = project if project is not None else Path.cwd()
    command = [*cdktf_command(project), "deploy", "--skip-synth", "--output", str(out), "--no-color", *extra, *stacks]
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1", "FORCE_COLOR": "0"}
    condensed = Condensed()
    with subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            kept = condensed.feed(line)
            if kept is not None:
                show(kept)
        code = process.wait()
    condensed.finish()
    return code, condensed


# Terraform's words when the backend in the stack is not the one the state was initialised with.
BACKEND_CHANGED = "Backend configuration changed"


def advice(errors: list[list[str]], stacks: Iterable[str]) -> list[str]:
    """What to do about the errors genai-finops knows the way out of."""
    found = []
    if any(BACKEND_CHANGED in line for block in errors for line in block):
        found.append(f"The state backend changed (org.yaml state). To copy the state to the new backend: genai-finops deploy --migrate-state "
                     f"{' '.join(stacks)}; use terraform init -reconfigure in the stack's directory only when the new backend "
                     "already holds the state (README, Deploying: State).")
    return found
