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

The file is checked with a pydantic model (`SuppressionFile`) and reported as manifests are,
every problem at file:line:col, all at once: unknown keys, a missing or short reason (cdk-nag's
rule: at least ten characters), a malformed check ID, a past expiry date, a duplicated entry.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generators.errors import ManifestError, Problem
from generators.manifest.schema_errors import schema_problems  # the manifests' reporter of pydantic errors
from generators.yaml_source import SourceDocument, load_yaml

# cdk-nag refuses suppression reasons shorter than this; a reviewer needs a sentence, not "ok".
MIN_REASON_LENGTH = 10
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


class SuppressionEntry(BaseModel):
    """One entry of the file, as written (YAML reads an unquoted 2027-06-30 as a date, a quoted
    one as text; both mean the same day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    check: str
    resource: str | None = None
    # `construct` is a BaseModel method's name, so the field takes it as its alias.
    construct_path: str | None = Field(default=None, alias="construct")
    reason: str = Field(default=None, validate_default=True)  # a missing reason gets the same guidance
    expires: dt.date | None = None

    @field_validator("check", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> Any:
        if not isinstance(value, str) or not CHECK_ID_PATTERN.match(value):
            raise ValueError(f"got {value!r}; expected a checkov check ID such as CKV_AWS_79 or CKV_GFO_001")
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        if not isinstance(value, str) or len(value.strip()) < MIN_REASON_LENGTH:
            found = "missing" if value is None else f"got {value!r}"
            raise ValueError(f"{found}; every suppression needs a reason a reviewer would accept "
                             f"(at least {MIN_REASON_LENGTH} characters)")
        return value.strip()

    @field_validator("resource", "construct_path", mode="before")
    @classmethod
    def _glob(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"got {value!r}; expected a glob such as '*/aws_sqs_queue.*' (resource) or '*/offhours/function' (construct)")
        return value

    @field_validator("expires", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        if value is not None and not isinstance(value, dt.date):
            raise ValueError(f"got {value!r}; expected a date YYYY-MM-DD")
        return value


class SuppressionFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    suppressions: list[SuppressionEntry] = []


def load_suppressions(path: Path, display: str | None = None, today: dt.date | None = None) -> list[Suppression]:
    """The validated entries of a suppression file; a ManifestError listing every problem, at
    file:line:col as manifests' are, otherwise."""
    document = load_yaml(path, display)
    today = today or dt.date.today()
    if document.data.get("suppressions", []) is None:
        document.data["suppressions"] = []
    raw = document.data.get("suppressions")
    named = [_names(document, ("suppressions", index), entry) for index, entry in enumerate(raw if isinstance(raw, list) else [])]
    try:
        parsed = SuppressionFile.model_validate(document.data)
    except ValidationError as error:
        refused = schema_problems(document, error, SuppressionFile) + [p for found in named for p in found]
        raise ManifestError(sorted(refused, key=lambda p: (p.line, p.column))) from None
    problems: list[Problem] = []
    suppressions: list[Suppression] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, entry in enumerate(parsed.suppressions):
        here = ("suppressions", index)
        before = len(problems)
        problems += named[index]
        if entry.expires is not None and entry.expires < today:
            problems.append(document.problem(
                (*here, "expires"), f"expired on {entry.expires.isoformat()}; fix the finding or review the suppression and set a new date"
            ))
        if len(problems) > before:
            continue
        line, _ = document.locate(here)
        suppression = Suppression(check=entry.check, resource=entry.resource or "", reason=entry.reason,
                                  expires=entry.expires, line=line, construct=entry.construct_path or "")
        key = (suppression.check, suppression.resource, suppression.construct)
        if key in seen:
            problems.append(document.problem(here, f"duplicate of the entry on line {seen[key]} ({suppression.describe()})"))
            continue
        seen[key] = line
        suppressions.append(suppression)
    if problems:
        raise ManifestError(problems)
    return suppressions


def _names(document: SourceDocument, here: tuple, entry: Any) -> list[Problem]:
    """An entry names what it covers by resource or by construct, exactly one of them (checked
    on the entry as written, so it is reported beside any schema problem of the same entry)."""
    if not isinstance(entry, dict):
        return []
    if entry.get("resource") is not None and entry.get("construct") is not None:
        return [document.problem((*here, "construct"), "give resource or construct, not both: one entry covers one kind of name", key=True)]
    if entry.get("resource") is None and entry.get("construct") is None:
        return [document.problem(
            (*here, "resource"),
            "missing; expected an address glob such as '*/aws_sqs_queue.*' or 'alpha/aws_instance.*' (or construct: a construct path glob)",
        )]
    return []
