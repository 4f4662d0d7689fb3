"""Off-hours shutdown: stop one team's GPU capacity outside its schedule and restart it after.

Invoked by the EventBridge Scheduler schedules of modules/offhours_schedule.py with
`{"action": "stop" | "start", "team": "<team>", "region": "<region>", "dry_run": false}`.

- stop: stops the team's running EC2 instances and marks each with `finops:stopped-by`;
  records each of the team's EKS node groups' scaling config in SSM and scales it to zero.
- start: starts only the instances carrying that mark (and removes it); restores each node
  group from its SSM record (and deletes the record).

Resources tagged Environment=prod are never touched; `finops:keep-running-until=YYYY-MM-DD`
leaves a resource alone until that date, inclusive, in UTC. One resource failing never stops
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
    from . import contract
else:
    import contract  # type: ignore[no-redef]

DEFAULT_FUNCTION_NAME = "genai-finops-offhours"
# Same pattern as generators.model.TEAM_NAME_PATTERN (manifest v1 team names).
TEAM_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
# Region codes such as us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5.
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
OPT_OUT_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVENT_KEYS = frozenset({"action", "team", "region", "dry_run"})
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


class InvalidEvent(ValueError):
    """The event does not follow the contract; nothing was changed."""


@dataclass(frozen=True)
class Request:
    action: str
    team: str
    region: str
    dry_run: bool


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
    region = event.get("region")
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        problems.append(f"region must be an AWS region code such as us-east-1, got {region!r}")
    event_dry_run = event.get("dry_run", False)
    if not isinstance(event_dry_run, bool):
        problems.append(f"dry_run must be true or false, got {event_dry_run!r}")
    env_value = environ.get(contract.DRY_RUN_ENV, "").strip().lower()
    if env_value not in TRUE_WORDS | FALSE_WORDS:
        problems.append(f"environment variable {contract.DRY_RUN_ENV} must be true or false, got {environ.get(contract.DRY_RUN_ENV)!r}")
    if problems:
        raise InvalidEvent(REFUSED + "; ".join(problems))
    return Request(action=action, team=team, region=region, dry_run=event_dry_run is True or env_value in TRUE_WORDS)


# --------------------------------------------------------------------------- tags


def tag_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def leave_alone_reason(tags: dict[str, str], today: dt.date) -> str | None:
    """Why a resource with these tags must not be touched, or None when it may be."""
    if tags.get(contract.ENVIRONMENT_TAG) == contract.PROD_ENVIRONMENT:
        return f"{contract.ENVIRONMENT_TAG}={contract.PROD_ENVIRONMENT} resources are never touched"
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


def mark(run: Run, instances: list[dict[str, Any]], tag_call: Callable[..., Any], what: str, why: str, failure: str) -> None:
    """Add or remove the stopped-by mark on instances already acted on, then report them."""
    for start in range(0, len(instances), EC2_BATCH_SIZE):
        batch = instances[start : start + EC2_BATCH_SIZE]
        try:
            tag_call(Resources=[i["InstanceId"] for i in batch], Tags=[{"Key": contract.STOPPED_BY_TAG, "Value": contract.STOPPED_BY_VALUE}])
        except (ClientError, BotoCoreError) as error:
            for instance in batch:
                run.record("failed", what, f"instance/{instance['InstanceId']}", f"{failure}: {error_text(error)}")
            continue
        for instance in batch:
            run.record("done", what, f"instance/{instance['InstanceId']}", why)


def stop_instances(run: Run, ec2: Any, today: dt.date) -> None:
    why = "running outside the team's schedule"
    running = team_instances(ec2, run.request.team, "running", [])
    chosen = instances_to_act_on(run, running, "stop-instance", why, today)

    def refused(instance: dict[str, Any], error: Exception) -> None:
        resource = f"instance/{instance['InstanceId']}"
        if error_code(error) == SPOT_CANNOT_STOP_CODE and instance.get("InstanceLifecycle") == "spot":
            run.record("skipped", "stop-instance", resource, f"a one-time Spot Instance cannot be stopped ({error_text(error)})")
        else:
            run.record("failed", "stop-instance", resource, error_text(error))

    stopped = in_batches(chosen, lambda ids: ec2.stop_instances(InstanceIds=ids), refused)
    mark(run, stopped, ec2.create_tags, "stop-instance", why, "stopped, but not marked, so start will not restart it")


def start_instances(run: Run, ec2: Any, today: dt.date) -> None:
    why = "stopped by off-hours; the schedule window opens"
    marked = [{"Name": f"tag:{contract.STOPPED_BY_TAG}", "Values": [contract.STOPPED_BY_VALUE]}]
    stopped = team_instances(ec2, run.request.team, "stopped", marked)
    chosen = instances_to_act_on(run, stopped, "start-instance", why, today)

    def refused(instance: dict[str, Any], error: Exception) -> None:
        run.record("failed", "start-instance", f"instance/{instance['InstanceId']}", error_text(error))

    started = in_batches(chosen, lambda ids: ec2.start_instances(InstanceIds=ids), refused)
    # A mark left on a running instance would let a later start restart it after someone
    # stopped it by hand, so a failure to remove it is reported.
    mark(run, started, ec2.delete_tags, "start-instance", why, f"started, but its {contract.STOPPED_BY_TAG} mark stays")


# --------------------------------------------------------------------------- EKS


def team_nodegroups(run: Run, eks: Any, what: str, today: dt.date) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(cluster, name, resource, node group) for the team's node groups on every cluster of the
    region, found by their Team tag; prod and opted-out ones are recorded as skipped, not yielded."""
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
                reason = leave_alone_reason(tags, today)
                if reason:
                    run.record("skipped", what, resource, reason)
                    continue
                yield cluster, name, resource, nodegroup


