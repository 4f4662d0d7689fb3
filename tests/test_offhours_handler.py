"""The off-hours handler against a moto server on 127.0.0.1, through AWS_ENDPOINT_URL.

The estate: team alpha has 120+ instances in us-east-1 (several DescribeInstances pages of 50)
in every state the handler must tell apart, plus instances in us-west-2; team bravo and
untagged instances share the region; node groups for both teams sit on two shared clusters.

Failures are injected two ways, each said where it is used:
- honest moto behaviour: an instance launched with DisableApiStop refuses StopInstances;
- botocore `before-call` hooks on the handler's boto3 session, for errors moto does not model
  (EC2's refusal to stop a one-time Spot Instance, an EKS node group busy with an update,
  the AccessDenied that the tag-conditioned policy gives for other teams' node groups).
A `before-parameter-build` hook records every operation the handler calls; the last test
checks that set equals the actions permissions.py grants.

moto has no AWS Budgets actions, so the handler's budgets client is a real botocore client
with botocore's Stubber, answering DescribeBudgetActionsForBudget in the documented shape
(https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_DescribeBudgetActionsForBudget.html);
the Stubber checks both the request parameters and the response against the service model.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from generators import naming
from lambdas.offhours import contract
from lambdas.offhours import handler as offhours
from lambdas.offhours.permissions import handler_policy_statements, policy_actions
from tests.moto_server import MotoServer, point_boto3_at

REGION = "us-east-1"
OTHER_REGION = "us-west-2"
AMI = "ami-12c6146b"
ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/genai-shared-nodes"
BUDGET = naming.budget("alpha")
# Every operation the handler called in this module, as IAM actions ("ec2:StopInstances").
CALLED_ACTIONS: set[str] = set()


@dataclass
class Calls:
    """The operations the handler made in one test, in order, as IAM actions."""

    actions: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return self.actions.count(action)


@dataclass
class BudgetActions:
    """What the stubbed AWS Budgets answers the handler: these actions, or this error code."""

    actions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def action(self, action_type: str, status: str) -> None:
        definition = (
            {"IamActionDefinition": {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/genai-finops-alpha-deny-new-gpu", "Roles": ["alpha-ml"]}}
            if action_type == "APPLY_IAM_POLICY"
            else {"SsmActionDefinition": {"ActionSubType": "STOP_EC2_INSTANCES", "Region": REGION, "InstanceIds": ["i-0123456789abcdef0"]}}
        )
        self.actions.append(
            {
                "ActionId": f"{len(self.actions) + 1:08d}-1111-2222-3333-444455556666",
                "BudgetName": BUDGET,
                "NotificationType": "ACTUAL",
                "ActionType": action_type,
                "ActionThreshold": {"ActionThresholdValue": 100.0, "ActionThresholdType": "PERCENTAGE"},
                "Definition": definition,
                "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/genai-finops-alpha-budget-action",
                "ApprovalModel": "AUTOMATIC",
                "Status": status,
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ml-team-alpha@example.com"}],
            }
        )


# The function's environment, as modules/offhours_schedule.py sets it.
FUNCTION_ENVIRONMENT = {
    contract.TEAM_ENV: "alpha",
    contract.REGION_ENV: REGION,
    contract.ACCOUNT_ENV: ACCOUNT,
    contract.BUDGET_ENV: BUDGET,
    contract.BUDGET_TOPIC_ENV: f"arn:aws:sns:{REGION}:{ACCOUNT}:genai-finops-alpha-budget-alerts",
}


def invoke(event: Any, context: Any = None) -> dict[str, Any]:
    """The handler's result, also when a step failed (it then raises StepsFailed with it, so
    Lambda retries the invocation: test_a_failed_step_fails_the_invocation checks that)."""
    try:
        return offhours.handler(event, context)
    except offhours.StepsFailed as failed:
        return failed.result


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    moto.reset()
    monkeypatch.delenv(contract.DRY_RUN_ENV, raising=False)
    for name, value in FUNCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    session = point_boto3_at(moto, monkeypatch, tmp_path_factory)
    calls = Calls()
    budget = BudgetActions()
    real_new_client = offhours.new_client
    creating = threading.Lock()  # a boto3 session is not safe to create clients from in parallel

    def new_client(service: str, region: str) -> Any:
        with creating:
            client = real_new_client(service, region)
        if service == "budgets":
            stubber = Stubber(client)
            expected = {"AccountId": ACCOUNT, "BudgetName": BUDGET, "MaxResults": offhours.BUDGET_PAGE_SIZE}
            if budget.error:
                stubber.add_client_error("describe_budget_actions_for_budget", budget.error, f"{budget.error} (stubbed)", 400, expected_params=expected)
            else:
                stubber.add_response(
                    "describe_budget_actions_for_budget",
                    {"Actions": list(budget.actions)},
                    expected,
                )
            stubber.activate()
        return client

    monkeypatch.setattr(offhours, "new_client", new_client)

    def record(model: Any, **_: Any) -> None:
        action = f"{model.service_model.endpoint_prefix}:{model.name}"
        calls.actions.append(action)
        CALLED_ACTIONS.add(action)

    # before-parameter-build fires for every call, even one a before-call hook answers.
    session.events.register("before-parameter-build", record)
    # The estate is built through the server's own clients, so its calls are not recorded.
    return session, calls, moto, budget


def fail_when(session: boto3.session.Session, operation: str, matches: Callable[[dict], bool], status: int, code: str, message: str) -> None:
    """Answer `operation` with an AWS error, without calling moto, when `matches(request)`."""
    service, name = operation.split(".")

    def answer(params: dict, **_: Any):
        if not matches(params):
            return None
        return AWSResponse(params["url"], status, {}, None), {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}

    session.events.register(f"before-call.{service}.{name}", answer)


# --------------------------------------------------------------------------- the estate


@dataclass
class Estate:
    running: list[str]  # alpha, us-east-1, plain dev instances the handler must stop
    prod: list[str]
    opted_out: list[str]  # expiry in the future or today
    expired_opt_out: list[str]  # expiry yesterday: stopped like any other
    malformed_opt_out: list[str]
    human_stopped: list[str]  # stopped by someone else: start must leave them stopped
    stop_disabled: list[str]  # DisableApiStop: StopInstances fails in moto as in EC2
    spot: list[str]
    bravo: list[str]
    untagged: list[str]
    other_region: list[str]

    @property
    def alpha_stopped_by_handler(self) -> list[str]:
        return self.running + self.expired_opt_out


def tags(team: str | None, environment: str = "dev", **extra: str) -> list[dict[str, str]]:
    values = {"Environment": environment, **extra}
    if team:
        values["Team"] = team
    return [{"Key": key, "Value": value} for key, value in values.items()]


def launch(ec2: Any, count: int, tag_list: list[dict[str, str]], per_reservation: int = 50, **options: Any) -> list[str]:
    spec = [{"ResourceType": "instance", "Tags": tag_list}] if tag_list else []
    ids = []
    for start in range(0, count, per_reservation):
        batch = min(per_reservation, count - start)
        response = ec2.run_instances(
            ImageId=AMI, InstanceType="g5.xlarge", MinCount=batch, MaxCount=batch, TagSpecifications=spec, **options
        )
        ids += [instance["InstanceId"] for instance in response["Instances"]]
    return ids


def build_estate(session: MotoServer, plain: int = 20, per_reservation: int = 50) -> Estate:
    """`plain` running alpha dev instances plus every special case; moto takes ~5 ms per instance."""
    today = dt.datetime.now(dt.timezone.utc).date()
    ec2 = session.client("ec2", region_name=REGION)
    opt_out = contract.OPT_OUT_TAG
    estate = Estate(
        running=launch(ec2, plain, tags("alpha"), per_reservation=per_reservation),
        prod=launch(ec2, 3, tags("alpha", "prod")),
        opted_out=launch(ec2, 2, tags("alpha", **{opt_out: str(today + dt.timedelta(days=30))}))
        + launch(ec2, 1, tags("alpha", **{opt_out: str(today)})),
        expired_opt_out=launch(ec2, 2, tags("alpha", **{opt_out: str(today - dt.timedelta(days=1))})),
        malformed_opt_out=launch(ec2, 1, tags("alpha", **{opt_out: "next-friday"}))
        + launch(ec2, 1, tags("alpha", **{opt_out: "2026-02-30"})),
        human_stopped=launch(ec2, 3, tags("alpha")),
        stop_disabled=launch(ec2, 1, tags("alpha"), DisableApiStop=True),
        spot=launch(
            ec2, 1, tags("alpha"), InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {"SpotInstanceType": "one-time"}}
        ),
        bravo=launch(ec2, 5, tags("bravo")),
        untagged=launch(ec2, 2, []),
        other_region=launch(session.client("ec2", region_name=OTHER_REGION), 3, tags("alpha")),
    )
    ec2.stop_instances(InstanceIds=estate.human_stopped)

    for region, clusters in NODEGROUPS.items():
        eks = session.client("eks", region_name=region)
        for cluster, groups in clusters.items():
            eks.create_cluster(name=cluster, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-0a1b2c3d4e5f60001"]})
            for name, (team, scaling, extra) in groups.items():
                eks.create_nodegroup(
                    clusterName=cluster,
                    nodegroupName=name,
                    nodeRole=ROLE,
                    subnets=["subnet-0a1b2c3d4e5f60001"],
                    scalingConfig=dict(zip(("minSize", "maxSize", "desiredSize"), scaling)),
                    tags={"Team": team, "Environment": "dev", **extra},
                )
    return estate


FUTURE = str(dt.date.today() + dt.timedelta(days=60))
# region -> cluster -> node group -> (Team tag, (min, max, desired), extra tags)
NODEGROUPS: dict[str, dict[str, dict[str, tuple[str, tuple[int, int, int], dict[str, str]]]]] = {
    REGION: {
        "genai-shared": {
            "alpha-chatbot": ("alpha", (1, 4, 2), {}),
            "alpha-serving": ("alpha", (1, 2, 1), {"Environment": "prod"}),
            "alpha-pinned": ("alpha", (1, 3, 1), {contract.OPT_OUT_TAG: FUTURE}),
            "alpha-idle": ("alpha", (0, 2, 0), {}),
            "bravo-serving": ("bravo", (2, 8, 4), {}),
        },
        "genai-extra": {"alpha-embed": ("alpha", (2, 6, 3), {})},
    },
    OTHER_REGION: {"genai-west": {"alpha-west": ("alpha", (1, 3, 2), {})}},
}


def snapshot(session: MotoServer) -> dict[tuple[str, ...], Any]:
    """Every instance's state and tags, every node group's scaling, every recorded parameter."""
    state: dict[tuple[str, ...], Any] = {}
    for region in (REGION, OTHER_REGION):
        ec2 = session.client("ec2", region_name=region)
        for page in ec2.get_paginator("describe_instances").paginate():
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    state[(region, instance["InstanceId"])] = (
                        instance["State"]["Name"],
                        frozenset((t["Key"], t["Value"]) for t in instance.get("Tags", [])),
                    )
        eks = session.client("eks", region_name=region)
        for cluster in eks.list_clusters()["clusters"]:
            for name in eks.list_nodegroups(clusterName=cluster)["nodegroups"]:
                state[(region, cluster, name)] = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"][
                    "scalingConfig"
                ]
        ssm = session.client("ssm", region_name=region)
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True):
            for parameter in page["Parameters"]:
                state[(region, "ssm", parameter["Name"])] = parameter["Value"]
    return state


def instance_states(session: MotoServer, ids: list[str], region: str = REGION) -> dict[str, str]:
    ec2 = session.client("ec2", region_name=region)
    pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
    return {i["InstanceId"]: i["State"]["Name"] for page in pages for r in page["Reservations"] for i in r["Instances"]}


def marked(session: MotoServer, ids: list[str]) -> set[str]:
    ec2 = session.client("ec2", region_name=REGION)
    pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
    return {
        i["InstanceId"]
        for page in pages
        for r in page["Reservations"]
        for i in r["Instances"]
        if {"Key": contract.STOPPED_BY_TAG, "Value": contract.STOPPED_BY_VALUE} in i.get("Tags", [])
    }


def scaling(session: MotoServer, cluster: str, name: str, region: str = REGION) -> tuple[int, int, int]:
    config = session.client("eks", region_name=region).describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"][
        "scalingConfig"
    ]
    return config["minSize"], config["maxSize"], config["desiredSize"]


def event(action: str, **overrides: Any) -> dict[str, Any]:
    return {"action": action, "team": "alpha", "region": REGION, "dry_run": False, **overrides}


def refuse_spot(session: boto3.session.Session, spot_id: str) -> None:
    # moto stops one-time Spot Instances; EC2 refuses with this code and message.
    fail_when(
        session,
        "ec2.StopInstances",
        # EC2 refuses the whole request when any id in it is such an instance.
        lambda request: spot_id in request["body"].values(),
        400,
        "UnsupportedOperation",
        f"You can't stop the Spot Instance '{spot_id}' because it is associated with a one-time Spot Instance request.",
    )


def resources(entries: list[dict[str, Any]], prefix: str = "instance/") -> set[str]:
    return {e["resource"].removeprefix(prefix) for e in entries if e["resource"].startswith(prefix)}


# --------------------------------------------------------------------------- stop


def test_stop_stops_and_marks_every_running_team_instance_across_describe_pages(aws):
    session, calls, setup, _ = aws
    # moto pages DescribeInstances by reservation (EC2 by instance): 55 reservations of 2.
    estate = build_estate(setup, plain=110, per_reservation=2)
    refuse_spot(session, estate.spot[0])

    result = invoke(event("stop"))

    stopped = estate.alpha_stopped_by_handler
    assert resources(result["done"]) == set(stopped)
    assert set(instance_states(setup, stopped).values()) == {"stopped"}
    assert marked(setup, stopped) == set(stopped)
    # 63 reservations of running alpha instances in us-east-1, at most 50 per page.
    assert calls.count("ec2:DescribeInstances") == 2


def test_stop_leaves_other_teams_regions_untagged_and_already_stopped_instances_alone(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    invoke(event("stop"))

    assert set(instance_states(setup, estate.bravo + estate.untagged).values()) == {"running"}
    assert set(instance_states(setup, estate.other_region, OTHER_REGION).values()) == {"running"}
    assert marked(setup, estate.human_stopped) == set()


def test_stop_skips_prod_and_opted_out_instances_with_reasons_until_the_expiry_date_inclusive(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    result = invoke(event("stop"))

    skipped = {e["resource"].removeprefix("instance/"): e["why"] for e in result["skipped"] if e["resource"].startswith("instance/")}
    assert set(instance_states(setup, estate.prod + estate.opted_out + estate.malformed_opt_out).values()) == {"running"}
    assert all("Environment=prod" in skipped[i] for i in estate.prod)
    assert all("opted out" in skipped[i] for i in estate.opted_out)
    assert all("not a YYYY-MM-DD date" in skipped[i] for i in estate.malformed_opt_out)
    assert not set(estate.expired_opt_out) & set(skipped)


def test_one_time_spot_instance_is_skipped_not_failed(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    result = invoke(event("stop"))

    spot = [e for e in result["skipped"] if e["resource"] == f"instance/{estate.spot[0]}"]
    assert len(spot) == 1 and "one-time Spot Instance cannot be stopped" in spot[0]["why"]
    assert f"instance/{estate.spot[0]}" not in {e["resource"] for e in result["failed"]}


def test_an_instance_that_refuses_to_stop_is_reported_failed_and_the_rest_still_stop(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    result = invoke(event("stop"))

    assert [e["resource"] for e in result["failed"]] == [f"instance/{estate.stop_disabled[0]}"]
    assert "OperationNotPermitted" in result["failed"][0]["why"]
    assert instance_states(setup, estate.stop_disabled) == {estate.stop_disabled[0]: "running"}
    assert set(instance_states(setup, estate.running).values()) == {"stopped"}


def test_stop_records_each_team_nodegroup_scaling_in_ssm_and_scales_it_to_zero_keeping_max(aws):
    _, _, setup, _ = aws
    build_estate(setup)

    result = invoke(event("stop"))

    ssm = setup.client("ssm", region_name=REGION)
    for cluster, name, before in (("genai-shared", "alpha-chatbot", (1, 4, 2)), ("genai-extra", "alpha-embed", (2, 6, 3))):
        assert scaling(setup, cluster, name) == (0, before[1], 0)
        recorded = json.loads(ssm.get_parameter(Name=naming.offhours_parameter("alpha", cluster, name))["Parameter"]["Value"])
        assert (recorded["minSize"], recorded["maxSize"], recorded["desiredSize"]) == before
    assert resources(result["done"], "nodegroup/") == {"genai-shared/alpha-chatbot", "genai-extra/alpha-embed"}
    assert scaling(setup, "genai-shared", "bravo-serving") == (2, 8, 4)
    assert scaling(setup, "genai-shared", "alpha-serving") == (1, 2, 1)
    assert scaling(setup, "genai-shared", "alpha-pinned") == (1, 3, 1)
    assert scaling(setup, "genai-west", "alpha-west", OTHER_REGION) == (1, 3, 2)
    skipped = resources(result["skipped"], "nodegroup/")
    assert {"genai-shared/alpha-serving", "genai-shared/alpha-pinned", "genai-shared/alpha-idle"} <= skipped


def test_a_nodegroup_that_fails_to_scale_is_reported_and_the_others_still_scale(aws):
    session, _, setup, _ = aws
    build_estate(setup)
    # moto applies every update at once; EKS refuses one while another is in progress.
    fail_when(
        session,
        "eks.UpdateNodegroupConfig",
        lambda request: "/node-groups/alpha-embed/" in request["url_path"],
        409,
        "ResourceInUseException",
        "Nodegroup alpha-embed is currently being updated",
    )

    result = invoke(event("stop"))

    failed = [e for e in result["failed"] if e["resource"].startswith("nodegroup/")]
    assert [e["resource"] for e in failed] == ["nodegroup/genai-extra/alpha-embed"]
    assert "ResourceInUseException" in failed[0]["why"]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)


def test_nodegroups_the_role_may_not_describe_are_not_reported_as_failures(aws):
    session, _, setup, _ = aws
    build_estate(setup)
    # The tag-conditioned policy lets the role describe only its team's node groups.
    fail_when(
        session,
        "eks.DescribeNodegroup",
        lambda request: "/node-groups/bravo-" in request["url_path"],
        403,
        "AccessDeniedException",
        "not authorized to perform: eks:DescribeNodegroup",
    )

    result = invoke(event("stop"))

    assert not [e for e in result["failed"] if e["resource"].startswith("nodegroup/")]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)


def test_a_second_stop_keeps_the_scaling_recorded_by_the_first(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    invoke(event("stop"))
    recorded = snapshot(setup)

    result = invoke(event("stop"))

    assert snapshot(setup) == recorded
    assert result["done"] == []


# --------------------------------------------------------------------------- start


def test_start_after_stop_restores_exactly_the_previous_state(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    before = snapshot(setup)

    stop = invoke(event("stop"))
    start = invoke(event("start"))

    assert snapshot(setup) == before
    assert resources(start["done"]) == resources(stop["done"])
    assert resources(start["done"], "nodegroup/") == resources(stop["done"], "nodegroup/")
    assert start["failed"] == []


def test_start_starts_only_instances_this_handler_stopped(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    invoke(event("stop"))

    result = invoke(event("start"))

    assert resources(result["done"]) == set(estate.alpha_stopped_by_handler)
    assert set(instance_states(setup, estate.human_stopped).values()) == {"stopped"}
    assert set(instance_states(setup, estate.alpha_stopped_by_handler).values()) == {"running"}


def test_start_without_a_recorded_config_leaves_nodegroups_as_they_are(aws):
    _, _, setup, _ = aws
    build_estate(setup)

    result = invoke(event("start"))

    assert result["done"] == [] and result["failed"] == []
    assert scaling(setup, "genai-shared", "alpha-idle") == (0, 2, 0)
    reasons = skipped_why(result)
    assert "no recorded config" in reasons["nodegroup/genai-shared/alpha-chatbot"]


def test_a_corrupt_recorded_config_fails_that_nodegroup_only(aws):
    _, _, setup, _ = aws
    build_estate(setup)
    invoke(event("stop"))
    parameter = naming.offhours_parameter("alpha", "genai-shared", "alpha-chatbot")
    setup.client("ssm", region_name=REGION).put_parameter(Name=parameter, Value='{"minSize": -1}', Type="String", Overwrite=True)

    result = invoke(event("start"))

    assert [e["resource"] for e in result["failed"]] == ["nodegroup/genai-shared/alpha-chatbot"]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)
    assert scaling(setup, "genai-extra", "alpha-embed") == (2, 6, 3)


def add_nodegroup(setup: MotoServer, name: str, scaling: tuple[int, int, int], **tags: str) -> None:
    """Another alpha node group on genai-shared; `tags` as Terraform sets them (bounds and all)."""
    setup.client("eks", region_name=REGION).create_nodegroup(
        clusterName="genai-shared",
        nodegroupName=name,
        nodeRole=ROLE,
        subnets=["subnet-0a1b2c3d4e5f60001"],
        scalingConfig=dict(zip(("minSize", "maxSize", "desiredSize"), scaling)),
        tags={"Team": "alpha", "Environment": "dev", **tags},
    )


def skipped_why(result: dict) -> dict[str, str]:
    """Why the handler left each resource alone, by resource."""
    return {entry["resource"]: entry["why"] for entry in result["skipped"]}


def bounds(low: int, high: int) -> dict[str, str]:
    return {contract.MIN_NODES_TAG: str(low), contract.MAX_NODES_TAG: str(high)}


def autoscaler_sets(setup: MotoServer, name: str, desired: int, cluster: str = "genai-shared") -> None:
    """What cluster-autoscaler does: change only the desired size, within min..max."""
    eks = setup.client("eks", region_name=REGION)
    current = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]["scalingConfig"]
    eks.update_nodegroup_config(clusterName=cluster, nodegroupName=name, scalingConfig={**current, "desiredSize": desired})


# --------------------------------------------------------------------------- overlapping runs


def test_a_stop_after_the_autoscaler_scaled_up_again_keeps_the_first_record(aws):
    """Without reserved concurrency a retried or duplicated stop can run after the autoscaler
    brought nodes back; overwriting the record then would restore the night's size in the morning."""
    _, _, setup, _ = aws
    build_estate(setup, plain=2)
    invoke(event("stop"))
    autoscaler_sets(setup, "alpha-chatbot", 2)  # min is 0 at night, max still 4

    second = invoke(event("stop"))
    kept = [e for e in second["done"] if e["resource"] == "nodegroup/genai-shared/alpha-chatbot"]
    assert len(kept) == 1 and "an earlier stop recorded is kept" in kept[0]["why"]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)

    invoke(event("start"))
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (1, 4, 2)


