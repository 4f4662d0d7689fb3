"""Off-hours shutdown: stop one team's GPU capacity outside its schedule and restart it after.

Invoked by the EventBridge Scheduler schedules of modules/offhours_schedule.py with
`{"action": "stop" | "start", "team": "<team>", "region": "<region>", "dry_run": false}`.

- stop: stops the team's running EC2 instances and marks each with `finops:stopped-by`;
  records each of the team's EKS node groups' scaling config in SSM and scales it to zero.
  The first record wins: a second, overlapping or retried stop never overwrites it.
- start: starts only the instances carrying that mark (and removes it); restores each node
  group to the bounds its `genai-finops:min-nodes`/`max-nodes` tags carry (the manifest's),
  with the recorded desired size, and deletes the record. While one of the team's budget
  actions is in force, start restarts nothing and caps node groups instead.
- sync (`{"action": "sync", ...}`, invoked by every apply that changes a pool's bounds, daily,
  or by hand): brings node groups that off-hours does not hold to their tagged bounds, unless a
  budget action is in force.
- cap (the budget's SNS topic, when its deny-new-gpu action fires): while a budget action is in
  force, caps each node group's max at its current size, so the cluster-autoscaler, which does
  not run under the team's denied roles, cannot add nodes. start or sync lifts the cap once the
  action is no longer in force (reset by AWS Budgets or by hand).

stop and start never touch resources tagged Environment=prod; `finops:keep-running-until=YYYY-MM-DD`
leaves a resource alone until that date, inclusive, in UTC (sync and cap enforce bounds and
budgets, which apply to every environment). Every step is safe to repeat and to overlap with
another invocation: EventBridge Scheduler and Lambda deliver at least once. One resource failing never stops
the run: the result lists what was done, skipped and failed, each with its reason, and every
action is one JSON line on stdout (CloudWatch Logs keeps it as the audit trail).

Runs alone in AWS: boto3 only, plain clients (so AWS_ENDPOINT_URL redirects every call).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Lambda imports this file as the top-level module `handler` from the archive root, next to
# contract.py; tests and the construct import it as part of the lambdas.offhours package.
if __package__:
    from . import contract, spot_requests
else:
    import contract  # type: ignore[no-redef]
    import spot_requests  # type: ignore[no-redef]

DEFAULT_FUNCTION_NAME = "genai-finops-offhours"
# Copies of policies/gfo_facts.py's TEAM_NAME_PATTERN and REGION_PATTERN (the function's
# archive holds this directory only); tests/test_facts.py keeps them equal.
TEAM_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
OPT_OUT_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVENT_KEYS = frozenset({"action", "team", "region", "dry_run", contract.SCHEDULED_TIME_KEY})
# An SNS notification reaches Lambda as {"Records": [{"EventSource": "aws:sns", "Sns": {...}}]}:
# https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
SNS_EVENT_SOURCE = "aws:sns"
REFUSED = "refused the event, nothing was changed: "
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no", ""})

# DescribeInstances accepts MaxResults 5..1000:
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
# 50 keeps each page small enough that throttling retries stay cheap.
EC2_PAGE_SIZE = 50
# StopInstances, StartInstances, CreateTags and DeleteTags take lists of ids; batches of 50
# keep the one-by-one fallback after a refused batch short (our choice, not an AWS limit).
EC2_BATCH_SIZE = 50
# ListClusters and ListNodegroups accept maxResults 1..100:
# https://docs.aws.amazon.com/eks/latest/APIReference/API_ListClusters.html
# https://docs.aws.amazon.com/eks/latest/APIReference/API_ListNodegroups.html
EKS_PAGE_SIZE = 100
# Adaptive mode adds client-side rate limiting on top of standard retries for throttling:
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
# 10 attempts instead of the default 3: a nightly batch would rather wait than give up.
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
# A one-time Spot Instance cannot be stopped, only persistent requests' instances can:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-requests.html
# EC2 answers StopInstances for one with this error code.
SPOT_CANNOT_STOP_CODE = "UnsupportedOperation"
# With the policy from permissions.py, DescribeNodegroup is allowed only on the team's own
# node groups, so other teams' node groups on a shared cluster answer with this code:
# https://docs.aws.amazon.com/eks/latest/APIReference/CommonErrors.html
ACCESS_DENIED_CODE = "AccessDeniedException"
# PutParameter without Overwrite on an existing name:
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
PARAMETER_EXISTS_CODE = "ParameterAlreadyExists"
# DescribeBudgetActionsForBudget MaxResults is 1..100:
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_DescribeBudgetActionsForBudget.html
BUDGET_PAGE_SIZE = 100
# EKS refuses a node group maxSize below 1:
# https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupScalingConfig.html
EKS_MIN_MAX_SIZE = 1


class InvalidEvent(ValueError):
    """The event does not follow the contract; nothing was changed."""


class StepsFailed(RuntimeError):
    """Some step failed: the invocation fails, so Lambda retries it (every step is safe to
    repeat) and, when the retries are spent, its dead-letter queue keeps the event. `result` is
    what the run did, skipped and failed."""

    def __init__(self, result: dict[str, Any]):
        self.result = result
        failed = result["failed"]
        shown = "; ".join(f"{e['what']} {e['resource']}: {e['why']}" for e in failed[:5])
        super().__init__(f"{len(failed)} step(s) failed ({shown}{'; ...' if len(failed) > 5 else ''})")


@dataclass(frozen=True)
class Request:
    action: str
    team: str
    region: str
    dry_run: bool
    scheduled_time: dt.datetime | None = None


@dataclass
class Run:
    request: Request
    function_name: str
    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def record(self, outcome: str, what: str, resource: str, why: str) -> None:
        entry = {"what": what, "resource": resource, "why": why}
        {"done": self.done, "skipped": self.skipped, "failed": self.failed}[outcome].append(entry)
        log_line(
            {
                "who": {"function": self.function_name, "team": self.request.team},
                "what": {"action": what, "resource": resource, "region": self.request.region},
                "why": why,
                "outcome": "would-do" if outcome == "done" and self.request.dry_run else outcome,
                "dry_run": self.request.dry_run,
            }
        )

    def result(self) -> dict[str, Any]:
        return {
            "action": self.request.action,
            "team": self.request.team,
            "region": self.request.region,
            "dry_run": self.request.dry_run,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def log_line(record: dict[str, Any]) -> None:
    """One JSON object per line; Lambda sends stdout lines to CloudWatch Logs unchanged."""
    stamped = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **record}
    sys.stdout.write(json.dumps(stamped, sort_keys=True) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- the event


def parse_event(event: Any, environ: dict[str, str] | os._Environ[str]) -> Request:
    """The request the event asks for, or InvalidEvent listing every problem in it."""
    if isinstance(event, dict) and "Records" in event:
        return parse_sns_event(event, environ)
    if not isinstance(event, dict):
        raise InvalidEvent(f"{REFUSED}event must be a JSON object with keys {sorted(EVENT_KEYS)}, got {type(event).__name__}")
    problems = []
    unknown = sorted(str(key) for key in event if key not in EVENT_KEYS)
    if unknown:
        problems.append(f"unknown keys {unknown}; allowed: {sorted(EVENT_KEYS)}")
    action = event.get("action")
    if action not in contract.ACTIONS:
        problems.append(f"action must be one of {list(contract.ACTIONS)}, got {action!r}")
    team = event.get("team")
    if not isinstance(team, str) or not TEAM_PATTERN.match(team):
        problems.append(f"team must be a team name matching {TEAM_PATTERN.pattern}, got {team!r}")
    elif environ.get(contract.TEAM_ENV) not in (None, team):
        problems.append(f"team {team!r} is not this function's team ({contract.TEAM_ENV}={environ.get(contract.TEAM_ENV)!r})")
    region = event.get("region")
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        problems.append(f"region must be an AWS region code such as us-east-1, got {region!r}")
    elif environ.get(contract.REGION_ENV) not in (None, region):
        problems.append(f"region {region!r} is not this function's region ({contract.REGION_ENV}={environ.get(contract.REGION_ENV)!r})")
    scheduled_time = None
    raw_time = event.get(contract.SCHEDULED_TIME_KEY)
    if raw_time is not None:
        scheduled_time = parse_time(raw_time)
        if scheduled_time is None:
            problems.append(f"{contract.SCHEDULED_TIME_KEY} must be a UTC time such as 2026-10-05T19:00:00Z, got {str(raw_time)[:40]!r}")
    event_dry_run = event.get("dry_run", False)
    if not isinstance(event_dry_run, bool):
        problems.append(f"dry_run must be true or false, got {event_dry_run!r}")
    env_dry_run = dry_run_from_environment(environ, problems)
    if problems:
        raise InvalidEvent(REFUSED + "; ".join(problems))
    # each was checked to be a string above
    return Request(action=str(action), team=str(team), region=str(region), dry_run=event_dry_run is True or env_dry_run, scheduled_time=scheduled_time)


def parse_time(raw: Any) -> dt.datetime | None:
    """Scheduler's scheduled time (ISO 8601, `Z`), aware; None when it is not one."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_sns_event(event: dict[str, Any], environ: dict[str, str] | os._Environ[str]) -> Request:
    """A notification from the team's budget topic: `cap` for the team the environment names."""
    problems = []
    records = event.get("Records")
    if not isinstance(records, list) or not records or not all(
        isinstance(record, dict) and record.get("EventSource") == SNS_EVENT_SOURCE for record in records
    ):
        problems.append(f"Records must be a non-empty list of {SNS_EVENT_SOURCE} notifications")
    else:
        # Only the team's budget topic may cap its pools: another topic that can invoke the
        # function (a wrong subscription, a test) is refused, and so is a function without it.
        topic = environ.get(contract.BUDGET_TOPIC_ENV)
        arns = sorted({str((record.get("Sns") or {}).get("TopicArn") if isinstance(record.get("Sns"), dict) else None) for record in records})
        if not topic:
            problems.append(f"environment variable {contract.BUDGET_TOPIC_ENV} must name the team's budget topic")
        elif arns != [topic]:
            problems.append(f"notifications must come from the team's budget topic {topic}, got {[a[:200] for a in arns]}")
    team, region = environ.get(contract.TEAM_ENV), environ.get(contract.REGION_ENV)
    if not team or not TEAM_PATTERN.match(team):
        problems.append(f"environment variable {contract.TEAM_ENV} must name the team, got {team!r}")
    if not region or not REGION_PATTERN.match(region):
        problems.append(f"environment variable {contract.REGION_ENV} must be an AWS region code, got {region!r}")
    env_dry_run = dry_run_from_environment(environ, problems)
    if problems:
        raise InvalidEvent(REFUSED + "; ".join(problems))
    return Request(action="cap", team=str(team), region=str(region), dry_run=env_dry_run)


