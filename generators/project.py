"""The project's settings: where its manifests are, where synth writes, and its own suppressions.

One file, `genai-finops.toml`, in the directory commands run from (the project root, beside
cdktf.json; `genai-finops init` writes it), read by every command, by main.py (the app
`cdktf synth` and `cdktf deploy` run), by the CI workflow and by the pre-commit hook, which
all run genai-finops from the root:

    manifests = "manifests"              # org.yaml + teams/*.yaml
    out = "cdktf.out"                    # synth writes stacks here; scan, stacks, deploy read them
    suppressions = "suppressions.yaml"   # the project's reviewed checkov suppressions (optional)

An explicit PATH, --out or --suppressions wins; then GENAI_FINOPS_MANIFESTS / GENAI_FINOPS_OUT;
then the file; then the defaults above (suppressions: none unless the file exists).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from generators.environment import MANIFESTS_ENV, OUT_ENV
from generators.errors import UsageError, did_you_mean

PROJECT_FILE = "genai-finops.toml"
DEFAULT_MANIFESTS = "manifests"
DEFAULT_OUT = "cdktf.out"
DEFAULT_SUPPRESSIONS = "suppressions.yaml"
KEYS = ("manifests", "out", "suppressions")
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Settings:
    manifests: tuple[str, ...]
    out: str
    suppressions: str | None
    source: str  # where the settings came from, for messages: the file, or "defaults"


def settings(root: Path | None = None) -> Settings:
    """The settings for commands run in `root` (default: the working directory)."""
    root = root if root is not None else Path.cwd()
    found = _read(root / PROJECT_FILE)
    env_manifests = os.environ.get(MANIFESTS_ENV)
    manifests = tuple(env_manifests.split(os.pathsep)) if env_manifests else (found.get("manifests", DEFAULT_MANIFESTS),)
    out = os.environ.get(OUT_ENV) or found.get("out", DEFAULT_OUT)
    suppressions = found.get("suppressions")
    if suppressions is None and (root / DEFAULT_SUPPRESSIONS).is_file():
        suppressions = DEFAULT_SUPPRESSIONS
    return Settings(manifests, out, suppressions, PROJECT_FILE if found else "defaults")


def _read(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UsageError(f"{path}: larger than {MAX_BYTES // 1024} KiB; a {PROJECT_FILE} holds three settings")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None
    problems = []
    for key, value in data.items():
        if key not in KEYS:
            problems.append(f"{key}: not a setting{did_you_mean(key, KEYS)}; allowed: {', '.join(KEYS)}")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{key}: expected a path as a string, got {type(value).__name__} {value!r}")
    if problems:
        raise UsageError(f"{path}: " + "; ".join(problems))
    return dict(data)