@pytest.mark.parametrize("runs", [2, 4])
def test_overlapping_invocations_end_as_one_would(aws, runs):
    """`runs` stops at once, then `runs` starts at once, against the same estate."""
    session, _, setup, _ = aws
    estate = build_estate(setup, plain=30)
    refuse_spot(session, estate.spot[0])
    before = snapshot(setup)

    def together(action: str) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{}] * runs
        gate = threading.Barrier(runs)

        def one(index: int) -> None:
            gate.wait()
            results[index] = invoke(event(action))

        threads = [threading.Thread(target=one, args=(index,)) for index in range(runs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        return results

    stops = together("stop")
    assert set(instance_states(setup, estate.alpha_stopped_by_handler).values()) == {"stopped"}
    assert marked(setup, estate.alpha_stopped_by_handler) == set(estate.alpha_stopped_by_handler)
    assert scaling(setup, "genai-shared", "alpha-chatbot")[::2] == (0, 0)
    # Every run found the same work; none failed on anything but the instance that refuses to stop.
    assert all({e["resource"] for e in r["failed"]} == {f"instance/{estate.stop_disabled[0]}"} for r in stops)

    starts = together("start")
    assert snapshot(setup) == before
    assert all(r["failed"] == [] for r in starts)


# --------------------------------------------------------------------------- budget hold


@pytest.mark.parametrize("action_type", ["RUN_SSM_DOCUMENTS", "APPLY_IAM_POLICY"])
def test_start_restarts_nothing_while_a_budget_action_is_in_force(aws, action_type):
    session, calls, setup, budget = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    invoke(event("stop"))
    budget.action(action_type, "EXECUTION_SUCCESS")

    held = invoke(event("start"))

    stopped = estate.alpha_stopped_by_handler
    assert set(instance_states(setup, stopped).values()) == {"stopped"}
    # Still marked, so the first start after the action ends restarts them.
    assert marked(setup, stopped) == set(stopped)
    assert all("budget genai-finops-alpha is over" in e["why"] for e in held["skipped"] if e["resource"].startswith("instance/"))
    # Pools stay at zero with max capped at EKS's minimum of 1, their records kept.
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 1, 0)
    assert scaling(setup, "genai-extra", "alpha-embed") == (0, 1, 0)
    ssm = setup.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name=naming.offhours_parameter("alpha", "genai-shared", "alpha-chatbot"))["Parameter"]["Value"]
    assert "ec2:StartInstances" not in calls.actions

    budget.actions.clear()
    budget.action(action_type, "REVERSE_SUCCESS")  # reset by AWS Budgets or by hand
    invoke(event("start"))
    assert set(instance_states(setup, stopped).values()) == {"running"}
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (1, 4, 2)
    assert scaling(setup, "genai-extra", "alpha-embed") == (2, 6, 3)


