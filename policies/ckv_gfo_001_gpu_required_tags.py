"""CKV_GFO_001: taggable GPU resources, and the Bedrock inference profiles managed models are bought
through, carry every tag the org requires."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from gfo_common import gpu_resource, missing_tags, org_policy, tags_of


class GpuResourcesCarryRequiredTags(BaseResourceCheck):
    """GPU capacity is most of a GenAI bill, and AWS cost allocation only sees tags: a GPU instance,
    node group or launch template without Team/CostCenter/ModelID is spend nobody can be charged
    for and no budget filters on. The tags must be on the resource itself: provider default_tags
    are invisible to a per-resource check, and EKS does not copy them to the nodes it launches.
    """

    def __init__(self) -> None:
        super().__init__(
            name="Ensure every taggable GPU resource and Bedrock inference profile carries all tags required by the org policy",
            id="CKV_GFO_001",
            categories=[CheckCategories.CONVENTION],
            supported_resources=["aws_instance", "aws_eks_node_group", "aws_launch_template", "aws_bedrock_inference_profile"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if self.entity_type != "aws_bedrock_inference_profile" and not gpu_resource(self.entity_type, conf):
            return CheckResult.UNKNOWN
        missing = missing_tags(tags_of(conf), org_policy()["required_tags"])
        if missing:
            self.details.append(f"missing required tags: {', '.join(missing)}")
            return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["tags"]


check = GpuResourcesCarryRequiredTags()
