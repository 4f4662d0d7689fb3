"""Each construct of modules/ built alone, in a minimal stack, from model parts made here (not
through the shipped examples): real cdktf, assertions on the synthesized Terraform JSON, every
expected value taken from the inputs. The governance constructs, TeamBudget and
OffHoursSchedule have files of their own (test_governance_modules, test_team_budget,
test_offhours_schedule)."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from generators.model import Autoscaling, Billing, Cluster, InferencePool, Network, Schedule, TrainingJob

TAGS = {"Team": "solo", "Project": "p", "Owner": "o@example.com", "Environment": "dev", "CostCenter": "CC-1", "ModelID": "m-1"}
REGION = "eu-west-1"


def synth(build: Callable[[Any], None], kubernetes: bool = False) -> dict[str, Any]:
    """One stack with an AWS provider (and a Kubernetes one when asked), built by `build(stack)`."""
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = TerraformStack(Testing.app(), "minimal")
    AwsProvider(stack, "aws", region=REGION)
    if kubernetes:
        from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

        stack.kubernetes = KubernetesProvider(stack, "kubernetes", host="https://127.0.0.1:6443")
    build(stack)
    return json.loads(Testing.synth(stack))


def of(synthesized: dict[str, Any], kind: str, block: str = "resource") -> list[dict[str, Any]]:
    return list(synthesized.get(block, {}).get(kind, {}).values())


def context():
    from modules.context import TeamContext

    return TeamContext("solo", REGION, TAGS)


def job(**overrides: Any) -> TrainingJob:
    values = {"name": "finetune", "instance_type": "g5.2xlarge", "count": 3, "market": "on-demand", "model_id": "m-1", "root_volume_gb": 200}
    return TrainingJob.model_validate({**values, **overrides})


NETWORK = Network(subnet_id="subnet-0a1b2c3d4e5f60001", security_group_ids=["sg-0a1b2c3d4e5f60001", "sg-0a1b2c3d4e5f60002"])


@pytest.mark.parametrize("market", ["on-demand", "spot"])
def test_gpu_training_instance_alone(market: str):
    from modules.gpu_training_instance import GpuTrainingInstance

    training = job(market=market)
    out = synth(lambda stack: GpuTrainingInstance(stack, "train", job=training, network=NETWORK, ami_id="ami-0123456789abcdef0",
                                                  instance_profile="solo-training", context=context()))
    instances = of(out, "aws_instance")
    assert len(instances) == training.count
    for instance in instances:
        assert instance["instance_type"] == training.instance_type
        assert instance["subnet_id"] == NETWORK.subnet_id and instance["vpc_security_group_ids"] == NETWORK.security_group_ids
        assert instance["metadata_options"]["http_tokens"] == "required" and instance["associate_public_ip_address"] is False
        root = instance["root_block_device"]
        assert root["encrypted"] is True and root["volume_size"] == training.root_volume_gb and root["volume_type"] == "gp3"
        assert {k: instance["tags"][k] for k in TAGS} == TAGS
        assert ("instance_market_options" in instance) == (market == "spot")
    guards = of(out, "terraform_data")
    assert len(guards) == (training.count if market == "spot" else 0)


def test_deep_learning_ami_alone():
    from generators.amis import DLAMI_PARAMETER
    from modules.deep_learning_ami import DeepLearningAmi

    out = synth(lambda stack: DeepLearningAmi(stack, "ami"))
    assert [p["name"] for p in of(out, "aws_ssm_parameter", "data")] == [DLAMI_PARAMETER]


def test_training_instance_profile_alone():
    from generators import naming
    from modules.training_instance_profile import TrainingInstanceProfile

    out = synth(lambda stack: TrainingInstanceProfile(stack, "profile", context=context()))
    (role,) = of(out, "aws_iam_role")
    (profile,) = of(out, "aws_iam_instance_profile")
    assert role["name"] == profile["name"] == naming.training_role("solo")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert [a["policy_arn"].rsplit("/", 1)[-1] for a in of(out, "aws_iam_role_policy_attachment")] == ["AmazonSSMManagedInstanceCore"]


CLUSTER = Cluster(region=REGION, node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b2c3d4e5f60001"])


def pool(**overrides: Any) -> InferencePool:
    values = {"name": "chat", "cluster": "genai-eu", "instance_types": ["g5.xlarge", "g5.2xlarge"], "market": "spot",
              "min_nodes": 1, "max_nodes": 5, "desired_nodes": 2, "model_id": "m-1", "node_volume_gb": 150,
              "autoscaling": {"namespace": "solo", "deployment": "chat", "min_replicas": 1, "max_replicas": 4,
                              "target_cpu_percent": 70, "target_requests_per_second": 2.5}}
    return InferencePool.model_validate({**values, **overrides})


@pytest.mark.parametrize("offhours_managed", [False, True])
def test_inference_node_pool_alone(offhours_managed: bool):
    from modules.inference_node_pool import InferenceNodePool

    serving = pool()
    labels = {"team": "solo", "app": serving.name}
    out = synth(lambda stack: InferenceNodePool(stack, "pool", pool=serving, cluster=CLUSTER, node_labels=labels,
                                                offhours_managed=offhours_managed, context=context()))
    (group,) = of(out, "aws_eks_node_group")
    assert group["cluster_name"] == serving.cluster and group["node_role_arn"] == CLUSTER.node_role_arn
    assert group["subnet_ids"] == CLUSTER.subnet_ids and group["instance_types"] == serving.instance_types
    assert group["capacity_type"] == "SPOT"
    assert group["scaling_config"] == {"min_size": serving.min_nodes, "max_size": serving.max_nodes, "desired_size": serving.desired_nodes}
    assert group["labels"] == labels
    assert group["lifecycle"]["ignore_changes"] == ["scaling_config" if offhours_managed else "scaling_config[0].desired_size"]
    (template,) = of(out, "aws_launch_template")
    assert template["block_device_mappings"][0]["ebs"]["volume_size"] == serving.node_volume_gb
    assert template["metadata_options"]["http_tokens"] == "required"
    # the node-template tags cluster-autoscaler reads from the ASG: one per label, at least
    asg_tags = {t["tag"]["key"]: t["tag"]["value"] for t in of(out, "aws_autoscaling_group_tag")}
    for key, value in labels.items():
        assert asg_tags[f"k8s.io/cluster-autoscaler/node-template/label/{key}"] == value


def test_serving_autoscaler_alone():
    from modules.serving_autoscaler import ServingAutoscaler

    scaling = Autoscaling(namespace="solo", deployment="chat", min_replicas=2, max_replicas=9, target_cpu_percent=65, target_requests_per_second=3)
    out = synth(lambda stack: ServingAutoscaler(stack, "hpa", autoscaling=scaling, labels={"team": "solo"}, provider=stack.kubernetes),
                kubernetes=True)
    (hpa,) = of(out, "kubernetes_horizontal_pod_autoscaler_v2")
    assert hpa["metadata"]["namespace"] == scaling.namespace and hpa["metadata"]["name"] == scaling.deployment
    spec = hpa["spec"]
    assert (spec["min_replicas"], spec["max_replicas"]) == (scaling.min_replicas, scaling.max_replicas)
    assert spec["scale_target_ref"] == {"api_version": "apps/v1", "kind": "Deployment", "name": scaling.deployment}
    cpu = next(m for m in spec["metric"] if m["type"] == "Resource")
    assert cpu["resource"]["target"]["average_utilization"] == scaling.target_cpu_percent


def test_serving_schedule_alone():
    from generators import naming
    from modules.serving_schedule import ServingSchedule

    serving = pool()
    window = Schedule(timezone="Europe/Dublin", weekdays=["mon", "tue", "wed", "thu", "fri"], start="08:00", stop="19:00")
    image = CLUSTER.kubectl_image
    out = synth(lambda stack: ServingSchedule(stack, "schedule", pool=serving, schedule=window, labels={"team": "solo"},
                                              provider=stack.kubernetes, team="solo", kubectl_image=image), kubernetes=True)
    name = naming.serving_scaler("solo", serving.name)
    assert serving.autoscaling is not None
    for kind in ("kubernetes_service_account_v1", "kubernetes_role_v1", "kubernetes_role_binding_v1"):
        (one,) = of(out, kind)
        assert one["metadata"] == {"name": name, "namespace": serving.autoscaling.namespace, "labels": {"team": "solo"}}
    jobs = of(out, "kubernetes_cron_job_v1")
    assert len(jobs) == 2
    for cron in jobs:
        assert cron["spec"]["timezone"] == window.timezone
        container = cron["spec"]["job_template"]["spec"]["template"]["spec"]["container"][0]
        assert container["image"] == image


def test_serving_schedule_refuses_a_pool_without_a_deployment():
    from modules.serving_schedule import ServingSchedule

    window = Schedule(timezone="UTC", weekdays=["mon"], start="08:00", stop="09:00")
    with pytest.raises(ValueError, match="no autoscaling"):
        synth(lambda stack: ServingSchedule(stack, "schedule", pool=pool(autoscaling=None), schedule=window, labels={},
                                            provider=stack.kubernetes, team="solo", kubectl_image=CLUSTER.kubectl_image), kubernetes=True)


def test_team_namespace_alone():
    from modules.team_namespace import TeamNamespace

    labels = {"team": "solo", "cost-center": "CC-1"}
    out = synth(lambda stack: TeamNamespace(stack, "ns", name="solo-serving", labels=labels, provider=stack.kubernetes), kubernetes=True)
    (namespace,) = of(out, "kubernetes_namespace_v1")
    assert namespace["metadata"] == {"name": "solo-serving", "labels": labels}


def test_billing_export_alone():
    from modules.billing_export import BillingExport

    billing = Billing(export_bucket="solo-focus-export", export_prefix="focus/v1", athena_workgroup="finops", athena_table="billing.focus")
    out = synth(lambda stack: BillingExport(stack, "export", billing=billing, tags=TAGS))
    (bucket,) = of(out, "aws_s3_bucket")
    assert bucket["bucket"] == billing.export_bucket
    (export,) = of(out, "aws_bcmdataexports_export")
    destination = export["export"][0]["destination_configurations"][0]["s3_destination"][0]
    assert destination["s3_prefix"] == billing.export_prefix
    assert [w["name"] for w in of(out, "aws_athena_workgroup")] == [billing.athena_workgroup]
    access = of(out, "aws_s3_bucket_public_access_block")
    assert len(access) == 1 and all(access[0][k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