def scaling_of(nodegroup: dict[str, Any]) -> dict[str, int]:
    config = nodegroup["scalingConfig"]
    return {"minSize": config["minSize"], "maxSize": config["maxSize"], "desiredSize": config["desiredSize"]}


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
            ssm.put_parameter(
                Name=contract.PARAMETER_FORMAT.format(team=run.request.team, cluster=cluster, nodegroup=name),
                Value=json.dumps(current, sort_keys=True),
                Type="String",
                Overwrite=True,
            )
            # EKS refuses maxSize 0 (minimum 1), so max stays as it was:
            # https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupScalingConfig.html
            eks.update_nodegroup_config(
                clusterName=cluster,
                nodegroupName=name,
                scalingConfig={"minSize": 0, "maxSize": max(current["maxSize"], 1), "desiredSize": 0},
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


def start_nodegroups(run: Run, eks: Any, ssm: Any, today: dt.date) -> None:
    for cluster, name, resource, nodegroup in team_nodegroups(run, eks, "restore-nodegroup", today):
        parameter = contract.PARAMETER_FORMAT.format(team=run.request.team, cluster=cluster, nodegroup=name)
        try:
            text = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except ClientError as error:
            if error_code(error) == "ParameterNotFound":
                run.record("skipped", "restore-nodegroup", resource, "no recorded config: off-hours did not scale it down")
            else:
                run.record("failed", "restore-nodegroup", resource, f"could not read {parameter}: {error_text(error)}")
            continue
        except BotoCoreError as error:
            run.record("failed", "restore-nodegroup", resource, f"could not read {parameter}: {error_text(error)}")
            continue
        try:
            scaling = recorded_scaling(text)
        except ValueError as error:
            run.record("failed", "restore-nodegroup", resource, f"{parameter}: {error}")
            continue
        why = f"schedule window opens; restoring {json.dumps(scaling, sort_keys=True)}"
        if run.request.dry_run:
            run.record("done", "restore-nodegroup", resource, why + " (dry run: not restored)")
            continue
        try:
            eks.update_nodegroup_config(clusterName=cluster, nodegroupName=name, scalingConfig=scaling)
            ssm.delete_parameter(Name=parameter)
        except (ClientError, BotoCoreError) as error:
            run.record("failed", "restore-nodegroup", resource, error_text(error))
            continue
        run.record("done", "restore-nodegroup", resource, why)


# --------------------------------------------------------------------------- entry point


def handler(event: Any, context: Any) -> dict[str, Any]:
    function_name = getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or DEFAULT_FUNCTION_NAME
    try:
        request = parse_event(event, os.environ)
    except InvalidEvent as error:
        log_line({"who": {"function": function_name}, "what": {"action": "refuse-event"}, "why": str(error), "outcome": "failed"})
        raise
    run = Run(request=request, function_name=function_name)
    today = dt.datetime.now(dt.timezone.utc).date()
    ec2 = boto3.client("ec2", region_name=request.region, config=RETRY_CONFIG)
    eks = boto3.client("eks", region_name=request.region, config=RETRY_CONFIG)
    ssm = boto3.client("ssm", region_name=request.region, config=RETRY_CONFIG)
    if request.action == "stop":
        steps = ((stop_instances, (ec2, today), "list-instances"), (stop_nodegroups, (eks, ssm, today), "list-nodegroups"))
    else:
        steps = ((start_instances, (ec2, today), "list-instances"), (start_nodegroups, (eks, ssm, today), "list-nodegroups"))
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
            "why": "scheduled off-hours run",
            "outcome": "failed" if run.failed else "done",
            "dry_run": request.dry_run,
            "counts": {"done": len(run.done), "skipped": len(run.skipped), "failed": len(run.failed)},
        }
    )
    return result
