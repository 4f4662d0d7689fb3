"""OffHoursSchedule synthesized for the shipped example team `alpha`, asserted on the Terraform JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from typing import Any

import pytest

from generators import naming, tags
from generators.manifest.loading import load_manifest_set
from modules import offhours_schedule
from modules.context import TeamContext
from modules.offhours_schedule import OffHoursSchedule, cron_expression

TEAM = "alpha"
FUNCTION = naming.offhours_function(TEAM)


# Stand-ins for the instance ids the team stack passes (tokens there).
MANAGED_INSTANCES = ("i-0123456789abcdef0", "i-0fedcba9876543210")


@pytest.fixture(scope="module")
def manifests():
    return load_manifest_set(["manifests"])


@pytest.fixture(scope="module")
def synthesized(manifests) -> dict[str, Any]:
    import cdktf
    from cdktf import TerraformOutput, TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    alpha = manifests.team(TEAM)
    app = cdktf.Testing.app()
    stack = TerraformStack(app, TEAM)
    AwsProvider(stack, "aws", region=alpha.region)
    construct = OffHoursSchedule(
        stack,
        "offhours",
        team=alpha,
        budget_topic_arn="arn:aws:sns:us-east-1:123456789012:genai-finops-alpha-budget-alerts",
        context=TeamContext(team=alpha.team, region=alpha.region, tags=tags.base_tags(alpha)),
        training_instance_ids=list(MANAGED_INSTANCES),
    )
    for attribute in ("function_arn", "function_name", "role_arn"):
        TerraformOutput(stack, attribute, value=getattr(construct, attribute))
    return json.loads(cdktf.Testing.synth(stack))


def resources(synthesized: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return synthesized["resource"].get(kind, {})


def only(synthesized: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(synthesized, kind)
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def named(synthesized: dict[str, Any], kind: str, fragment: str) -> tuple[str, dict[str, Any]]:
    matches = [(key, value) for key, value in resources(synthesized, kind).items() if fragment in key]
    assert len(matches) == 1, (fragment, sorted(resources(synthesized, kind)))
    return matches[0]


def ref(kind: str, key: str, attribute: str) -> str:
    return f"${{{kind}.{key}.{attribute}}}"


def data_ref(synthesized: dict[str, Any], kind: str, attribute: str) -> str:
    (key,) = synthesized["data"][kind]
    return f"${{data.{kind}.{key}.{attribute}}}"


def policy_of(synthesized: dict[str, Any], fragment: str) -> dict[str, Any]:
    return json.loads(named(synthesized, "aws_iam_role_policy", fragment)[1]["policy"])


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(("action", "cron"), [("stop", "cron(0 19 ? * MON,TUE,WED,THU,FRI *)"), ("start", "cron(0 8 ? * MON,TUE,WED,THU,FRI *)")])
def test_schedules_run_at_the_manifest_times_on_its_weekdays_in_its_timezone(synthesized, action, cron):
    _, schedule = named(synthesized, "aws_scheduler_schedule", f"schedule-{action}")
    group_key, group = only(synthesized, "aws_scheduler_schedule_group")

    assert schedule["name"] == naming.offhours_schedule(TEAM, action)
    assert schedule["schedule_expression"] == cron
    assert schedule["schedule_expression_timezone"] == "Europe/Berlin"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["group_name"] == ref("aws_scheduler_schedule_group", group_key, "name")
    assert schedule["kms_key_arn"] == ref("aws_kms_key", only(synthesized, "aws_kms_key")[0], "arn")
    assert group["name"] == naming.offhours_schedule_group(TEAM)


@pytest.mark.parametrize("action", ["stop", "start"])
def test_each_schedule_invokes_the_function_with_the_handler_event_retries_an_hour_and_has_a_dlq(synthesized, action):
    _, schedule = named(synthesized, "aws_scheduler_schedule", f"schedule-{action}")
    function_key, _ = only(synthesized, "aws_lambda_function")
    dlq_key, dlq = named(synthesized, "aws_sqs_queue", "scheduler-dlq")
    role_key, _ = named(synthesized, "aws_iam_role", "scheduler-role")
    target = schedule["target"]

    assert json.loads(target["input"]) == {"action": action, "team": TEAM, "region": "us-east-1", "dry_run": False,
                                           "scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert target["arn"] == ref("aws_lambda_function", function_key, "arn")
    assert target["role_arn"] == ref("aws_iam_role", role_key, "arn")
    assert target["retry_policy"] == {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 10}
    assert target["dead_letter_config"] == {"arn": ref("aws_sqs_queue", dlq_key, "arn")}
    assert dlq["name"] == naming.offhours_dlq(TEAM)


@pytest.mark.parametrize(
    ("hhmm", "weekdays", "expected"),
    [
        ("07:30", ["sun", "mon"], "cron(30 7 ? * MON,SUN *)"),
        ("00:05", ["sat"], "cron(5 0 ? * SAT *)"),
        ("23:59", ["fri", "wed", "mon"], "cron(59 23 ? * MON,WED,FRI *)"),
    ],
)
def test_cron_expression_uses_scheduler_cron_fields_and_day_names(hhmm, weekdays, expected):
    assert cron_expression(hhmm, weekdays) == expected


def test_scheduler_role_may_only_invoke_this_function_and_write_its_dead_letters(synthesized):
    function_key, _ = only(synthesized, "aws_lambda_function")
    dlq_key, _ = named(synthesized, "aws_sqs_queue", "scheduler-dlq")
    key_key, _ = only(synthesized, "aws_kms_key")
    group_key, _ = only(synthesized, "aws_scheduler_schedule_group")
    _, role = named(synthesized, "aws_iam_role", "scheduler-role")
    statements = policy_of(synthesized, "scheduler-policy")["Statement"]

    grants = {(s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]), s["Resource"]) for s in statements}
    assert grants == {
        ("lambda:InvokeFunction", ref("aws_lambda_function", function_key, "arn")),
        ("sqs:SendMessage", ref("aws_sqs_queue", dlq_key, "arn")),
        (("kms:Decrypt", "kms:GenerateDataKey"), ref("aws_kms_key", key_key, "arn")),
    }
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": ref("aws_scheduler_schedule_group", group_key, "arn")}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": data_ref(synthesized, "aws_caller_identity", "account_id")}


# --------------------------------------------------------------------------- the function


def test_function_runs_the_offhours_handler_on_python_312_traced_and_knows_its_team_and_budget(synthesized):
    _, function = only(synthesized, "aws_lambda_function")
    role_key, _ = named(synthesized, "aws_iam_role", "offhours_role")
    dlq_key, _ = named(synthesized, "aws_sqs_queue", "function-dlq")

    assert function["function_name"] == FUNCTION
    assert function["runtime"] == "python3.12"
    assert function["handler"] == "handler.handler"
    assert function["role"] == ref("aws_iam_role", role_key, "arn")
    assert function["tracing_config"] == {"mode": "Active"}
    # no reserved concurrency (tests/test_deployability.py says why)
    assert "reserved_concurrent_executions" not in function
    assert function["dead_letter_config"] == {"target_arn": ref("aws_sqs_queue", dlq_key, "arn")}
    assert function["filename"].endswith("/offhours.zip")
    assert function["source_code_hash"] == f'${{filebase64sha256("{function["filename"]}")}}'
    account = data_ref(synthesized, "aws_caller_identity", "account_id")
    assert function["environment"] == {
        "variables": {
            "GENAI_FINOPS_TEAM": TEAM,
            "GENAI_FINOPS_REGION": "us-east-1",
            "GENAI_FINOPS_ACCOUNT": account,
            "GENAI_FINOPS_BUDGET": naming.budget(TEAM),
            "GENAI_FINOPS_BUDGET_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:genai-finops-alpha-budget-alerts",
            # alpha trains on spot: sync cancels requests of its profile no managed instance stands for
            "GENAI_FINOPS_TRAINING_PROFILE": "genai-finops-alpha-training",
            "GENAI_FINOPS_TRAINING_INSTANCES": '${join(",", ' + json.dumps(list(MANAGED_INSTANCES)) + ")}",
        }
    }


def test_function_waits_for_its_log_group_and_policies(synthesized):
    _, function = only(synthesized, "aws_lambda_function")
    log_key, _ = only(synthesized, "aws_cloudwatch_log_group")
    policies = {f"aws_iam_role_policy.{key}" for key in resources(synthesized, "aws_iam_role_policy") if "scheduler" not in key}

    assert set(function["depends_on"]) == {f"aws_cloudwatch_log_group.{log_key}"} | policies


def test_package_holds_only_the_runtime_files_and_is_reproducible(tmp_path):
    package = offhours_schedule.packaged_code(tmp_path / "one")

    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == sorted(offhours_schedule.RUNTIME_FILES)
        for entry in archive.infolist():
            assert archive.read(entry) == (offhours_schedule.SOURCE / entry.filename).read_bytes()
            assert entry.date_time == offhours_schedule.ZIP_DATE_TIME
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["offhours.zip"]
    # Another process, another directory: byte-identical (cdktf-cli and genai-finops synth agree).
    probe = f"from pathlib import Path; from modules.offhours_schedule import packaged_code; print(packaged_code(Path({str(tmp_path / 'two')!r})).read_bytes().hex())"
    other = subprocess.run([sys.executable, "-c", probe], cwd=offhours_schedule.SOURCE.parent.parent, capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    assert bytes.fromhex(other.stdout.strip()) == package.read_bytes()


def test_the_package_is_built_inside_the_synth_output_and_only_its_copies_stay(synthesized_examples, tmp_path):
    """No temporary directory outside the output and no exit hook: the zip is built in the output
    directory (genai-finops synth's staging, swapped in or deleted as a whole), and once each
    stack holds its copy as an asset the build is removed."""
    assert not (synthesized_examples.out_dir / offhours_schedule.BUILD_DIR).exists()
    expected = offhours_schedule.packaged_code(tmp_path).read_bytes()
    for team in ("alpha", "charlie"):  # the teams with a schedule
        assets = list((synthesized_examples.out_dir / "stacks" / team / "assets").rglob("*.zip"))
        assert [a.read_bytes() for a in assets] == [expected], team


def test_function_role_policy_grants_exactly_these_actions_on_these_resources(synthesized):
    """Written out from the Service Authorization Reference (see lambdas/offhours/permissions.py),
    not derived from it: alpha's instances, node groups, budget and SSM prefix in us-east-1."""
    a = data_ref(synthesized, "aws_caller_identity", "account_id")
    p = data_ref(synthesized, "aws_partition", "partition")
    statements = policy_of(synthesized, "handler-policy")["Statement"]

    granted = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements}
    assert granted == {
        "DescribeInstancesHasNoResourceLevelPermissions": (["ec2:DescribeInstances"], "*"),
        "StopOnlyTheTeamsNonProdInstances": (["ec2:StopInstances"], f"arn:{p}:ec2:us-east-1:{a}:instance/*"),
        "StartOnlyWhatOffHoursStopped": (["ec2:StartInstances"], f"arn:{p}:ec2:us-east-1:{a}:instance/*"),
        "MarkOnlyTheTeamsInstancesWithTheStoppedByTag": (["ec2:CreateTags"], f"arn:{p}:ec2:us-east-1:{a}:instance/*"),
        "UnmarkOnlyTheTeamsInstances": (["ec2:DeleteTags"], f"arn:{p}:ec2:us-east-1:{a}:instance/*"),
        "ListClustersHasNoResourceLevelPermissions": (["eks:ListClusters"], "*"),
        "ListNodegroupsOfTheRegionsClusters": (["eks:ListNodegroups"], f"arn:{p}:eks:us-east-1:{a}:cluster/*"),
        "DescribeAndScaleOnlyTheTeamsNodegroups": (["eks:DescribeNodegroup", "eks:UpdateNodegroupConfig"], f"arn:{p}:eks:us-east-1:{a}:nodegroup/*"),
        # Budgets ARNs are global: no region.
        "ReadOnlyTheTeamsBudgetActions": (["budgets:DescribeBudgetActionsForBudget"], f"arn:{p}:budgets::{a}:budget/genai-finops-alpha"),
        "RecordScalingOnlyUnderTheTeamsPrefix": (["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"],
                                                 f"arn:{p}:ssm:us-east-1:{a}:parameter/genai-finops/offhours/alpha/*"),
        # alpha trains on spot: DescribeSpotInstanceRequests (List) has no resource type;
        # CancelSpotInstanceRequests (Write) acts on spot-instances-request
        "DescribeSpotRequestsHasNoResourceLevelPermissions": (["ec2:DescribeSpotInstanceRequests"], "*"),
        "CancelSpotRequestsOfThisRegion": (["ec2:CancelSpotInstanceRequests"], f"arn:{p}:ec2:us-east-1:{a}:spot-instances-request/*"),
    }
    # The marker may be the only tag the function writes or removes, and only with its value.
    marker = {s["Sid"]: s["Condition"] for s in statements if s["Action"] in (["ec2:CreateTags"], ["ec2:DeleteTags"])}
    assert marker["MarkOnlyTheTeamsInstancesWithTheStoppedByTag"]["StringEquals"]["aws:RequestTag/finops:stopped-by"] == "genai-finops-offhours"
    for condition in marker.values():
        assert condition["ForAllValues:StringEquals"] == {"aws:TagKeys": ["finops:stopped-by"]}
        assert condition["Null"] == {"aws:TagKeys": "false"}
    assert all(s["Effect"] == "Allow" for s in statements)


