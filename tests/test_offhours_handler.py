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
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from generators import naming
from lambdas.offhours import contract, handler as offhours
from lambdas.offhours.permissions import handler_policy_statements, policy_actions
from tests.moto_server import MotoServer, module_server, point_boto3_at

REGION = "us-east-1"
OTHER_REGION = "us-west-2"
AMI = "ami-12c6146b"
ROLE = "arn:aws:iam::123456789012:role/genai-shared-nodes"
# Every operation the handler called in this module, as IAM actions ("ec2:StopInstances").
CALLED_ACTIONS: set[str] = set()


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from module_server()


@dataclass
class Calls:
    """The operations the handler made in one test, in order, as IAM actions."""

    actions: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return self.actions.count(action)


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    moto.reset()
    monkeypatch.delenv(contract.DRY_RUN_ENV, raising=False)
    session = point_boto3_at(moto, monkeypatch, tmp_path_factory)
    calls = Calls()

    def record(model: Any, **_: Any) -> None:
        action = f"{model.service_model.endpoint_prefix}:{model.name}"
        calls.actions.append(action)
        CALLED_ACTIONS.add(action)

    # before-parameter-build fires for every call, even one a before-call hook answers.
    session.events.register("before-parameter-build", record)
    # The estate is built through the server's own clients, so its calls are not recorded.
    return session, calls, moto


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
    session, calls, setup = aws
    # moto pages DescribeInstances by reservation (EC2 by instance): 55 reservations of 2.
    estate = build_estate(setup, plain=110, per_reservation=2)
    refuse_spot(session, estate.spot[0])

    result = offhours.handler(event("stop"), None)

    stopped = estate.alpha_stopped_by_handler
    assert resources(result["done"]) == set(stopped)
    assert set(instance_states(setup, stopped).values()) == {"stopped"}
    assert marked(setup, stopped) == set(stopped)
    # 63 reservations of running alpha instances in us-east-1, at most 50 per page.
    assert calls.count("ec2:DescribeInstances") == 2


def test_stop_leaves_other_teams_regions_untagged_and_already_stopped_instances_alone(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    offhours.handler(event("stop"), None)

    assert set(instance_states(setup, estate.bravo + estate.untagged).values()) == {"running"}
    assert set(instance_states(setup, estate.other_region, OTHER_REGION).values()) == {"running"}
    assert marked(setup, estate.human_stopped) == set()


def test_stop_skips_prod_and_opted_out_instances_with_reasons_until_the_expiry_date_inclusive(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    result = offhours.handler(event("stop"), None)

    skipped = {e["resource"].removeprefix("instance/"): e["why"] for e in result["skipped"] if e["resource"].startswith("instance/")}
    assert set(instance_states(setup, estate.prod + estate.opted_out + estate.malformed_opt_out).values()) == {"running"}
    assert all("Environment=prod" in skipped[i] for i in estate.prod)
    assert all("opted out" in skipped[i] for i in estate.opted_out)
    assert all("not a YYYY-MM-DD date" in skipped[i] for i in estate.malformed_opt_out)
    assert not set(estate.expired_opt_out) & set(skipped)


def test_one_time_spot_instance_is_skipped_not_failed(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    result = offhours.handler(event("stop"), None)

    spot = [e for e in result["skipped"] if e["resource"] == f"instance/{estate.spot[0]}"]
    assert len(spot) == 1 and "one-time Spot Instance cannot be stopped" in spot[0]["why"]
    assert f"instance/{estate.spot[0]}" not in {e["resource"] for e in result["failed"]}


def test_an_instance_that_refuses_to_stop_is_reported_failed_and_the_rest_still_stop(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])

    result = offhours.handler(event("stop"), None)

    assert [e["resource"] for e in result["failed"]] == [f"instance/{estate.stop_disabled[0]}"]
    assert "OperationNotPermitted" in result["failed"][0]["why"]
    assert instance_states(setup, estate.stop_disabled) == {estate.stop_disabled[0]: "running"}
    assert set(instance_states(setup, estate.running).values()) == {"stopped"}


def test_stop_records_each_team_nodegroup_scaling_in_ssm_and_scales_it_to_zero_keeping_max(aws):
    _, _, setup = aws
    build_estate(setup)

    result = offhours.handler(event("stop"), None)

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
    session, _, setup = aws
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

    result = offhours.handler(event("stop"), None)

    failed = [e for e in result["failed"] if e["resource"].startswith("nodegroup/")]
    assert [e["resource"] for e in failed] == ["nodegroup/genai-extra/alpha-embed"]
    assert "ResourceInUseException" in failed[0]["why"]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)


def test_nodegroups_the_role_may_not_describe_are_not_reported_as_failures(aws):
    session, _, setup = aws
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

    result = offhours.handler(event("stop"), None)

    assert not [e for e in result["failed"] if e["resource"].startswith("nodegroup/")]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)


