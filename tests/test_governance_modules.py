"""RequiredTagsRule, CostAllocationTags and ConfigRecorder, synthesized with real cdktf from the shipped org policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generators.manifest.loading import load_manifest_set
from generators.model import OrgPolicy
from generators.tags import governance_tags
from tests.manifest_helpers import EXAMPLES

EXTRA_TAG_KEYS = ["DataClass", "Compliance", "Service", "Tier", "Region", "Budget", "Product"]


@pytest.fixture(scope="module")
def shipped_org() -> OrgPolicy:
    return load_manifest_set([str(EXAMPLES)]).org


def org_with(org: OrgPolicy, *, required_tags: list[str] | None = None, **governance: bool) -> OrgPolicy:
    update: dict[str, Any] = {"governance": org.governance.model_copy(update=governance)}
    if required_tags is not None:
        update["required_tags"] = required_tags
    return org.model_copy(update=update)


def synth(org: OrgPolicy) -> dict[str, Any]:
    """The governance constructs wired as a stack would wire them, synthesized to Terraform JSON."""
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from modules.config_recorder import ConfigRecorder
    from modules.cost_allocation_tags import CostAllocationTags
    from modules.required_tags_rule import RequiredTagsRule

    stack = TerraformStack(Testing.app(), "governance")
    AwsProvider(stack, "aws", region="us-east-1")
    tags = governance_tags(org)
    recorder = ConfigRecorder(stack, "config-recorder", org=org, tags=tags, providers={"us-east-1": None}).recorders.get("us-east-1")
    RequiredTagsRule(stack, "required-tags", org=org, tags=tags, depends_on=[recorder] if recorder else [])
    CostAllocationTags(stack, "cost-allocation-tags", org=org)
    return json.loads(Testing.synth(stack))


def resources(synthesized: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(synthesized.get("resource", {}).get(kind, {}).values())


def only(synthesized: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources(synthesized, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def rule_parameters(synthesized: dict[str, Any]) -> list[dict[str, str]]:
    rules = sorted(resources(synthesized, "aws_config_config_rule"), key=lambda rule: rule["name"])
    return [json.loads(rule["input_parameters"]) for rule in rules]


@pytest.fixture(scope="module")
def shipped(shipped_org: OrgPolicy) -> dict[str, Any]:
    """manifests/org.yaml as shipped (six required tags, no recorder), with cost-allocation tags on."""
    return synth(org_with(shipped_org, activate_cost_allocation_tags=True))


@pytest.fixture(scope="module")
def with_recorder(shipped_org: OrgPolicy) -> dict[str, Any]:
    return synth(org_with(shipped_org, create_config_recorder=True, activate_cost_allocation_tags=False))


@pytest.fixture(scope="module", params=[7, 13])
def many_tags(request: pytest.FixtureRequest, shipped_org: OrgPolicy) -> tuple[list[str], dict[str, Any]]:
    keys = (list(shipped_org.required_tags) + EXTRA_TAG_KEYS)[: request.param]
    assert len(keys) == request.param
    return keys, synth(org_with(shipped_org, required_tags=keys))


# --------------------------------------------------------------------------- REQUIRED_TAGS rules


def test_six_required_tags_fit_one_rule_with_tag1_to_tag6(shipped: dict[str, Any], shipped_org: OrgPolicy) -> None:
    assert len(shipped_org.required_tags) == 6
    assert rule_parameters(shipped) == [{f"tag{n}Key": key for n, key in enumerate(shipped_org.required_tags, start=1)}]


def test_more_than_six_tags_split_into_rules_holding_every_tag_once(many_tags: tuple[list[str], dict[str, Any]]) -> None:
    keys, synthesized = many_tags
    parameters = rule_parameters(synthesized)
    # As few rules as the six-key limit allows: every rule but the last is full.
    full, rest = divmod(len(keys), 6)
    assert [len(group) for group in parameters] == [6] * full + ([rest] if rest else [])
    assert all(list(group) == [f"tag{n}Key" for n in range(1, len(group) + 1)] for group in parameters)
    assert [key for group in parameters for key in group.values()] == keys


def test_rules_are_the_aws_managed_required_tags_rule_named_by_group(many_tags: tuple[list[str], dict[str, Any]]) -> None:
    _, synthesized = many_tags
    rules = resources(synthesized, "aws_config_config_rule")
    assert sorted(rule["name"] for rule in rules) == [f"genai-finops-required-tags-{n}" for n in range(1, len(rules) + 1)]
    assert all(rule["source"] == {"owner": "AWS", "source_identifier": "REQUIRED_TAGS"} for rule in rules)
    assert all(len(rule["description"]) <= 256 for rule in rules)


def test_rules_are_scoped_to_instances_and_volumes_without_a_recorder(shipped: dict[str, Any]) -> None:
    scope = only(shipped, "aws_config_config_rule")["scope"]
    assert scope == {"compliance_resource_types": ["AWS::EC2::Instance", "AWS::EC2::Volume"]}


def test_rules_also_check_the_config_bucket_when_the_recorder_is_created(with_recorder: dict[str, Any]) -> None:
    scope = only(with_recorder, "aws_config_config_rule")["scope"]["compliance_resource_types"]
    assert scope == ["AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::S3::Bucket"]


def test_rules_wait_for_the_recorder_created_in_the_same_stack(with_recorder: dict[str, Any]) -> None:
    (recorder_id,) = with_recorder["resource"]["aws_config_configuration_recorder"]
    assert only(with_recorder, "aws_config_config_rule")["depends_on"] == [f"aws_config_configuration_recorder.{recorder_id}"]


def test_rules_have_no_dependency_without_a_recorder(shipped: dict[str, Any]) -> None:
    assert "depends_on" not in only(shipped, "aws_config_config_rule")


def test_rules_carry_every_governance_tag(shipped: dict[str, Any], shipped_org: OrgPolicy) -> None:
    rule_tags = only(shipped, "aws_config_config_rule")["tags"]
    assert rule_tags == governance_tags(shipped_org)
    assert set(shipped_org.required_tags) <= set(rule_tags)


# --------------------------------------------------------------------------- cost-allocation tags


def test_each_required_tag_is_activated_for_cost_allocation_when_asked(shipped: dict[str, Any], shipped_org: OrgPolicy) -> None:
    activated = resources(shipped, "aws_ce_cost_allocation_tag")
    assert sorted(tag["tag_key"] for tag in activated) == sorted(shipped_org.required_tags)
    assert {tag["status"] for tag in activated} == {"Active"}


def test_no_cost_allocation_tags_unless_asked(with_recorder: dict[str, Any]) -> None:
    assert resources(with_recorder, "aws_ce_cost_allocation_tag") == []


def test_cost_allocation_tag_ids_follow_the_key_not_its_position(shipped_org: OrgPolicy) -> None:
    activating = org_with(shipped_org, activate_cost_allocation_tags=True)
    forward = synth(activating)["resource"]["aws_ce_cost_allocation_tag"]
    reordered = synth(org_with(activating, required_tags=list(reversed(shipped_org.required_tags))))
    assert reordered["resource"]["aws_ce_cost_allocation_tag"] == forward


# --------------------------------------------------------------------------- Config recorder


def test_no_recorder_bucket_or_role_unless_asked(shipped: dict[str, Any]) -> None:
    for kind in (
        "aws_config_configuration_recorder",
        "aws_config_delivery_channel",
        "aws_config_configuration_recorder_status",
        "aws_s3_bucket",
        "aws_iam_role",
        "aws_kms_key",
    ):
        assert resources(shipped, kind) == [], kind


def test_recorder_records_what_the_rules_evaluate_with_its_own_role(with_recorder: dict[str, Any]) -> None:
    recorder = only(with_recorder, "aws_config_configuration_recorder")
    (role_id,) = with_recorder["resource"]["aws_iam_role"]
    assert recorder["role_arn"] == f"${{aws_iam_role.{role_id}.arn}}"
    group = recorder["recording_group"]
    assert group["all_supported"] is False
    assert group["recording_strategy"] == [{"use_only": "INCLUSION_BY_RESOURCE_TYPES"}]
    rule_scope = only(with_recorder, "aws_config_config_rule")["scope"]["compliance_resource_types"]
    assert group["resource_types"] == rule_scope


def test_recorder_role_trusts_config_from_this_account_and_has_the_managed_policy(with_recorder: dict[str, Any]) -> None:
    role = only(with_recorder, "aws_iam_role")
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "config.amazonaws.com"}
    assert "${data.aws_caller_identity." in statement["Condition"]["StringEquals"]["AWS:SourceAccount"]
    attachment = only(with_recorder, "aws_iam_role_policy_attachment")
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AWS_ConfigRole")


def test_recorder_role_may_write_only_below_the_config_prefix(with_recorder: dict[str, Any]) -> None:
    statements = json.loads(only(with_recorder, "aws_iam_role_policy")["policy"])["Statement"]
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert len(writes) == 1 and writes[0]["Resource"].endswith("/Config/*")
    assert all(s["Resource"] != "*" for s in statements)


def test_delivery_channel_uses_the_bucket_and_key_and_waits_for_its_permissions(with_recorder: dict[str, Any]) -> None:
    channel = only(with_recorder, "aws_config_delivery_channel")
    (bucket_id,) = with_recorder["resource"]["aws_s3_bucket"]
    (key_id,) = with_recorder["resource"]["aws_kms_key"]
    assert channel["s3_bucket_name"] == f"${{aws_s3_bucket.{bucket_id}.bucket}}"
    assert channel["s3_kms_key_arn"] == f"${{aws_kms_key.{key_id}.arn}}"
    waits_for = {reference.split(".")[0] for reference in channel["depends_on"]}
    assert waits_for == {"aws_config_configuration_recorder", "aws_s3_bucket_policy", "aws_iam_role_policy"}


def test_recorder_is_started_after_the_delivery_channel_exists(with_recorder: dict[str, Any]) -> None:
    status = only(with_recorder, "aws_config_configuration_recorder_status")
    (channel_id,) = with_recorder["resource"]["aws_config_delivery_channel"]
    assert status["is_enabled"] is True
    assert status["depends_on"] == [f"aws_config_delivery_channel.{channel_id}"]


def test_bucket_name_is_unique_per_account(with_recorder: dict[str, Any]) -> None:
    (identity_id,) = with_recorder["data"]["aws_caller_identity"]
    bucket = only(with_recorder, "aws_s3_bucket")
    assert bucket["bucket"] == f"genai-finops-config-${{data.aws_caller_identity.{identity_id}.account_id}}"


def test_bucket_is_private_versioned_and_kms_encrypted(with_recorder: dict[str, Any]) -> None:
    block = only(with_recorder, "aws_s3_bucket_public_access_block")
    assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    assert only(with_recorder, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    assert only(with_recorder, "aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    (key_id,) = with_recorder["resource"]["aws_kms_key"]
    (rule,) = only(with_recorder, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": f"${{aws_kms_key.{key_id}.arn}}"}
    key = only(with_recorder, "aws_kms_key")
    assert key["enable_key_rotation"] is True


def test_bucket_lifecycle_expires_old_versions_and_aborts_failed_uploads(with_recorder: dict[str, Any]) -> None:
    (rule,) = only(with_recorder, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] > 0
    assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] > 0
    assert "expiration" not in rule


def test_bucket_policy_lets_config_deliver_for_this_account_only_and_denies_plain_http(with_recorder: dict[str, Any]) -> None:
    policy = only(with_recorder, "aws_s3_bucket_policy")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    config_sids = ("AWSConfigBucketPermissionsCheck", "AWSConfigBucketExistenceCheck", "AWSConfigBucketDelivery")
    for sid in config_sids:
        assert statements[sid]["Effect"] == "Allow"
        assert statements[sid]["Principal"] == {"Service": "config.amazonaws.com"}
        assert "${data.aws_caller_identity." in statements[sid]["Condition"]["StringEquals"]["AWS:SourceAccount"]
    assert statements["AWSConfigBucketDelivery"]["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert "/AWSLogs/${data.aws_caller_identity." in statements["AWSConfigBucketDelivery"]["Resource"]
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(deny["Resource"]) == 2 and deny["Resource"][1].endswith("/*")
    assert [reference.split(".")[0] for reference in policy["depends_on"]] == ["aws_s3_bucket_public_access_block"]


def test_key_policy_lets_config_encrypt_only_for_this_account(with_recorder: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in json.loads(only(with_recorder, "aws_kms_key")["policy"])["Statement"]}
    config = statements["AWSConfigKMSPolicy"]
    assert config["Principal"] == {"Service": "config.amazonaws.com"}
    assert sorted(config["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "${data.aws_caller_identity." in config["Condition"]["StringEquals"]["AWS:SourceAccount"]
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in statements.values())


TAGGABLE_RECORDER_RESOURCES = ("aws_s3_bucket", "aws_kms_key", "aws_iam_role", "aws_config_config_rule")


def test_every_taggable_resource_carries_every_required_tag(with_recorder: dict[str, Any], shipped_org: OrgPolicy) -> None:
    for kind in TAGGABLE_RECORDER_RESOURCES:
        for resource in resources(with_recorder, kind):
            assert set(shipped_org.required_tags) <= set(resource.get("tags", {})), kind
