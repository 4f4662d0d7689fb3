"""CKV_GFO_002: GPU instance types are in the org allow-list."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from gfo_common import first, glob_match, gpu_resource, is_expression, org_policy, strings


class GpuInstanceTypesAllowed(BaseResourceCheck):
    """The allow-list (org.yaml `allowed_instance_types`, glob patterns) is how the platform team
    caps the price per GPU hour and keeps teams on capacity it has reservations or savings plans
    for. validate enforces it on manifests; this check enforces it on the Terraform that is
    actually deployed, so a hand edit or a construct bug cannot slip a p5.48xlarge through.
    Non-GPU resources are out of scope (UNKNOWN).
    """

    def __init__(self) -> None:
        super().__init__(
            name="Ensure GPU instance types are in the org allow-list",
            id="CKV_GFO_002",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_instance", "aws_eks_node_group"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not gpu_resource(self.entity_type, conf):
            return CheckResult.UNKNOWN
        key = "instance_types" if self.entity_type == "aws_eks_node_group" else "instance_type"
        types = strings(first(conf, key))
        if not types or any(is_expression(t) for t in types):
            return CheckResult.UNKNOWN
        patterns = org_policy()["allowed_instance_types"]
        refused = [t for t in types if not any(glob_match(p, t) for p in patterns)]
        if refused:
            self.details.append(f"not in the org allow-list ({', '.join(patterns)}): {', '.join(refused)}")
            return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["instance_types" if self.entity_type == "aws_eks_node_group" else "instance_type"]


check = GpuInstanceTypesAllowed()
