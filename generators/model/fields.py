"""The model's building blocks: name patterns, constrained types and the strict base model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from policies.gfo_facts import TEAM_NAME_PATTERN

# Training and inference entry names become parts of AWS resource names (node group,
# instance Name tag, construct ids). Same alphabet as team names; the length that matters is
# the combined name's, checked against each AWS limit in generators.naming.
ENTRY_NAME_PATTERN = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
# RFC 5322 is far wider; this is the practical subset AWS Budgets and SNS accept.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
# Kubernetes object names (namespace, deployment): RFC 1123 labels / subdomains.
# https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# A Bedrock foundation model ID (anthropic.claude-sonnet-4-5-20250929-v1:0, meta.llama3-3-70b-instruct-v1:0,
# deepseek.v3.2) or a system-defined cross-region inference profile ID (its geography first: us., eu.,
# global.): https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html.
# The API's own modelIdentifier pattern allows ARNs too; the manifest takes IDs only, so the catalog can price them.
BEDROCK_MODEL_PATTERN = r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.[a-z0-9][a-z0-9.-]*(:[0-9]+)?$"
# IAM role names: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
IAM_ROLE_NAME_PATTERN = r"^[A-Za-z0-9_+=,.@-]{1,64}$"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Environment = Literal["dev", "staging", "prod"]
Market = Literal["spot", "on-demand"]
OnExceed = Literal["notify", "stop-training", "deny-new-gpu"]

TeamName = Annotated[str, StringConstraints(pattern=TEAM_NAME_PATTERN)]
EntryName = Annotated[str, StringConstraints(pattern=ENTRY_NAME_PATTERN, max_length=40)]
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
K8sName = Annotated[str, StringConstraints(pattern=K8S_NAME_PATTERN, max_length=63)]
HHMM = Annotated[str, StringConstraints(pattern=HHMM_PATTERN)]
BedrockModel = Annotated[str, StringConstraints(pattern=BEDROCK_MODEL_PATTERN, max_length=128)]
# Tokens a month: whole numbers; the bound keeps a typo (or hostile input) from reaching floats
# that lose precision (2**53 is about 9e15; a trillion tokens a month is already far beyond any team).
TokensPerMonth = Annotated[int, Field(ge=0, le=10**15)]


def repeated(values: list, show=str) -> str:
    """The values listed more than once, in order, as text ("" when none is): for "listed twice"."""
    return ", ".join(show(v) for v in sorted({v for v in values if values.count(v) > 1}))


def _once_each(values: list, what: str, show=str) -> list:
    twice = repeated(values, show)
    if twice:
        raise ValueError(f"{what} listed twice: {twice}")
    return values


def _once(what: str, show=str) -> AfterValidator:
    """A list field's check that no item is listed twice, naming the items that are."""
    return AfterValidator(lambda values: _once_each(values, what, show))
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Percent = Annotated[float, Field(gt=0, le=1000)]
RoleName = Annotated[str, StringConstraints(pattern=IAM_ROLE_NAME_PATTERN)]


class StrictModel(BaseModel):
    """Unknown fields are errors; YAML strings are never coerced to numbers or back."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=False)