def dry_run_from_environment(environ: dict[str, str] | os._Environ[str], problems: list[str]) -> bool:
    env_value = environ.get(contract.DRY_RUN_ENV, "").strip().lower()
    if env_value not in TRUE_WORDS | FALSE_WORDS:
        problems.append(f"environment variable {contract.DRY_RUN_ENV} must be true or false, got {environ.get(contract.DRY_RUN_ENV)!r}")
    return env_value in TRUE_WORDS


# --------------------------------------------------------------------------- tags


def tag_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def leave_alone_reason(tags: dict[str, str], today: dt.date) -> str | None:
    """Why a resource with these tags must not be touched, or None when it may be."""
    # Tag values are case-sensitive to AWS, not to the people who write them: Prod and PROD are prod.
    if str(tags.get(contract.ENVIRONMENT_TAG, "")).strip().lower() == contract.PROD_ENVIRONMENT:
        return f"{contract.ENVIRONMENT_TAG}={tags[contract.ENVIRONMENT_TAG]} (prod) resources are never touched"
    raw = tags.get(contract.OPT_OUT_TAG)
    if raw is None:
        return None
    try:
        if not OPT_OUT_DATE_PATTERN.match(raw):
            raise ValueError(raw)
        until = dt.date.fromisoformat(raw)
    except ValueError:
        return f"{contract.OPT_OUT_TAG} is {raw!r}, not a YYYY-MM-DD date; left alone until the tag is fixed"
    if today <= until:
        return f"opted out: {contract.OPT_OUT_TAG}={raw} (inclusive, UTC)"
    return None


