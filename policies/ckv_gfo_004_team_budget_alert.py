"""CKV_GFO_004: every team stack has an AWS budget with at least one alert."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from gfo_common import blocks, strings

SUBSCRIBER_KEYS = ("subscriber_email_addresses", "subscriber_sns_topic_arns")


class TeamBudgetHasAlert(BaseResourceCheck):
    """A budget nobody hears from is a report, not a control: the alert is what reaches the team
    before the month's GPU spend is gone. This class is the per-resource half: every
    aws_budgets_budget has a notification with at least one e-mail or SNS subscriber.

    The stack-level half ("the team stack has a budget at all") cannot be a checkov check:
    resource checks see one resource, provider checks one provider block, and YAML graph checks
    evaluate resources and their connections, none of them "this file lacks a resource type".
    `genai-finops scan` therefore adds one CKV_GFO_004 result per team stack (resource
    `stack.<stack>`), PASSED when the stack has an aws_budgets_budget, FAILED when not, in the
    same shape as checkov's results, so suppressions and every output format treat it alike.
    """

    def __init__(self) -> None:
        super().__init__(
            name="Ensure every team stack has an AWS budget with at least one alert",
            id="CKV_GFO_004",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_budgets_budget"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        for notification in blocks(conf, "notification"):
            if any(strings(notification.get(key)) for key in SUBSCRIBER_KEYS):
                return CheckResult.PASSED
        self.details.append("no notification with an e-mail or SNS subscriber")
        return CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["notification"]


check = TeamBudgetHasAlert()
