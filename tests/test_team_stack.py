"""The shipped examples synthesized with real cdktf: the resources and their key properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from generators import naming
from generators.amis import DLAMI_PARAMETER
from modules.gpu_training_instance import SPOT_REQUEST_VALID_UNTIL

REQUIRED = ["Team", "Project", "Owner", "Environment", "CostCenter", "ModelID"]


def test_one_team_stack_per_manifest_plus_governance(synthesized_examples):
    assert sorted(synthesized_examples.stacks) == ["alpha", "bravo", "charlie", "governance"]


@pytest.mark.parametrize("stack,region", [("alpha", "us-east-1"), ("bravo", "us-east-1"), ("charlie", "us-west-2"), ("governance", "us-east-1")])
def test_aws_provider_region_and_default_tags_carry_every_required_tag(synthesized_examples, stack, region):
    # the default (unaliased) provider; governance also has one aliased provider per other team region
    (provider,) = [p for p in synthesized_examples.stacks[stack]["provider"]["aws"] if "alias" not in p]
    assert provider["region"] == region
    default_tags = provider["default_tags"][0]["tags"]
    assert set(REQUIRED) <= set(default_tags)


def test_team_stack_default_tags_come_from_the_manifest(synthesized_examples):
    (provider,) = synthesized_examples.stacks["charlie"]["provider"]["aws"]
    assert provider["default_tags"][0]["tags"] == {
        "Team": "charlie", "Project": "genai-summarizer", "Owner": "ml-team-charlie@example.com",
        "Environment": "staging", "CostCenter": "CC-3107", "ModelID": "summarizer-v2", "DataClassification": "internal",
    }


def test_local_backend_has_one_state_file_per_stack_outside_the_output(synthesized_examples):
    for name, stack in synthesized_examples.stacks.items():
        relative = stack["terraform"]["backend"]["local"]["path"]
        # Terraform resolves it from the stack's directory, where cdktf deploy runs it.
        resolved = (synthesized_examples.out_dir / "stacks" / name / relative).resolve()
        assert resolved == (Path.cwd() / "state" / f"{name}.tfstate").resolve()
        assert synthesized_examples.out_dir.resolve() not in resolved.parents


def test_training_instances_one_per_count_with_safe_defaults(synthesized_examples):
    instances = synthesized_examples.resources("alpha", "aws_instance")
    # finetune: count 2 (spot), eval: count 1 (on-demand)
    assert len(instances) == 3
    by_name = {i["tags"]["Name"]: i for i in instances.values()}
    assert sorted(by_name) == ["alpha-eval-0", "alpha-finetune-0", "alpha-finetune-1"]
    for instance in instances.values():
        assert instance["metadata_options"]["http_tokens"] == "required"
        assert instance["root_block_device"]["encrypted"] is True
        assert instance["root_block_device"]["volume_type"] == "gp3"
        assert instance["monitoring"] is True and instance["ebs_optimized"] is True
        assert instance["associate_public_ip_address"] is False
        assert instance["subnet_id"] == "subnet-0a1b2c3d4e5f60001"
        assert instance["vpc_security_group_ids"] == ["sg-0a1b2c3d4e5f60001"]
        assert instance["ami"].startswith("${data.aws_ssm_parameter.") and "aws_iam_instance_profile" in instance["iam_instance_profile"]
        assert instance["tags"]["ModelID"] == "gpt2-finetune-v1"
    assert by_name["alpha-finetune-0"]["instance_type"] == "g5.xlarge"
    assert by_name["alpha-finetune-0"]["root_block_device"]["volume_size"] == 200
    assert by_name["alpha-eval-0"]["root_block_device"]["volume_size"] == 100


def test_spot_training_sets_a_persistent_stoppable_spot_request(synthesized_examples):
    by_name = {i["tags"]["Name"]: i for i in synthesized_examples.resources("alpha", "aws_instance").values()}
    assert by_name["alpha-finetune-1"]["instance_market_options"] == {
        "market_type": "spot",
        "spot_options": {"instance_interruption_behavior": "stop", "spot_instance_type": "persistent", "valid_until": SPOT_REQUEST_VALID_UNTIL},
    }
    assert "instance_market_options" not in by_name["alpha-eval-0"]


def test_training_ami_comes_from_the_dlami_public_parameter(synthesized_examples):
    (parameter,) = synthesized_examples.stacks["alpha"]["data"]["aws_ssm_parameter"].values()
    assert parameter["name"] == DLAMI_PARAMETER


def test_training_instance_profile_only_grants_session_manager(synthesized_examples):
    attachments = synthesized_examples.resources("alpha", "aws_iam_role_policy_attachment")
    training = [a for a in attachments.values() if "training-profile" in str(a)]
    (arn,) = [a["policy_arn"] for a in training]
    assert arn.startswith("arn:${data.aws_partition.training-profile_partition_") and arn.endswith(".partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")


def test_no_training_resources_for_a_team_without_training(synthesized_examples):
    assert synthesized_examples.resources("bravo", "aws_instance") == {}
    assert "data" not in synthesized_examples.stacks["bravo"] or "aws_ssm_parameter" not in synthesized_examples.stacks["bravo"]["data"]


def test_inference_node_group_properties(synthesized_examples):
    group = synthesized_examples.one("bravo", "aws_eks_node_group")
    assert group["cluster_name"] == "genai-shared"
    assert group["node_group_name"] == "bravo-chatbot"
    assert group["ami_type"] == "AL2023_x86_64_NVIDIA"
    assert group["capacity_type"] == "ON_DEMAND"
    assert group["instance_types"] == ["g5.xlarge", "g5.2xlarge"]
    assert group["scaling_config"] == {"min_size": 2, "desired_size": 3, "max_size": 8}
    # bravo is prod without a schedule: its bounds too reach the pool through tags and sync (issue 23)
    assert group["lifecycle"]["ignore_changes"] == ["scaling_config"]
    assert group["taint"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["node_role_arn"] == "arn:aws:iam::123456789012:role/genai-shared-nodes"
    assert group["subnet_ids"] == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]


def test_spot_pool_uses_spot_capacity(synthesized_examples):
    assert synthesized_examples.one("charlie", "aws_eks_node_group")["capacity_type"] == "SPOT"


def test_node_labels_are_the_kubecost_defaults_plus_project_and_model(synthesized_examples):
    group = synthesized_examples.one("bravo", "aws_eks_node_group")
    assert group["labels"] == {
        "team": "bravo", "owner": "ml-team-bravo_at_example.com", "env": "prod", "department": "CC-2001",
        "app": "chatbot", "project": "genai-assistant", "model-id": "chatbot-v3",
    }


def test_node_group_carries_cluster_autoscaler_scale_from_zero_tags(synthesized_examples):
    tags = synthesized_examples.one("charlie", "aws_eks_node_group")["tags"]
    assert tags["k8s.io/cluster-autoscaler/enabled"] == "true"
    assert tags["k8s.io/cluster-autoscaler/genai-west"] == "owned"
    assert tags["k8s.io/cluster-autoscaler/node-template/label/team"] == "charlie"
    assert tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "1"


def test_launch_template_tags_the_instances_and_volumes_the_pool_launches(synthesized_examples):
    stack = synthesized_examples.stacks["bravo"]
    template = synthesized_examples.one("bravo", "aws_launch_template")
    group = synthesized_examples.one("bravo", "aws_eks_node_group")
    (template_id,) = synthesized_examples.resources("bravo", "aws_launch_template")
    assert group["launch_template"]["id"] == f"${{aws_launch_template.{template_id}.id}}"
    specs = {spec["resource_type"]: spec["tags"] for spec in template["tag_specifications"]}
    assert {"instance", "volume"} <= set(specs)
    for tags in specs.values():
        assert set(REQUIRED) <= set(tags) and tags["ModelID"] == "chatbot-v3"
    assert template["metadata_options"]["http_tokens"] == "required"
    # pods must not reach the node role through IMDS (CKV_AWS_341)
    assert template["metadata_options"]["http_put_response_hop_limit"] == 1
    assert template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"
    assert stack["resource"]["aws_eks_node_group"]


def test_hpa_targets_the_deployment_with_cpu_and_requests_per_second(synthesized_examples):
    hpa = synthesized_examples.one("bravo", "kubernetes_horizontal_pod_autoscaler_v2")
    assert hpa["metadata"]["name"] == "chatbot-server" and hpa["metadata"]["namespace"] == "bravo"
    spec = hpa["spec"]
    assert (spec["min_replicas"], spec["max_replicas"]) == (2, 16)
    assert spec["scale_target_ref"] == {"api_version": "apps/v1", "kind": "Deployment", "name": "chatbot-server"}
    metrics = {m["type"]: m for m in spec["metric"]}
    assert metrics["Resource"]["resource"] == {"name": "cpu", "target": {"type": "Utilization", "average_utilization": 70}}
    assert metrics["Pods"]["pods"]["target"] == {"type": "AverageValue", "average_value": "100"}
    assert hpa["provider"].startswith("kubernetes.")


def test_kubernetes_provider_authenticates_to_the_pool_cluster(synthesized_examples):
    stack = synthesized_examples.stacks["charlie"]
    (provider,) = stack["provider"]["kubernetes"]
    assert provider["alias"] == "genai_west"
    assert "token" not in provider and provider["exec"][0]["command"] == "aws"
    assert [d["name"] for d in stack["data"]["aws_eks_cluster"].values()] == ["genai-west"]


def test_a_prod_team_with_pools_gets_the_function_for_sync_only(synthesized_examples):
    """bravo (prod, no schedule) gets the function to apply its pools' bounds (sync on apply and
    daily) and nothing that stops: no stop or start schedule."""
    assert len(synthesized_examples.resources("bravo", "aws_lambda_function")) == 1
    schedules = {s["name"] for s in synthesized_examples.resources("bravo", "aws_scheduler_schedule").values()}
    assert schedules == {naming.offhours_schedule("bravo", "sync")}
    assert len(synthesized_examples.resources("alpha", "aws_lambda_function")) == 1
