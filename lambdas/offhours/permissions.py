"""The off-hours function's IAM policy, as data: exactly the API calls handler.py makes.

Pure data (no boto3, no cdktf): modules/offhours_schedule.py puts these statements on the
function's role, and tests/test_offhours_handler.py records every API call the handler makes
against moto and asserts the two sets of actions are equal.

Actions, resource ARN formats and condition keys are from the Service Authorization Reference:
- EC2: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
  DescribeInstances supports no resource-level permissions (Resource "*"); StopInstances,
  StartInstances, CreateTags and DeleteTags act on `instance/${InstanceId}` and support
  aws:ResourceTag; CreateTags/DeleteTags also support aws:TagKeys and aws:RequestTag.
- EKS: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
  ListClusters supports no resource-level permissions; ListNodegroups acts on
  `cluster/${ClusterName}`; DescribeNodegroup and UpdateNodegroupConfig act on
  `nodegroup/${ClusterName}/${NodegroupName}/${UUID}`, which supports aws:ResourceTag.
- SSM: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
  GetParameter, PutParameter and DeleteParameter act on `parameter/${ParameterNameWithoutLeadingSlash}`.
- Budgets: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbudgetservice.html
  DescribeBudgetActionsForBudget (Read) acts on `budget/${BudgetName}`, a global ARN with no region.
"""

from __future__ import annotations

from typing import Any

from lambdas.offhours.contract import ENVIRONMENT_TAG, PARAMETER_PREFIX_FORMAT, PROD_ENVIRONMENT, STOPPED_BY_TAG, STOPPED_BY_VALUE, TEAM_TAG


def handler_policy_statements(
    team: str, region: str, account_id: str, budget_name: str, partition: str = "aws", *, spot_training: bool = False
) -> list[dict[str, Any]]:
    """IAM statements for the function that stops and starts `team`'s capacity in `region`
    and reads the actions of its budget `budget_name`; with `spot_training`, also finds and
    cancels the team's orphaned persistent spot requests (spot_requests.py)."""

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account_id}:{resource}"

    team_only = {"StringEquals": {f"aws:ResourceTag/{TEAM_TAG}": team}}
    # ForAllValues alone is true for a request without tag keys, and DeleteTags without Tags
    # deletes every tag of the instance: the Null test makes the key list mandatory.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    marker_key_only = {
        "ForAllValues:StringEquals": {"aws:TagKeys": [STOPPED_BY_TAG]},
        "Null": {"aws:TagKeys": "false"},
    }
    parameter_prefix = PARAMETER_PREFIX_FORMAT.format(team=team).lstrip("/")
    spot = [
        {
            "Sid": "DescribeSpotRequestsHasNoResourceLevelPermissions",
            "Effect": "Allow",
            "Action": ["ec2:DescribeSpotInstanceRequests"],
            "Resource": "*",
        },
        {
            # Requests of this region and account only. No tag condition: a request the provider
            # created carries no tags of ours, and the handler cancels only those launching with
            # the team's training instance profile.
            "Sid": "CancelSpotRequestsOfThisRegion",
            "Effect": "Allow",
            "Action": ["ec2:CancelSpotInstanceRequests"],
            "Resource": arn("ec2", "spot-instances-request/*"),
        },
    ] if spot_training else []
    return spot + [
        {
            "Sid": "DescribeInstancesHasNoResourceLevelPermissions",
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances"],
            "Resource": "*",
        },
        {
            # Never a prod instance, whatever the case of its tag (the handler skips them too);
            # a negated condition also matches an instance without the tag:
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
            "Sid": "StopOnlyTheTeamsNonProdInstances",
            "Effect": "Allow",
            "Action": ["ec2:StopInstances"],
            "Resource": arn("ec2", "instance/*"),
            "Condition": {**team_only, "StringNotEqualsIgnoreCase": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": PROD_ENVIRONMENT}},
        },
        {
            "Sid": "StartOnlyWhatOffHoursStopped",
            "Effect": "Allow",
            "Action": ["ec2:StartInstances"],
            "Resource": arn("ec2", "instance/*"),
            "Condition": {"StringEquals": {f"aws:ResourceTag/{TEAM_TAG}": team, f"aws:ResourceTag/{STOPPED_BY_TAG}": STOPPED_BY_VALUE}},
        },
        {
            "Sid": "MarkOnlyTheTeamsInstancesWithTheStoppedByTag",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": arn("ec2", "instance/*"),
            "Condition": {
                "StringEquals": {f"aws:ResourceTag/{TEAM_TAG}": team, f"aws:RequestTag/{STOPPED_BY_TAG}": STOPPED_BY_VALUE},
                **marker_key_only,
            },
        },
        {
            "Sid": "UnmarkOnlyTheTeamsInstances",
            "Effect": "Allow",
            "Action": ["ec2:DeleteTags"],
            "Resource": arn("ec2", "instance/*"),
            "Condition": {**team_only, **marker_key_only},
        },
        {
            "Sid": "ListClustersHasNoResourceLevelPermissions",
            "Effect": "Allow",
            "Action": ["eks:ListClusters"],
            "Resource": "*",
        },
        {
            # Clusters are shared between teams and carry no Team tag: only the region and
            # account limit which clusters' node groups may be listed.
            "Sid": "ListNodegroupsOfTheRegionsClusters",
            "Effect": "Allow",
            "Action": ["eks:ListNodegroups"],
            "Resource": arn("eks", "cluster/*"),
        },
        {
            "Sid": "DescribeAndScaleOnlyTheTeamsNodegroups",
            "Effect": "Allow",
            "Action": ["eks:DescribeNodegroup", "eks:UpdateNodegroupConfig"],
            "Resource": arn("eks", "nodegroup/*"),
            "Condition": team_only,
        },
        {
            "Sid": "ReadOnlyTheTeamsBudgetActions",
            "Effect": "Allow",
            "Action": ["budgets:DescribeBudgetActionsForBudget"],
            "Resource": f"arn:{partition}:budgets::{account_id}:budget/{budget_name}",
        },
        {
            "Sid": "RecordScalingOnlyUnderTheTeamsPrefix",
            "Effect": "Allow",
            "Action": ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"],
            "Resource": arn("ssm", f"parameter/{parameter_prefix}*"),
        },
    ]


def policy_actions(statements: list[dict[str, Any]]) -> set[str]:
    """Every action the statements allow, e.g. {"ec2:StopInstances", ...}."""
    return {action for statement in statements for action in statement["Action"]}