@pytest.mark.parametrize("status", sorted(contract.BUDGET_ACTION_IN_FORCE))
def test_every_in_force_status_holds_and_standby_does_not(aws, status):
    _, _, setup, budget = aws
    estate = build_estate(setup, plain=2)
    invoke(event("stop"))
    budget.action("RUN_SSM_DOCUMENTS", "STANDBY")
    budget.action("RUN_SSM_DOCUMENTS", status)

    invoke(event("start"))

    assert set(instance_states(setup, estate.running).values()) == {"stopped"}


def test_start_fails_closed_when_the_budget_cannot_be_read(aws):
    _, _, setup, budget = aws
    estate = build_estate(setup, plain=2)
    invoke(event("stop"))
    budget.error = "AccessDeniedException"

    result = invoke(event("start"))

    assert set(instance_states(setup, estate.running).values()) == {"stopped"}
    (failure,) = [e for e in result["failed"] if e["what"] == "read-budget-actions"]
    assert failure["resource"] == f"budget/{BUDGET}" and "AccessDeniedException" in failure["why"]


def test_start_fails_closed_without_the_budget_in_its_environment(aws, monkeypatch):
    _, calls, setup, _ = aws
    estate = build_estate(setup, plain=2)
    invoke(event("stop"))
    monkeypatch.delenv(contract.BUDGET_ENV)

    result = invoke(event("start"))

    assert set(instance_states(setup, estate.running).values()) == {"stopped"}
    assert any(e["what"] == "read-budget-actions" for e in result["failed"])
    assert "budgets:DescribeBudgetActionsForBudget" not in calls.actions


