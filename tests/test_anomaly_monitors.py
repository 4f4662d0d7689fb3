"""org anomalies.create_monitors: each team stack's Cost Anomaly Detection monitor and subscription,
synthesized with real cdktf (one test per AWS constraint, citing its source), and the account's
monitor limit checked on a generated set larger than it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from generators import naming
from generators.manifest.loading import load_manifest_set
from generators.manifest.validation import MAX_CUSTOM_ANOMALY_MONITORS
from tests.manifest_helpers import REPO, example, write_manifests
from tests.test_team_budget import TAGS

THRESHOLD = 250.0


@pytest.fixture(scope="module")
def synthesized() -> dict[str, Any]:
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from generators.model import TeamManifest
    from modules.anomaly_monitor import TeamAnomalyMonitor
    from modules.context import TeamContext
    from modules.team_budget import TeamBudget

    manifest = TeamManifest.model_validate(example("alpha"))
    stack = TerraformStack(Testing.app(), "alpha")
    AwsProvider(stack, "aws", region=manifest.region)
    context = TeamContext(team=manifest.team, region=manifest.region, tags=TAGS)
    budget = TeamBudget(stack, "budget", budget=manifest.budget, recipients=manifest.alert_recipients, training_instance_ids=[],
                        context=context, anomaly_alerts=True)
    TeamAnomalyMonitor(stack, "anomalies", team=manifest.team, threshold_usd=THRESHOLD, topic_arn=budget.topic_arn,
                       topic_policy=budget.topic_policy, tags=TAGS)
    return json.loads(Testing.synth(stack))


def one(synthesized: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = synthesized["resource"][kind]
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def test_the_monitor_is_custom_on_the_teams_cost_allocation_tag_never_a_tag_dimension(synthesized):
    """terraform-provider-aws #48492: monitor_dimension TAG conflicts with monitor_specification,
    so the monitor is CUSTOM with a Tags expression (the user: prefix Cost Explorer echoes)."""
    _, monitor = one(synthesized, "aws_ce_anomaly_monitor")
    assert monitor["monitor_type"] == "CUSTOM" and "monitor_dimension" not in monitor
    spec = json.loads(monitor["monitor_specification"])
    assert spec["Tags"] == {"Key": "user:Team", "MatchOptions": None, "Values": ["alpha"]}
    assert {k for k, v in spec.items() if v is None} == {"And", "CostCategories", "Dimensions", "Not", "Or"}
    assert monitor["name"] == naming.anomaly_monitor("alpha") and monitor["tags"] == TAGS


def test_the_subscription_alerts_the_teams_topic_immediately_at_the_threshold(synthesized):
    """API_AnomalySubscription, Frequency: SNS subscribers get IMMEDIATE alerts (e-mail ones DAILY
    or WEEKLY); ThresholdExpression on ANOMALY_TOTAL_IMPACT_ABSOLUTE, GREATER_THAN_OR_EQUAL."""
    monitor_id, _ = one(synthesized, "aws_ce_anomaly_monitor")
    _, subscription = one(synthesized, "aws_ce_anomaly_subscription")
    topic_id, _ = one(synthesized, "aws_sns_topic")
    assert subscription["frequency"] == "IMMEDIATE"
    assert subscription["subscriber"] == [{"type": "SNS", "address": f"${{aws_sns_topic.{topic_id}.arn}}"}]
    assert subscription["monitor_arn_list"] == [f"${{aws_ce_anomaly_monitor.{monitor_id}.arn}}"]
    assert subscription["threshold_expression"]["dimension"] == {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "match_options": ["GREATER_THAN_OR_EQUAL"], "values": ["250"]}


def test_cost_anomaly_detection_may_publish_to_the_encrypted_topic_before_the_subscription_exists(synthesized):
    """ad-SNS.html: the topic policy lets costalerts.amazonaws.com publish; sns-key-management.html:
    a service publishing to a KMS-encrypted topic needs kms:GenerateDataKey* and kms:Decrypt."""
    policy_id, policy = one(synthesized, "aws_sns_topic_policy")
    statements = json.loads(policy["policy"])["Statement"]
    assert any(s["Principal"] == {"Service": "costalerts.amazonaws.com"} and s["Action"] == "SNS:Publish" for s in statements)
    _, key = one(synthesized, "aws_kms_key")
    assert any(s["Principal"] == {"Service": "costalerts.amazonaws.com"} and set(s["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
               for s in json.loads(key["policy"])["Statement"])
    _, subscription = one(synthesized, "aws_ce_anomaly_subscription")
    assert f"aws_sns_topic_policy.{policy_id}" in subscription["depends_on"]


def test_without_the_switch_there_is_no_monitor_and_no_cost_alerts_principal(synthesized_examples):
    for name in ("alpha", "bravo", "charlie"):
        stack = synthesized_examples.stacks[name]
        assert "aws_ce_anomaly_monitor" not in stack.get("resource", {})
        assert "costalerts.amazonaws.com" not in json.dumps(stack)


def validate(root) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", "validate", str(root)], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("teams", [MAX_CUSTOM_ANOMALY_MONITORS, MAX_CUSTOM_ANOMALY_MONITORS + 1])
def test_more_teams_than_the_accounts_custom_monitors_is_refused_naming_the_limit(tmp_path, teams):
    org = example("org")
    org["anomalies"] = {"alert_threshold_usd": THRESHOLD, "create_monitors": True}
    base = example("alpha")
    manifests = {f"t{index:04d}": dict(base, team=f"t{index:04d}", owner=f"t{index}@example.com") for index in range(teams)}
    done = validate(write_manifests(tmp_path / "m", manifests, org))
    if teams <= MAX_CUSTOM_ANOMALY_MONITORS:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 1 and f"{teams} teams would need {teams} Cost Anomaly Detection monitors" in done.stdout + done.stderr
        assert "org.yaml" in done.stdout + done.stderr and "at most 500 custom monitors" in done.stdout + done.stderr


def test_a_set_with_monitors_loads(tmp_path):
    org = example("org")
    org["anomalies"] = {"create_monitors": True}
    manifests = load_manifest_set([str(write_manifests(tmp_path / "m", {"alpha": example("alpha")}, org))])
    assert manifests.org.anomalies.create_monitors and manifests.org.anomalies.alert_threshold_usd == 100
