"""Build manifest directories for tests from the shipped examples plus small changes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "manifests"


def example(name: str, managed: bool = False) -> dict[str, Any]:
    """A shipped example as a dict: 'org' or a team name. Its GPU capacity only unless `managed`:
    the tests written before managed models compute their figures from pools and instances (the
    examples' Bedrock models are tested with managed=True, and the examples as shipped by every
    test that reads manifests/ itself)."""
    path = EXAMPLES / "org.yaml" if name == "org" else EXAMPLES / "teams" / f"{name}.yaml"
    data = copy.deepcopy(yaml.safe_load(path.read_text()))
    if not managed:
        data.pop("managed_models", None)
        for pool in data.get("inference", []):
            pool.pop("managed_alternative", None)
    return data


def write_manifests(root: Path, teams: dict[str, dict | str], org: dict | str | None = None) -> Path:
    """root/org.yaml and root/teams/<file>.yaml; values are dicts (dumped) or raw YAML text."""
    (root / "teams").mkdir(parents=True, exist_ok=True)
    _write(root / "org.yaml", example("org") if org is None else org)
    for file_stem, content in teams.items():
        _write(root / "teams" / f"{file_stem}.yaml", content)
    return root


def _write(path: Path, content: dict | str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(yaml.safe_dump(content, sort_keys=False))


def heavy_modules_after(body: str, heavy: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run `body` (which sets `code`) in a fresh interpreter at the repository root; what it set
    `code` to and which of the `heavy` top-level packages it had imported by then."""
    import json
    import subprocess
    import sys

    probe = "import json, sys\n" + body + f"\nprint(code, json.dumps([m for m in sys.modules if m.split('.')[0] in {heavy!r}]))\n"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    code, _, modules = result.stdout.strip().splitlines()[-1].partition(" ")
    return code, json.loads(modules)