# --------------------------------------------------------------------------- bounds: start, sync, cap


def test_start_restores_to_the_manifests_bounds_when_they_changed(aws):
    """An apply changes only the bound tags (Terraform ignores the scaling): here the manifest
    says 2..2 while the pool still runs 1..4; start applies the tags, not the recorded bounds."""
    _, _, setup, _ = aws
    build_estate(setup, plain=1)
    add_nodegroup(setup, "alpha-resized", (1, 4, 3), **bounds(2, 2))
    invoke(event("stop"))
    assert scaling(setup, "genai-shared", "alpha-resized") == (0, 4, 0)

    invoke(event("start"))

    # desired 3 from the record, clamped into the new 2..2
    assert scaling(setup, "genai-shared", "alpha-resized") == (2, 2, 2)


def test_sync_applies_changed_bounds_by_day_keeping_the_autoscalers_desired_size(aws):
    _, _, setup, _ = aws
    build_estate(setup, plain=1)
    add_nodegroup(setup, "alpha-grown", (1, 4, 3), **bounds(0, 8))
    add_nodegroup(setup, "alpha-shrunk", (1, 4, 3), **bounds(1, 2))
    add_nodegroup(setup, "alpha-prod", (1, 2, 1), Environment="prod", **bounds(2, 3))

    result = invoke(event("sync"))

    assert scaling(setup, "genai-shared", "alpha-grown") == (0, 8, 3)
    assert scaling(setup, "genai-shared", "alpha-shrunk") == (1, 2, 2)
    # bounds are the manifest's whatever the environment: prod pools follow them too
    assert scaling(setup, "genai-shared", "alpha-prod") == (2, 3, 2)
    # node groups without bound tags (made outside genai-finops) are left alone
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (1, 4, 2)
    assert "no valid genai-finops:min-nodes" in skipped_why(result)["nodegroup/genai-shared/alpha-chatbot"]


