"""`genai-finops scan`: checkov with our CKV_GFO_* checks over every synthesized stack, one run.

checkov lives in its own virtualenv (its pins conflict with ours), so it runs as a subprocess:
$GENAI_FINOPS_CHECKOV, else `checkov` on PATH. The org policy reaches our checks as a JSON file
named by $GENAI_FINOPS_POLICY. Suppressions from the reviewed file are applied here, per
resource, to checkov's JSON results; the outputs (cli, json, SARIF, JUnit XML) are rendered
from those filtered results, so a suppressed finding never fails the gate and is still shown.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generators.errors import ToolError, UsageError

NAME = "scan"
HELP = "checkov (offline) with our CKV_GFO_* checks over the synthesized stacks; exit 1 on any unsuppressed failure"
DESCRIPTION = """\
Run checkov once over every DIR/stacks/<stack>/cdk.tf.json (framework terraform_json, offline),
with the built-in checks and ours from policies/ (CKV_GFO_*), apply the reviewed suppressions
in policies/suppressions.yaml per resource, and report passed, failed and suppressed results
per stack. Resource addresses read <stack>/<type>.<name>, the form suppressions match on.
checkov is $GENAI_FINOPS_CHECKOV (make sets it), else `checkov` on PATH, else the one
make install put in .venv/tools/checkov."""
EPILOG = """\
examples:
  genai-finops scan                                   cdktf.out/ (the default), table for people
  genai-finops scan --out cdktf.out --format sarif --output-file scan.sarif
  genai-finops scan --format junitxml --output-file scan.xml

