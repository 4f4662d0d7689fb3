"""Every use of checkov and its internals, in one place.

checkov lives in its own virtualenv (its pins conflict with ours), so it runs as a subprocess:
$GENAI_FINOPS_CHECKOV, else `checkov` on PATH, else the one `make install` put in
.venv/tools/checkov. What this module relies on, and must be re-checked on a checkov upgrade
(`PINNED_VERSION` refuses any other version until then):

1. the terraform_json parser skips a file whose `terraform` block holds a non-object value
   (`_staged` works around it, https://github.com/bridgecrewio/checkov/issues/7454);
2. `--external-checks-dir` loads every `.py` (and every `.yaml` as a graph check) of a
   directory with an `__init__.py`, and puts that directory on `sys.path` (how our checks import
   `gfo_common`; scan fails closed if they did not run, see scan_results.require_our_checks);
3. `checkov.common.parsers.yaml.loader.SafeLineLoader` is the line-marking loader the
   terraform_json parser uses (`_CHECKOV_BOOTSTRAP` rebuilds it on libyaml);
4. the JSON report: `results.passed_checks/failed_checks/parsing_errors`, each record's
   `check_id`, `resource` (`resource.<name>` without the type for Python checks),
   `file_path`, `file_line_range`, and `summary.checkov_version`;
5. exit code 0 (no failure) or 1 (a check failed); anything else is checkov breaking.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generators.environment import CHECKOV_ENV, POLICY_ENV
from generators.errors import ToolError
from generators.files import write_atomically
from generators.provision.app_builder import STACK_FILE
from generators.provision.synth_cache import cdktf_json

ROOT = Path(__file__).resolve().parents[2]
POLICIES_DIR = ROOT / "policies"


@dataclass
class Stack:
    """One synthesized stack as the scan reads it (generators/scan/results.py loads them)."""

    name: str
    path: Path
    display: str
    document: dict[str, Any]
    text: str = ""
# Shipped in the package (pyproject package-data), so an installed genai-finops knows its pin too.
CHECKOV_REQUIREMENTS = Path(__file__).with_name("checkov-requirements.txt")


def pinned_version(requirements: Path = CHECKOV_REQUIREMENTS) -> str:
    """The checkov version this adapter was checked against: the pin in generators/scan/checkov-requirements.txt."""
    match = re.search(r"^checkov==([0-9][0-9A-Za-z.]*)\s*$", requirements.read_text(encoding="utf-8"), re.MULTILINE)
    if not match:
        raise ToolError(f"{requirements}: expected a line checkov==<version>")
    return match.group(1)


def find_checkov() -> str:
    configured = os.environ.get(CHECKOV_ENV)
    if configured:
        if not (Path(configured).is_file() and os.access(configured, os.X_OK)):
            raise ToolError(f"{CHECKOV_ENV}={configured} is not an executable file; run make install or point it at checkov")
        return configured
    found = shutil.which("checkov") or installed_checkov()
    if not found:
        raise ToolError(
            f"checkov not found: set {CHECKOV_ENV} to its path or put it on PATH "
            f"(make install puts checkov {pinned_version()} in .venv/tools/checkov; see generators/scan/checkov-requirements.txt)"
        )
    return found


def installed_checkov() -> str | None:
    """The checkov `make install` puts beside the running virtualenv (.venv/tools/checkov), so
    scan works outside make too."""
    for venv in (Path(sys.prefix), ROOT / ".venv"):
        candidate = venv / "tools" / "checkov" / "bin" / "checkov"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def written_by_cdktf(text: str, document: Any) -> bool:
    """Whether `text` is byte for byte the JSON cdktf writes for `document`.

    Only then is the libyaml loader known to mark the same lines as checkov's own (checked on
    every stack of the shipped examples and on 501 generated ones); any other layout (a
    hand-edited stack, another generator) runs checkov unchanged."""
    rendered = cdktf_json(document)
    return text == rendered or text == rendered + "\n"


def stage(text: str, document: dict[str, Any]) -> str:
    """What checkov reads for a stack: `_staged`, then `_without_metadata`; line numbers kept."""
    return _without_metadata(_staged(text, document))


def _staged(text: str, document: dict[str, Any]) -> str:
    """The stack's JSON text with the scalar settings of its `terraform` block set to `{}`.

    checkov's terraform_json parser raises on any non-object value in the `terraform` block
    (`required_version` is a string) and then skips the whole file as a parsing error
    (https://github.com/bridgecrewio/checkov/issues/7454, still open for 3.3.30). The edit is
    made line by line inside the top-level block cdktf writes (`  "terraform": {`), so every
    line keeps its number and checkov's line ranges point into the real file; JSON in another
    layout is re-dumped, which may move lines.
    """
    block = document.get("terraform")
    scalars = [key for key, value in block.items() if not isinstance(value, dict)] if isinstance(block, dict) else []
    if not scalars:
        return text
    lines = text.splitlines(keepends=True)
    opening = next((i for i, line in enumerate(lines) if line.rstrip() == '  "terraform": {'), None)
    pending = set(scalars)
    if opening is not None:
        for index in range(opening + 1, len(lines)):
            if lines[index].startswith("  }"):
                break
            for key in list(pending):
                prefix = f'    "{key}": '
                if lines[index].startswith(prefix):
                    comma = "," if lines[index].rstrip().endswith(",") else ""
                    lines[index] = f"{prefix}{{}}{comma}\n"
                    pending.discard(key)
    if not pending:
        return "".join(lines)
    sanitized = {**document, "terraform": {key: (value if isinstance(value, dict) else {}) for key, value in (block or {}).items()}}
    return json.dumps(sanitized, indent=2) + "\n"


def _without_metadata(text: str) -> str:
    """The stack's JSON text with every `"//"` block that opens an object blanked out, line for line.

    cdktf writes a `"//": {"metadata": {...}}` block first in every resource, data source and
    the document itself: a quarter of the lines, which checkov's pure-Python YAML scanner reads
    and its graph carries for nothing (its terraform_json parser treats `//` as a comment, no
    check reads it, and scan takes construct paths from the real file). Blank lines keep every
    line number, and a first key's removal leaves no dangling comma.
    """
    lines = text.splitlines(keepends=True)
    index = 1
    while index < len(lines):
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip(" "))]
        if line.rstrip() == f'{indent}"//": {{' and lines[index - 1].rstrip().endswith("{"):
            end = next((i for i in range(index + 1, len(lines)) if lines[i].rstrip() in (f"{indent}}}", f"{indent}}},")), None)
            if end is not None:
                lines[index : end + 1] = ["\n"] * (end + 1 - index)
                index = end
        index += 1
    return "".join(lines)


def stage_checks(target: Path, policies: Path | None = None) -> Path:
    """Only our check modules, for --external-checks-dir.

    checkov loads every .py in that directory as Python checks *and* every .yaml as a graph
    check; policies/ also holds suppressions.yaml (and __pycache__), which checkov would try to
    read as a check (and crash on its dates). So it gets a directory with the .py files alone,
    __init__.py included: checkov loads no module from a directory without one.
    """
    target.mkdir()
    for source in sorted((policies or POLICIES_DIR).glob("*.py")):
        shutil.copy2(source, target / source.name)
    return target


def run_checkov(
    checkov: str, stacks: list[Stack], policy: dict[str, list[str]], policies: Path | None = None, cache: Path | None = None
) -> dict[str, Any]:
    """checkov's terraform_json report for `stacks`, with our checks from `policies` (default
    policies/) and the org `policy` they read; a ToolError whenever a result could be missing.

    With a `cache` directory, a stack whose checkov input is unchanged (the staged text, our
    checks' sources, the org policy, the pinned checkov and its path) takes its results from the
    previous scan, and checkov runs over the others only (not at all when none changed)."""
    policies = policies or POLICIES_DIR
    if cache is None:
        return _run(checkov, stacks, policy, policies)
    # Staged once: the text is both the cache key's main part and what checkov reads.
    staged = {stack.name: stage(stack.text, stack.document) for stack in stacks}
    pinned = pinned_version()
    common = _common_key(checkov, pinned, policy, policies)
    keys = {name: _cache_key(common, name, text) for name, text in staged.items()}
    cached = {name: entry for name, key in keys.items() if (entry := _cached(cache, key, pinned)) is not None}
    fresh = [stack for stack in stacks if stack.name not in cached]
    version = pinned
    if fresh:
        report = _run(checkov, fresh, policy, policies, staged)
        version = str(report["summary"]["checkov_version"])
        by_stack: dict[str, dict[str, list[dict[str, Any]]]] = {stack.name: {key: [] for key in RESULT_KEYS} for stack in fresh}
        for key in RESULT_KEYS:
            for record in report.get("results", {}).get(key, []):
                by_stack[Path(record["file_path"]).parent.name][key].append(record)
        for stack in fresh:
            entry = {"checkov_version": version, **by_stack[stack.name]}
            write_atomically(cache / f"{keys[stack.name]}.json", json.dumps(entry))
            cached[stack.name] = entry
    results = {key: [record for stack in stacks for record in cached[stack.name][key]] for key in RESULT_KEYS}
    reused = sorted(set(cached) - {stack.name for stack in fresh})
    return {"check_type": "terraform_json", "summary": {"checkov_version": version}, "results": results, "reused": reused}


RESULT_KEYS = ("passed_checks", "failed_checks")


def _common_key(checkov: str, pinned: str, policy: dict[str, list[str]], policies: Path) -> str:
    """What every stack's key shares: the pinned checkov and its path, the org policy, our checks."""
    digest = hashlib.sha256()
    digest.update(f"{pinned}\0{Path(checkov).resolve()}\0".encode())
    digest.update(json.dumps(policy, sort_keys=True).encode() + b"\0")
    for source in sorted(policies.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_key(common: str, name: str, staged: str) -> str:
    return hashlib.sha256(f"{common}\0{name}\0{staged}".encode()).hexdigest()


def _cached(cache: Path, key: str, pinned: str) -> dict[str, Any] | None:
    """A stored entry, or None on any doubt (missing, unreadable, another shape)."""
    try:
        entry = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("checkov_version") != pinned:
        return None
    if not all(isinstance(entry.get(key), list) for key in RESULT_KEYS):
        return None
    return entry


def _run(
    checkov: str, stacks: list[Stack], policy: dict[str, list[str]], policies: Path, staged: dict[str, str] | None = None
) -> dict[str, Any]:
    # The libyaml loader only for stacks in cdktf's own layout; one other file and checkov runs as it is.
    command = _checkov_command(checkov) if all(written_by_cdktf(s.text, s.document) for s in stacks) else [checkov]
    with tempfile.TemporaryDirectory(prefix="genai-finops-scan-") as tmp:
        root = Path(tmp) / "stacks"
        for stack in stacks:
            target = root / stack.name / STACK_FILE
            target.parent.mkdir(parents=True)
            target.write_text(staged[stack.name] if staged else stage(stack.text, stack.document), encoding="utf-8")
        policy_file = Path(tmp) / "org-policy.json"
        policy_file.write_text(json.dumps(policy), encoding="utf-8")
        checks_dir = stage_checks(Path(tmp) / "checks", policies)
        command += [
            "-d", str(root), "--framework", "terraform_json", "--skip-download",
            "--external-checks-dir", str(checks_dir), "-o", "json", "--compact",
        ]  # fmt: skip
        env = {**os.environ, POLICY_ENV: str(policy_file)}
        try:
            completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        except OSError as exc:
            raise ToolError(f"cannot run checkov ({checkov}): {exc.strerror or exc}") from None
    # checkov exits 1 when a check failed, 0 when none did; anything else is checkov breaking.
    if completed.returncode not in (0, 1):
        raise ToolError(f"checkov exited with {completed.returncode}:\n{_tail(completed.stderr)}")
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        raise ToolError(f"checkov printed no JSON report:\n{_tail(completed.stderr or completed.stdout)}") from None
    # With several report types checkov prints a list; terraform_json alone is one object.
    if isinstance(report, list):
        report = next((r for r in report if r.get("check_type") == "terraform_json"), {})
    if not isinstance(report, dict):
        raise ToolError(f"checkov printed an unexpected report (a {type(report).__name__}):\n{_tail(completed.stdout)}")
    require_pinned_version(report, checkov)
    failed_to_parse = report.get("results", {}).get("parsing_errors") or []
    if failed_to_parse:
        names = ", ".join(sorted(Path(p).parent.name for p in failed_to_parse))
        raise ToolError(f"checkov could not parse the stacks {names}; nothing in them was checked:\n{_tail(completed.stderr)}")
    # An exception in any check makes checkov drop every result of that file and still exit 0.
    reported = {Path(r["file_path"]).parent.name for key in ("passed_checks", "failed_checks") for r in report.get("results", {}).get(key, [])}
    silent = sorted(s.name for s in stacks if s.document.get("resource") and s.name not in reported)
    if silent:
        raise ToolError(f"checkov reported no result for the stacks {', '.join(silent)}; a check probably crashed:\n{_tail(completed.stderr)}")
    return report


def require_pinned_version(report: dict[str, Any], checkov: str) -> None:
    """Refuse results from a checkov this adapter was not checked against (see the module docstring)."""
    found = str((report.get("summary") or {}).get("checkov_version") or "unknown")
    pinned = pinned_version()
    if found != pinned:
        raise ToolError(
            f"{checkov} is checkov {found}, but scan was checked against checkov {pinned} (generators/scan/checkov-requirements.txt). "
            f"Run `make install` to get {pinned}; to upgrade checkov on purpose, re-check the five points listed in "
            "generators/scan/checkov_adapter.py against the new version, then change the pin and run `make test`"
        )


def resource_of(record: dict[str, Any], stack: Stack) -> tuple[str, str]:
    """(type, name) of a result. checkov's terraform_json Python checks report `resource.<name>`
    without the type; it is recovered from the stack (cdktf names can repeat across types, so
    the line range decides between them)."""
    block, _, rest = record["resource"].partition(".")
    if block not in ("resource", "data"):
        return block, rest
    candidates = [t for t, items in (stack.document.get(block) or {}).items() if isinstance(items, dict) and rest in items]
    if len(candidates) > 1:
        candidates = [t for t in candidates if _starts_at(stack, t, rest, (record.get("file_line_range") or [0])[0])] or candidates
    prefix = "data." if block == "data" else ""
    return (prefix + candidates[0], rest) if candidates else (block, rest)


def _starts_at(stack: Stack, resource_type: str, name: str, line: int) -> bool:
    """Whether, in the 2-space JSON cdktf writes, `name` under `resource_type` opens on `line`."""
    lines = stack.text.splitlines()
    if not 0 < line <= len(lines) or f'"{name}"' not in lines[line - 1]:
        return False
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip())
    for previous in reversed(lines[: line - 1]):
        if len(previous) - len(previous.lstrip()) < indent:
            return previous.strip().startswith(f'"{resource_type}"')
    return False


# checkov's terraform_json parser reads JSON with PyYAML's pure-Python SafeLoader (subclassed
# to add __startline__/__endline__), a fifth of a 500-stack scan. This runs checkov exactly as its
# own entry point does, but with that subclass rebuilt on PyYAML's libyaml-backed CSafeLoader:
# same constructor and bool_values, same line marks, so the same definitions and results
# (checked on 501 stacks: 35,156 identical results and line ranges). Used only for stacks in
# cdktf's own layout (`written_by_cdktf`); without libyaml, or if a checkov upgrade moves the
# class, checkov runs unchanged.
_CHECKOV_BOOTSTRAP = """
import sys, warnings
try:
    import yaml
    from checkov.common.parsers.yaml import loader

    class CSafeLineLoader(yaml.CSafeLoader):
        bool_values = loader.SafeLineLoader.bool_values

        def construct_mapping(self, node, deep=False):
            mapping = super().construct_mapping(node, deep=deep)
            mapping["__startline__"] = node.start_mark.line + 1
            mapping["__endline__"] = node.end_mark.line + 1
            return mapping

    loader.SafeLineLoader = CSafeLineLoader
except (ImportError, AttributeError):
    pass
from checkov.main import Checkov
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    sys.exit(Checkov().run())
"""


def _checkov_command(checkov: str) -> list[str]:
    """checkov's own Python with the bootstrap above when `checkov` is a Python entry-point script, else checkov itself."""
    try:
        with open(checkov, "rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return [checkov]
    interpreter = first[2:].strip() if first.startswith("#!") else ""
    if " " in interpreter or not Path(interpreter).name.startswith("python") or not os.access(interpreter, os.X_OK):
        return [checkov]
    return [interpreter, "-c", _CHECKOV_BOOTSTRAP]


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


