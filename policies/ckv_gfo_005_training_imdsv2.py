"""CKV_GFO_005: training instances require IMDSv2."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from gfo_common import blocks, first


class TrainingInstancesRequireImdsv2(BaseResourceCheck):
    """Training instances run third-party model code and data loaders; with IMDSv1 a single SSRF
    in that code hands out the instance role's credentials. Requiring session tokens
    (http_tokens = "required", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html)
    closes that. checkov's CKV_AWS_79 overlaps, but ours is part of the blueprint's contract and
    is tested against the blueprint's own output, so it cannot be lost to a built-in's change.
    An instance with the metadata endpoint disabled passes: there is nothing to steal.
    """

    def __init__(self) -> None:
        super().__init__(
            name="Ensure training instances require IMDSv2 (metadata_options.http_tokens = required)",
            id="CKV_GFO_005",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_instance"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        options = blocks(conf, "metadata_options")
        if options and first(options[0], "http_endpoint") == "disabled":
            return CheckResult.PASSED
        tokens = first(options[0], "http_tokens") if options else None
        if tokens == "required":
            return CheckResult.PASSED
        self.details.append(f"metadata_options.http_tokens is {tokens!r}; IMDSv2 needs 'required'")
        return CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["metadata_options/[0]/http_tokens", "metadata_options/[0]/http_endpoint"]


check = TrainingInstancesRequireImdsv2()