def error_text(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'Error')}: {info.get('Message', str(error))}"
    return f"{type(error).__name__}: {error}"


def error_code(error: Exception) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


# --------------------------------------------------------------------------- EC2


def team_instances(ec2: Any, team: str, state: str, extra_filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every page first, then act: stopping while paging a state-filtered listing could shift it."""
    filters = [{"Name": f"tag:{contract.TEAM_TAG}", "Values": [team]}, {"Name": "instance-state-name", "Values": [state]}]
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=filters + extra_filters, PaginationConfig={"PageSize": EC2_PAGE_SIZE}
    )
    return [instance for page in pages for reservation in page["Reservations"] for instance in reservation["Instances"]]


def instances_to_act_on(run: Run, instances: list[dict[str, Any]], what: str, why: str, today: dt.date) -> list[dict[str, Any]]:
    """Those not left alone; in a dry run, each is reported as what would be done instead."""
    chosen = []
    for instance in instances:
        resource = f"instance/{instance['InstanceId']}"
        reason = leave_alone_reason(tag_map(instance.get("Tags")), today)
        if reason:
            run.record("skipped", what, resource, reason)
        elif run.request.dry_run:
            run.record("done", what, resource, f"{why} (dry run: nothing changed)")
        else:
            chosen.append(instance)
    return chosen


def in_batches(
    instances: list[dict[str, Any]], call: Callable[[list[str]], Any], refused: Callable[[dict[str, Any], Exception], None]
) -> list[dict[str, Any]]:
    """Call `call` on batches of ids; when a batch is refused, one by one, to find which instance."""
    succeeded = []
    for start in range(0, len(instances), EC2_BATCH_SIZE):
        batch = instances[start : start + EC2_BATCH_SIZE]
        try:
            call([instance["InstanceId"] for instance in batch])
            succeeded += batch
            continue
        except (ClientError, BotoCoreError):
            # EC2 refuses the whole request for one bad instance; stopping or starting an
            # instance already in the target state succeeds, so retrying each is safe.
            pass
        for instance in batch:
            try:
                call([instance["InstanceId"]])
                succeeded.append(instance)
            except (ClientError, BotoCoreError) as error:
                refused(instance, error)
    return succeeded


def tag_batches(run: Run, instances: list[dict[str, Any]], tag_call: Callable[..., Any], what: str, failure: str) -> list[dict[str, Any]]:
    """Add or remove the stopped-by mark; returns the instances whose batch succeeded, records
    every other one as failed with `failure`."""
    succeeded = []
    for start in range(0, len(instances), EC2_BATCH_SIZE):
        batch = instances[start : start + EC2_BATCH_SIZE]
        try:
            tag_call(Resources=[i["InstanceId"] for i in batch], Tags=[{"Key": contract.STOPPED_BY_TAG, "Value": contract.STOPPED_BY_VALUE}])
        except (ClientError, BotoCoreError) as error:
            for instance in batch:
                run.record("failed", what, f"instance/{instance['InstanceId']}", f"{failure}: {error_text(error)}")
            continue
        succeeded += batch
    return succeeded


def stop_instances(run: Run, ec2: Any, today: dt.date) -> None:
    """Mark first, stop second: what will be stopped is recorded on the instance before it is
    stopped, so a failed mark stops nothing (and start can never miss what stop did). An
    instance that was marked and then not stopped gets its mark removed again."""
    why = "running outside the team's schedule"
    running = team_instances(ec2, run.request.team, "running", [])
    chosen = instances_to_act_on(run, running, "stop-instance", why, today)
    marked = tag_batches(run, chosen, ec2.create_tags, "stop-instance", "not marked, so not stopped (start would not restart it)")
    not_stopped: list[dict[str, Any]] = []

    def refused(instance: dict[str, Any], error: Exception) -> None:
        resource = f"instance/{instance['InstanceId']}"
        not_stopped.append(instance)
        if error_code(error) == SPOT_CANNOT_STOP_CODE and instance.get("InstanceLifecycle") == "spot":
            run.record("skipped", "stop-instance", resource, f"a one-time Spot Instance cannot be stopped ({error_text(error)})")
        else:
            run.record("failed", "stop-instance", resource, error_text(error))

    stopped = in_batches(marked, lambda ids: ec2.stop_instances(InstanceIds=ids), refused)
    for instance in stopped:
        run.record("done", "stop-instance", f"instance/{instance['InstanceId']}", why)
    # A mark left on a running instance would let a later start restart it after someone
    # stopped it by hand: remove it from those that were not stopped.
    tag_batches(run, not_stopped, ec2.delete_tags, "stop-instance", f"not stopped, and its {contract.STOPPED_BY_TAG} mark stays")


def start_instances(run: Run, ec2: Any, today: dt.date, hold: Hold) -> None:
    why = "stopped by off-hours; the schedule window opens"
    marked = [{"Name": f"tag:{contract.STOPPED_BY_TAG}", "Values": [contract.STOPPED_BY_VALUE]}]
    stopped = team_instances(ec2, run.request.team, "stopped", marked)
    if hold.held:
        # The mark stays, so the first start after the budget action ends restarts them.
        for instance in stopped:
            run.record("skipped", "start-instance", f"instance/{instance['InstanceId']}", f"left stopped: {hold.why}")
        return
    chosen = instances_to_act_on(run, stopped, "start-instance", why, today)

    def refused(instance: dict[str, Any], error: Exception) -> None:
        run.record("failed", "start-instance", f"instance/{instance['InstanceId']}", error_text(error))

    started = in_batches(chosen, lambda ids: ec2.start_instances(InstanceIds=ids), refused)
    # A mark left on a running instance would let a later start restart it after someone
    # stopped it by hand, so a failure to remove it is reported.
    unmarked = tag_batches(run, started, ec2.delete_tags, "start-instance", f"started, but its {contract.STOPPED_BY_TAG} mark stays")
    for instance in unmarked:
        run.record("done", "start-instance", f"instance/{instance['InstanceId']}", why)


# --------------------------------------------------------------------------- budget


@dataclass(frozen=True)
class Hold:
    """Whether the team's budget holds its capacity back, and why (for every record it causes)."""

    held: bool
    why: str


def budget_hold(run: Run, budgets: Any, environ: dict[str, str] | os._Environ[str]) -> Hold:
    """Read the team's budget actions; any in force (contract.BUDGET_ACTION_IN_FORCE) holds.

    Fails closed: a budget that cannot be read holds too, and the failure is recorded, so a
    denied or throttled call can never restart what a budget action stopped.
    """
    budget, account = environ.get(contract.BUDGET_ENV), environ.get(contract.ACCOUNT_ENV)
    resource = f"budget/{budget}"
    if not budget or not account:
        why = f"environment variables {contract.BUDGET_ENV} and {contract.ACCOUNT_ENV} must name the budget and account"
        run.record("failed", "read-budget-actions", resource, why)
        return Hold(True, f"the budget could not be checked ({why})")
    try:
        pages = budgets.get_paginator("describe_budget_actions_for_budget").paginate(
            AccountId=account, BudgetName=budget, PaginationConfig={"PageSize": BUDGET_PAGE_SIZE}
        )
        actions = [action for page in pages for action in page["Actions"]]
    except (ClientError, BotoCoreError) as error:
        run.record("failed", "read-budget-actions", resource, error_text(error))
        return Hold(True, f"the budget's actions could not be read ({error_text(error)}); held until they can")
    in_force = sorted(
        f"{action['ActionType']} action {action['ActionId']} is {action['Status']}"
        for action in actions
        if action["Status"] in contract.BUDGET_ACTION_IN_FORCE
    )
    if in_force:
        return Hold(True, f"budget {budget} is over: {'; '.join(in_force)}")
    return Hold(False, f"no action of budget {budget} is in force")


# --------------------------------------------------------------------------- EKS


def team_nodegroups(
    run: Run, eks: Any, what: str, today: dt.date, honour_opt_outs: bool = True
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(cluster, name, resource, node group) for the team's node groups on every cluster of the
    region, found by their Team tag. With `honour_opt_outs` (stop and start), prod and opted-out
    ones are recorded as skipped, not yielded."""
    for clusters in eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": EKS_PAGE_SIZE}):
        for cluster in clusters["clusters"]:
            pages = eks.get_paginator("list_nodegroups").paginate(
                clusterName=cluster, PaginationConfig={"PageSize": EKS_PAGE_SIZE}
            )
            try:
                names = [name for page in pages for name in page["nodegroups"]]
            except (ClientError, BotoCoreError) as error:
                run.record("failed", what, f"cluster/{cluster}", f"could not list node groups: {error_text(error)}")
                continue
            for name in names:
                resource = f"nodegroup/{cluster}/{name}"
                try:
                    nodegroup = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
                except (ClientError, BotoCoreError) as error:
                    if error_code(error) == ACCESS_DENIED_CODE:
                        continue
                    run.record("failed", what, resource, f"could not describe: {error_text(error)}")
                    continue
                tags = nodegroup.get("tags") or {}
                if tags.get(contract.TEAM_TAG) != run.request.team:
                    continue
                reason = leave_alone_reason(tags, today) if honour_opt_outs else None
                if reason:
                    run.record("skipped", what, resource, reason)
                    continue
                yield cluster, name, resource, nodegroup


def scaling_of(nodegroup: dict[str, Any]) -> dict[str, int]:
    config = nodegroup["scalingConfig"]
    return {"minSize": config["minSize"], "maxSize": config["maxSize"], "desiredSize": config["desiredSize"]}


def tagged_bounds(nodegroup: dict[str, Any]) -> tuple[int, int] | None:
    """(min, max) from the node group's bound tags; None when it has none or they do not parse."""
    tags = nodegroup.get("tags") or {}
    raw = (tags.get(contract.MIN_NODES_TAG), tags.get(contract.MAX_NODES_TAG))
    if not all(isinstance(value, str) and value.isdigit() for value in raw):
        return None
    low, high = int(str(raw[0])), int(str(raw[1]))
    return (low, high) if low <= high and high >= EKS_MIN_MAX_SIZE else None


def within(low: int, value: int, high: int) -> int:
    return max(low, min(value, high))


def parameter_name(run: Run, cluster: str, name: str) -> str:
    return contract.PARAMETER_FORMAT.format(team=run.request.team, cluster=cluster, nodegroup=name)


def read_record(run: Run, ssm: Any, what: str, resource: str, parameter: str) -> tuple[bool, dict[str, int] | None]:
    """(readable, record): (True, None) when there is no record; (False, None) after recording why not."""
    try:
        text = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return True, None
        run.record("failed", what, resource, f"could not read {parameter}: {error_text(error)}")
        return False, None
    except BotoCoreError as error:
        run.record("failed", what, resource, f"could not read {parameter}: {error_text(error)}")
        return False, None
    try:
        return True, recorded_scaling(text)
    except ValueError as error:
        run.record("failed", what, resource, f"{parameter}: {error}")
        return False, None


def update_scaling(run: Run, eks: Any, what: str, cluster: str, name: str, resource: str, current: dict[str, int], target: dict[str, int], why: str) -> bool:
    """Set the node group's scaling to `target`, or record that it already is; True once it is."""
    if target == current:
        run.record("skipped", what, resource, f"already at {json.dumps(target, sort_keys=True)}")
        return True
    why = f"{why}; {json.dumps(current, sort_keys=True)} -> {json.dumps(target, sort_keys=True)}"
    if run.request.dry_run:
        run.record("done", what, resource, why + " (dry run: not changed)")
        return False
    try:
        eks.update_nodegroup_config(clusterName=cluster, nodegroupName=name, scalingConfig=target)
    except (ClientError, BotoCoreError) as error:
        run.record("failed", what, resource, error_text(error))
        return False
    run.record("done", what, resource, why)
    return True


def capped(current: dict[str, int]) -> dict[str, int]:
    """No more nodes than now: max at the current desired size (EKS keeps max >= 1)."""
    top = max(current["desiredSize"], EKS_MIN_MAX_SIZE)
    return {"minSize": min(current["minSize"], top), "maxSize": top, "desiredSize": min(current["desiredSize"], top)}


def stop_nodegroups(run: Run, eks: Any, ssm: Any, today: dt.date) -> None:
    for cluster, name, resource, nodegroup in team_nodegroups(run, eks, "scale-nodegroup-to-zero", today):
        current = scaling_of(nodegroup)
        if current["minSize"] == 0 and current["desiredSize"] == 0:
            run.record("skipped", "scale-nodegroup-to-zero", resource, "already at min 0 / desired 0; its recorded config, if any, is kept")
            continue
        why = f"outside the team's schedule; was {json.dumps(current, sort_keys=True)}"
        if run.request.dry_run:
            run.record("done", "scale-nodegroup-to-zero", resource, why + " (dry run: not scaled)")
            continue
        try:
            # Never overwrite: when a retried or overlapping stop finds the pool scaled up again
            # (the autoscaler acted between the two), the first record still holds the day's size.
            ssm.put_parameter(Name=parameter_name(run, cluster, name), Value=json.dumps(current, sort_keys=True), Type="String", Overwrite=False)
        except ClientError as error:
            if error_code(error) != PARAMETER_EXISTS_CODE:
                run.record("failed", "scale-nodegroup-to-zero", resource, error_text(error))
                continue
            why += "; the config an earlier stop recorded is kept"
        except BotoCoreError as error:
            run.record("failed", "scale-nodegroup-to-zero", resource, error_text(error))
            continue
        try:
            # EKS refuses maxSize 0 (minimum 1), so max stays as it was.
            eks.update_nodegroup_config(
                clusterName=cluster,
                nodegroupName=name,
                scalingConfig={"minSize": 0, "maxSize": max(current["maxSize"], EKS_MIN_MAX_SIZE), "desiredSize": 0},
            )
        except (ClientError, BotoCoreError) as error:
            run.record("failed", "scale-nodegroup-to-zero", resource, error_text(error))
            continue
        run.record("done", "scale-nodegroup-to-zero", resource, why)


def recorded_scaling(text: str) -> dict[str, int]:
    value = json.loads(text)
    if not isinstance(value, dict) or set(value) != {"minSize", "maxSize", "desiredSize"}:
        raise ValueError(f"recorded config {text!r} is not a minSize/maxSize/desiredSize object")
    if not all(isinstance(number, int) and not isinstance(number, bool) and number >= 0 for number in value.values()):
        raise ValueError(f"recorded config {text!r} has sizes that are not whole numbers >= 0")
    return value


def start_nodegroups(run: Run, eks: Any, ssm: Any, today: dt.date, hold: Hold) -> None:
    for cluster, name, resource, nodegroup in team_nodegroups(run, eks, "restore-nodegroup", today):
        parameter = parameter_name(run, cluster, name)
        readable, record = read_record(run, ssm, "restore-nodegroup", resource, parameter)
        if not readable:
            continue
        if record is None:
            run.record("skipped", "restore-nodegroup", resource, "no recorded config: off-hours did not scale it down")
            continue
        current = scaling_of(nodegroup)
        if hold.held:
            # The record stays, so the first start after the budget action ends restores the pool.
            update_scaling(run, eks, "cap-nodegroup", cluster, name, resource, current, capped(current), f"not restored: {hold.why}")
            continue
        bounds = tagged_bounds(nodegroup)
        low, high = bounds if bounds is not None else (record["minSize"], record["maxSize"])
        target = {"minSize": low, "maxSize": high, "desiredSize": within(low, record["desiredSize"], high)}
        source = "the manifest's bounds (node group tags)" if bounds is not None else "the recorded bounds"
        if not update_scaling(run, eks, "restore-nodegroup", cluster, name, resource, current, target, f"schedule window opens; {source}"):
            continue
        if run.request.dry_run:
            continue
        try:
            ssm.delete_parameter(Name=parameter)
        except ClientError as error:
            # Deleted already by an overlapping start: the pool is restored either way.
            if error_code(error) != "ParameterNotFound":
                run.record("failed", "restore-nodegroup", resource, f"restored, but {parameter} stays: {error_text(error)}")
        except BotoCoreError as error:
            run.record("failed", "restore-nodegroup", resource, f"restored, but {parameter} stays: {error_text(error)}")


def sync_nodegroups(run: Run, eks: Any, ssm: Any, today: dt.date, hold: Hold) -> None:
    for cluster, name, resource, nodegroup in team_nodegroups(run, eks, "sync-nodegroup", today, honour_opt_outs=False):
        bounds = tagged_bounds(nodegroup)
        if bounds is None:
            run.record("skipped", "sync-nodegroup", resource, f"no valid {contract.MIN_NODES_TAG}/{contract.MAX_NODES_TAG} tags")
            continue
        if hold.held:
            run.record("skipped", "sync-nodegroup", resource, f"bounds not applied: {hold.why}")
            continue
        readable, record = read_record(run, ssm, "sync-nodegroup", resource, parameter_name(run, cluster, name))
        if not readable:
            continue
        if record is not None:
            run.record("skipped", "sync-nodegroup", resource, "off-hours holds it at zero; the next start applies the bounds")
            continue
        current = scaling_of(nodegroup)
        low, high = bounds
        target = {"minSize": low, "maxSize": high, "desiredSize": within(low, current["desiredSize"], high)}
        update_scaling(run, eks, "sync-nodegroup", cluster, name, resource, current, target, "the manifest's bounds (node group tags)")


def cancel_orphaned_spot_requests(run: Run, ec2: Any, now: dt.datetime, environ: dict[str, str] | os._Environ[str]) -> None:
    """Cancel the team's persistent spot requests whose instance the stack does not manage (spot_requests.py)."""
    profile = environ.get(contract.TRAINING_PROFILE_ENV, "")
    if not profile:
        return  # the team runs no spot training
    managed = {part for part in environ.get(contract.MANAGED_INSTANCES_ENV, "").split(",") if part}
    for request in spot_requests.orphaned(ec2, profile, managed, now):
        request_id = str(request["SpotInstanceRequestId"])
        instance = request.get("InstanceId")
        why = (f"persistent spot request in state {request.get('State')} launches with the team's training profile {profile} "
               + (f"and runs {instance}, which the stack does not manage (cancelling leaves it running: terminate it "
                  "if nobody uses it)" if instance else "and no instance the stack manages"))
        if run.request.dry_run:
            run.record("done", "cancel-orphaned-spot-request", request_id, why)
            continue
        try:
            ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[request_id])
        except ClientError as error:
            run.record("failed", "cancel-orphaned-spot-request", request_id, error_text(error))
        else:
            run.record("done", "cancel-orphaned-spot-request", request_id, why)


def cap_nodegroups(run: Run, eks: Any, today: dt.date, hold: Hold) -> None:
    for cluster, name, resource, nodegroup in team_nodegroups(run, eks, "cap-nodegroup", today, honour_opt_outs=False):
        if not hold.held:
            run.record("skipped", "cap-nodegroup", resource, hold.why)
            continue
        current = scaling_of(nodegroup)
        update_scaling(run, eks, "cap-nodegroup", cluster, name, resource, current, capped(current), hold.why)


# --------------------------------------------------------------------------- entry point


def new_client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=RETRY_CONFIG)