def test_a_second_stop_keeps_the_scaling_recorded_by_the_first(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    offhours.handler(event("stop"), None)
    recorded = snapshot(setup)

    result = offhours.handler(event("stop"), None)

    assert snapshot(setup) == recorded
    assert result["done"] == []


# --------------------------------------------------------------------------- start


def test_start_after_stop_restores_exactly_the_previous_state(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    before = snapshot(setup)

    stop = offhours.handler(event("stop"), None)
    start = offhours.handler(event("start"), None)

    assert snapshot(setup) == before
    assert resources(start["done"]) == resources(stop["done"])
    assert resources(start["done"], "nodegroup/") == resources(stop["done"], "nodegroup/")
    assert start["failed"] == []


def test_start_starts_only_instances_this_handler_stopped(aws):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    offhours.handler(event("stop"), None)

    result = offhours.handler(event("start"), None)

    assert resources(result["done"]) == set(estate.alpha_stopped_by_handler)
    assert set(instance_states(setup, estate.human_stopped).values()) == {"stopped"}
    assert set(instance_states(setup, estate.alpha_stopped_by_handler).values()) == {"running"}


def test_start_without_a_recorded_config_leaves_nodegroups_as_they_are(aws):
    _, _, setup = aws
    build_estate(setup)

    result = offhours.handler(event("start"), None)

    assert result["done"] == [] and result["failed"] == []
    assert scaling(setup, "genai-shared", "alpha-idle") == (0, 2, 0)
    reasons = {e["resource"]: e["why"] for e in result["skipped"]}
    assert "no recorded config" in reasons["nodegroup/genai-shared/alpha-chatbot"]


def test_a_corrupt_recorded_config_fails_that_nodegroup_only(aws):
    _, _, setup = aws
    build_estate(setup)
    offhours.handler(event("stop"), None)
    parameter = naming.offhours_parameter("alpha", "genai-shared", "alpha-chatbot")
    setup.client("ssm", region_name=REGION).put_parameter(Name=parameter, Value='{"minSize": -1}', Type="String", Overwrite=True)

    result = offhours.handler(event("start"), None)

    assert [e["resource"] for e in result["failed"]] == ["nodegroup/genai-shared/alpha-chatbot"]
    assert scaling(setup, "genai-shared", "alpha-chatbot") == (0, 4, 0)
    assert scaling(setup, "genai-extra", "alpha-embed") == (2, 6, 3)


# --------------------------------------------------------------------------- dry run, bad events, logs


@pytest.mark.parametrize("how", ["event", "environment"])
@pytest.mark.parametrize("action", ["stop", "start"])
def test_dry_run_reports_what_it_would_do_and_changes_nothing(aws, monkeypatch, how, action):
    session, calls, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    if action == "start":
        offhours.handler(event("stop"), None)
    before = snapshot(setup)
    calls.actions.clear()
    if how == "environment":
        monkeypatch.setenv(contract.DRY_RUN_ENV, "true")

    result = offhours.handler(event(action, dry_run=how == "event"), None)

    assert snapshot(setup) == before
    assert result["dry_run"] is True
    # A dry run does not call StopInstances, so it cannot learn which instances would refuse.
    would_refuse = estate.stop_disabled + estate.spot if action == "stop" else []
    assert resources(result["done"]) == set(estate.alpha_stopped_by_handler + would_refuse)
    read_only = {"ec2:DescribeInstances", "eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup", "ssm:GetParameter"}
    assert set(calls.actions) <= read_only


MALFORMED_EVENTS = [
    ("stop", "event must be a JSON object"),
    ({"team": "alpha", "region": REGION}, "action must be one of ['stop', 'start'], got None"),
    (event("shutdown"), "action must be one of"),
    (event("stop", team="Alpha Team"), "team must be a team name"),
    (event("stop", region="mars-1"), "region must be an AWS region code"),
    (event("stop", dry_run="false"), "dry_run must be true or false, got 'false'"),
    (event("stop", force=True), "unknown keys ['force']"),
]


def test_malformed_events_are_refused_with_a_clear_error_and_change_nothing(aws):
    # One estate for every case: building one per case would double this module's run time.
    _, calls, setup = aws
    build_estate(setup, plain=3)
    before = snapshot(setup)

    for bad, message in MALFORMED_EVENTS:
        with pytest.raises(offhours.InvalidEvent, match="nothing was changed") as refused:
            offhours.handler(bad, None)
        assert message in str(refused.value), bad

    assert calls.actions == []
    assert snapshot(setup) == before


def test_an_unreadable_dry_run_environment_variable_is_refused(aws, monkeypatch):
    _, calls, _ = aws
    monkeypatch.setenv(contract.DRY_RUN_ENV, "maybe")

    with pytest.raises(offhours.InvalidEvent, match="OFFHOURS_DRY_RUN must be true or false"):
        offhours.handler(event("stop"), None)
    assert calls.actions == []


def test_every_action_is_one_json_log_line_saying_who_what_and_why(aws, capsys):
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    capsys.readouterr()

    context = type("Context", (), {"function_name": "genai-finops-offhours-alpha"})()
    result = offhours.handler(event("stop"), context)

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
    # Lambda puts handler.py and contract.py at the archive root, with no lambdas/ package.
    source = Path(offhours.__file__).parent
    for name in ("handler.py", "contract.py"):
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
    statements = handler_policy_statements("alpha", REGION, "123456789012")
    star = {action for s in statements if s["Resource"] == "*" for action in s["Action"]}
    assert star == {"ec2:DescribeInstances", "eks:ListClusters"}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Resource"] != "*":
            assert statement["Resource"].startswith(("arn:aws:ec2:us-east-1:123456789012:", "arn:aws:eks:us-east-1:123456789012:", "arn:aws:ssm:us-east-1:123456789012:"))


def test_policy_limits_every_change_to_the_teams_tagged_resources_and_parameters():
    statements = handler_policy_statements("bravo", REGION, "123456789012", partition="aws-cn")
    by_action = {action: s for s in statements for action in s["Action"]}
    for action in ("ec2:StopInstances", "ec2:StartInstances", "ec2:CreateTags", "ec2:DeleteTags", "eks:UpdateNodegroupConfig", "eks:DescribeNodegroup"):
        assert by_action[action]["Condition"]["StringEquals"]["aws:ResourceTag/Team"] == "bravo"
    for action in ("ec2:CreateTags", "ec2:DeleteTags"):
        assert by_action[action]["Condition"]["ForAllValues:StringEquals"] == {"aws:TagKeys": [contract.STOPPED_BY_TAG]}
    assert by_action["ssm:PutParameter"]["Resource"] == "arn:aws-cn:ssm:us-east-1:123456789012:parameter/genai-finops/offhours/bravo/*"


def test_policy_grants_exactly_the_api_calls_the_handler_makes(aws):
    # Runs a full stop/start cycle itself so the check holds whatever order tests run in;
    # every other test's calls in this module are in CALLED_ACTIONS too.
    session, _, setup = aws
    estate = build_estate(setup)
    refuse_spot(session, estate.spot[0])
    offhours.handler(event("stop"), None)
    offhours.handler(event("start"), None)

    assert CALLED_ACTIONS == policy_actions(handler_policy_statements("alpha", REGION, "123456789012"))
