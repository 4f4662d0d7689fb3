"""Org-wide resources: AWS Config tag rules, cost-allocation tags, optionally a Config recorder."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from generators import tags
from generators.app_builder import StackPlan
from generators.model import OrgPolicy
from modules.config_recorder import ConfigRecorder
from modules.cost_allocation_tags import CostAllocationTags
from modules.required_tags_rule import RequiredTagsRule
from stacks.state import configure_state


class GovernanceStack(TerraformStack):
    """Each construct reads its own `org.governance` switch and creates nothing when it is off."""

    def __init__(self, scope: Construct, plan: StackPlan, org: OrgPolicy) -> None:
        super().__init__(scope, plan.name)
        platform = tags.governance_tags(org)
        AwsProvider(self, "aws", region=plan.region, default_tags=[AwsProviderDefaultTags(tags=platform)])
        configure_state(self, plan.state)
        recorder = ConfigRecorder(self, "config-recorder", org=org, tags=platform).recorder
        RequiredTagsRule(self, "required-tags", org=org, tags=platform, depends_on=[recorder] if recorder is not None else [])
        CostAllocationTags(self, "cost-allocation-tags", org=org)