def test_sync_leaves_a_pool_off_hours_holds_at_zero(aws):
    """An apply at night (which invokes sync) must not bring nodes back."""
    _, _, setup, _ = aws
    build_estate(setup, plain=1)
    add_nodegroup(setup, "alpha-night", (1, 4, 2), **bounds(2, 6))
    invoke(event("stop"))

    result = invoke(event("sync"))

    assert scaling(setup, "genai-shared", "alpha-night") == (0, 4, 0)
    assert "off-hours holds it" in skipped_why(result)["nodegroup/genai-shared/alpha-night"]


def test_sync_does_not_lift_a_budget_cap_while_the_action_is_in_force(aws):
    _, _, setup, budget = aws
    build_estate(setup, plain=1)
    add_nodegroup(setup, "alpha-capped", (0, 1, 1), **bounds(0, 8))
    budget.action("APPLY_IAM_POLICY", "EXECUTION_SUCCESS")

    invoke(event("sync"))
    assert scaling(setup, "genai-shared", "alpha-capped") == (0, 1, 1)

    budget.actions.clear()
    invoke(event("sync"))
    assert scaling(setup, "genai-shared", "alpha-capped") == (0, 8, 1)


SNS_EVENT = {
    "Records": [
        {
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:genai-finops-alpha-budget-alerts:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
            "Sns": {
                "Type": "Notification",
                "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:genai-finops-alpha-budget-alerts",
                "Subject": "AWS Budgets: genai-finops-alpha has exceeded your alert threshold",
                "Message": "AWS Budget Notification ...",
            },
        }
    ]
}


def test_the_budget_topic_caps_every_team_pool_at_its_current_size_when_the_action_fired(aws):
    _, _, setup, budget = aws
    build_estate(setup, plain=1)
    autoscaler_sets(setup, "alpha-chatbot", 3)
    budget.action("APPLY_IAM_POLICY", "EXECUTION_SUCCESS")

    result = invoke(SNS_EVENT)

    assert result["action"] == "cap" and result["team"] == "alpha"
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (1, 3, 3)
    assert scaling(setup, "genai-extra", "alpha-embed") == (2, 3, 3)
    # a budget binds prod and opted-out pools too; an idle pool keeps EKS's minimum max of 1
    assert scaling(setup, "genai-shared", "alpha-serving") == (1, 1, 1)
    assert scaling(setup, "genai-shared", "alpha-pinned") == (1, 1, 1)
    assert scaling(setup, "genai-shared", "alpha-idle") == (0, 1, 0)
    assert scaling(setup, "genai-shared", "bravo-serving") == (2, 8, 4)
    assert scaling(setup, "genai-west", "alpha-west", OTHER_REGION) == (1, 3, 2)


