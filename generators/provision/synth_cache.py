"""What makes a synthesized stack reusable: a digest of everything that produces it.

`synth` writes `<out>/genai-finops-inputs.json` with one digest per stack. On the next run a
stack whose digest is unchanged is copied byte for byte from the previous output instead of
being synthesized again; any change, a missing or unreadable record, or `--no-cache` means the
stack is built again. A digest covers, conservatively:

- the code and pins that produce stacks: every file under generators/, stacks/, modules/ and
  lambdas/ (the price catalog generators/plan/prices.json among them), pyproject.toml,
  package-lock.json, cdktf.json, and the installed versions of cdktf, constructs, jsii and the
  provider packages;
- the org policy file, byte for byte;
- the stack's plan (name, kind, region, state, dependencies, and for governance every region
  a team runs in); a team stack also its manifest file, byte for byte;
- for a local backend, the state file's path from the stack's directory (what the stack's JSON holds).
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from generators.model import ManifestSet
from generators.provision.app_builder import AppPlan

ROOT = Path(__file__).resolve().parents[2]
INPUTS_FILE = "genai-finops-inputs.json"
FORMAT = 1
CODE_DIRS = ("generators", "stacks", "modules", "lambdas")
CODE_FILES = ("pyproject.toml", "package-lock.json", "cdktf.json")
DISTRIBUTIONS = ("cdktf", "constructs", "jsii")
PROVIDER_PREFIX = "cdktf-cdktf-provider-"


def code_digest(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    files = [p for d in CODE_DIRS for p in (root / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [root / name for name in CODE_FILES if (root / name).is_file()]
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name, version in _versions():
        digest.update(f"{name}=={version}\0".encode())
    return digest.hexdigest()


def _versions() -> list[tuple[str, str]]:
    found = []
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name in DISTRIBUTIONS or name.startswith(PROVIDER_PREFIX):
            found.append((name, dist.version))
    return sorted(found)


def stack_digests(manifests: ManifestSet, plan: AppPlan) -> dict[str, str]:
    """One digest per planned stack (see the module docstring for what goes in)."""
    common = hashlib.sha256()
    common.update(f"{FORMAT}\0{code_digest()}\0".encode())
    common.update(Path(manifests.org_path).read_bytes())
    sources = {loaded.manifest.team: Path(loaded.path) for loaded in manifests.teams}
    digests = {}
    for stack in plan.stacks:
        digest = common.copy()
        # Everything a stack is built from is its StackPlan (build_app passes nothing else): the
        # team's manifest file for a team stack; the org and the team regions for governance.
        digest.update(json.dumps(stack.as_json(), sort_keys=True).encode())
        if stack.state.backend == "local":
            # What the stack's JSON holds: its state file as seen from the stack's directory.
            # Nothing else of the working directory goes in, so the same output and state
            # reached from anywhere reuse the same stacks.
            digest.update(b"\0" + stack.state.backend_path(plan.stack_dir(stack.name)).encode())
        if stack.team is not None:
            digest.update(b"\0" + sources[stack.name].read_bytes())
        digests[stack.name] = digest.hexdigest()
    return digests


def output_digest(stack_dir: Path) -> str:
    """Every file a stack's directory holds (its JSON and assets), names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in stack_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(stack_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def unchanged_stacks(out_dir: Path, digests: dict[str, str], stacks_dir: str) -> list[str]:
    """The stacks of `digests` that the previous synth into `out_dir` built from the same inputs
    and whose output is still exactly what it wrote. Any doubt (no record, another format, bad
    JSON, a file edited or missing since) leaves a stack out, so it is built again."""
    try:
        record = json.loads((out_dir / INPUTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("stacks"), dict):
        return []
    unchanged = []
    for name, digest in digests.items():
        previous = record["stacks"].get(name)
        if not isinstance(previous, dict) or previous.get("inputs") != digest:
            continue
        stack_dir = out_dir / stacks_dir / name
        if stack_dir.is_dir() and previous.get("output") == output_digest(stack_dir):
            unchanged.append(name)
    return unchanged


def write_digests(directory: Path, digests: dict[str, str], stacks_dir: str) -> None:
    stacks = {name: {"inputs": digests[name], "output": output_digest(directory / stacks_dir / name)} for name in sorted(digests)}
    text = json.dumps({"format": FORMAT, "stacks": stacks}, indent=2) + "\n"
    (directory / INPUTS_FILE).write_text(text, encoding="utf-8")


# cdktf 0.21 writes 2-space JSON like JSON.stringify(doc, null, 2), except that an empty object
# or array spans two lines ("outputs": {\n    }) where Python's json writes {} on one.
_EMPTY_ON_ONE_LINE = re.compile(r"^( *)(.*)([{\[])([}\]])(,?)$", re.MULTILINE)


def cdktf_json(document: Any) -> str:
    """`document` as cdktf writes JSON files (no trailing newline)."""
    return _EMPTY_ON_ONE_LINE.sub(lambda m: f"{m[1]}{m[2]}{m[3]}\n{m[1]}{m[4]}{m[5]}", json.dumps(document, indent=2, ensure_ascii=False))
