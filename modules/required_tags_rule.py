"""AWS Config REQUIRED_TAGS rules that report resources lacking any of the org's required tags."""

from __future__ import annotations

import json
from typing import Mapping, Sequence

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_aws.config_config_rule import ConfigConfigRule, ConfigConfigRuleScope, ConfigConfigRuleSource
from constructs import Construct

from generators import naming
from generators.model import OrgPolicy

# The managed rule's parameters are tag1Key..tag6Key: "You can check up to 6 tags at a time."
# https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html
MAX_TAG_KEYS_PER_RULE = 6
RULE_IDENTIFIER = "REQUIRED_TAGS"

# The rule evaluates only the resource types listed on its documentation page
# (https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html, "Resource Types").
# Of what genai-finops creates, only EC2 instances and EBS volumes are on that list; they cover
# both the training instances and the nodes (and their volumes) that the EKS node groups
# launch, tagged through the launch template. Launch templates, node groups, Lambda functions,
# SNS topics, SQS queues, KMS keys and IAM roles are not on the list, so the rule cannot check them.
TEAM_RESOURCE_TYPES = ("AWS::EC2::Instance", "AWS::EC2::Volume")
# Also on the list; genai-finops creates a bucket only for the Config recorder's delivery channel.
CONFIG_BUCKET_RESOURCE_TYPE = "AWS::S3::Bucket"


def compliance_resource_types(org: OrgPolicy) -> list[str]:
    """The resource types genai-finops creates under this org policy that the rule can evaluate."""
    types = list(TEAM_RESOURCE_TYPES)
    if org.governance.create_config_recorder:
        types.append(CONFIG_BUCKET_RESOURCE_TYPE)
    return types


def tag_key_groups(keys: Sequence[str]) -> list[list[str]]:
    """The required tag keys in order, in groups of at most six, one group per rule."""
    return [list(keys[start : start + MAX_TAG_KEYS_PER_RULE]) for start in range(0, len(keys), MAX_TAG_KEYS_PER_RULE)]


class RequiredTagsRule(Construct):
    """One REQUIRED_TAGS rule per group of six required tags.

    Rules are numbered because a group of tag keys has no name of its own. The number also
    names the rule (generators.naming.required_tags_rule), so reordering org.required_tags
    changes the rules' parameters in place rather than replacing a rule under a name that
    another rule still holds.

    Rules are regional: `provider` puts them in its region (None: the stack's default one).
    Creating a rule fails while the region has no configuration recorder
    (NoAvailableConfigurationRecorderException in
    https://docs.aws.amazon.com/config/latest/APIReference/API_PutConfigRule.html), so pass the
    recorder in `depends_on` when the same stack creates it.

    Args:
        org: the validated org policy; its `required_tags`, six per rule (REQUIRED_TAGS takes
            tag1Key to tag6Key: https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html).
        tags: the governance stack's tags, on each rule.
        provider: the region's provider; default None, the stack's default provider.
        depends_on: what must exist first, the region's recorder; default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        org: OrgPolicy,
        tags: Mapping[str, str],
        provider: TerraformProvider | None = None,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id)
        self.rule_names: list[str] = []
        resource_types = compliance_resource_types(org)
        for number, keys in enumerate(tag_key_groups(org.required_tags), start=1):
            name = naming.required_tags_rule(number)
            ConfigConfigRule(
                self,
                f"rule-{number}",
                provider=provider,
                name=name,
                # Fixed text: listing the keys could pass the 256-character description limit
                # (https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html).
                description=f"genai-finops: resources must carry the org's required tags (group {number})",
                source=ConfigConfigRuleSource(owner="AWS", source_identifier=RULE_IDENTIFIER),
                input_parameters=json.dumps({f"tag{index}Key": key for index, key in enumerate(keys, start=1)}),
                scope=ConfigConfigRuleScope(compliance_resource_types=resource_types),
                tags=dict(tags),
                depends_on=list(depends_on) or None,
            )
            self.rule_names.append(name)