def test_an_alert_below_the_action_threshold_caps_nothing(aws):
    _, _, setup, budget = aws
    build_estate(setup, plain=1)
    budget.action("APPLY_IAM_POLICY", "STANDBY")  # a 50 % alert: the action has not fired
    before = snapshot(setup)

    result = invoke(SNS_EVENT)

    assert snapshot(setup) == before and result["done"] == []


def test_an_sns_event_needs_the_function_environment(aws, monkeypatch):
    _, calls, _, _ = aws
    monkeypatch.delenv(contract.TEAM_ENV)
    with pytest.raises(offhours.InvalidEvent, match="GENAI_FINOPS_TEAM must name the team"):
        invoke(SNS_EVENT)
    assert calls.actions == []


# --------------------------------------------------------------------------- dry run, bad events, logs


@pytest.mark.parametrize("how", ["event", "environment"])
@pytest.mark.parametrize("action", ["stop", "start"])
def test_dry_run_reports_what_it_would_do_and_changes_nothing(aws, monkeypatch, how, action):
    session, calls, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    if action == "start":
        invoke(event("stop"))
    before = snapshot(setup)
    calls.actions.clear()
    if how == "environment":
        monkeypatch.setenv(contract.DRY_RUN_ENV, "true")

    result = invoke(event(action, dry_run=how == "event"))

    assert snapshot(setup) == before
    assert result["dry_run"] is True
    # A dry run does not call StopInstances, so it cannot learn which instances would refuse.
    would_refuse = estate.stop_disabled + estate.spot if action == "stop" else []
    assert resources(result["done"]) == set(estate.alpha_stopped_by_handler + would_refuse)
    read_only = {
        "ec2:DescribeInstances", "eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup", "ssm:GetParameter",
        "budgets:DescribeBudgetActionsForBudget",
    }
    assert set(calls.actions) <= read_only


MALFORMED_EVENTS = [
    ("stop", "event must be a JSON object"),
    ({"team": "alpha", "region": REGION}, "action must be one of ['stop', 'start', 'sync', 'cap'], got None"),
    (event("shutdown"), "action must be one of"),
    (event("stop", team="Alpha Team"), "team must be a team name"),
    (event("stop", region="mars-1"), "region must be an AWS region code"),
    (event("stop", dry_run="false"), "dry_run must be true or false, got 'false'"),
    (event("stop", force=True), "unknown keys ['force']"),
    (event("stop", team="bravo"), "team 'bravo' is not this function's team (GENAI_FINOPS_TEAM='alpha')"),
    ({"Records": [{"EventSource": "aws:sqs"}]}, "Records must be a non-empty list of aws:sns notifications"),
    ({"Records": []}, "Records must be a non-empty list of aws:sns notifications"),
]


def test_malformed_events_are_refused_with_a_clear_error_and_change_nothing(aws):
    # One estate for every case: building one per case would double this module's run time.
    _, calls, setup, _ = aws
    build_estate(setup, plain=3)
    before = snapshot(setup)

    for bad, message in MALFORMED_EVENTS:
        with pytest.raises(offhours.InvalidEvent, match="nothing was changed") as refused:
            invoke(bad)
        assert message in str(refused.value), bad

    assert calls.actions == []
    assert snapshot(setup) == before


def test_an_unreadable_dry_run_environment_variable_is_refused(aws, monkeypatch):
    _, calls, _, _ = aws
    monkeypatch.setenv(contract.DRY_RUN_ENV, "maybe")

    with pytest.raises(offhours.InvalidEvent, match="OFFHOURS_DRY_RUN must be true or false"):
        invoke(event("stop"))
    assert calls.actions == []


def test_every_action_is_one_json_log_line_saying_who_what_and_why(aws, capsys):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    capsys.readouterr()

    context = type("Context", (), {"function_name": "genai-finops-offhours-alpha"})()
    result = invoke(event("stop"), context)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    actions = [line for line in lines if not line["what"]["action"].endswith("-summary")]
    assert len(actions) == len(result["done"]) + len(result["skipped"]) + len(result["failed"])
    assert {line["outcome"] for line in actions} == {"done", "skipped", "failed"}
    for line in actions:
        assert line["who"] == {"function": "genai-finops-offhours-alpha", "team": "alpha"}
        assert line["what"]["resource"] and line["what"]["action"] and line["why"]
    summary = lines[-1]
    assert summary["what"]["action"] == "stop-summary"
    assert summary["counts"] == {"done": len(result["done"]), "skipped": len(result["skipped"]), "failed": len(result["failed"])}


# --------------------------------------------------------------------------- contract and policy


def test_parameter_name_format_agrees_with_generators_naming():
    for team, cluster, group in (("alpha", "genai-shared", "alpha-chatbot"), ("team-b2", "c", "team-b2-x")):
        assert contract.PARAMETER_FORMAT.format(team=team, cluster=cluster, nodegroup=group) == naming.offhours_parameter(
            team, cluster, group
        )
        assert naming.offhours_parameter(team, cluster, group).startswith(contract.PARAMETER_PREFIX_FORMAT.format(team=team))


def test_handler_imports_alone_from_the_lambda_archive_layout(tmp_path):
    # Lambda puts the runtime files at the archive root, with no lambdas/ package.
    from modules.offhours_schedule import RUNTIME_FILES

    source = Path(offhours.__file__).parent
    for name in RUNTIME_FILES:
        shutil.copy(source / name, tmp_path / name)
    # The repository is installed editable, so `lambdas` would be importable: check it is not imported.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import handler; "
        "assert not {'lambdas', 'generators'} & set(sys.modules), sorted(sys.modules); "
        "print(handler.handler.__module__, sys.modules['contract'].__file__)"
    )
    done = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["handler", str(tmp_path / "contract.py")]


