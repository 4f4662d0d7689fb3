"""What `scan` knows about results: the stacks it read, checkov's records as results, the checks
that must have run, the stack-level budget result, and the reviewed suppressions applied.

Nothing here runs or imports checkov (generators/scan/checkov_adapter.py does); renderers are in
generators/scan/render.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from generators.errors import ToolError, UsageError, display_path
from generators.naming import GOVERNANCE_STACK
from generators.provision.app_builder import STACK_FILE, STACKS_DIR
from generators.scan import checkov_adapter
from generators.scan.checkov_adapter import Stack  # re-exported: the scan results and their renderers read stacks

if TYPE_CHECKING:
    from generators.scan.suppressions import Suppression

# The stack-level half of CKV_GFO_004 (see policies/ckv_gfo_004_team_budget_alert.py): no
# checkov check can say "this file lacks a resource", so scan reports it in the same shape.
STACK_BUDGET_CHECK = "CKV_GFO_004"
STACK_BUDGET_NAME = "Ensure every team stack has an AWS budget with at least one alert"
BUDGET_TYPE = "aws_budgets_budget"


Status = Literal["passed", "failed", "suppressed"]


@dataclass
class Result:
    check_id: str
    check_name: str
    status: Status
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


def load_stacks(out: Path) -> list[Stack]:
    files = sorted((out / STACKS_DIR).glob(f"*/{STACK_FILE}"))
    if not files:
        raise UsageError(f"{out}/{STACKS_DIR}/*/{STACK_FILE}: no synthesized stacks; run genai-finops synth first")
    stacks = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError) as exc:
            raise ToolError(f"{display_path(path)}: not readable Terraform JSON ({exc}); run genai-finops synth again") from None
        if not isinstance(document, dict):
            raise ToolError(f"{display_path(path)}: expected a JSON object; run genai-finops synth again")
        stacks.append(Stack(path.parent.name, path, display_path(path), document, text))
    return stacks


def results_from_report(report: dict[str, Any], stacks: list[Stack]) -> list[Result]:
    by_name = {stack.name: stack for stack in stacks}
    results = []
    outcomes: tuple[tuple[str, Status], ...] = (("passed_checks", "passed"), ("failed_checks", "failed"))
    for key, status in outcomes:
        for record in report.get("results", {}).get(key, []):
            stack = by_name[Path(record["file_path"]).parent.name]
            resource_type, name = checkov_adapter.resource_of(record, stack)
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


def _construct_path(document: dict[str, Any], resource_type: str, name: str) -> str:
    block = document.get("data" if resource_type.startswith("data.") else "resource") or {}
    config = (block.get(resource_type.removeprefix("data.")) or {}).get(name) or {}
    return ((config.get("//") or {}).get("metadata") or {}).get("path", "") if isinstance(config, dict) else ""


# What each of our checks applies to, read from its source (checkov is not importable here): the
# id and supported_resources of every policies/ckv_gfo_*.py.
_CHECK_ID = re.compile(r'id="(CKV_GFO_\d+)"')
_SUPPORTED = re.compile(r"supported_resources=\[([^\]]*)\]")


def our_checks(policies: Path | None = None) -> dict[str, set[str]]:
    checks = {}
    for source in sorted((policies or checkov_adapter.POLICIES_DIR).glob("ckv_gfo_*.py")):
        text = source.read_text(encoding="utf-8")
        ids, supported = _CHECK_ID.findall(text), _SUPPORTED.findall(text)
        if len(ids) != 1 or len(supported) != 1:
            raise ToolError(f"{display_path(source)}: expected one check id and one supported_resources list")
        checks[ids[0]] = set(re.findall(r'"([a-z0-9_]+)"', supported[0]))
    return checks


def require_our_checks(results: list[Result], stacks: list[Stack], policies: Path | None = None) -> None:
    """Fail closed when our checks did not run: checkov drops an external check whose module
    fails to import (a broken policies/gfo_common.py, a checkov that stops putting the checks
    directory on sys.path) and still reports its own, so a scan could pass without ours.
    Every stack with a resource type one of our checks supports must have a result of that check."""
    reported = {(r.stack, r.check_id) for r in results}
    checks = our_checks(policies or checkov_adapter.POLICIES_DIR)
    missing = []
    for stack in stacks:
        types = set((stack.document.get("resource") or {}))
        for check_id, supported in checks.items():
            if types & supported and (stack.name, check_id) not in reported:
                missing.append(f"{check_id} on {stack.name} ({', '.join(sorted(types & supported))})")
    if missing:
        raise ToolError(
            f"our checks did not run: {'; '.join(missing[:6])}{f' and {len(missing) - 6} more' if len(missing) > 6 else ''}. "
            "checkov drops an external check it cannot import: run `checkov -d DIR --external-checks-dir policies` to see why"
        )


def stack_budget_results(stacks: list[Stack]) -> list[Result]:
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


def apply_suppressions(results: list[Result], suppressions: list[Suppression]) -> list[Suppression]:
    """Mark every failed result a suppression covers as suppressed, with its reason; the unused entries."""
    used = set()
    for result in results:
        if result.status != "failed":
            continue
        for index, suppression in enumerate(suppressions):
            if suppression.matches(result.check_id, result.address, result.construct_path):
                result.status, result.reason = "suppressed", suppression.reason
                used.add(index)
                break
    return [s for index, s in enumerate(suppressions) if index not in used]


def counts(results: list[Result], stack: str | None = None) -> dict[str, int]:
    tally = {"passed": 0, "failed": 0, "suppressed": 0}
    for result in results:
        if stack is None or result.stack == stack:
            tally[result.status] += 1
    return tally