exit codes: 0 no unsuppressed failure, 1 a check failed (or checkov/manifests/suppressions are
broken), 2 usage error (e.g. DIR holds no synthesized stacks: run genai-finops synth first)"""

CHECKOV_ENV = "GENAI_FINOPS_CHECKOV"
POLICY_ENV = "GENAI_FINOPS_POLICY"
POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
DEFAULT_SUPPRESSIONS = POLICIES_DIR / "suppressions.yaml"
STACK_FILE = "cdk.tf.json"
# The stack-level half of CKV_GFO_004 (see policies/ckv_gfo_004_team_budget_alert.py): no
# checkov check can say "this file lacks a resource", so scan reports it in the same shape.
STACK_BUDGET_CHECK = "CKV_GFO_004"
STACK_BUDGET_NAME = "Ensure every team stack has an AWS budget with at least one alert"
BUDGET_TYPE = "aws_budgets_budget"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="cdktf.out", metavar="DIR", help="synth output directory holding stacks/ (default: cdktf.out)")
    parser.add_argument(
        "--manifests", default="manifests", metavar="PATH", help="manifests directory whose org.yaml gives the required tags and allowed types (default: manifests)"
    )
    parser.add_argument("--format", choices=["cli", "json", "sarif", "junitxml"], default="cli", help="cli table (default), json, sarif (GitHub code scanning) or junitxml")
    parser.add_argument("--output-file", metavar="FILE", help="write the report here instead of stdout")
    parser.add_argument(
        "--suppressions", default=str(DEFAULT_SUPPRESSIONS), metavar="FILE", help="the reviewed suppression file (default: policies/suppressions.yaml)"
    )


@dataclass
class Result:
    check_id: str
    check_name: str
    status: str  # passed | failed | suppressed
    stack: str
    resource: str  # <type>.<name>
    file: str
    lines: tuple[int, int]
    construct_path: str = ""
    details: list[str] = field(default_factory=list)
    guideline: str = ""
    reason: str = ""

    @property
    def address(self) -> str:
        return f"{self.stack}/{self.resource}"


@dataclass
class Stack:
    name: str
    path: Path
    display: str
    document: dict[str, Any]
    text: str = ""


def run(args: argparse.Namespace) -> int:
    from generators.loading import load_manifest_set
    from generators.suppressions import load_suppressions

    stacks = _stacks(Path(args.out))
    org = load_manifest_set([args.manifests]).org
    suppressions_path = Path(args.suppressions)
    if not suppressions_path.is_file():
        raise UsageError(f"{args.suppressions}: suppression file not found")
    suppressions = load_suppressions(suppressions_path, _display(suppressions_path))
    checkov = _checkov()

    print(f"scanning {len(stacks)} stack{'s' if len(stacks) != 1 else ''} with checkov ({checkov}) ...", file=sys.stderr)
    started = time.monotonic()
    report = _run_checkov(checkov, stacks, {"required_tags": list(org.required_tags), "allowed_instance_types": list(org.allowed_instance_types)})
    reported = _results(report, stacks)
    # Only what checkov reported counts: the stack-level budget result below is ours, not checkov's.
    _require_our_checks(reported, stacks)
    results = reported + _stack_budget_results(stacks)
    used = set()
    for result in results:
        if result.status != "failed":
            continue
        for index, suppression in enumerate(suppressions):
            if suppression.matches(result.check_id, result.address):
                result.status, result.reason = "suppressed", suppression.reason
                used.add(index)
                break
    version = report.get("summary", {}).get("checkov_version", "unknown")
    print(f"checkov {version}: {len(results)} results in {time.monotonic() - started:.1f} s", file=sys.stderr)
    unused = [s for index, s in enumerate(suppressions) if index not in used]
    for suppression in unused:
        print(
            f"warning: {_display(suppressions_path)}:{suppression.line}: suppression {suppression.describe()} matched no failed check; remove it",
            file=sys.stderr,
        )

    results.sort(key=lambda r: (r.stack, r.status != "failed", r.check_id, r.resource))
    text = RENDERERS[args.format](results, stacks, version, unused, colour=_colour(args))
    if args.output_file:
        Path(args.output_file).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 1 if any(r.status == "failed" for r in results) else 0


# --------------------------------------------------------------------------- inputs


def _stacks(out: Path) -> list[Stack]:
    files = sorted((out / "stacks").glob(f"*/{STACK_FILE}"))
    if not files:
        raise UsageError(f"{out}/stacks/*/{STACK_FILE}: no synthesized stacks; run genai-finops synth first")
    stacks = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError) as exc:
            raise ToolError(f"{_display(path)}: not readable Terraform JSON ({exc}); run genai-finops synth again") from None
        if not isinstance(document, dict):
            raise ToolError(f"{_display(path)}: expected a JSON object; run genai-finops synth again")
        stacks.append(Stack(path.parent.name, path, _display(path), document, text))
    return stacks


def _checkov() -> str:
    configured = os.environ.get(CHECKOV_ENV)
    if configured:
        if not (Path(configured).is_file() and os.access(configured, os.X_OK)):
            raise ToolError(f"{CHECKOV_ENV}={configured} is not an executable file; run make install or point it at checkov")
        return configured
    found = shutil.which("checkov") or _installed_checkov()
    if not found:
        raise ToolError(
            f"checkov not found: set {CHECKOV_ENV} to its path or put it on PATH "
            "(make install puts checkov 3.3.30 in .venv/tools/checkov; see requirements/checkov.txt)"
        )
    return found


def _installed_checkov() -> str | None:
    """The checkov `make install` puts beside the running virtualenv (.venv/tools/checkov), so
    scan works outside make too."""
    for venv in (Path(sys.prefix), Path(__file__).resolve().parents[2] / ".venv"):
        candidate = venv / "tools" / "checkov" / "bin" / "checkov"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


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
    sanitized = {**document, "terraform": {key: (value if isinstance(value, dict) else {}) for key, value in block.items()}}
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


def _stage_checks(target: Path) -> Path:
    """Only our check modules, for --external-checks-dir.

    checkov loads every .py in that directory as Python checks *and* every .yaml as a graph
    check; policies/ also holds suppressions.yaml (and __pycache__), which checkov would try to
    read as a check (and crash on its dates). So it gets a directory with the .py files alone,
    __init__.py included: checkov loads no module from a directory without one.
    """
    target.mkdir()
    for source in sorted(POLICIES_DIR.glob("*.py")):
        shutil.copy2(source, target / source.name)
    return target


def _run_checkov(checkov: str, stacks: list[Stack], policy: dict[str, list[str]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="genai-finops-scan-") as tmp:
        root = Path(tmp) / "stacks"
        for stack in stacks:
            target = root / stack.name / STACK_FILE
            target.parent.mkdir(parents=True)
            target.write_text(_without_metadata(_staged(stack.text, stack.document)), encoding="utf-8")
        policy_file = Path(tmp) / "org-policy.json"
        policy_file.write_text(json.dumps(policy), encoding="utf-8")
        checks_dir = _stage_checks(Path(tmp) / "checks")
        command = [
            *_checkov_command(checkov), "-d", str(root), "--framework", "terraform_json", "--skip-download",
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


# checkov's terraform_json parser reads JSON with PyYAML's pure-Python SafeLoader (subclassed
# to add __startline__/__endline__), a fifth of a 500-stack scan. This runs checkov exactly as its
# own entry point does, but with that subclass rebuilt on PyYAML's libyaml-backed CSafeLoader:
# same constructor and bool_values, same line marks, so the same definitions and results
# (checked on 501 stacks: 35,156 identical results and line ranges). Without libyaml, or if a
# checkov upgrade moves the class, checkov runs unchanged.
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


# --------------------------------------------------------------------------- results


def _results(report: dict[str, Any], stacks: list[Stack]) -> list[Result]:
    by_name = {stack.name: stack for stack in stacks}
    results = []
    for key, status in (("passed_checks", "passed"), ("failed_checks", "failed")):
        for record in report.get("results", {}).get(key, []):
            stack = by_name[Path(record["file_path"]).parent.name]
            resource_type, name = _resource(record, stack)
            start, end = record.get("file_line_range") or (1, 1)
            results.append(
                Result(
                    check_id=record["check_id"],
                    check_name=record.get("check_name", ""),
                    status=status,
                    stack=stack.name,
                    resource=f"{resource_type}.{name}",
                    file=stack.display,
                    lines=(start, end),
                    construct_path=_construct_path(stack.document, resource_type, name),
                    details=list(record.get("details") or []),
                    guideline=record.get("guideline") or "",
                )
            )
    return results


def _resource(record: dict[str, Any], stack: Stack) -> tuple[str, str]:
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


def _construct_path(document: dict[str, Any], resource_type: str, name: str) -> str:
    block = document.get("data" if resource_type.startswith("data.") else "resource") or {}
    config = (block.get(resource_type.removeprefix("data.")) or {}).get(name) or {}
    return ((config.get("//") or {}).get("metadata") or {}).get("path", "") if isinstance(config, dict) else ""


# What each of our checks applies to, read from its source (checkov is not importable here): the
# id and supported_resources of every policies/ckv_gfo_*.py.
_CHECK_ID = re.compile(r'id="(CKV_GFO_\d+)"')
_SUPPORTED = re.compile(r"supported_resources=\[([^\]]*)\]")


def our_checks(policies: Path = POLICIES_DIR) -> dict[str, set[str]]:
    checks = {}
    for source in sorted(policies.glob("ckv_gfo_*.py")):
        text = source.read_text(encoding="utf-8")
        ids, supported = _CHECK_ID.findall(text), _SUPPORTED.findall(text)
        if len(ids) != 1 or len(supported) != 1:
            raise ToolError(f"{_display(source)}: expected one check id and one supported_resources list")
        checks[ids[0]] = set(re.findall(r'"([a-z0-9_]+)"', supported[0]))
    return checks


def _require_our_checks(results: list[Result], stacks: list[Stack]) -> None:
    """Fail closed when our checks did not run: checkov drops an external check whose module
    fails to import (a broken policies/gfo_common.py, a checkov that stops putting the checks
    directory on sys.path) and still reports its own, so a scan could pass without ours.
    Every stack with a resource type one of our checks supports must have a result of that check."""
    reported = {(r.stack, r.check_id) for r in results}
    missing = []
    for stack in stacks:
        types = set((stack.document.get("resource") or {}))
        for check_id, supported in our_checks().items():
            if types & supported and (stack.name, check_id) not in reported:
                missing.append(f"{check_id} on {stack.name} ({', '.join(sorted(types & supported))})")
    if missing:
        raise ToolError(
            f"our checks did not run: {'; '.join(missing[:6])}{f' and {len(missing) - 6} more' if len(missing) > 6 else ''}. "
            "checkov drops an external check it cannot import: run `checkov -d DIR --external-checks-dir policies` to see why"
        )


def _stack_budget_results(stacks: list[Stack]) -> list[Result]:
    from generators.naming import GOVERNANCE_STACK

    results = []
    for stack in stacks:
        if stack.name == GOVERNANCE_STACK:
            continue
        has_budget = bool((stack.document.get("resource") or {}).get(BUDGET_TYPE))
        results.append(
            Result(
                check_id=STACK_BUDGET_CHECK,
                check_name=STACK_BUDGET_NAME,
                status="passed" if has_budget else "failed",
                stack=stack.name,
                resource=f"stack.{stack.name}",
                file=stack.display,
                lines=(1, 1),
                details=[] if has_budget else [f"team stack {stack.name} has no {BUDGET_TYPE}"],
            )
        )
    return results


# --------------------------------------------------------------------------- output


def _counts(results: list[Result], stack: str | None = None) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "suppressed": 0}
    for result in results:
        if stack is None or result.stack == stack:
            counts[result.status] += 1
    return counts


def render_cli(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    red, green, yellow, reset = ("\033[31m", "\033[32m", "\033[33m", "\033[0m") if colour else ("", "", "", "")
    width = max(len("total"), *(len(s.name) for s in stacks))
    lines = [f"{'stack':<{width}}  {'passed':>6}  {'failed':>6}  {'suppressed':>10}"]
    for name in [s.name for s in stacks] + [None]:
        counts = _counts(results, name)
        failed = f"{counts['failed']:>6}"
        lines.append(
            f"{name or 'total':<{width}}  {counts['passed']:>6}  {red + failed + reset if counts['failed'] else failed}  {counts['suppressed']:>10}"
        )
    failures = [r for r in results if r.status == "failed"]
    for result in failures:
        lines += [
            "",
            f"{red}FAILED{reset} {result.check_id} {result.check_name}",
            f"  resource: {result.address}" + (f"  (construct {result.construct_path})" if result.construct_path else ""),
            f"  stack:    {result.stack}",
            f"  file:     {result.file}:{result.lines[0]}-{result.lines[1]}",
        ]
        lines += [f"  details:  {detail}" for detail in result.details]
    total = _counts(results)
    summary = f"{total['failed']} failed, {total['passed']} passed, {total['suppressed']} suppressed (checkov {version})"
    lines += ["", f"{red}{summary}{reset}" if failures else f"{green}{summary}{reset}"]
    if unused:
        lines.append(f"{yellow}{len(unused)} unused suppression{'s' if len(unused) != 1 else ''} (see warnings above){reset}")
    return "\n".join(lines) + "\n"


def render_json(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    payload = {
        "checkov_version": version,
        "summary": _counts(results),
        "stacks": {stack.name: {"file": stack.display, **_counts(results, stack.name)} for stack in stacks},
        "results": [
            {**{k: v for k, v in asdict(r).items() if k != "lines"}, "address": r.address, "lines": list(r.lines)} for r in results
        ],
        "unused_suppressions": [
            {"check": s.check, "resource": s.resource, "line": s.line, "reason": s.reason} for s in unused
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def render_sarif(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    """SARIF 2.1.0 for GitHub code scanning: failures are errors; suppressed ones carry an external suppression."""
    reported = [r for r in results if r.status != "passed"]
    rule_ids = sorted({r.check_id for r in reported})
    names = {r.check_id: r for r in reported}
    rules = []
    for rule_id in rule_ids:
        rule: dict[str, Any] = {"id": rule_id, "shortDescription": {"text": names[rule_id].check_name or rule_id}}
        if names[rule_id].guideline:
            rule["helpUri"] = names[rule_id].guideline
        rules.append(rule)
    sarif_results = []
    for result in reported:
        entry: dict[str, Any] = {
            "ruleId": result.check_id,
            "ruleIndex": rule_ids.index(result.check_id),
            "level": "error",
            "message": {"text": f"{result.check_name}: {result.address}" + "".join(f"; {d}" for d in result.details)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": Path(result.file).as_posix()},
                        "region": {"startLine": result.lines[0], "endLine": result.lines[1]},
                    },
                    "logicalLocations": [{"fullyQualifiedName": result.address, "kind": "resource"}],
                }
            ],
        }
        if result.status == "suppressed":
            entry["suppressions"] = [{"kind": "external", "justification": result.reason}]
        sarif_results.append(entry)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "genai-finops scan",
                        "informationUri": "https://www.checkov.io/",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def render_junitxml(results: list[Result], stacks: list[Stack], version: str, unused: list, colour: bool = False) -> str:
    import xml.etree.ElementTree as ET

    total = _counts(results)
    root = ET.Element(
        "testsuites",
        name="genai-finops scan",
        tests=str(len(results)),
        failures=str(total["failed"]),
        skipped=str(total["suppressed"]),
    )
    for stack in stacks:
        own = [r for r in results if r.stack == stack.name]
        counts = _counts(results, stack.name)
        suite = ET.SubElement(
            root, "testsuite", name=stack.name, tests=str(len(own)), failures=str(counts["failed"]), skipped=str(counts["suppressed"]), file=stack.display
        )
        for result in own:
            case = ET.SubElement(
                suite, "testcase", classname=f"{stack.name}.{result.check_id}", name=f"{result.check_id} {result.address}", file=result.file
            )
            if result.status == "failed":
                failure = ET.SubElement(case, "failure", message=result.check_name, type=result.check_id)
                failure.text = "\n".join([f"{result.file}:{result.lines[0]}-{result.lines[1]}", *result.details])
            elif result.status == "suppressed":
                ET.SubElement(case, "skipped", message=f"suppressed: {result.reason}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS = {"cli": render_cli, "json": render_json, "sarif": render_sarif, "junitxml": render_junitxml}


def _colour(args: argparse.Namespace) -> bool:
    from generators.commands._common import use_colour

    return args.format == "cli" and not args.output_file and use_colour(sys.stdout)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
