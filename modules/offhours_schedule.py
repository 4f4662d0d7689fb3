"""Off-hours wiring: the function from lambdas/offhours/ and everything that invokes it.

Two EventBridge Scheduler schedules in the team's time zone invoke the function with
`{"action": "stop" | "start", "team", "region", "dry_run": false}` at `schedule.stop` and
`schedule.start` on `schedule.weekdays`. For a team with inference pools, a daily schedule and
every apply that changes a pool's bounds invoke `sync` (daily also for a team with spot training:
sync cancels persistent spot requests no managed instance stands for), and with `on_exceed: deny-new-gpu` the
budget's SNS topic invokes `cap` (see the handler's docstring). The function's role may stop, start and scale only
resources tagged with the team (lambdas/offhours/permissions.py); the scheduler's role may only
invoke this function and write to its dead-letter queue. Logs and both dead-letter queues are
encrypted with one customer managed key per team.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from cdktf import App, AssetType, Fn, ITerraformDependable, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from cdktf_cdktf_provider_aws.lambda_invocation import LambdaInvocation
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.scheduler_schedule_group import SchedulerScheduleGroup
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from generators import naming
from generators.model import TeamManifest, hour_minute
from lambdas.offhours import contract
from lambdas.offhours.permissions import handler_policy_statements
from modules.context import TeamContext
from modules.iam_documents import account_administers_key, policy_document

SOURCE = Path(__file__).resolve().parent.parent / "lambdas" / "offhours"
# What Lambda imports at run time; tests/test_offhours_handler.py checks handler.py runs with
# only these next to it. permissions.py is synthesis-time data and stays out of the archive.
RUNTIME_FILES = ("handler.py", "contract.py", "spot_requests.py")
# Zip entries get one fixed time and mode so the package is byte-identical between runs.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
ZIP_MODE = 0o644

RUNTIME = "python3.12"
HANDLER = "handler.handler"
# Lambda allows at most 900 s: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# A few hundred instances and node groups take well under a minute; 300 s leaves room for throttling.
TIMEOUT_SECONDS = 300
MEMORY_MB = 256
# No reserved concurrency: reserving any fails in new accounts, whose concurrency quota can be
# as low as 10 while Lambda keeps 100 unreserved ("UnreservedConcurrentExecution below its
# minimum value": https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html,
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). The handler is
# safe when invocations overlap instead (tests/test_offhours_handler.py runs two at once).
# The daily `sync`, in the team's time zone (UTC without a schedule): before most working days
# start, it re-applies the manifest's bounds to pools off-hours does not hold, lifting a budget
# cap once the budget action is no longer in force.
SYNC_AT = "06:00"
SYNC_TIMEZONE_WITHOUT_SCHEDULE = "UTC"
# The log group is the audit trail of what was stopped and why: one year.
# Allowed values: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = 365
# SQS keeps messages at most 14 days (1,209,600 s); a dead letter should wait as long as allowed:
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
DLQ_RETENTION_SECONDS = 1_209_600
# Retry policy bounds: event age 60..86400 s, attempts 0..185:
# https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html
# A stop delivered hours late would shut capacity down during working hours, so the window
# is one hour (the defaults are 24 h and 185 attempts).
MAX_EVENT_AGE_SECONDS = 3600
MAX_RETRY_ATTEMPTS = 10
# Lambda's own asynchronous retries (budget topic notifications, Scheduler's deliveries): two
# retries within 15 minutes, after which the event goes to the function's dead-letter queue.
ASYNC_MAX_EVENT_AGE_SECONDS = 900
ASYNC_MAX_RETRY_ATTEMPTS = 2
# Cron day-of-week names in schedule expressions:
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
CRON_DAYS = {"mon": "MON", "tue": "TUE", "wed": "WED", "thu": "THU", "fri": "FRI", "sat": "SAT", "sun": "SUN"}

# Where in the synth output directory the zip is built: inside it, so it lives and goes with the
# output (genai-finops synth builds in a staging directory it swaps in or deletes as a whole).
BUILD_DIR = ".build"


def packaged_code(directory: Path) -> Path:
    """The function's zip (RUNTIME_FILES only, no __pycache__) in `directory`, built on first use.

    Built here rather than as a cdktf ARCHIVE asset: cdktf zips each archive asset in a Node
    child process of its own, ~270 ms a stack, which made off-hours 95% of the synth time of
    100 teams. A FILE asset of one ready zip is copied instead. Byte-identical wherever and
    whenever it is built (fixed entry dates and modes), so Terraform's hash changes only with
    the code.
    """
    package = directory / "offhours.zip"
    if not package.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".offhours.zip.{os.getpid()}"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in RUNTIME_FILES:
                entry = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
                entry.external_attr = ZIP_MODE << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, (SOURCE / name).read_bytes())
        os.replace(partial, package)
    return package


def cron_expression(hhmm: str, weekdays: list[str]) -> str:
    """`cron(minutes hours day-of-month month day-of-week year)` for HH:MM on the given days."""
    hours, minutes = hour_minute(hhmm)
    days = ",".join(CRON_DAYS[day] for day in sorted(weekdays, key=list(CRON_DAYS).index))
    return f"cron({minutes} {hours} ? * {days} *)"


def schedule_event(action: str, manifest: TeamManifest, scheduled: bool = False) -> dict[str, Any]:
    """The event the handler's contract expects (lambdas/offhours/handler.py); a schedule's
    carries Scheduler's scheduled time, so a late delivery is recognised and skipped."""
    event = {"action": action, "team": manifest.team, "region": manifest.region, "dry_run": False}
    if scheduled:
        event[contract.SCHEDULED_TIME_KEY] = contract.SCHEDULED_TIME_PLACEHOLDER
    return event


