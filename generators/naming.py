"""Names of the AWS resources each manifest creates, and the AWS limits they must respect.

Synthesis takes every name from here and validation checks every name here against its limit,
so a team name that would produce an over-long Lambda or node-group name is refused with a
manifest error before cdktf ever runs. Limits are from the AWS API references cited per entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from generators.model import TeamManifest

PREFIX = "genai-finops"
GOVERNANCE_STACK = "governance"
# Stack names are the team names; these are taken by the tool itself.
RESERVED_TEAM_NAMES = frozenset({GOVERNANCE_STACK})


@dataclass(frozen=True)
class NameLimit:
    max_length: int
    pattern: str
    source: str


# Each limit cites the API reference that states it.
LIMITS: dict[str, NameLimit] = {
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html
    "budget": NameLimit(100, r"^(?![^:\\]*/action/)[^:\\]+$", "AWS Budgets BudgetName"),
    # https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
    "sns_topic": NameLimit(256, r"^[A-Za-z0-9_-]+$", "SNS topic name"),
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html
    "node_group": NameLimit(63, r"^[0-9A-Za-z][A-Za-z0-9_-]*$", "EKS nodegroupName"),
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
    "launch_template": NameLimit(128, r"^[a-zA-Z0-9().\-/_]+$", "EC2 LaunchTemplateName"),
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
    "lambda_function": NameLimit(64, r"^[a-zA-Z0-9-_]+$", "Lambda FunctionName"),
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
    "iam_role": NameLimit(64, r"^[\w+=,.@-]+$", "IAM RoleName"),
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
    "iam_policy": NameLimit(128, r"^[\w+=,.@-]+$", "IAM PolicyName"),
    # https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
    "schedule": NameLimit(64, r"^[0-9a-zA-Z-_.]+$", "EventBridge Scheduler schedule Name"),
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
    "sqs_queue": NameLimit(80, r"^[a-zA-Z0-9_-]+$", "SQS QueueName"),
    # https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html
    "config_rule": NameLimit(128, r"^[A-Za-z0-9_-]+$", "AWS Config ConfigRuleName"),
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    "ssm_parameter": NameLimit(1011, r"^[a-zA-Z0-9_.\-/]+$", "SSM parameter name (without the ARN prefix)"),
    # "The name must be no longer than 52 characters" (the controller appends 11 to name each Job),
    # and a DNS subdomain: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#writing-a-cronjob-spec
    "k8s_cronjob": NameLimit(52, r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "Kubernetes CronJob name"),
    # ServiceAccount, Role and RoleBinding names: DNS subdomains, at most 253 characters:
    # https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names
    "k8s_object": NameLimit(253, r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "Kubernetes object name"),
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateInferenceProfile.html
    # (inferenceProfileName: "min: 1, max: 64, pattern: ([0-9a-zA-Z][ _-]?)+", as the CLI reference repeats it)
    "inference_profile": NameLimit(64, r"^([0-9a-zA-Z][ _-]?)+$", "Bedrock inferenceProfileName"),
}


def budget(team: str) -> str:
    return f"{PREFIX}-{team}"


def budget_topic(team: str) -> str:
    return f"{PREFIX}-{team}-budget-alerts"


def anomaly_monitor(team: str) -> str:
    """The team's Cost Anomaly Detection monitor and its subscription (names up to 1,024 characters)."""
    return f"{PREFIX}-{team}-spend"


def node_group(team: str, pool: str) -> str:
    return f"{team}-{pool}"


def training_instance(team: str, job: str, index: int) -> str:
    """The Name tag of a training instance (and of its root volume): what the EC2 console,
    the bill's Name tag and a Prometheus EC2 scrape see."""
    return f"{team}-{job}-{index}"


def launch_template(team: str, pool: str) -> str:
    return f"{PREFIX}-{team}-{pool}"


def training_role(team: str) -> str:
    return f"{PREFIX}-{team}-training"


def budget_action_role(team: str) -> str:
    return f"{PREFIX}-{team}-budget-action"


def inference_profile(team: str, model: str) -> str:
    """A managed model's application inference profile (modules/managed_model_access.py)."""
    return f"{PREFIX}-{team}-{model}"


def invoke_policy(team: str, model: str) -> str:
    """The policy that lets a managed model's invoke_role_names call Bedrock through its profile only."""
    return f"{PREFIX}-{team}-{model}-invoke"


def deny_gpu_policy(team: str) -> str:
    return f"{PREFIX}-{team}-deny-new-gpu"


def offhours_function(team: str) -> str:
    return f"{PREFIX}-offhours-{team}"


def offhours_role(team: str) -> str:
    return f"{PREFIX}-offhours-{team}"


def offhours_scheduler_role(team: str) -> str:
    return f"{PREFIX}-offhours-{team}-sched"


def offhours_schedule(team: str, action: str) -> str:
    return f"{PREFIX}-{team}-{action}"