def test_policy_uses_resource_star_only_for_actions_without_resource_level_permissions():
    statements = handler_policy_statements("alpha", REGION, "123456789012", BUDGET, spot_training=True)
    star = {action for s in statements if s["Resource"] == "*" for action in s["Action"]}
    assert star == {"ec2:DescribeInstances", "eks:ListClusters", "ec2:DescribeSpotInstanceRequests"}
    assert not {"ec2:DescribeSpotInstanceRequests", "ec2:CancelSpotInstanceRequests"} & policy_actions(
        handler_policy_statements("alpha", REGION, "123456789012", BUDGET)
    )
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Resource"] != "*":
            assert statement["Resource"].startswith(
                ("arn:aws:ec2:us-east-1:123456789012:", "arn:aws:eks:us-east-1:123456789012:", "arn:aws:ssm:us-east-1:123456789012:")
            ) or statement["Resource"] == f"arn:aws:budgets::123456789012:budget/{BUDGET}"


def test_policy_limits_every_change_to_the_teams_tagged_resources_and_parameters():
    statements = handler_policy_statements("bravo", REGION, "123456789012", naming.budget("bravo"), partition="aws-cn")
    by_action = {action: s for s in statements for action in s["Action"]}
    for action in ("ec2:StopInstances", "ec2:StartInstances", "ec2:CreateTags", "ec2:DeleteTags", "eks:UpdateNodegroupConfig", "eks:DescribeNodegroup"):
        assert by_action[action]["Condition"]["StringEquals"]["aws:ResourceTag/Team"] == "bravo"
    for action in ("ec2:CreateTags", "ec2:DeleteTags"):
        assert by_action[action]["Condition"]["ForAllValues:StringEquals"] == {"aws:TagKeys": [contract.STOPPED_BY_TAG]}
    assert by_action["ssm:PutParameter"]["Resource"] == "arn:aws-cn:ssm:us-east-1:123456789012:parameter/genai-finops/offhours/bravo/*"
    # Read-only, and only the team's own budget.
    assert by_action["budgets:DescribeBudgetActionsForBudget"]["Resource"] == "arn:aws-cn:budgets::123456789012:budget/genai-finops-bravo"


def test_policy_grants_exactly_the_api_calls_the_handler_makes(aws, monkeypatch):
    # Runs a full stop/start cycle itself so the check holds whatever order tests run in;
    # every other test's calls in this module are in CALLED_ACTIONS too.
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    invoke(event("stop"))
    invoke(event("start"))
    invoke(event("sync"))
    # a team with spot training also finds and cancels orphaned spot requests on sync
    an_orphaned_request(session, setup, monkeypatch)
    invoke(event("sync"))

    assert CALLED_ACTIONS == policy_actions(handler_policy_statements("alpha", REGION, "123456789012", BUDGET, spot_training=True))


# --------------------------------------------------------------------------- faults (issue 22)


def test_a_throttled_mark_stops_nothing_fails_the_invocation_and_a_repeat_finishes(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    throttled = {"on": True}
    fail_when(session, "ec2.CreateTags", lambda _: throttled["on"], 400, "RequestLimitExceeded", "Request limit exceeded.")

    with pytest.raises(offhours.StepsFailed) as failed:
        offhours.handler(event("stop"), None)

    # Recorded before stopped: with no mark, nothing was stopped, so start can never miss one.
    assert set(instance_states(setup, estate.alpha_stopped_by_handler).values()) == {"running"}
    assert marked(setup, estate.alpha_stopped_by_handler) == set()
    assert resources(failed.value.result["failed"]) >= set(estate.alpha_stopped_by_handler)
    assert all("not marked, so not stopped" in e["why"] for e in failed.value.result["failed"] if e["resource"].startswith("instance/")
               and e["resource"].removeprefix("instance/") in estate.alpha_stopped_by_handler)
    assert "RequestLimitExceeded" in str(failed.value)

    throttled["on"] = False  # Lambda's retry, once the throttling has passed
    result = invoke(event("stop"))
    assert set(instance_states(setup, estate.alpha_stopped_by_handler).values()) == {"stopped"}
    assert marked(setup, estate.alpha_stopped_by_handler) == set(estate.alpha_stopped_by_handler)
    assert resources(result["done"]) == set(estate.alpha_stopped_by_handler)


def test_an_instance_marked_but_not_stopped_loses_its_mark(aws):
    session, _, setup, _ = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    with pytest.raises(offhours.StepsFailed):
        offhours.handler(event("stop"), None)

    # DisableApiStop refused the stop: a mark left on a running instance would let a later
    # start restart it after someone stopped it by hand.
    assert instance_states(setup, estate.stop_disabled) == {estate.stop_disabled[0]: "running"}
    assert marked(setup, estate.stop_disabled) == set()
    assert marked(setup, estate.spot) == set()


def test_a_stop_that_arrives_after_its_window_is_skipped_with_a_record(aws):
    import datetime as dt

    _, calls, setup, _ = aws
    estate = build_estate(setup)
    before = snapshot(setup)
    late = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=contract.LATE_AFTER_SECONDS + 60)).strftime("%Y-%m-%dT%H:%M:%SZ")

    result = invoke(event("stop", scheduled_time=late))

    assert snapshot(setup) == before and calls.actions == []
    assert [e["what"] for e in result["skipped"]] == ["stop"] and "after its scheduled time" in result["skipped"][0]["why"]

    on_time = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    invoke(event("stop", scheduled_time=on_time))
    assert set(instance_states(setup, estate.running).values()) == {"stopped"}


@pytest.mark.parametrize(
    "overrides, refusal",
    [
        ({"region": OTHER_REGION}, f"region '{OTHER_REGION}' is not this function's region"),
        ({"scheduled_time": "yesterday"}, "scheduled_time must be a UTC time"),
        ({"scheduled_time": "2026-10-05T19:00:00"}, "scheduled_time must be a UTC time"),
    ],
)
def test_an_event_for_another_region_or_with_a_bad_time_is_refused(aws, overrides, refusal):
    _, calls, _, _ = aws
    with pytest.raises(offhours.InvalidEvent, match=refusal):
        offhours.handler(event("stop", **overrides), None)
    assert calls.actions == []


