"""Activation of every required tag as a cost-allocation tag, so budgets and Cost Explorer can filter on it."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ce_cost_allocation_tag import CeCostAllocationTag
from constructs import Construct

from generators.model import OrgPolicy

ACTIVE = "Active"


class CostAllocationTags(Construct):
    """One active cost-allocation tag per required tag key, when the org policy asks for it.

    Deploy this only with credentials of the payer account: "Only a management account in an
    organization and single accounts that aren't members of an organization have access to the
    cost allocation tags manager"
    (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html); a member
    account gets AccessDeniedException "Linked account doesn't have access to cost allocation
    tags" (https://github.com/hashicorp/terraform-provider-aws/issues/37636).

    A key can only be activated once it appears in billing data, which takes up to 24 hours
    after the tag is first applied to a resource
    (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html); before
    that Terraform fails with "empty result"
    (https://github.com/hashicorp/terraform-provider-aws/issues/29068). Hence the org-policy
    switch: turn it on after the team stacks have run for a day.

    Cost-allocation tags carry no tags of their own.

    Args:
        org: the validated org policy: `required_tags` are the keys activated, and only when
            `governance.activate_cost_allocation_tags` is true.
    """

    def __init__(self, scope: Construct, id: str, *, org: OrgPolicy) -> None:
        super().__init__(scope, id)
        if not org.governance.activate_cost_allocation_tags:
            return
        for key in org.required_tags:
            # The key names the construct: reordering required_tags must not recreate a tag.
            CeCostAllocationTag(self, key, tag_key=key, status=ACTIVE)