def pool_bounds(manifest: TeamManifest) -> dict[str, str]:
    """Each pool's min..max, which the node group's bound tags carry; a change re-runs sync on apply."""
    return {pool.name: f"{pool.min_nodes}..{pool.max_nodes}" for pool in manifest.inference}


@dataclass(frozen=True)
class _ScheduleTarget:
    """What every schedule of the team shares: its group, key, function, role and dead letters."""

    group_name: str
    key_arn: str
    function_arn: str
    role_arn: str
    dlq_arn: str
    role_policy: IamRolePolicy


class OffHoursSchedule(Construct):
    """The off-hours function of one team, its roles, key, log group, queues, schedules and triggers.

    Args:
        team: the validated manifest whose schedule (stop/start), inference pools (bounds, sync,
            budget cap) and spot training (orphaned requests) the function serves; a team with
            none of them (`capacity_function` false) is refused.
        budget_topic_arn: the team budget's alert topic; subscribed when the budget action is
            `deny-new-gpu` and the team has pools (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html).
        context: the team's tags and naming (modules/context.py).
        node_groups: the team's node groups, which the apply-time sync waits for. Default none.
        training_instance_ids: the instances the stack manages, so `sync` can tell an orphaned
            persistent spot request (lambdas/offhours/spot_requests.py) from a managed one. Default none.

    Attributes: `function_name`, `function_arn`, `role_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        team: TeamManifest,
        budget_topic_arn: str,
        context: TeamContext,
        node_groups: Sequence[ITerraformDependable] = (),
        training_instance_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        if not team.capacity_function:
            raise ValueError(f"team {team.team} has no schedule, no pools and no spot training; it gets no off-hours function")
        self._manifest = team
        self._tags = dict(context.tags)
        self._account = DataAwsCallerIdentity(self, "account").account_id
        self._partition = DataAwsPartition(self, "partition").partition
        self._spot_training = any(job.market == "spot" for job in team.training)
        self.function_name: str = naming.offhours_function(team.team)

        key, log_group = self._key_and_logs()
        function_dlq = self._queue("function-dlq", naming.offhours_function_dlq(team.team), key.arn)
        scheduler_dlq = self._queue("scheduler-dlq", naming.offhours_dlq(team.team), key.arn)
        function = self._function(key, log_group, function_dlq, budget_topic_arn, training_instance_ids)
        self._bound_async_invocations(function)
        self._schedules(function, key.arn, scheduler_dlq.arn)
        if team.inference:
            self._sync_on_apply(function, node_groups)
        if team.budget.on_exceed == "deny-new-gpu" and team.inference:
            self._cap_pools_on_budget_alert(function, budget_topic_arn)

    # ------------------------------------------------------------------ steps

    def _key_and_logs(self) -> tuple[KmsKey, CloudwatchLogGroup]:
        """The team's key (logs and dead letters) and the function's log group, encrypted with it."""
        name = self._manifest.team
        log_group_name = naming.offhours_log_group(name)
        key = KmsKey(
            self,
            "key",
            description=f"Encrypts the off-hours logs and dead letters of team {name} (genai-finops)",
            enable_key_rotation=True,
            policy=policy_document(*self._key_policy(log_group_name)),
            tags=self._tags,
        )
        log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=log_group_name,
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=key.arn,
            tags=self._tags,
        )
        return key, log_group

    def _function(
        self, key: KmsKey, log_group: CloudwatchLogGroup, dlq: SqsQueue, budget_topic_arn: str, training_instance_ids: Sequence[str]
    ) -> LambdaFunction:
        """The function, its role and the role's two policies (its work; logs, traces, dead letters)."""
        name, region = self._manifest.team, self._manifest.region
        role = IamRole(
            self,
            "role",
            name=naming.offhours_role(name),
            assume_role_policy=policy_document(*_trust("lambda.amazonaws.com")),
            tags=self._tags,
        )
        self.role_arn: str = role.arn
        handler_policy = IamRolePolicy(
            self,
            "handler-policy",
            name="stop-start-team-capacity",
            role=role.id,
            policy=policy_document(
                *handler_policy_statements(name, region, self._account, naming.budget(name), self._partition, spot_training=self._spot_training)
            ),
        )
        runtime_policy = IamRolePolicy(
            self,
            "runtime-policy",
            name="logs-traces-dead-letters",
            role=role.id,
            policy=policy_document(*self._runtime_policy(log_group.arn, dlq.arn, key.arn)),
        )
        package = packaged_code(Path(App.of(self).outdir) / BUILD_DIR)
        asset = TerraformAsset(self, "code", path=str(package), type=AssetType.FILE)
        function = LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=f"Stops team {name}'s GPU capacity outside its schedule and restarts it (genai-finops)",
            role=role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            filename=asset.path,
            # Terraform hashes the archive itself, so a code change always redeploys the function.
            source_code_hash=Fn.filebase64sha256(asset.path),
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            environment=LambdaFunctionEnvironment(variables=self._environment(budget_topic_arn, training_instance_ids)),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=dlq.arn),
            tags=self._tags,
            # Without the log group first, the first invocation would create an unencrypted one
            # with no retention; without the policies, the first run could be denied.
            depends_on=[log_group, handler_policy, runtime_policy],
        )
        self.function_arn: str = function.arn
        return function

    def _environment(self, budget_topic_arn: str, training_instance_ids: Sequence[str]) -> dict[str, str]:
        """The function's side of lambdas/offhours/contract.py."""
        name = self._manifest.team
        variables = {
            contract.TEAM_ENV: name,
            contract.REGION_ENV: self._manifest.region,
            contract.ACCOUNT_ENV: self._account,
            contract.BUDGET_ENV: naming.budget(name),
            contract.BUDGET_TOPIC_ENV: budget_topic_arn,
        }
        if self._spot_training:
            variables[contract.TRAINING_PROFILE_ENV] = naming.training_role(name)
            variables[contract.MANAGED_INSTANCES_ENV] = Fn.join(",", list(training_instance_ids))
        return variables

    def _bound_async_invocations(self, function: LambdaFunction) -> None:
        # Lambda's asynchronous queue would keep an event 6 hours and retry twice by default;
        # a stop that runs hours late stops capacity in working hours. Bounded here, and the
        # handler also skips a stop or start later than contract.LATE_AFTER_SECONDS:
        # https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
        # (MaximumEventAgeInSeconds 60-21600, MaximumRetryAttempts 0-2). Failed events go to
        # the function's dead-letter queue.
        LambdaFunctionEventInvokeConfig(
            self,
            "async-invoke",
            function_name=function.function_name,
            maximum_event_age_in_seconds=ASYNC_MAX_EVENT_AGE_SECONDS,
            maximum_retry_attempts=ASYNC_MAX_RETRY_ATTEMPTS,
        )

    def _schedules(self, function: LambdaFunction, key_arn: str, dlq_arn: str) -> None:
        """The schedule group, the role EventBridge Scheduler invokes with, and one schedule per
        action: stop and start in the team's window, and a daily sync for pools and spot training."""
        name = self._manifest.team
        group = SchedulerScheduleGroup(self, "schedule-group", name=naming.offhours_schedule_group(name), tags=self._tags)
        scheduler_role = IamRole(
            self,
            "scheduler-role",
            name=naming.offhours_scheduler_role(name),
            assume_role_policy=policy_document(*self._scheduler_trust(group.arn)),
            tags=self._tags,
        )
        scheduler_policy = IamRolePolicy(
            self,
            "scheduler-policy",
            name="invoke-offhours-function",
            role=scheduler_role.id,
            policy=policy_document(*self._scheduler_policy(function.arn, dlq_arn, key_arn)),
        )
        target = _ScheduleTarget(group.name, key_arn, function.arn, scheduler_role.arn, dlq_arn, scheduler_policy)
        schedule = self._manifest.schedule
        timed: list[tuple[str, str, list[str], str]] = []
        if schedule is not None:
            timed += [(action, at, list(schedule.weekdays), schedule.timezone) for action, at in (("stop", schedule.stop), ("start", schedule.start))]
        if self._manifest.inference or self._spot_training:
            timed.append(("sync", SYNC_AT, list(CRON_DAYS), schedule.timezone if schedule else SYNC_TIMEZONE_WITHOUT_SCHEDULE))
        for action, at, days, timezone in timed:
            self._schedule(action, at, days, timezone, target)

    def _sync_on_apply(self, function: LambdaFunction, node_groups: Sequence[ITerraformDependable]) -> None:
        # Terraform leaves the node groups' scaling to the function (the pools ignore
        # scaling_config after creation), so a changed min_nodes/max_nodes reaches a pool
        # through sync, invoked by the apply that changes it (triggers), synchronously.
        LambdaInvocation(
            self,
            "sync-on-apply",
            function_name=function.function_name,
            input=json.dumps(schedule_event("sync", self._manifest)),
            triggers=pool_bounds(self._manifest),
            depends_on=list(node_groups),
        )

    def _cap_pools_on_budget_alert(self, function: LambdaFunction, budget_topic_arn: str) -> None:
        # The deny policy binds the team's roles, not the cluster-autoscaler's, so the pools
        # are capped by the function when the budget action fires and notifies the topic:
        # https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
        permission = LambdaPermission(
            self,
            "budget-topic-invokes",
            statement_id="BudgetTopicInvokesCap",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="sns.amazonaws.com",
            source_arn=budget_topic_arn,
        )
        SnsTopicSubscription(
            self,
            "budget-topic-subscription",
            topic_arn=budget_topic_arn,
            protocol="lambda",
            endpoint=function.arn,
            depends_on=[permission],
        )

    # ------------------------------------------------------------------ pieces

    def _queue(self, id: str, name: str, key_arn: str) -> SqsQueue:
        return SqsQueue(
            self,
            id,
            name=name,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            kms_master_key_id=key_arn,
            tags=self._tags,
        )

    def _schedule(self, action: str, at: str, days: list[str], timezone: str, target: _ScheduleTarget) -> SchedulerSchedule:
        return SchedulerSchedule(
            self,
            f"schedule-{action}",
            name=naming.offhours_schedule(self._manifest.team, action),
            group_name=target.group_name,
            description=f"{action} team {self._manifest.team}'s GPU capacity at {at} {timezone} (genai-finops)",
            schedule_expression=cron_expression(at, days),
            schedule_expression_timezone=timezone,
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            state="ENABLED",
            # The target input is encrypted with the team's key; the execution role decrypts it:
            # https://docs.aws.amazon.com/scheduler/latest/UserGuide/encryption-rest.html
            kms_key_arn=target.key_arn,
            target=SchedulerScheduleTarget(
                arn=target.function_arn,
                role_arn=target.role_arn,
                input=json.dumps(schedule_event(action, self._manifest, scheduled=True)),
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
                    maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
                ),
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=target.dlq_arn),
            ),
            # Scheduler checks it can assume the role when the schedule is created.
            depends_on=[target.role_policy],
        )

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{self._partition}:{service}:{self._manifest.region}:{self._account}:{resource}"

    def _key_policy(self, log_group_name: str) -> list[dict[str, Any]]:
        return [
            account_administers_key(self._partition, self._account),
            # CloudWatch Logs may use the key for this one log group only:
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
            {
                "Sid": "CloudWatchLogsEncryptsTheOffHoursLogGroup",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{self._manifest.region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": self._arn("logs", f"log-group:{log_group_name}")}
                },
            },
        ]

    def _runtime_policy(self, log_group_arn: str, dlq_arn: str, key_arn: str) -> list[dict[str, Any]]:
        return [
            # What AWSLambdaBasicExecutionRole grants, for this function's log group only:
            # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-prereqs.html
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
            # Active tracing; X-Ray's write actions support no resource-level permissions:
            # https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
            {
                "Sid": "WriteTracesHasNoResourceLevelPermissions",
                "Effect": "Allow",
                "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                "Resource": "*",
            },
            # Lambda sends failed asynchronous events to the DLQ with the function's role:
            # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
            {"Sid": "SendToOwnDeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn},
            _encrypted_queue_producer(key_arn),
        ]

    def _scheduler_trust(self, group_arn: str) -> list[dict[str, Any]]:
        # The execution role trust policy EventBridge Scheduler documents, with its confused-deputy
        # conditions; Scheduler's source ARN is the schedule group, here the team's own group:
        # https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
        trust = _trust("scheduler.amazonaws.com")
        trust[0]["Condition"] = {
            "StringEquals": {"aws:SourceAccount": self._account},
            "ArnEquals": {"aws:SourceArn": group_arn},
        }
        return trust

    def _scheduler_policy(self, function_arn: str, dlq_arn: str, key_arn: str) -> list[dict[str, Any]]:
        return [
            # https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
            {"Sid": "InvokeOnlyTheOffHoursFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn},
            # Scheduler writes dead letters with the schedule's execution role:
            # https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
            {"Sid": "SendToScheduleDeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn},
            # The same two key actions also let Scheduler decrypt the schedules' encrypted input.
            _encrypted_queue_producer(key_arn),
        ]


def _trust(service: str) -> list[dict[str, Any]]:
    return [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]


def _encrypted_queue_producer(key_arn: str) -> dict[str, Any]:
    # Sending to a queue encrypted with a customer managed key needs these two on the key:
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
    return {
        "Sid": "EncryptDeadLetters",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key_arn,
    }