def test_a_notification_from_another_topic_caps_nothing(aws):
    _, calls, setup, budget = aws
    build_estate(setup)
    budget.action("APPLY_IAM_POLICY", "EXECUTION_SUCCESS")
    before = snapshot(setup)
    forged = json.loads(json.dumps(SNS_EVENT))
    forged["Records"][0]["Sns"]["TopicArn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:someone-elses-topic"

    with pytest.raises(offhours.InvalidEvent, match="must come from the team's budget topic"):
        offhours.handler(forged, None)
    assert snapshot(setup) == before and calls.actions == []


@pytest.mark.parametrize("value", ["Prod", "PROD", " prod "])
def test_prod_in_any_case_is_never_stopped(aws, value):
    _, _, setup, _ = aws
    ec2 = setup.client("ec2", region_name=REGION)
    (instance,) = launch(ec2, 1, tags("alpha", environment=value))

    result = invoke(event("stop"))

    assert instance_states(setup, [instance]) == {instance: "running"}
    assert f"instance/{instance}" in {e["resource"] for e in result["skipped"]}


# --------------------------------------------------------------------------- orphaned spot requests (issue 23)


def spot_request(setup: MotoServer, profile: str, kind: str = "persistent") -> tuple[str, str]:
    """(request id, the instance moto launched for it) for a request launching with `profile`."""
    answer = setup.client("ec2", region_name=REGION).request_spot_instances(
        InstanceCount=1, Type=kind, LaunchSpecification={"ImageId": AMI, "InstanceType": "g5.xlarge", "IamInstanceProfile": {"Name": profile}},
    )["SpotInstanceRequests"][0]
    return answer["SpotInstanceRequestId"], answer.get("InstanceId", "")


def answer_like_ec2(session: boto3.session.Session, profiles: dict[str, str], fresh: set[str] = frozenset()) -> None:
    """moto's DescribeSpotInstanceRequests leaves out the launch specification's
    IamInstanceProfile (EC2 returns it: API_LaunchSpecification) and dates every request
    2015-01-01: the profile each request was made with goes back in, and `fresh` ones are an
    instant old."""

    def complete(parsed: dict[str, Any], **_: Any) -> None:
        for request in parsed.get("SpotInstanceRequests", []):
            name = profiles.get(request["SpotInstanceRequestId"])
            if name:
                request.setdefault("LaunchSpecification", {})["IamInstanceProfile"] = {
                    "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}", "Name": name,
                }
            if request["SpotInstanceRequestId"] in fresh:
                request["CreateTime"] = dt.datetime.now(dt.timezone.utc)

    session.events.register("after-call.ec2.DescribeSpotInstanceRequests", complete)


def an_orphaned_request(session: boto3.session.Session, setup: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A persistent request launching with alpha's training profile, alpha's function told so."""
    alpha = naming.training_role("alpha")
    orphan, _ = spot_request(setup, alpha)
    answer_like_ec2(session, {orphan: alpha})
    monkeypatch.setenv(contract.TRAINING_PROFILE_ENV, alpha)
    return orphan


def request_states(setup: MotoServer, ids: list[str]) -> dict[str, str]:
    """States of `ids` (every request with none)."""
    found = setup.client("ec2", region_name=REGION).describe_spot_instance_requests(
        **({"SpotInstanceRequestIds": ids} if ids else {})
    )["SpotInstanceRequests"]
    return {request["SpotInstanceRequestId"]: request["State"] for request in found}


def test_sync_cancels_persistent_spot_requests_no_managed_instance_stands_for(aws, monkeypatch):
    """terraform-provider-aws #38142: a replaced or destroyed persistent spot instance can leave
    its request open, and EC2 launches an untracked instance for it. sync cancels the team's
    requests (its training profile) whose instance the stack does not manage, older than an hour."""
    session, calls, setup, _ = aws
    alpha, bravo = naming.training_role("alpha"), naming.training_role("bravo")
    managed, managed_instance = spot_request(setup, alpha)
    orphan, orphan_instance = spot_request(setup, alpha)
    other_team, _ = spot_request(setup, bravo)
    fresh, _ = spot_request(setup, alpha)
    answer_like_ec2(session, {managed: alpha, orphan: alpha, other_team: bravo, fresh: alpha}, fresh={fresh})
    monkeypatch.setenv(contract.TRAINING_PROFILE_ENV, alpha)
    monkeypatch.setenv(contract.MANAGED_INSTANCES_ENV, f"{managed_instance},i-0aaaaaaaaaaaaaaaa")

    result = invoke(event("sync"))

    cancelled = [entry for entry in result["done"] if entry["what"] == "cancel-orphaned-spot-request"]
    assert [entry["resource"] for entry in cancelled] == [orphan]
    assert orphan_instance in cancelled[0]["why"] and "terminate it if nobody uses it" in cancelled[0]["why"]
    # moto forgets a cancelled request (EC2 lists it as cancelled for a while)
    states = request_states(setup, [managed, other_team, fresh])
    assert states == {managed: "active", other_team: "active", fresh: "active"}
    assert request_states(setup, []).get(orphan, "cancelled") == "cancelled"
    assert calls.count("ec2:CancelSpotInstanceRequests") == 1 and result["failed"] == []


def test_a_dry_run_sync_cancels_no_spot_request(aws, monkeypatch):
    session, calls, setup, _ = aws
    orphan = an_orphaned_request(session, setup, monkeypatch)
    monkeypatch.setenv(contract.MANAGED_INSTANCES_ENV, "")

    result = invoke(event("sync", dry_run=True))

    assert [entry["resource"] for entry in result["done"] if entry["what"] == "cancel-orphaned-spot-request"] == [orphan]
    assert calls.count("ec2:CancelSpotInstanceRequests") == 0
    assert request_states(setup, [orphan]) == {orphan: "active"}


def test_a_team_without_spot_training_never_looks_at_spot_requests(aws):
    session, calls, setup, _ = aws
    spot_request(setup, naming.training_role("alpha"))
    invoke(event("sync"))
    assert calls.count("ec2:DescribeSpotInstanceRequests") == 0


def test_a_refused_cancel_fails_the_invocation(aws, monkeypatch):
    session, calls, setup, _ = aws
    orphan = an_orphaned_request(session, setup, monkeypatch)
    fail_when(session, "ec2.CancelSpotInstanceRequests", lambda request: True, 403, "UnauthorizedOperation", "not allowed")

    with pytest.raises(offhours.StepsFailed) as failed:
        offhours.handler(event("sync"), None)

    (entry,) = failed.value.result["failed"]
    assert entry["what"] == "cancel-orphaned-spot-request" and entry["resource"] == orphan and "UnauthorizedOperation" in entry["why"]
