"""A team's monthly AWS Budget: alerts by e-mail and SNS, and the action taken when it is exceeded.

The budget counts only what carries the team's cost-allocation tag. Alerts go to the manifest's
recipients and to a KMS-encrypted SNS topic that other tools (chat, ticketing) can subscribe to.
`on_exceed` adds at most one budget action: `deny-new-gpu` attaches a deny policy to the team's
roles, `stop-training` stops the team's training instances through Systems Manager.
"""

from __future__ import annotations

from typing import Any, Sequence

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetCostFilter, BudgetsBudgetNotification
from cdktf_cdktf_provider_aws.budgets_budget_action import (
    BudgetsBudgetAction,
    BudgetsBudgetActionActionThreshold,
    BudgetsBudgetActionDefinition,
    BudgetsBudgetActionDefinitionIamActionDefinition,
    BudgetsBudgetActionDefinitionSsmActionDefinition,
    BudgetsBudgetActionSubscriber,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from generators import naming
from generators.model import Budget
from generators.tags import TEAM_TAG, USER_TAG_PREFIX
from modules.context import TeamContext
from modules.iam_documents import account_administers_key, policy_document
from policies.gfo_facts import ACCELERATED_INSTANCE_TYPE_GLOBS

BUDGETS_PRINCIPAL = "budgets.amazonaws.com"
# Cost Anomaly Detection's alerts: https://docs.aws.amazon.com/cost-management/latest/userguide/ad-SNS.html
COST_ALERTS_PRINCIPAL = "costalerts.amazonaws.com"

# A cost-allocation tag filter names user-defined tags with USER_TAG_PREFIX (generators/tags.py).

# The action fires once actual spend reaches the whole budget, never on a forecast: stopping
# training or denying capacity on a prediction would act on money not yet spent.
ACTION_THRESHOLD_PERCENT = 100

# AWS-owned Systems Manager automation that the RUN_SSM_DOCUMENTS / STOP_EC2_INSTANCES action runs:
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBudgetsActions_RolePolicyForResourceAdministrationWithSSM.html
STOP_EC2_AUTOMATION = "AWS-StopEC2Instance"

# The EKS calls that add GPU capacity to a cluster. EKS has no condition key on instance type
# for them (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneks.html),
# so they are denied outright: every node group a team creates here is a GPU pool, and scaling
# an existing pool up is how it would otherwise keep spending. Scaling down is denied too (same
# API); the off-hours function and the cluster autoscaler use their own roles and are unaffected.
EKS_CAPACITY_ACTIONS = ("eks:CreateNodegroup", "eks:UpdateNodegroupConfig")


class TeamBudget(Construct):
    """The budget, its alert topic and key, and the on_exceed action of one team.

    Args:
        budget: the team manifest's validated `budget` (amount, alert thresholds, on_exceed).
        recipients: who the alerts go to (the manifest's notify, else its owner); AWS Budgets
            takes at most 10 e-mail subscribers per notification (generators/manifest/validation.py
            cites the limit).
        training_instance_ids: what a stop-training action stops (an SSM action takes at most
            100 instances, same source).
        context: the team, region and tags (modules/context.py).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        budget: Budget,
        recipients: Sequence[str],
        training_instance_ids: Sequence[str],
        context: TeamContext,
        anomaly_alerts: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self._anomaly_alerts = anomaly_alerts
        self._budget = budget
        self._recipients = list(recipients)
        self._context = context
        self._tags = dict(context.tags)
        self._account = DataAwsCallerIdentity(self, "account").account_id
        self._partition = DataAwsPartition(self, "partition").partition
        self.budget_name: str = naming.budget(context.team)

        topic, topic_policy = self._topic()
        self.topic_arn: str = topic.arn
        self.topic_policy = topic_policy
        aws_budget = BudgetsBudget(
            self,
            "budget",
            name=self.budget_name,
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=_amount(budget.monthly_usd),
            limit_unit="USD",
            cost_filter=[
                BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"{USER_TAG_PREFIX}{TEAM_TAG}${context.team}"])
            ],
            notification=self._notifications(topic.arn),
            tags=self._tags,
            # AWS Budgets checks that it may publish to the topic when the notification is
            # created, so the topic policy has to exist first.
            depends_on=[topic_policy],
        )
        if budget.on_exceed == "deny-new-gpu":
            self._deny_new_gpu(aws_budget)
        elif budget.on_exceed == "stop-training":
            self._stop_training(aws_budget, training_instance_ids)

    # ------------------------------------------------------------------ alerts

    def _topic(self) -> tuple[SnsTopic, SnsTopicPolicy]:
        team = self._context.team
        key = KmsKey(
            self,
            "alerts-key",
            description=f"Encrypts the budget alerts of team {team} (genai-finops)",
            enable_key_rotation=True,
            policy=policy_document(*self._key_policy()),
            tags=self._tags,
        )
        topic = SnsTopic(self, "alerts", name=naming.budget_topic(team), kms_master_key_id=key.arn, tags=self._tags)
        # The statement AWS Budgets documents for publishing to a topic, with its confused-deputy
        # conditions: https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
        policy = [
            {
                "Sid": "AWSBudgetsSNSPublishingPermissions",
                "Effect": "Allow",
                "Principal": {"Service": BUDGETS_PRINCIPAL},
                "Action": "SNS:Publish",
                "Resource": topic.arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": self._account},
                    "ArnLike": {"aws:SourceArn": f"arn:{self._partition}:budgets::{self._account}:*"},
                },
            }
        ]
        if self._anomaly_alerts:
            # Cost Anomaly Detection's publishing statement (its principal, SNS:Publish on the
            # topic): https://docs.aws.amazon.com/cost-management/latest/userguide/ad-SNS.html.
            # No aws:Source* condition, for the reason the key policy gives below.
            policy.append({"Sid": "AWSAnomalyDetectionSNSPublishingPermissions", "Effect": "Allow",
                           "Principal": {"Service": COST_ALERTS_PRINCIPAL}, "Action": "SNS:Publish", "Resource": topic.arn})
        topic_policy = SnsTopicPolicy(self, "alerts-policy", arn=topic.arn, policy=policy_document(*policy))
        return topic, topic_policy

    def _key_policy(self) -> list[dict[str, Any]]:
        return [
            account_administers_key(self._partition, self._account),
            # The statement SNS documents for an AWS service publishing to an encrypted topic,
            # with AWS Budgets as the service:
            # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
            # No aws:Source* condition: the documented statement has none, and a condition key
            # the service does not send would drop every alert without an error.
            {
                "Sid": "AllowAWSBudgetsToPublishEncrypted",
                "Effect": "Allow",
                "Principal": {"Service": BUDGETS_PRINCIPAL},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
            },
        ] + ([{
            # The same documented statement for Cost Anomaly Detection's alerts (anomalies.create_monitors).
            "Sid": "AllowCostAnomalyDetectionToPublishEncrypted",
            "Effect": "Allow",
            "Principal": {"Service": COST_ALERTS_PRINCIPAL},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
        }] if self._anomaly_alerts else [])

    def _notifications(self, topic_arn: str) -> list[BudgetsBudgetNotification]:
        budget = self._budget
        thresholds = [("ACTUAL", percent) for percent in budget.alerts_percent]
        if budget.forecast_alert_percent is not None:
            thresholds.append(("FORECASTED", budget.forecast_alert_percent))
        # Sorted by what they are, not by their place in the manifest, so reordering the list
        # changes nothing in the synthesized budget.
        return [
            BudgetsBudgetNotification(
                notification_type=kind,
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
                subscriber_email_addresses=list(self._recipients),
                subscriber_sns_topic_arns=[topic_arn],
            )
            for kind, percent in sorted(thresholds)
        ]

    def _subscribers(self) -> list[BudgetsBudgetActionSubscriber]:
        return [
            *(BudgetsBudgetActionSubscriber(subscription_type="EMAIL", address=a) for a in self._recipients),
            BudgetsBudgetActionSubscriber(subscription_type="SNS", address=self.topic_arn),
        ]

    # ------------------------------------------------------------------ actions

    def _execution_role(self, policy: list[dict[str, Any]]) -> tuple[IamRole, IamRolePolicy]:
        team = self._context.team
        # Only AWS Budgets acting for this account may assume the role (confused-deputy guard):
        # https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-action-role.html
        trust = [
            {
                "Effect": "Allow",
                "Principal": {"Service": BUDGETS_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": self._account}},
            }
        ]
        role = IamRole(
            self,
            "action-role",
            name=naming.budget_action_role(team),
            description=f"Runs the on_exceed budget action of team {team} (genai-finops)",
            assume_role_policy=policy_document(*trust),
            tags=self._tags,
        )
        permissions = IamRolePolicy(self, "action-permissions", role=role.name, policy=policy_document(*policy))
        return role, permissions

    def _action(
        self,
        budget: BudgetsBudget,
        *,
        action_type: str,
        definition: BudgetsBudgetActionDefinition,
        role: IamRole,
        permissions: IamRolePolicy,
    ) -> None:
        BudgetsBudgetAction(
            self,
            "action",
            budget_name=budget.name,
            action_type=action_type,
            approval_model="AUTOMATIC",
            notification_type="ACTUAL",
            action_threshold=BudgetsBudgetActionActionThreshold(
                action_threshold_type="PERCENTAGE", action_threshold_value=ACTION_THRESHOLD_PERCENT
            ),
            definition=definition,
            execution_role_arn=role.arn,
            subscriber=self._subscribers(),
            tags=self._tags,
            # The role must hold its permissions before Budgets can run the action with it.
            depends_on=[permissions],
        )

    def _deny_new_gpu(self, budget: BudgetsBudget) -> None:
        team = self._context.team
        # Every accelerated type, GPU or Neuron, priced by the catalog or not (policies/gfo_facts.py
        # is the one definition).
        gpu_types = list(ACCELERATED_INSTANCE_TYPE_GLOBS)
        deny: list[dict[str, Any]] = [
            # ec2:InstanceType is set on the instance resource of RunInstances, so the deny
            # matches accelerated launches only: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
            {
                "Sid": "DenyNewGpuInstances",
                "Effect": "Deny",
                "Action": "ec2:RunInstances",
                "Resource": "*",
                "Condition": {"StringLike": {"ec2:InstanceType": gpu_types}},
            },
            {"Sid": "DenyNewGpuNodeCapacity", "Effect": "Deny", "Action": list(EKS_CAPACITY_ACTIONS), "Resource": "*"},
        ]
        policy = IamPolicy(
            self,
            "deny-new-gpu",
            name=naming.deny_gpu_policy(team),
            description=f"Attached by AWS Budgets when team {team} exceeds its budget (genai-finops)",
            policy=policy_document(*deny),
            tags=self._tags,
        )
        role_arns = [
            arn
            for name in self._budget.action_role_names
            # Role names are unique in an account whatever their path, so these two match
            # exactly the named role: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
            for arn in (
                f"arn:{self._partition}:iam::{self._account}:role/{name}",
                f"arn:{self._partition}:iam::{self._account}:role/*/{name}",
            )
        ]
        # Narrower than the example AWS gives (Attach/Detach on any user, group, role and SCP,
        # https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-action-role.html):
        # only this policy, only these roles. iam:PolicyARN is documented for both actions:
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PolicyARN
        permissions: list[dict[str, Any]] = [
            {
                "Sid": "AttachAndDetachTheDenyPolicyOnly",
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                "Resource": role_arns,
                "Condition": {"ArnEquals": {"iam:PolicyARN": policy.arn}},
            }
        ]
        role, attached = self._execution_role(permissions)
        self._action(
            budget,
            action_type="APPLY_IAM_POLICY",
            definition=BudgetsBudgetActionDefinition(
                iam_action_definition=BudgetsBudgetActionDefinitionIamActionDefinition(
                    policy_arn=policy.arn, roles=list(self._budget.action_role_names)
                )
            ),
            role=role,
            permissions=attached,
        )

    def _stop_training(self, budget: BudgetsBudget, instance_ids: Sequence[str]) -> None:
        region = self._context.region
        # The STOP_EC2_INSTANCES part of AWSBudgetsActions_RolePolicyForResourceAdministrationWithSSM
        # (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBudgetsActions_RolePolicyForResourceAdministrationWithSSM.html,
        # listed in https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-action-role.html):
        # start the AWS-owned stop automation, which then describes and stops the instances as
        # this role, via SSM. Start/RDS rights are left out, and StopInstances is narrowed to this
        # region and to instances tagged with the team (ec2:StopInstances supports
        # aws:ResourceTag; DescribeInstanceStatus has no resource-level permissions:
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
        called_via_ssm = {"ForAnyValue:StringEquals": {"aws:CalledVia": ["ssm.amazonaws.com"]}}
        permissions: list[dict[str, Any]] = [
            {
                "Sid": "StartTheStopAutomation",
                "Effect": "Allow",
                "Action": "ssm:StartAutomationExecution",
                "Resource": f"arn:{self._partition}:ssm:{region}:*:automation-definition/{STOP_EC2_AUTOMATION}:*",
            },
            {
                "Sid": "DescribeInstanceStatusViaSsm",
                "Effect": "Allow",
                "Action": "ec2:DescribeInstanceStatus",
                "Resource": "*",
                "Condition": called_via_ssm,
            },
            {
                "Sid": "StopTeamInstancesViaSsm",
                "Effect": "Allow",
                "Action": "ec2:StopInstances",
                "Resource": f"arn:{self._partition}:ec2:{region}:{self._account}:instance/*",
                "Condition": {
                    **called_via_ssm,
                    "StringEquals": {f"aws:ResourceTag/{TEAM_TAG}": self._context.team},
                },
            },
        ]
        role, attached = self._execution_role(permissions)
        self._action(
            budget,
            action_type="RUN_SSM_DOCUMENTS",
            definition=BudgetsBudgetActionDefinition(
                ssm_action_definition=BudgetsBudgetActionDefinitionSsmActionDefinition(
                    action_sub_type="STOP_EC2_INSTANCES", instance_ids=list(instance_ids), region=region
                )
            ),
            role=role,
            permissions=attached,
        )


def _amount(usd: float) -> str:
    """Budget limit as the decimal string AWS Budgets takes (Spend.Amount), never in exponent form.

    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Spend.html
    """
    return str(int(usd)) if usd == int(usd) else f"{usd:.2f}"
