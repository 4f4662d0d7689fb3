"""What preflight reports: one Check per check, region and subject, each `pass`, `fail` (with
what to do) or `unverified` (with why); the Report `preflight --format json` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "unverified"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "unverified")
SCHEMA_VERSION = 1

# Codes that mean the credentials themselves are unusable: one clear line, no checks.
# https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
CREDENTIAL_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "RequestExpired"}
)
# Codes that mean this call was not allowed: the check is unverified, not failed.
DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException", "AuthorizationError", "OptInRequired"}
)


@dataclass(frozen=True)
class Check:
    check: str
    region: str
    subject: str
    status: Status
    detail: str


@dataclass
class Report:
    account: str
    regions: list[str]
    checks: list[Check] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status == status)

    def failed(self, strict: bool) -> bool:
        return self.count("fail") > 0 or (strict and self.count("unverified") > 0)

    def as_json(self, strict: bool) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "account": self.account,
            "regions": self.regions,
            "strict": strict,
            "passed": not self.failed(strict),
            "summary": {status: self.count(status) for status in STATUSES},
            "checks": [asdict(check) for check in self.checks],
        }


class Unverified(Exception):
    """The call needed for a check was denied or is not available here."""


class Missing(Exception):
    """The call answered that the resource does not exist."""


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
