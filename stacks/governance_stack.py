"""Org-wide resources: AWS Config tag rules, cost-allocation tags, optionally a Config recorder."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from generators import tags
from generators.model import OrgPolicy
from generators.provision.app_builder import StackPlan
from modules.billing_export import EXPORTS_REGION, BillingExport
from modules.config_recorder import ConfigRecorder
from modules.cost_allocation_tags import CostAllocationTags
from modules.required_tags_rule import RequiredTagsRule
from stacks.state import configure_state


class GovernanceStack(TerraformStack):
    """Each construct reads its own `org.governance` switch and creates nothing when it is off.

    Config tag rules (and recorders, when asked) go into every region of `plan.regions`, each
    through its own aliased provider; cost-allocation tags are account-wide.
    """

    def __init__(self, scope: Construct, plan: StackPlan, org: OrgPolicy, stack_dir: Path) -> None:
        super().__init__(scope, plan.name)
        platform = tags.governance_tags(org)
        AwsProvider(self, "aws", region=plan.region, default_tags=[AwsProviderDefaultTags(tags=platform)])
        configure_state(self, plan.state, stack_dir)
        # None stands for the default provider: its constructs keep the ids they had when the
        # stack covered one region, so existing state is not replaced.
        providers: dict[str, AwsProvider | None] = {
            region: None
            if region == plan.region
            else AwsProvider(
                self,
                f"aws-{region}",
                alias=provider_alias(region),
                region=region,
                default_tags=[AwsProviderDefaultTags(tags=platform)],
            )
            for region in plan.regions or (plan.region,)
        }
        recorders = ConfigRecorder(self, "config-recorder", org=org, tags=platform, providers=providers).recorders
        for region, provider in providers.items():
            recorder = recorders.get(region)
            RequiredTagsRule(
                self,
                "required-tags" if provider is None else f"required-tags-{region}",
                org=org,
                tags=platform,
                provider=provider,
                depends_on=[recorder] if recorder is not None else [],
            )
        CostAllocationTags(self, "cost-allocation-tags", org=org)
        if org.governance.create_billing_export and org.billing is not None:
            BillingExport(
                self,
                "billing-export",
                billing=org.billing,
                tags=platform,
                exports_provider=self._provider_in(EXPORTS_REGION, plan.region, providers, platform),
            )

    def _provider_in(self, region: str, default_region: str, providers: dict, tags: dict) -> AwsProvider | None:
        """The stack's provider for `region` (None: the default one), made when there is none yet."""
        if region == default_region:
            return None
        if providers.get(region) is None:
            providers[region] = AwsProvider(
                self, f"aws-{region}", alias=provider_alias(region), region=region, default_tags=[AwsProviderDefaultTags(tags=tags)]
            )
        return providers[region]


def provider_alias(region: str) -> str:
    """A Terraform provider alias for a region: us-west-2 -> us_west_2."""
    return region.replace("-", "_")
