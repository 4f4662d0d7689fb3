"""Tag values for every resource, and the AWS rules every tag must obey.

Spec (manifest-v1, Meaning/Tags): Team, Project, Owner, Environment and CostCenter come from
the manifest fields, ModelID from the pool or instance, other required keys from `tags`.
A resource that serves no single model takes `tags.ModelID` when given, else `shared`.
"""

from __future__ import annotations

import re

from generators.model import OrgPolicy, TeamManifest
from lambdas.offhours.contract import ENVIRONMENT_TAG, TEAM_TAG

SHARED_MODEL_ID = "shared"
MODEL_ID_TAG = "ModelID"
# AWS names user-defined cost-allocation tags with this prefix: in billing exports (showback
# reads `user:Team` as well as `Team`) and in Budgets cost filters, where a tag without it is
# accepted and silently matches $0 of spend:
# https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create-filters.html,
# https://github.com/hashicorp/terraform-provider-aws/issues/39850 and
# https://github.com/hashicorp/terraform-provider-aws/pull/41085 (the provider docs' fix).
USER_TAG_PREFIX = "user:"
# TEAM_TAG is the one tag key the budget filters on, the off-hours function selects by and
# Kubecost allocates by. It must be among org.required_tags (validation enforces it). It lives
# in lambdas/offhours/contract.py, pure constants the Lambda archive carries.

# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions and
# https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/other-aws-resource-tags.html:
# keys 1-128 Unicode characters, values 0-256, letters, numbers, spaces and _ . : / = + - @,
# the aws: prefix is reserved, at most 50 user tags per resource.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
MAX_TAGS_PER_RESOURCE = 50
_ALLOWED = re.compile(r"^[\w\s.:/=+\-@]*$")


def field_tags(manifest: TeamManifest) -> dict[str, str]:
    """Tags that come from manifest fields rather than from `tags`."""
    return {
        TEAM_TAG: manifest.team,
        "Project": manifest.project,
        "Owner": manifest.owner,
        ENVIRONMENT_TAG: manifest.environment,
        "CostCenter": manifest.cost_center,
    }


def base_tags(manifest: TeamManifest) -> dict[str, str]:
    """Tags for resources that serve no single model (the provider's default_tags)."""
    tags = dict(manifest.tags)
    tags.update(field_tags(manifest))
    tags.setdefault(MODEL_ID_TAG, SHARED_MODEL_ID)
    return tags


def model_tags(manifest: TeamManifest, model_id: str) -> dict[str, str]:
    """Tags for a resource serving one model (a training instance, an inference pool)."""
    tags = base_tags(manifest)
    tags[MODEL_ID_TAG] = model_id
    return tags


def missing_required(manifest: TeamManifest, org: OrgPolicy) -> list[str]:
    """Required tag keys that no manifest field or `tags` entry supplies."""
    supplied = set(field_tags(manifest)) | set(manifest.tags) | {MODEL_ID_TAG}
    return [key for key in org.required_tags if key not in supplied]


def key_problem(key: str) -> str | None:
    if not key:
        return "tag key is empty; AWS needs 1 to 128 characters"
    if len(key) > TAG_KEY_MAX:
        return f"tag key is {len(key)} characters; AWS allows at most {TAG_KEY_MAX}"
    if key.lower().startswith("aws:"):
        return "tag keys may not start with 'aws:', which AWS reserves for its own tags"
    if not _ALLOWED.match(key):
        return "tag key has characters AWS does not allow; allowed: letters, digits, spaces and _ . : / = + - @"
    return None


def value_problem(value: str) -> str | None:
    if len(value) > TAG_VALUE_MAX:
        return f"tag value is {len(value)} characters; AWS allows at most {TAG_VALUE_MAX}"
    if not _ALLOWED.match(value):
        return "tag value has characters AWS does not allow; allowed: letters, digits, spaces and _ . : / = + - @"
    return None


# Bedrock takes ASCII only in tags, narrower than the general rule above: TagKey and TagValue are
# "[a-zA-Z0-9\s._:/=+@-]*" in Bedrock's API model (botocore/data/bedrock/2023-04-20/service-2.json,
# AWS's own service definition shipped with boto3), so "Équipe" is refused on an inference profile.
_BEDROCK_ALLOWED = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]*$")


def bedrock_problem(text: str) -> str | None:
    """Why Bedrock refuses `text` as a tag key or value (an application inference profile's), or None."""
    if _BEDROCK_ALLOWED.match(text):
        return None
    return ("Bedrock accepts only ASCII letters, digits, spaces and _ . : / = + - @ in the tags of an inference profile "
            "(managed_models carry every required tag)")


PLATFORM_TEAM = "platform"
PLATFORM_PROJECT = "genai-finops"


def governance_tags(org: OrgPolicy) -> dict[str, str]:
    """Tags for the governance stack's resources, which belong to the platform team, not to a team.

    The org policy has no platform cost centre field in manifest v1, so the values are fixed:
    Team=platform, Project=genai-finops, Owner=the FinOps alert address, Environment=prod,
    CostCenter=platform, ModelID=shared; any other required key gets the value genai-finops.
    """
    known = {
        TEAM_TAG: PLATFORM_TEAM,
        "Project": PLATFORM_PROJECT,
        "Owner": org.alerts.finops_email,
        ENVIRONMENT_TAG: "prod",
        "CostCenter": PLATFORM_TEAM,
        MODEL_ID_TAG: SHARED_MODEL_ID,
    }
    return {key: known.get(key, PLATFORM_PROJECT) for key in dict.fromkeys([*org.required_tags, *known])}