def offhours_dlq(team: str) -> str:
    return f"{PREFIX}-offhours-{team}-dlq"


def offhours_schedule_group(team: str) -> str:
    """The team's own schedule group, so the scheduler role trusts only this team's schedules."""
    return f"{PREFIX}-offhours-{team}"


def offhours_function_dlq(team: str) -> str:
    """The off-hours function's own dead-letter queue (failed asynchronous invocations)."""
    return f"{PREFIX}-offhours-{team}-fn-dlq"


def offhours_log_group(team: str) -> str:
    """The name Lambda logs the function to; created up front so it has retention and a key."""
    return f"/aws/lambda/{offhours_function(team)}"


def serving_cronjob(team: str, pool: str, action: str) -> str:
    """The CronJob that scales a pool's serving Deployment at the schedule's stop or start: named
    per team and pool, so teams sharing a namespace never collide (docs/manifest.md,
    Kubernetes names)."""
    return f"{PREFIX}-{team}-{pool}-{action}"


def serving_scaler(team: str, pool: str) -> str:
    """ServiceAccount, Role and RoleBinding of those CronJobs (one name, three kinds), per team and pool."""
    return f"{PREFIX}-{team}-{pool}-scaler"


def offhours_parameter(team: str, cluster: str, nodegroup: str) -> str:
    """Where the off-hours function records a node group's scaling config before scaling to 0."""
    return f"/{PREFIX}/offhours/{team}/{cluster}/{nodegroup}"


def required_tags_rule(index: int) -> str:
    return f"{PREFIX}-required-tags-{index}"


def config_recorder() -> str:
    """The Config recorder and its delivery channel (AWS allows one of each per account and region)."""
    return PREFIX


def config_role() -> str:
    return f"{PREFIX}-config-recorder"


def config_bucket(account_id: str) -> str:
    """The bucket the Config delivery channel writes to.

    Bucket names are unique across all AWS accounts and at most 63 characters
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): the 12-digit
    account id makes the name ours and keeps it at 32 characters.
    """
    return f"{PREFIX}-config-{account_id}"


def state_key(stack: str) -> str:
    """S3 state key: one per stack. Stack names are unique team names or `governance`."""
    return f"{PREFIX}/{stack}/terraform.tfstate"


@dataclass(frozen=True)
class DerivedName:
    field: tuple[str | int, ...]  # manifest path the name is derived from, for the error
    kind: str
    value: str


def derived_names(manifest: TeamManifest) -> Iterator[DerivedName]:
    """Every AWS name one manifest produces, with the manifest field that drives it."""
    team = manifest.team
    yield DerivedName(("team",), "budget", budget(team))
    yield DerivedName(("team",), "sns_topic", budget_topic(team))
    yield DerivedName(("team",), "iam_role", training_role(team))
    yield DerivedName(("team",), "iam_role", budget_action_role(team))
    yield DerivedName(("team",), "iam_policy", deny_gpu_policy(team))
    if manifest.capacity_function:
        yield DerivedName(("team",), "lambda_function", offhours_function(team))
        yield DerivedName(("team",), "iam_role", offhours_role(team))
        yield DerivedName(("team",), "iam_role", offhours_scheduler_role(team))
        yield DerivedName(("team",), "schedule", offhours_schedule(team, "start"))
        yield DerivedName(("team",), "schedule", offhours_schedule_group(team))
        yield DerivedName(("team",), "sqs_queue", offhours_dlq(team))
        yield DerivedName(("team",), "sqs_queue", offhours_function_dlq(team))
    for index, managed in enumerate(manifest.managed_models):
        yield DerivedName(("managed_models", index, "name"), "inference_profile", inference_profile(team, managed.name))
        if managed.invoke_role_names:
            yield DerivedName(("managed_models", index, "name"), "iam_policy", invoke_policy(team, managed.name))
    for index, pool in enumerate(manifest.inference):
        field = ("inference", index, "name")
        yield DerivedName(field, "node_group", node_group(team, pool.name))
        yield DerivedName(field, "launch_template", launch_template(team, pool.name))
        yield DerivedName(field, "ssm_parameter", offhours_parameter(team, pool.cluster, node_group(team, pool.name)))
        if manifest.schedule is not None and pool.autoscaling is not None:
            yield DerivedName(field, "k8s_cronjob", serving_cronjob(team, pool.name, "start"))
            yield DerivedName(field, "k8s_object", serving_scaler(team, pool.name))


def name_problem(name: DerivedName) -> str | None:
    """Why `name` breaks its AWS limit, or None when it is fine."""
    limit = LIMITS[name.kind]
    if len(name.value) > limit.max_length:
        return (
            f"makes the {limit.source} '{name.value}' ({len(name.value)} characters); "
            f"AWS allows at most {limit.max_length}: use a shorter name"
        )
    if not re.match(limit.pattern, name.value):
        return f"makes the {limit.source} '{name.value}', which has characters AWS does not allow there"
    return None