def handler(event: Any, context: Any) -> dict[str, Any]:
    function_name = getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or DEFAULT_FUNCTION_NAME
    try:
        request = parse_event(event, os.environ)
    except InvalidEvent as error:
        log_line({"who": {"function": function_name}, "what": {"action": "refuse-event"}, "why": str(error), "outcome": "failed"})
        raise
    run = Run(request=request, function_name=function_name)
    now = dt.datetime.now(dt.timezone.utc)
    today = now.date()
    late = late_by(request, now)
    if late is not None:
        run.record("skipped", request.action, request.region,
                   f"arrived {late:.0f} s after its scheduled time {(request.scheduled_time or now).isoformat()}, later than "
                   f"{contract.LATE_AFTER_SECONDS} s: the schedule's window may have moved on; the next scheduled run acts")
        return run.result()
    ec2, eks, ssm = (new_client(service, request.region) for service in ("ec2", "eks", "ssm"))
    steps: tuple[tuple[Callable[..., None], tuple[Any, ...], str], ...]
    if request.action == "stop":
        steps = ((stop_instances, (ec2, today), "list-instances"), (stop_nodegroups, (eks, ssm, today), "list-nodegroups"))
    else:
        # AWS Budgets is a global service; its endpoint is chosen by the SDK.
        hold = budget_hold(run, new_client("budgets", request.region), os.environ)
        if request.action == "start":
            steps = ((start_instances, (ec2, today, hold), "list-instances"), (start_nodegroups, (eks, ssm, today, hold), "list-nodegroups"))
        elif request.action == "sync":
            steps = (
                (sync_nodegroups, (eks, ssm, today, hold), "list-nodegroups"),
                (cancel_orphaned_spot_requests, (ec2, now, os.environ), "list-spot-requests"),
            )
        else:
            steps = ((cap_nodegroups, (eks, today, hold), "list-nodegroups"),)
    for step, args, listing in steps:
        try:
            step(run, *args)
        except (ClientError, BotoCoreError) as error:
            # A failed listing loses only this step; the other resource kind still runs.
            run.record("failed", listing, request.region, error_text(error))
    result = run.result()
    log_line(
        {
            "who": {"function": function_name, "team": request.team},
            "what": {"action": f"{request.action}-summary", "region": request.region},
            "why": "budget notification" if request.action == "cap" else "scheduled or requested run",
            "outcome": "failed" if run.failed else "done",
            "dry_run": request.dry_run,
            "counts": {"done": len(run.done), "skipped": len(run.skipped), "failed": len(run.failed)},
        }
    )
    if run.failed:
        raise StepsFailed(result)
    return result


def late_by(request: Request, now: dt.datetime) -> float | None:
    """Seconds a stop or start arrived after its scheduled time, when that is too late (queued
    by Lambda or retried by Scheduler past the window); None when it is on time or unscheduled."""
    if request.scheduled_time is None or request.action not in ("stop", "start"):
        return None
    late = (now - request.scheduled_time).total_seconds()
    return late if late > contract.LATE_AFTER_SECONDS else None
