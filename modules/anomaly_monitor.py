"""A team's AWS Cost Anomaly Detection monitor and its alert subscription (org anomalies.create_monitors).

- The monitor is CUSTOM, watching the spend carrying the team's Team cost-allocation tag. Not
  DIMENSIONAL with monitor_dimension TAG: the provider refuses monitor_dimension beside
  monitor_specification (https://github.com/hashicorp/terraform-provider-aws/issues/48492).
  The specification is written in the form Cost Explorer stores and the provider reads back,
  every root member present with the unused ones null (the provider's own Custom Example,
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ce_anomaly_monitor),
  and the tag key prefixed `user:` as Cost Explorer echoes a user-defined tag's key; otherwise
  every plan proposes replacing the monitor.
- The subscription sends each anomaly whose total impact is at least org.yaml
  anomalies.alert_threshold_usd to the team's alert topic (the budget's): IMMEDIATE, because
  SNS subscribers take IMMEDIATE alerts only and e-mail ones DAILY or WEEKLY
  (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_AnomalySubscription.html,
  Frequency). The topic and its key let costalerts.amazonaws.com publish (modules/team_budget.py),
  and the subscription waits for that policy.

Why in the team stack rather than the governance stack: the subscription needs the team's topic,
and team stacks are deployed after the governance stack (they depend on it); a governance-stack
subscription would name a topic that does not exist yet on a first deploy.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from cdktf_cdktf_provider_aws.ce_anomaly_monitor import CeAnomalyMonitor
from cdktf_cdktf_provider_aws.ce_anomaly_subscription import (
    CeAnomalySubscription,
    CeAnomalySubscriptionSubscriber,
    CeAnomalySubscriptionThresholdExpression,
    CeAnomalySubscriptionThresholdExpressionDimension,
)
from constructs import Construct

from generators import naming
from generators.tags import TEAM_TAG, USER_TAG_PREFIX


def monitor_specification(team: str) -> str:
    """The Cost Explorer expression of one team's spend: its Team cost-allocation tag."""
    return json.dumps({"And": None, "CostCategories": None, "Dimensions": None, "Not": None, "Or": None,
                       "Tags": {"Key": f"{USER_TAG_PREFIX}{TEAM_TAG}", "MatchOptions": None, "Values": [team]}})


class TeamAnomalyMonitor(Construct):
    """Args:
        team: the team's name (its Team tag value).
        threshold_usd: org.yaml anomalies.alert_threshold_usd.
        topic_arn: the team's alert topic; `topic_policy` is what lets Cost Anomaly Detection publish to it.
        tags: every required tag (monitors and subscriptions are taggable).
    """

    def __init__(self, scope: Construct, id: str, *, team: str, threshold_usd: float, topic_arn: str, topic_policy: Any,
                 tags: Mapping[str, str]) -> None:
        super().__init__(scope, id)
        monitor = CeAnomalyMonitor(self, "monitor", name=naming.anomaly_monitor(team), monitor_type="CUSTOM",
                                   monitor_specification=monitor_specification(team), tags=dict(tags))
        CeAnomalySubscription(
            self,
            "subscription",
            name=naming.anomaly_monitor(team),
            frequency="IMMEDIATE",
            monitor_arn_list=[monitor.arn],
            subscriber=[CeAnomalySubscriptionSubscriber(type="SNS", address=topic_arn)],
            threshold_expression=CeAnomalySubscriptionThresholdExpression(
                dimension=CeAnomalySubscriptionThresholdExpressionDimension(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"], values=[f"{threshold_usd:g}"]
                )
            ),
            tags=dict(tags),
            depends_on=[topic_policy],
        )
