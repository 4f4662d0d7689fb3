"""TeamBudget synthesized for real with cdktf, asserted on the Terraform JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from generators import catalog
from generators.manifest.loading import load_manifest_set
from generators.model import TeamManifest
from policies.gfo_facts import glob_match
from tests.manifest_helpers import EXAMPLES, example, write_manifests

TAGS = {"Team": "t", "Project": "p", "Owner": "o@example.com", "Environment": "dev", "CostCenter": "cc", "ModelID": "shared"}
TAGGABLE = ("aws_budgets_budget", "aws_budgets_budget_action", "aws_sns_topic", "aws_kms_key", "aws_iam_role", "aws_iam_policy")


class Synth:
    """One synthesized stack holding a TeamBudget, with lookups on its Terraform JSON."""

    def __init__(self, manifest: TeamManifest, stack, budget, instance_refs: list[str]) -> None:
        import cdktf

        self.manifest = manifest
        self.json: dict[str, Any] = json.loads(cdktf.Testing.synth(stack))
        self.budget_name = budget.budget_name
        self.topic_arn = self.json["output"]["topic_arn"]["value"]
        self.instance_refs = instance_refs

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.json.get("resource", {}).get(kind, {})

    def only(self, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(kind)
        assert len(found) == 1, f"expected one {kind}, got {sorted(found)}"
        return next(iter(found.items()))

    def ref(self, kind: str, attribute: str) -> str:
        return f"${{{kind}.{self.only(kind)[0]}.{attribute}}}"

    def policy(self, kind: str, field: str = "policy") -> dict[str, Any]:
        return json.loads(self.only(kind)[1][field])


def build(app, name: str, manifest: TeamManifest, training_instances: int) -> Synth:
    from cdktf import TerraformOutput, TerraformStack
    from cdktf_cdktf_provider_aws.instance import Instance
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from modules.context import TeamContext
    from modules.team_budget import TeamBudget

    stack = TerraformStack(app, name)
    AwsProvider(stack, "aws", region=manifest.region)
    instances = [Instance(stack, f"train-{n}", ami="ami-0123456789abcdef0", instance_type="g5.xlarge") for n in range(training_instances)]
    budget = TeamBudget(stack, "budget", budget=manifest.budget, recipients=manifest.alert_recipients,
                        training_instance_ids=[i.id for i in instances],
                        context=TeamContext(team=manifest.team, region=manifest.region, tags=TAGS))
    # What the rest of a stack sees of the construct: its attributes, used as values.
    TerraformOutput(stack, "topic_arn", value=budget.topic_arn)
    return Synth(manifest, stack, budget, [f"${{aws_instance.{name_of(i)}.id}}" for i in instances])


def name_of(instance) -> str:
    return instance.friendly_unique_id


@pytest.fixture(scope="module")
def synths(tmp_path_factory) -> dict[str, Synth]:
    """The three shipped examples plus changed copies of alpha, synthesized in one jsii session."""
    import cdktf

    shipped = load_manifest_set([str(EXAMPLES)])
    app = cdktf.Testing.app()
    out = {name: build(app, name, shipped.team(name), 3 if name == "alpha" else 0) for name in ("alpha", "bravo", "charlie")}

    plain = example("alpha")
    del plain["budget"]["forecast_alert_percent"]
    del plain["budget"]["notify"]
    reordered = example("alpha")
    reordered["budget"]["alerts_percent"] = list(reversed(reordered["budget"]["alerts_percent"]))
    for variant, team in (("plain", plain), ("reordered", reordered)):
        root = write_manifests(tmp_path_factory.mktemp(variant), {"alpha": team})
        out[variant] = build(app, variant, load_manifest_set([str(root)]).team("alpha"), 3)
    return out


EXAMPLE_TEAMS = ("alpha", "bravo", "charlie")
# Written out rather than derived, so a wrong default (charlie gives no notify) shows up here.
RECIPIENTS = {
    "alpha": ["ml-team-alpha@example.com"],
    "bravo": ["ml-team-bravo@example.com", "finops@example.com"],
    "charlie": ["ml-team-charlie@example.com"],
}


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_budget_is_a_monthly_usd_cost_budget_named_after_the_team(synths, team):
    synth = synths[team]
    _, budget = synth.only("aws_budgets_budget")
    # Written out: the budget's name is part of the contract (the cost filter, the off-hours
    # function's budget ARN and the README's budget names all use it).
    assert budget["name"] == f"genai-finops-{team}"
    assert (budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == ("COST", "MONTHLY", "USD")
    assert float(budget["limit_amount"]) == synth.manifest.budget.monthly_usd
    assert re.fullmatch(r"[0-9]+(\.[0-9]+)?", budget["limit_amount"])


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_cost_filter_is_the_user_prefixed_team_tag(synths, team):
    _, budget = synths[team].only("aws_budgets_budget")
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": [f"user:Team${team}"]}]


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_one_actual_notification_per_threshold_and_one_forecast(synths, team):
    synth = synths[team]
    expected = sorted([("ACTUAL", p) for p in synth.manifest.budget.alerts_percent] + [("FORECASTED", synth.manifest.budget.forecast_alert_percent)])
    notifications = synth.only("aws_budgets_budget")[1]["notification"]
    assert sorted((n["notification_type"], n["threshold"]) for n in notifications) == expected
    assert {(n["comparison_operator"], n["threshold_type"]) for n in notifications} == {("GREATER_THAN", "PERCENTAGE")}


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_every_notification_goes_to_the_recipients_and_the_topic(synths, team):
    synth = synths[team]
    for notification in synth.only("aws_budgets_budget")[1]["notification"]:
        assert notification["subscriber_email_addresses"] == RECIPIENTS[team]
        assert notification["subscriber_sns_topic_arns"] == [synth.ref("aws_sns_topic", "arn")]


def test_without_forecast_and_notify_only_actual_alerts_go_to_the_owner(synths):
    synth = synths["plain"]
    notifications = synth.only("aws_budgets_budget")[1]["notification"]
    assert [n["notification_type"] for n in notifications] == ["ACTUAL"] * 3
    assert {tuple(n["subscriber_email_addresses"]) for n in notifications} == {(synth.manifest.owner,)}
    action_emails = [s["address"] for s in synth.only("aws_budgets_budget_action")[1]["subscriber"] if s["subscription_type"] == "EMAIL"]
    assert action_emails == [synth.manifest.owner]


def test_reordering_thresholds_changes_nothing_synthesized(synths):
    assert synths["reordered"].json["resource"] == synths["alpha"].json["resource"]


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_topic_is_encrypted_with_a_rotating_customer_managed_key(synths, team):
    synth = synths[team]
    _, topic = synth.only("aws_sns_topic")
    assert topic["name"] == f"genai-finops-{team}-budget-alerts"
    assert topic["kms_master_key_id"] == synth.ref("aws_kms_key", "arn")
    assert synth.only("aws_kms_key")[1]["enable_key_rotation"] is True
    assert synth.topic_arn == synth.ref("aws_sns_topic", "arn")


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_key_policy_lets_the_account_administer_and_budgets_encrypt(synths, team):
    statements = synths[team].policy("aws_kms_key")["Statement"]
    by_principal = {json.dumps(s["Principal"], sort_keys=True): s for s in statements}
    assert len(by_principal) == len(statements) == 2
    admin = next(s for s in statements if "AWS" in s["Principal"])
    assert re.fullmatch(r"arn:\$\{data\.aws_partition\.[^}]+\.partition\}:iam::\$\{data\.aws_caller_identity\.[^}]+\.account_id\}:root", admin["Principal"]["AWS"])
    assert (admin["Effect"], admin["Action"]) == ("Allow", "kms:*")
    budgets = by_principal[json.dumps({"Service": "budgets.amazonaws.com"})]
    assert budgets["Effect"] == "Allow"
    assert sorted(budgets["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_topic_policy_lets_only_budgets_of_this_account_publish(synths, team):
    synth = synths[team]
    _, resource = synth.only("aws_sns_topic_policy")
    assert resource["arn"] == synth.ref("aws_sns_topic", "arn")
    [statement] = json.loads(resource["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "SNS:Publish", synth.ref("aws_sns_topic", "arn"))
    account = statement["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert account.startswith("${data.aws_caller_identity.")
    assert re.fullmatch(r"arn:\$\{data\.aws_partition\.[^}]+\}:budgets::" + re.escape(account) + ":\\*", statement["Condition"]["ArnLike"]["aws:SourceArn"])


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_budget_is_created_after_budgets_may_publish_to_the_topic(synths, team):
    synth = synths[team]
    policy_id = synth.only("aws_sns_topic_policy")[0]
    assert synth.only("aws_budgets_budget")[1]["depends_on"] == [f"aws_sns_topic_policy.{policy_id}"]


def test_notify_creates_no_action_role_or_policy(synths):
    synth = synths["bravo"]
    for kind in ("aws_budgets_budget_action", "aws_iam_role", "aws_iam_role_policy", "aws_iam_policy"):
        assert synth.resources(kind) == {}


@pytest.mark.parametrize("team", ("alpha", "charlie"))
def test_action_fires_automatically_on_actual_spend_of_the_whole_budget(synths, team):
    synth = synths[team]
    _, action = synth.only("aws_budgets_budget_action")
    assert action["budget_name"] == synth.ref("aws_budgets_budget", "name")
    assert (action["approval_model"], action["notification_type"]) == ("AUTOMATIC", "ACTUAL")
    assert action["action_threshold"] == {"action_threshold_type": "PERCENTAGE", "action_threshold_value": 100}
    assert action["execution_role_arn"] == synth.ref("aws_iam_role", "arn")
    assert action["depends_on"] == [f"aws_iam_role_policy.{synth.only('aws_iam_role_policy')[0]}"]
    expected = [{"address": a, "subscription_type": "EMAIL"} for a in RECIPIENTS[team]]
    expected.append({"address": synth.ref("aws_sns_topic", "arn"), "subscription_type": "SNS"})
    assert action["subscriber"] == expected


@pytest.mark.parametrize("team", ("alpha", "charlie"))
def test_execution_role_trusts_only_budgets_acting_for_this_account(synths, team):
    synth = synths[team]
    _, role = synth.only("aws_iam_role")
    assert role["name"] == f"genai-finops-{team}-budget-action"
    [statement] = json.loads(role["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    assert list(statement["Condition"]) == ["StringEquals"]
    assert list(statement["Condition"]["StringEquals"]) == ["aws:SourceAccount"]
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"].startswith("${data.aws_caller_identity.")
    assert synth.only("aws_iam_role_policy")[1]["role"] == synth.ref("aws_iam_role", "name")


def test_stop_training_stops_exactly_the_training_instances_in_the_team_region(synths):
    synth = synths["alpha"]
    _, action = synth.only("aws_budgets_budget_action")
    assert action["action_type"] == "RUN_SSM_DOCUMENTS"
    assert action["definition"] == {
        "ssm_action_definition": {"action_sub_type": "STOP_EC2_INSTANCES", "instance_ids": synth.instance_refs, "region": "us-east-1"}
    }
    assert len(synth.instance_refs) == 3


def test_stop_training_role_may_only_stop_team_instances_through_the_ssm_automation(synths):
    synth = synths["alpha"]
    statements = {s["Sid"]: s for s in synth.policy("aws_iam_role_policy")["Statement"]}
    assert all(s["Effect"] == "Allow" for s in statements.values())
    granted = sorted(a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert granted == ["ec2:DescribeInstanceStatus", "ec2:StopInstances", "ssm:StartAutomationExecution"]

    automation = next(s for s in statements.values() if s["Action"] == "ssm:StartAutomationExecution")
    assert re.fullmatch(r"arn:\$\{[^}]+\}:ssm:us-east-1:\*:automation-definition/AWS-StopEC2Instance:\*", automation["Resource"])

    stop = next(s for s in statements.values() if s["Action"] == "ec2:StopInstances")
    assert re.fullmatch(r"arn:\$\{[^}]+\}:ec2:us-east-1:\$\{data\.aws_caller_identity\.[^}]+\}:instance/\*", stop["Resource"])
    assert stop["Condition"]["StringEquals"] == {"aws:ResourceTag/Team": "alpha"}
    for statement in statements.values():
        if statement["Action"].startswith("ec2:"):
            assert statement["Condition"]["ForAnyValue:StringEquals"] == {"aws:CalledVia": ["ssm.amazonaws.com"]}
    assert synth.resources("aws_iam_policy") == {}


def test_deny_new_gpu_policy_denies_every_accelerated_type_and_no_other(synths):
    synth = synths["charlie"]
    _, resource = synth.only("aws_iam_policy")
    assert resource["name"] == "genai-finops-charlie-deny-new-gpu"
    statements = json.loads(resource["policy"])["Statement"]
    assert all(s["Effect"] == "Deny" for s in statements)
    [run] = [s for s in statements if s["Action"] == "ec2:RunInstances"]
    patterns = run["Condition"]["StringLike"]["ec2:InstanceType"]
    # Every GPU and Neuron type, priced or not: g4ad, p3, gr6 and inf1 are accelerated types the
    # catalog does not price.
    for instance_type in (*catalog.INSTANCE_TYPES, "g4ad.xlarge", "p3.2xlarge", "gr6.4xlarge", "inf1.xlarge",
                          "trn1.32xlarge", "inf2.xlarge", "trn2.48xlarge"):
        assert any(glob_match(p, instance_type) for p in patterns), instance_type
    # CPU types, and accelerators genai-finops does not run (FPGA, Gaudi), are never denied.
    for other in ("m5.large", "c7g.xlarge", "t3.micro", "r6i.2xlarge", "i4i.large", "f1.2xlarge", "dl1.24xlarge"):
        assert not any(glob_match(p, other) for p in patterns), other
    [eks] = [s for s in statements if s["Action"] != "ec2:RunInstances"]
    assert sorted(eks["Action"]) == ["eks:CreateNodegroup", "eks:UpdateNodegroupConfig"]


def test_deny_new_gpu_action_attaches_the_policy_to_the_action_roles(synths):
    synth = synths["charlie"]
    _, action = synth.only("aws_budgets_budget_action")
    assert action["action_type"] == "APPLY_IAM_POLICY"
    assert action["definition"] == {
        "iam_action_definition": {"policy_arn": synth.ref("aws_iam_policy", "arn"), "roles": ["charlie-ml"]}
    }


def test_deny_new_gpu_role_may_only_attach_that_policy_to_those_roles(synths):
    synth = synths["charlie"]
    [statement] = synth.policy("aws_iam_role_policy")["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    assert statement["Condition"] == {"ArnEquals": {"iam:PolicyARN": synth.ref("aws_iam_policy", "arn")}}
    assert statement["Resource"], "no role ARNs"
    for arn in statement["Resource"]:
        assert re.fullmatch(r"arn:\$\{[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:role/(\*/)?charlie-ml", arn), arn


@pytest.mark.parametrize("team", EXAMPLE_TEAMS)
def test_every_taggable_resource_carries_the_given_tags(synths, team):
    synth = synths[team]
    checked = 0
    for kind in TAGGABLE:
        for name, body in synth.resources(kind).items():
            assert body.get("tags") == TAGS, f"{kind}.{name}"
            checked += 1
    assert checked >= 3
