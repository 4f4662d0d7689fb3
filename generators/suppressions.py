"""The reviewed suppression file (`policies/suppressions.yaml`): which check results `scan` accepts, and why.

checkov ignores inline skip comments in terraform_json input, and `--skip-check` would silence
a check for every resource, so suppressions live in one file that a reviewer reads:

    suppressions:
      - check: CKV_AWS_117
        resource: "*/aws_lambda_function.*offhours*"
        reason: the off-hours function only calls public EC2 and EKS APIs; a VPC adds NAT cost and nothing else
      - check: CKV_AWS_272
        construct: "*/offhours/function"      # instead of resource: the construct path
        expires: 2027-06-30          # optional; after this day the entry is an error, not a silent pass

An entry names what it covers in one of two ways, each a shell-style glob (`*`, `?`, `[...]`):

- `resource`: the result's address, `<stack>/<resource type>.<terraform name>`, e.g.
  `alpha/aws_instance.training-finetune-0_instance_1A2B3C4D` (cdktf appends a hash to nested
  construct names, hence globs). With a `/` the glob is matched against the whole address,
  without one against `<type>.<name>` in every stack. Stack-level results (CKV_GFO_004) have the
  address `<stack>/stack.<stack>`.
- `construct`: the construct path cdktf records for the resource, e.g.
  `alpha/offhours/function` (scan prints it beside each failure). It stays the same when cdktf's
  hash changes, as cdk-nag's suppressions do; stack-level results have none.

Every problem is reported with file:line:col, all at once: unknown keys, a missing or short
reason (cdk-nag's rule: at least ten characters), a malformed check ID, a past expiry date,
a duplicated entry.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from generators.errors import ManifestError, Problem
from generators.yaml_source import SourceDocument, load_yaml

# cdk-nag refuses suppression reasons shorter than this; a reviewer needs a sentence, not "ok".
MIN_REASON_LENGTH = 10
ENTRY_KEYS = ("check", "resource", "construct", "reason", "expires")
# checkov IDs: CKV_AWS_79, CKV2_AWS_41, CKV_GFO_001, CKV_K8S_8 ...
CHECK_ID_PATTERN = re.compile(r"^CKV2?_[A-Z0-9]+_[0-9]+$")


@dataclass(frozen=True)
class Suppression:
    check: str
    resource: str  # an address glob, or "" when the entry names a construct
    reason: str
    expires: dt.date | None
    line: int
    construct: str = ""  # a construct path glob, or "" when the entry names a resource

    def matches(self, check_id: str, address: str, construct_path: str = "") -> bool:
        """Whether this entry covers `check_id` on the resource at `address` (`<stack>/<type>.<name>`)
        whose construct path is `construct_path`."""
        if check_id != self.check:
            return False
        if self.construct:
            return bool(construct_path) and fnmatch.fnmatchcase(construct_path, self.construct)
        target = address if "/" in self.resource else address.split("/", 1)[-1]
        return fnmatch.fnmatchcase(target, self.resource)

    def describe(self) -> str:
        return f"{self.check} on {f'construct {self.construct}' if self.construct else self.resource}"


def load_suppressions(path: Path, display: str | None = None, today: dt.date | None = None) -> list[Suppression]:
    """The validated entries of a suppression file; a ManifestError listing every problem otherwise."""
    document = load_yaml(path, display)
    today = today or dt.date.today()
    problems: list[Problem] = []
    for key in document.data:
        if key != "suppressions":
            problems.append(document.problem((key,), f"unknown key '{key}'; the file has one key, suppressions", key=True))
    entries = document.data.get("suppressions")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        problems.append(document.problem(("suppressions",), "expected a list of entries (check, resource, reason, expires)"))
        entries = []

    suppressions: list[Suppression] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, entry in enumerate(entries):
        parsed = _entry(document, index, entry, today, problems)
        if parsed is None:
            continue
        key = (parsed.check, parsed.resource, parsed.construct)
        if key in seen:
            problems.append(
                document.problem(("suppressions", index), f"duplicate of the entry on line {seen[key]} ({parsed.describe()})")
            )
            continue
        seen[key] = parsed.line
        suppressions.append(parsed)
    if problems:
        raise ManifestError(problems)
    return suppressions


def _entry(document: SourceDocument, index: int, entry: object, today: dt.date, problems: list[Problem]) -> Suppression | None:
    here = ("suppressions", index)
    if not isinstance(entry, dict):
        problems.append(document.problem(here, "expected a mapping with check, resource or construct, reason and optional expires"))
        return None
    before = len(problems)
    for key in entry:
        if key not in ENTRY_KEYS:
            hint = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1, cutoff=0.6)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            problems.append(document.problem((*here, key), f"unknown key '{key}'{suggestion} Allowed: {', '.join(ENTRY_KEYS)}", key=True))

    check = entry.get("check")
    if not isinstance(check, str) or not CHECK_ID_PATTERN.match(check):
        found = "missing" if check is None else f"got {check!r}"
        problems.append(document.problem((*here, "check"), f"{found}; expected a checkov check ID such as CKV_AWS_79 or CKV_GFO_001"))
    resource, construct = entry.get("resource"), entry.get("construct")
    if resource is not None and construct is not None:
        problems.append(
            document.problem((*here, "construct"), "give resource or construct, not both: one entry covers one kind of name", key=True)
        )
    elif construct is not None:
        if not isinstance(construct, str) or not construct.strip():
            problems.append(document.problem((*here, "construct"), f"got {construct!r}; expected a construct path glob such as '*/offhours/function'"))
    elif not isinstance(resource, str) or not resource.strip():
        found = "missing" if resource is None else f"got {resource!r}"
        problems.append(
            document.problem(
                (*here, "resource"),
                f"{found}; expected an address glob such as '*/aws_sqs_queue.*' or 'alpha/aws_instance.*' (or construct: a construct path glob)",
            )
        )
    reason = entry.get("reason")
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        found = "missing" if reason is None else f"got {reason!r}"
        problems.append(
            document.problem(
                (*here, "reason"),
                f"{found}; every suppression needs a reason a reviewer would accept (at least {MIN_REASON_LENGTH} characters)",
            )
        )
    expires = _expiry(document, (*here, "expires"), entry.get("expires"), today, problems)
    if len(problems) > before:
        return None
    line, _ = document.locate(here)
    return Suppression(check=check, resource=resource or "", reason=reason.strip(), expires=expires, line=line, construct=construct or "")


def _expiry(document: SourceDocument, where: tuple, value: object, today: dt.date, problems: list[Problem]) -> dt.date | None:
    if value is None:
        return None
    # YAML reads an unquoted 2027-06-30 as a date, a quoted one as text; both mean the same day.
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, dt.date):
        problems.append(document.problem(where, f"got {value!r}; expected a date YYYY-MM-DD"))
        return None
    if value < today:
        problems.append(
            document.problem(where, f"expired on {value.isoformat()}; fix the finding or review the suppression and set a new date")
        )
        return None
    return value
