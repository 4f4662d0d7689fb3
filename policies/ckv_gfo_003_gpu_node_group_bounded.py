"""CKV_GFO_003: EKS GPU node groups are bounded and launch instances that are tagged."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from gfo_common import blocks, first, gpu_resource, missing_tags, org_policy, tags_of

# The EC2 resource types a launch template must tag so that both the GPU hours and their disks
# are allocated (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplateTagSpecificationRequest.html).
TAGGED_RESOURCE_TYPES = ("instance", "volume")


class GpuNodeGroupsBoundedAndTagged(BaseResourceCheck):
    """An autoscaled GPU node group without a numeric max size is an open-ended bill, and the
    nodes EKS launches are not tagged with the node group's tags
    (https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html): only the launch
    template's tag_specifications tag the instances and volumes, which is what cost allocation
    and the budget filter see. On aws_eks_node_group this checks scaling_config.max_size and that
    a launch template is attached; on aws_launch_template, that it tags instances and volumes
    with every required tag.
    """

    def __init__(self) -> None:
        super().__init__(
            name="Ensure EKS GPU node groups have a bounded max size and a launch template that tags their instances and volumes",
            id="CKV_GFO_003",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_eks_node_group", "aws_launch_template"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not gpu_resource(self.entity_type, conf):
            return CheckResult.UNKNOWN
        problems = self._node_group(conf) if self.entity_type == "aws_eks_node_group" else self._launch_template(conf)
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED

    @staticmethod
    def _node_group(conf: dict[str, Any]) -> list[str]:
        problems = []
        scaling = blocks(conf, "scaling_config")
        max_size = first(scaling[0], "max_size") if scaling else None
        if isinstance(max_size, bool) or not isinstance(max_size, int):
            problems.append(f"scaling_config.max_size must be a number, got {max_size!r}")
        template = blocks(conf, "launch_template")
        if not template or not (first(template[0], "id") or first(template[0], "name")):
            problems.append("no launch_template with an id or name: the nodes would launch untagged")
        return problems

    @staticmethod
    def _launch_template(conf: dict[str, Any]) -> list[str]:
        required = org_policy()["required_tags"]
        by_type = {first(spec, "resource_type"): tags_of(spec) for spec in blocks(conf, "tag_specifications")}
        problems = []
        for resource_type in TAGGED_RESOURCE_TYPES:
            if resource_type not in by_type:
                problems.append(f"no tag_specifications for resource_type {resource_type}")
                continue
            missing = missing_tags(by_type[resource_type], required)
            if missing:
                problems.append(f"tag_specifications for {resource_type} miss required tags: {', '.join(missing)}")
        return problems

    def get_evaluated_keys(self) -> list[str]:
        if self.entity_type == "aws_eks_node_group":
            return ["scaling_config/[0]/max_size", "launch_template"]
        return ["tag_specifications"]


check = GpuNodeGroupsBoundedAndTagged()