def test_the_policy_itself_refuses_to_stop_prod_or_start_what_off_hours_did_not_stop(synthesized):
    """Issue 22: what the handler decides, IAM enforces too. Conditions per the Service
    Authorization Reference (ec2:StopInstances/StartInstances take aws:ResourceTag) and the IAM
    condition operators page (StringNotEqualsIgnoreCase matches an absent tag, so untagged
    instances stay stoppable)."""
    statements = {s["Sid"]: s for s in policy_of(synthesized, "handler-policy")["Statement"]}
    stop = statements["StopOnlyTheTeamsNonProdInstances"]["Condition"]
    assert stop == {"StringEquals": {"aws:ResourceTag/Team": TEAM}, "StringNotEqualsIgnoreCase": {"aws:ResourceTag/Environment": "prod"}}
    start = statements["StartOnlyWhatOffHoursStopped"]["Condition"]
    assert start == {"StringEquals": {"aws:ResourceTag/Team": TEAM, "aws:ResourceTag/finops:stopped-by": "genai-finops-offhours"}}


def test_async_invocations_are_bounded_and_schedules_pass_their_scheduled_time(synthesized):
    """Lambda's default asynchronous queue keeps an event 6 hours with 2 retries
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html); the
    bounds are 60-21600 s and 0-2 retries (API_PutFunctionEventInvokeConfig)."""
    (config,) = synthesized["resource"]["aws_lambda_function_event_invoke_config"].values()
    assert config["maximum_event_age_in_seconds"] == 900 and 60 <= config["maximum_event_age_in_seconds"] <= 21600
    assert config["maximum_retry_attempts"] == 2
    for schedule in synthesized["resource"]["aws_scheduler_schedule"].values():
        sent = json.loads(schedule["target"]["input"])
        if sent["action"] in ("stop", "start"):
            assert sent["scheduled_time"] == "<aws.scheduler.scheduled-time>"
    (function,) = synthesized["resource"]["aws_lambda_function"].values()
    # the topic whose notifications may cap the pools, the one the stack passes (the budget's)
    assert function["environment"]["variables"]["GENAI_FINOPS_BUDGET_TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:genai-finops-alpha-budget-alerts"


def test_function_role_changes_only_resources_tagged_with_the_team(synthesized):
    statements = policy_of(synthesized, "handler-policy")["Statement"]
    mutating = {"ec2:StopInstances", "ec2:StartInstances", "ec2:CreateTags", "ec2:DeleteTags", "eks:UpdateNodegroupConfig"}

    for statement in statements:
        if mutating & set(statement["Action"]):
            assert statement["Condition"]["StringEquals"]["aws:ResourceTag/Team"] == TEAM, statement["Sid"]
            assert statement["Resource"] != "*"


def test_function_role_writes_only_its_own_log_group_traces_and_dead_letters(synthesized):
    log_key, _ = only(synthesized, "aws_cloudwatch_log_group")
    dlq_key, _ = named(synthesized, "aws_sqs_queue", "function-dlq")
    key_key, _ = only(synthesized, "aws_kms_key")
    statements = {s["Sid"]: s for s in policy_of(synthesized, "runtime-policy")["Statement"]}

    assert statements["WriteOwnLogGroup"]["Resource"] == ref("aws_cloudwatch_log_group", log_key, "arn") + ":*"
    assert statements["WriteOwnLogGroup"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements["SendToOwnDeadLetterQueue"]["Resource"] == ref("aws_sqs_queue", dlq_key, "arn")
    assert statements["EncryptDeadLetters"]["Resource"] == ref("aws_kms_key", key_key, "arn")
    assert statements["WriteTracesHasNoResourceLevelPermissions"]["Action"] == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    assert len(statements) == 4


# --------------------------------------------------------------------------- logs, queues, key, tags


def test_log_group_is_the_functions_with_a_year_of_retention_and_the_teams_key(synthesized):
    _, log_group = only(synthesized, "aws_cloudwatch_log_group")
    key_key, _ = only(synthesized, "aws_kms_key")

    assert log_group["name"] == f"/aws/lambda/{FUNCTION}"
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"] == ref("aws_kms_key", key_key, "arn")


def test_key_lets_cloudwatch_logs_use_it_for_this_log_group_only(synthesized):
    _, key = only(synthesized, "aws_kms_key")
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    logs = statements["CloudWatchLogsEncryptsTheOffHoursLogGroup"]

    assert key["enable_key_rotation"] is True
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(f":log-group:/aws/lambda/{FUNCTION}")


def test_both_dead_letter_queues_are_encrypted_with_the_teams_key_and_keep_messages_14_days(synthesized):
    key_key, _ = only(synthesized, "aws_kms_key")
    queues = resources(synthesized, "aws_sqs_queue")

    assert {q["name"] for q in queues.values()} == {naming.offhours_dlq(TEAM), naming.offhours_function_dlq(TEAM)}
    for queue in queues.values():
        assert queue["kms_master_key_id"] == ref("aws_kms_key", key_key, "arn")
        assert queue["message_retention_seconds"] == 1_209_600


def test_every_taggable_resource_carries_the_team_tags(synthesized, manifests):
    expected = tags.base_tags(manifests.team(TEAM))
    # IAM inline policies, schedules and a function's event invoke config take no tags in the AWS API.
    untaggable = {"aws_iam_role_policy", "aws_scheduler_schedule", "aws_lambda_function_event_invoke_config"}
    checked = 0
    for kind, instances in synthesized["resource"].items():
        for key, resource in instances.items():
            if kind in untaggable:
                assert "tags" not in resource
                continue
            assert resource["tags"] == expected, f"{kind}.{key}"
            checked += 1
    assert checked == 8


def test_construct_exposes_function_and_role_as_references(synthesized):
    function_key, _ = only(synthesized, "aws_lambda_function")
    role_key, _ = named(synthesized, "aws_iam_role", "offhours_role")
    outputs = {name: output["value"] for name, output in synthesized["output"].items()}

    assert outputs["function_arn"] == ref("aws_lambda_function", function_key, "arn")
    assert outputs["role_arn"] == ref("aws_iam_role", role_key, "arn")
    assert outputs["function_name"] == FUNCTION


def test_construct_refuses_a_team_without_schedule(synthesized, manifests):
    import cdktf
    from cdktf import TerraformStack

    bravo = manifests.team("bravo").model_copy(update={"inference": []})
    assert bravo.schedule is None
    stack = TerraformStack(cdktf.Testing.app(), "bravo")
    with pytest.raises(ValueError, match="team bravo has no schedule, no pools and no spot training"):
        OffHoursSchedule(stack, "offhours", team=bravo, budget_topic_arn="arn:aws:sns:us-east-1:123456789012:t",
                         context=TeamContext(team=bravo.team, region=bravo.region, tags=tags.base_tags(bravo)))
