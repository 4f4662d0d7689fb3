"""Constraints AWS enforces at apply time or later, checked on the synthesized Terraform JSON.

moto accepts much that AWS refuses, so beside the Terraform loop against it (tests/test_terraform.py)
each test below holds one constraint that would make a real account fail to apply, lose state,
or silently not do what genai-finops promises, and cites the document or issue that states it.
They run on the shipped examples and on `several`: a set written here with teams in three
regions, spot training, schedules, autoscaled pools, two teams in one namespace, a cluster on an
older Kubernetes minor that creates its namespaces, and every budget action.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generators import kubernetes, naming
from generators.amis import DLAMI_ROOT_SNAPSHOT_GB, EKS_NODE_DEFAULT_VOLUME_GB
from generators.errors import ManifestError, UsageError
from generators.manifest.loading import load_manifest_set
from lambdas.offhours import contract
from modules.gpu_training_instance import SPOT_REQUEST_VALID_UNTIL
from modules.inference_node_pool import CA_PREFIX
from stacks.synthesis import synthesize
from tests.conftest import Synthesized, load_output
from tests.manifest_helpers import REPO, example, write_manifests


def several_manifests(root: Path, org: dict[str, Any] | None = None, eu: tuple[str, str, str] | None = None) -> Path:
    """alpha, bravo, charlie as shipped, plus delta in eu-west-1 (a region of its own) with a
    second pool on AWS Inferentia2, and echo beside charlie. `org`: an org.yaml to start from
    (the shipped one by default); `eu`: the eu-west-1 (node role ARN, subnet, security group)."""
    org = copy.deepcopy(org) if org is not None else example("org")
    role, subnet, group = eu or ("arn:aws:iam::123456789012:role/genai-eu-nodes", "subnet-0c1b2c3d4e5f60001", "sg-0c1b2c3d4e5f60001")
    org["allowed_instance_types"].append("inf2.*")
    org["allowed_regions"] += [] if "eu-west-1" in org["allowed_regions"] else ["eu-west-1"]
    org["clusters"]["genai-eu"] = {
        "region": "eu-west-1",
        "node_role_arn": role,
        "subnet_ids": [subnet],
        "kubernetes_version": "1.29",
        "create_namespaces": True,
    }
    org["networks"]["eu-west-1"] = {"subnet_id": subnet, "security_group_ids": [group]}
    delta = example("charlie")
    delta.update(team="delta", owner="ml-team-delta@example.com", region="eu-west-1")
    delta["schedule"] = {"timezone": "Europe/Dublin", "weekdays": ["mon", "tue", "wed", "thu"], "start": "09:00", "stop": "18:30"}
    delta["budget"]["action_role_names"] = ["delta-ml"]
    delta["training"][0].update(name="sft", instance_type="g5.2xlarge", root_volume_gb=300)
    delta["inference"][0].update(name="rag", cluster="genai-eu", min_nodes=1, max_nodes=5, desired_nodes=2, node_volume_gb=250)
    delta["inference"][0]["autoscaling"].update(namespace="delta", deployment="rag-server", min_replicas=2)
    delta["inference"].append({
        "name": "embed", "cluster": "genai-eu", "instance_types": ["inf2.8xlarge", "inf2.xlarge"], "market": "on-demand",
        "min_nodes": 0, "max_nodes": 2, "desired_nodes": 1, "model_id": "embed-v1",
    })
    # echo shares charlie's cluster and namespace, with a pool of the same name (another Deployment)
    echo = example("charlie")
    echo.update(team="echo", owner="ml-team-echo@example.com", training=[])
    echo["budget"]["action_role_names"] = ["echo-ml"]
    echo["inference"] = echo["inference"][:1]
    echo["inference"][0]["autoscaling"]["deployment"] = "echo-server"
    teams = {name: example(name) for name in ("alpha", "bravo", "charlie")}
    return write_manifests(root, {**teams, "delta": delta, "echo": echo}, org)


@pytest.fixture(scope="module")
def several(tmp_path_factory) -> Synthesized:
    manifests = load_manifest_set([str(several_manifests(tmp_path_factory.mktemp("several")))])
    result = synthesize(manifests, tmp_path_factory.mktemp("several-out") / "cdktf.out")
    return Synthesized(result.out_dir, load_output(result.out_dir), manifests)


@pytest.fixture(params=["examples", "several"])
def synthesized(request, synthesized_examples, several) -> Synthesized:
    return synthesized_examples if request.param == "examples" else several


def resources(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return stack.get("resource", {}).get(kind, {})


def team_stacks(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {name: stack for name, stack in synthesized.stacks.items() if name != naming.GOVERNANCE_STACK}


# --------------------------------------------------------------------------- state


def test_local_state_lives_outside_the_output_synth_replaces(synthesized):
    """synth swaps its output directory as a whole and `make clean` deletes it, so state kept
    there is lost and the next apply recreates everything (Terraform's local backend keeps state
    in the file `path` names: https://developer.hashicorp.com/terraform/language/backend/local)."""
    for name, stack in synthesized.stacks.items():
        relative = stack["terraform"]["backend"]["local"]["path"]
        resolved = (synthesized.out_dir / "stacks" / name / relative).resolve()
        assert resolved == (Path.cwd() / "state" / f"{name}.tfstate").resolve()
        assert synthesized.out_dir.resolve() not in resolved.parents


def test_synth_refuses_to_replace_an_output_directory_holding_state(tmp_path, synthesized_examples):
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "alpha").mkdir(parents=True)
    (out / "manifest.json").write_text("{}")
    state = out / "stacks" / "alpha" / "terraform.alpha.tfstate"
    state.write_text('{"version": 4}')

    with pytest.raises(UsageError, match=r"holds Terraform state .*terraform\.alpha\.tfstate.*state/<stack>\.tfstate"):
        synthesize(load_manifest_set(["manifests"]), out)
    assert state.read_text() == '{"version": 4}'


def test_state_directory_is_git_ignored():
    assert "state/" in (REPO / ".gitignore").read_text().splitlines()


# --------------------------------------------------------------------------- fresh account


def test_cost_allocation_activation_ships_off_for_the_first_deploy(synthesized_examples):
    """aws_ce_cost_allocation_tag fails until the key is in billing data, up to 24 hours after
    the first tagged resource ran (https://github.com/hashicorp/terraform-provider-aws/issues/29068,
    https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html)."""
    assert load_manifest_set(["manifests"]).org.governance.activate_cost_allocation_tags is False
    assert resources(synthesized_examples.stacks["governance"], "aws_ce_cost_allocation_tag") == {}


def test_offhours_function_reserves_no_concurrency(synthesized):
    """Reserving concurrency fails in accounts whose quota leaves fewer than 100 unreserved
    executions, as new accounts have (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)."""
    functions = [f for stack in team_stacks(synthesized).values() for f in resources(stack, "aws_lambda_function").values()]
    assert functions
    assert all("reserved_concurrent_executions" not in function for function in functions)


# --------------------------------------------------------------------------- Config rules everywhere


def test_config_rules_exist_in_every_region_a_team_uses(synthesized):
    """A Config rule evaluates only its own region's resources
    (https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html, ConfigRuleArn)."""
    governance = synthesized.stacks["governance"]
    region_of = {
        f"aws.{p['alias']}" if "alias" in p else "aws": p["region"] for p in governance["provider"]["aws"]
    }
    rule_regions = {region_of[rule.get("provider", "aws")] for rule in resources(governance, "aws_config_config_rule").values()}
    team_regions = {synthesized.stacks[name]["provider"]["aws"][0]["region"] for name in team_stacks(synthesized)}
    assert team_regions <= rule_regions
    # the several-region set really spans three
    if "delta" in synthesized.stacks:
        assert rule_regions == {"us-east-1", "us-west-2", "eu-west-1"}


def test_config_recorders_go_with_the_rules_and_deliver_to_one_bucket(tmp_path):
    """One recorder and delivery channel per region; Config delivers across regions, with the
    bucket's own-region key (https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html)."""
    root = several_manifests(tmp_path / "m")
    org = yaml.safe_load((root / "org.yaml").read_text()) | {"governance": {"create_config_recorder": True}}
    write_manifests(root, {}, org)
    result = synthesize(load_manifest_set([str(root)]), tmp_path / "out", only=["governance"])
    governance = json.loads(result.stack_file("governance").read_text())

    recorders = resources(governance, "aws_config_configuration_recorder")
    channels = resources(governance, "aws_config_delivery_channel")
    assert len(recorders) == len(channels) == 3
    assert len(resources(governance, "aws_s3_bucket")) == len(resources(governance, "aws_iam_role")) == 1
    assert len({channel["s3_bucket_name"] for channel in channels.values()}) == 1
    # each region's rules wait for that region's recorder
    for rule in resources(governance, "aws_config_config_rule").values():
        (recorder,) = rule["depends_on"]
        assert recorders[recorder.split(".")[1]].get("provider") == rule.get("provider")


# --------------------------------------------------------------------------- spot


def test_spot_requests_stay_valid_long_after_the_first_week(synthesized):
    """A persistent request without ValidUntil expires after 7 days, after which a stopped
    instance cannot be started (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SpotMarketOptions.html)."""
    spot = [
        instance["instance_market_options"]["spot_options"]
        for stack in team_stacks(synthesized).values()
        for instance in resources(stack, "aws_instance").values()
        if "instance_market_options" in instance
    ]
    assert spot
    assert {options["valid_until"] for options in spot} == {SPOT_REQUEST_VALID_UNTIL}


def test_the_spot_valid_until_date_is_fixed_and_far_enough_ahead():
    """Fixed, or every synth would replace every spot instance; this fails 180 days before the
    date, so it is moved (README, "Spot training") long before requests expire."""
    until = dt.datetime.strptime(SPOT_REQUEST_VALID_UNTIL, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    left = until - dt.datetime.now(dt.timezone.utc)
    assert left >= dt.timedelta(days=180), f"SPOT_REQUEST_VALID_UNTIL is {left.days} days away: move it (modules/gpu_training_instance.py)"


# --------------------------------------------------------------------------- scale from zero


def test_neuron_pools_run_the_neuron_ami_and_advertise_neuroncores(several):
    """An Inferentia2 pool gets the EKS AL2023 Neuron AMI type and is tainted and templated with
    the Neuron device plugin's resource, aws.amazon.com/neuroncore: an inf2.xlarge carries one
    Inferentia2 chip of two NeuronCores (generators/catalog.py), the smaller of the pool's types."""
    [group] = [g for g in resources(several.stacks["delta"], "aws_eks_node_group").values() if g["node_group_name"] == "delta-embed"]
    assert group["ami_type"] == "AL2023_x86_64_NEURON"
    assert group["taint"] == [{"key": "aws.amazon.com/neuroncore", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["tags"][f"{CA_PREFIX}/node-template/resources/aws.amazon.com/neuroncore"] == "2"
    assert not any("nvidia.com/gpu" in key for key in group["tags"])
    [rag] = [g for g in resources(several.stacks["delta"], "aws_eks_node_group").values() if g["node_group_name"] == "delta-rag"]
    assert rag["ami_type"] == "AL2023_x86_64_NVIDIA"


def test_node_template_tags_are_on_the_auto_scaling_group(synthesized):
    """EKS does not copy node group tags to its Auto Scaling group, where cluster-autoscaler
    reads the node template (https://github.com/aws/containers-roadmap/issues/608,
    https://github.com/eksctl-io/eksctl/issues/1571)."""
    for name, stack in team_stacks(synthesized).items():
        for group_key, group in resources(stack, "aws_eks_node_group").items():
            wanted = {k: v for k, v in group["tags"].items() if k.startswith(f"{CA_PREFIX}/node-template/")}
            on_asg = {
                tag["tag"]["key"]: tag["tag"]["value"]
                for tag in resources(stack, "aws_autoscaling_group_tag").values()
                if tag["autoscaling_group_name"] == f"${{aws_eks_node_group.{group_key}.resources[0].autoscaling_groups[0].name}}"
            }
            assert wanted and on_asg == wanted, name
            resource = "aws.amazon.com/neuroncore" if group["ami_type"].endswith("NEURON") else "nvidia.com/gpu"
            assert f"{CA_PREFIX}/node-template/resources/{resource}" in on_asg


# --------------------------------------------------------------------------- off-hours on autoscaled pools


def test_scheduled_autoscaled_pools_scale_their_deployment_to_zero_and_back(synthesized):
    """The HPA keeps min_replicas pods; pending, they make the autoscaler bring GPU nodes back.
    Scaled to 0 replicas, the HPA stands still until scaled back
    (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#implicit-maintenance-mode-deactivation)."""
    checked = 0
    for name, stack in team_stacks(synthesized).items():
        manifest_schedule = [s for s in resources(stack, "aws_scheduler_schedule").values() if s["name"].endswith(("-stop", "-start"))]
        hpas = resources(stack, "kubernetes_horizontal_pod_autoscaler_v2")
        cronjobs = resources(stack, "kubernetes_cron_job_v1")
        if not hpas or not manifest_schedule:
            assert cronjobs == {}, name
            continue
        for hpa in hpas.values():
            target = hpa["spec"]["scale_target_ref"]["name"]
            namespace = hpa["metadata"]["namespace"]
            jobs = [j for j in cronjobs.values() if j["metadata"]["namespace"] == namespace]
            replicas = sorted(
                json.loads(next(a for a in j["spec"]["job_template"]["spec"]["template"]["spec"]["container"][0]["args"] if a.startswith("--patch="))[8:])["spec"]["replicas"]
                for j in jobs
            )
            assert replicas == [0, hpa["spec"]["min_replicas"]], name
            for job in jobs:
                args = job["spec"]["job_template"]["spec"]["template"]["spec"]["container"][0]["args"]
                assert args[:3] == ["patch", "deployment", target] and "--subresource=scale" in args
            checked += 1
    assert checked


def test_cronjobs_follow_the_team_schedule_in_its_time_zone(synthesized):
    """CronJob timeZone takes an IANA name (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones),
    the same the EventBridge Scheduler schedules use."""
    for stack in team_stacks(synthesized).values():
        zones = {s["schedule_expression_timezone"] for s in resources(stack, "aws_scheduler_schedule").values() if s["name"].endswith(("-stop", "-start"))}
        for job in resources(stack, "kubernetes_cron_job_v1").values():
            assert {job["spec"]["timezone"]} == zones
            assert len(job["metadata"]["name"]) <= 52


def test_teams_sharing_a_namespace_get_kubernetes_objects_of_their_own(several):
    """Kubernetes names are unique per kind and namespace
    (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/): two stacks
    creating one name would fight over it, the second apply failing with AlreadyExists.
    `several` has echo beside charlie: same cluster, namespace and pool name."""
    seen: dict[tuple[str, str, str], str] = {}
    checked = 0
    for name, stack in team_stacks(several).items():
        for kind, instances in stack.get("resource", {}).items():
            if not kind.startswith("kubernetes_") or kind == kubernetes.NAMESPACE.terraform_type:
                continue
            for resource in instances.values():
                key = (kind, resource["metadata"]["namespace"], resource["metadata"]["name"])
                assert key not in seen, f"{key} in {name} and {seen.get(key)}"
                seen[key] = name
                checked += 1
    shared = {ns for (kind, ns, _), team in seen.items() if kind == "kubernetes_cron_job_v1" and team == "echo"}
    assert shared and shared <= {ns for (kind, ns, _), team in seen.items() if kind == "kubernetes_cron_job_v1" and team == "charlie"}
    assert checked


def test_every_kubernetes_object_finds_its_namespace(synthesized):
    """Namespaced objects fail with `namespaces "x" not found` when their namespace does not exist
    (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/). On a cluster
    with create_namespaces the stack creates it and every object there depends on it; elsewhere
    the stack creates none and preflight checks it exists. What the stacks create per namespace
    is exactly generators.kubernetes.namespace_uses, which preflight asks the cluster about."""
    org = synthesized.manifests.org
    created_somewhere = False
    for loaded in synthesized.manifests.teams:
        team = loaded.manifest
        stack = synthesized.stacks[team.team]
        uses = kubernetes.namespace_uses(team, org)
        expected = {(use.namespace, kind.terraform_type) for use in uses for kind in use.kinds}
        found = {
            (resource["metadata"]["namespace"], kind)
            for kind, instances in stack.get("resource", {}).items()
            if kind.startswith("kubernetes_") and kind != kubernetes.NAMESPACE.terraform_type
            for resource in instances.values()
        }
        assert found == expected, team.team
        namespaces = resources(stack, kubernetes.NAMESPACE.terraform_type)
        assert {ns["metadata"]["name"] for ns in namespaces.values()} == {use.namespace for use in uses if use.created}
        for address, namespace in namespaces.items():
            created_somewhere = True
            assert namespace["metadata"]["labels"]["team"] == team.team
            reference = f"{kubernetes.NAMESPACE.terraform_type}.{address}"
            for kind, instances in stack["resource"].items():
                for resource in instances.values():
                    if kind.startswith("kubernetes_") and resource.get("metadata", {}).get("namespace") == namespace["metadata"]["name"]:
                        assert reference in resource["depends_on"], (team.team, kind)
    assert created_somewhere == any(cluster.create_namespaces for cluster in org.clusters.values())


def test_a_created_namespace_belongs_to_one_team(tmp_path):
    """Two stacks creating one namespace: the second apply fails with AlreadyExists, and one
    team's destroy deletes the namespace with the other team's objects in it
    (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#deleting-a-namespace)."""
    root = several_manifests(tmp_path / "m")
    org = yaml.safe_load((root / "org.yaml").read_text())
    org["clusters"]["genai-west"]["create_namespaces"] = True
    (root / "org.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    with pytest.raises(ManifestError) as refused:
        load_manifest_set([str(root)])
    (problem,) = refused.value.problems
    assert problem.path.endswith("echo.yaml") and problem.field == "inference[0].autoscaling.namespace"
    assert "created by team 'charlie'" in problem.message and "charlie.yaml:" in problem.message


@pytest.mark.parametrize("namespace", sorted(kubernetes.INITIAL_NAMESPACES))
def test_kubernetes_own_namespaces_are_never_created(tmp_path, namespace):
    """default, kube-system, kube-public and kube-node-lease exist on every cluster
    (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces):
    creating one fails, and destroying the stack would try to delete it."""
    root = several_manifests(tmp_path / "m")
    delta = yaml.safe_load((root / "teams" / "delta.yaml").read_text())
    delta["inference"][0]["autoscaling"]["namespace"] = namespace
    (root / "teams" / "delta.yaml").write_text(yaml.safe_dump(delta, sort_keys=False))
    with pytest.raises(ManifestError) as refused:
        load_manifest_set([str(root)])
    (problem,) = refused.value.problems
    assert problem.field == "inference[0].autoscaling.namespace" and "Kubernetes creates itself" in problem.message


def test_two_pools_may_not_autoscale_one_deployment(tmp_path):
    """One HPA per Deployment: two would overwrite each other's replicas
    (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/), and two
    teams' schedules would scale each other's serving to zero."""
    root = several_manifests(tmp_path / "m")
    echo = yaml.safe_load((root / "teams" / "echo.yaml").read_text())
    echo["inference"][0]["autoscaling"]["deployment"] = example("charlie")["inference"][0]["autoscaling"]["deployment"]
    (root / "teams" / "echo.yaml").write_text(yaml.safe_dump(echo, sort_keys=False))

    with pytest.raises(ManifestError) as refused:
        load_manifest_set([str(root)])

    (problem,) = refused.value.problems
    assert problem.path.endswith("echo.yaml") and problem.field == "inference[0].autoscaling.deployment"
    assert "is already autoscaled by" in problem.message and "charlie.yaml:" in problem.message


def test_each_cronjob_runs_the_kubectl_of_its_cluster_with_room_for_discovery(several):
    """kubectl is supported within one minor version of the API server
    (https://kubernetes.io/releases/version-skew-policy/#kubectl): delta's pools run on genai-eu,
    which org.yaml says is 1.29; the others name no version and get the 1.33 default. 64 Mi is
    not enough for kubectl's API discovery on clusters with many CRDs (issue 23): 128 Mi."""
    expected = {"delta": "registry.k8s.io/kubectl:v1.29.0"}
    checked = 0
    for name, stack in team_stacks(several).items():
        for job in resources(stack, "kubernetes_cron_job_v1").values():
            (container,) = job["spec"]["job_template"]["spec"]["template"]["spec"]["container"]
            assert container["image"] == expected.get(name, "registry.k8s.io/kubectl:v1.33.0"), name
            assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"] == "128Mi"
            checked += 1
    assert checked and any(name == "delta" for name in team_stacks(several))


def test_a_cluster_version_kubectl_is_not_published_for_is_refused(tmp_path):
    root = several_manifests(tmp_path / "m")
    org = yaml.safe_load((root / "org.yaml").read_text())
    org["clusters"]["genai-eu"]["kubernetes_version"] = "1.22"
    (root / "org.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    with pytest.raises(ManifestError) as refused:
        load_manifest_set([str(root)])
    (problem,) = refused.value.problems
    assert problem.field == "clusters.genai-eu.kubernetes_version" and "allowed: 1.27, 1.28, 1.29" in problem.message and "1.36" in problem.message


def test_no_apply_changes_a_pools_bounds_through_eks_scaling_prod_included(synthesized):
    """Terraform sends a changed min_size/max_size with the desired size it ignores; when the
    autoscaler's current desired size lies outside the new bounds, EKS refuses the update
    ("InvalidParameterException: Minimum capacity 4 can't be greater than desired size 3":
    terraform-aws-modules/terraform-aws-eks #3683, #2508). So every node group, prod ones
    included, leaves all of scaling_config to the function after creation; its bounds travel as
    tags, and the apply invokes sync, which clamps the desired size into them and never stops a
    pool (lambdas/offhours/handler.py, tested in tests/test_offhours_handler.py)."""
    checked = 0
    for name, stack in team_stacks(synthesized).items():
        groups = resources(stack, "aws_eks_node_group")
        if not groups:
            continue
        invocations = [i for i in resources(stack, "aws_lambda_invocation").values() if json.loads(i["input"])["action"] == "sync"]
        assert len(invocations) == 1, name
        bounds = invocations[0]["triggers"]
        for group in groups.values():
            assert group["lifecycle"]["ignore_changes"] == ["scaling_config"], name
            pool = group["node_group_name"].removeprefix(f"{name}-")
            assert bounds[pool] == f"{group['tags']['genai-finops:min-nodes']}..{group['tags']['genai-finops:max-nodes']}", name
            checked += 1
    assert checked


def test_every_persistent_spot_request_is_cancelled_before_its_instance_goes(synthesized):
    """Destroying or replacing a persistent spot instance may leave its request open, and EC2
    then launches an untracked instance billed until ValidUntil (terraform-provider-aws #38142).
    Each spot instance has a terraform_data guard that depends on it (so it is destroyed first,
    and replaced with it) whose destroy-time local-exec cancels the request
    (https://developer.hashicorp.com/terraform/language/resources/provisioners/syntax#destroy-time-provisioners)."""
    checked = 0
    for name, stack in team_stacks(synthesized).items():
        spot = {key for key, i in resources(stack, "aws_instance").items() if i.get("instance_market_options")}
        guards = resources(stack, "terraform_data").values()
        guarded = {g["input"]["request"].split(".")[1] for g in guards}
        assert guarded == spot, name
        for guard in guards:
            instance = guard["input"]["request"].split(".")[1]
            assert guard["input"]["request"] == f"${{aws_instance.{instance}.spot_instance_request_id}}"
            assert guard["triggers_replace"] == {"instance": f"${{aws_instance.{instance}.id}}"}
            (provisioner,) = guard["provisioner"]
            assert provisioner["local-exec"]["when"] == "destroy"
            assert "aws ec2 cancel-spot-instance-requests" in provisioner["local-exec"]["command"]
            checked += 1
    assert checked


def run_guard(tmp_path: Path, aws_script: str, *, request: str):
    """The guard's command as Terraform runs it (sh -c, self.output interpolated), with a stand-in
    `aws` running `aws_script` first on PATH."""
    import os
    import subprocess

    from modules.gpu_training_instance import CANCEL_SPOT_REQUEST

    fake = tmp_path / "bin" / "aws"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\n{aws_script}\n")
    fake.chmod(0o755)
    command = CANCEL_SPOT_REQUEST.replace("${self.output.region}", "us-east-1").replace("${self.output.request}", request)
    return subprocess.run(["/bin/sh", "-c", command], env=dict(os.environ, PATH=f"{fake.parent}:{os.environ['PATH']}"),
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    "answer, code",
    [
        ('echo \'{"CancelledSpotInstanceRequests": [{"SpotInstanceRequestId": "sir-1", "State": "cancelled"}]}\'; exit 0', 0),
        ("echo 'An error occurred (InvalidSpotInstanceRequestID.NotFound) when calling the CancelSpotInstanceRequests operation' >&2; exit 254", 0),
        ("echo 'An error occurred (UnauthorizedOperation) when calling the CancelSpotInstanceRequests operation' >&2; exit 254", 1),
    ],
)
def test_the_guard_command_cancels_and_fails_only_when_the_cancel_fails(tmp_path, answer, code):
    """The command as Terraform runs it (sh -c, self.output interpolated), against a stand-in
    `aws` that records its arguments: a request already gone is fine, a refused cancel fails
    the destroy (on_failure defaults to fail), so an open request is never left in silence."""
    done = run_guard(tmp_path, f"echo \"$@\" > {tmp_path / 'args'}\n{answer}", request="sir-1")
    assert done.returncode == code, done.stderr
    assert (tmp_path / "args").read_text().split() == ["ec2", "cancel-spot-instance-requests", "--region", "us-east-1",
                                                       "--spot-instance-request-ids", "sir-1"]
    if code:
        assert "UnauthorizedOperation" in done.stderr


def test_cronjob_role_may_only_get_and_patch_the_deployments_scale(synthesized):
    roles = [r for stack in team_stacks(synthesized).values() for r in resources(stack, "kubernetes_role_v1").values()]
    assert roles
    for role in roles:
        (rule,) = role["rule"]
        assert rule["api_groups"] == ["apps"] and rule["resources"] == ["deployments/scale"]
        assert rule["verbs"] == ["get", "patch"] and len(rule["resource_names"]) == 1


# --------------------------------------------------------------------------- budgets hold


def test_deny_new_gpu_budgets_invoke_the_function_that_caps_pools(synthesized):
    """The deny policy binds the team's roles, not the cluster-autoscaler's; the budget's topic
    invokes the function (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)."""
    for name, stack in team_stacks(synthesized).items():
        actions = resources(stack, "aws_budgets_budget_action")
        deny = any(a["action_type"] == "APPLY_IAM_POLICY" for a in actions.values())
        subscriptions = resources(stack, "aws_sns_topic_subscription")
        if not (deny and resources(stack, "aws_eks_node_group")):
            assert subscriptions == {}, name
            continue
        (subscription,) = subscriptions.values()
        (function_key,) = resources(stack, "aws_lambda_function")
        (topic_key,) = resources(stack, "aws_sns_topic")
        assert subscription["protocol"] == "lambda"
        assert subscription["endpoint"] == f"${{aws_lambda_function.{function_key}.arn}}"
        assert subscription["topic_arn"] == f"${{aws_sns_topic.{topic_key}.arn}}"
        (permission,) = resources(stack, "aws_lambda_permission").values()
        assert permission["principal"] == "sns.amazonaws.com" and permission["source_arn"] == subscription["topic_arn"]


def test_the_function_may_read_only_its_own_budgets_actions(synthesized):
    for name, stack in team_stacks(synthesized).items():
        for key, policy in resources(stack, "aws_iam_role_policy").items():
            if "handler-policy" not in key:
                continue
            statements = json.loads(policy["policy"])["Statement"]
            (budget,) = [s for s in statements if any(a.startswith("budgets:") for a in s["Action"])]
            assert budget["Action"] == ["budgets:DescribeBudgetActionsForBudget"]
            assert budget["Resource"].endswith(f":budget/{naming.budget(name)}")


# --------------------------------------------------------------------------- applies do not undo


def test_an_apply_cannot_undo_off_hours_or_a_cap(synthesized):
    """Terraform would set min_size back at an apply at night; pools the function manages leave
    all of scaling_config to it (and to cluster-autoscaler for desired_size everywhere)."""
    for name, stack in team_stacks(synthesized).items():
        managed = bool(resources(stack, "aws_lambda_function"))
        for group in resources(stack, "aws_eks_node_group").values():
            ignored = group["lifecycle"]["ignore_changes"]
            assert ignored == (["scaling_config"] if managed else ["scaling_config[0].desired_size"]), name


def test_a_changed_min_or_max_reaches_the_pool_through_its_tags_and_an_apply_time_sync(synthesized):
    for name, stack in team_stacks(synthesized).items():
        groups = resources(stack, "aws_eks_node_group")
        invocations = resources(stack, "aws_lambda_invocation")
        if not (groups and resources(stack, "aws_lambda_function")):
            assert invocations == {}, name
            continue
        (invocation,) = invocations.values()
        assert json.loads(invocation["input"])["action"] == "sync"
        bounds = {}
        for group in groups.values():
            tags = group["tags"]
            assert set(tags[k] for k in (contract.MIN_NODES_TAG, contract.MAX_NODES_TAG)) <= set(map(str, range(0, 10_000)))
            bounds[group["node_group_name"]] = f"{tags[contract.MIN_NODES_TAG]}..{tags[contract.MAX_NODES_TAG]}"
            assert f"aws_eks_node_group.{next(k for k, g in groups.items() if g is group)}" in invocation["depends_on"]
        # a change of bounds changes the triggers, so the apply runs sync again
        assert sorted(invocation["triggers"].values()) == sorted(bounds.values())


# --------------------------------------------------------------------------- smaller


def test_kubernetes_provider_fetches_a_fresh_token_per_request(synthesized):
    """data.aws_eks_cluster_auth's token expires 15 minutes after plan
    (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/eks_cluster_auth)."""
    providers = [p for stack in team_stacks(synthesized).values() for p in stack.get("provider", {}).get("kubernetes", [])]
    assert providers
    for provider in providers:
        assert "token" not in provider
        (exec_block,) = provider["exec"]
        assert exec_block["command"] == "aws" and exec_block["args"][:2] == ["eks", "get-token"]
    assert all("aws_eks_cluster_auth" not in stack.get("data", {}) for stack in synthesized.stacks.values())


def test_managed_policy_arns_follow_the_partition(synthesized):
    """arn:aws: is wrong in aws-cn and aws-us-gov (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""
    for name, stack in synthesized.stacks.items():
        for attachment in resources(stack, "aws_iam_role_policy_attachment").values():
            if attachment["policy_arn"].startswith("${aws_iam_policy."):
                continue  # a policy of the stack's own: its ARN is the one AWS gives it
            assert attachment["policy_arn"].startswith("arn:${data.aws_partition."), (name, attachment["policy_arn"])


def test_training_root_volumes_hold_the_deep_learning_ami(synthesized):
    """A root volume smaller than the AMI's snapshot cannot be created
    (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-volume.html)."""
    sizes = [
        instance["root_block_device"]["volume_size"]
        for stack in team_stacks(synthesized).values()
        for instance in resources(stack, "aws_instance").values()
    ]
    assert sizes and min(sizes) >= DLAMI_ROOT_SNAPSHOT_GB


def test_a_training_root_volume_below_the_ami_snapshot_is_refused(tmp_path):
    alpha = example("alpha")
    alpha["training"][1]["root_volume_gb"] = 50
    with pytest.raises(ManifestError) as refused:
        load_manifest_set([str(write_manifests(tmp_path, {"alpha": alpha}))])
    (problem,) = refused.value.problems
    assert problem.field == "training[1].root_volume_gb" and f"{DLAMI_ROOT_SNAPSHOT_GB} GiB root snapshot" in problem.message


def test_node_volume_size_comes_from_the_manifest(synthesized):
    expected = {"bravo": EKS_NODE_DEFAULT_VOLUME_GB, "charlie": 150, "delta": 250, "echo": 150}  # as the manifests say, or the default
    seen = {}
    for name, stack in team_stacks(synthesized).items():
        for template in resources(stack, "aws_launch_template").values():
            (device,) = template["block_device_mappings"]
            seen[name] = device["ebs"]["volume_size"]
    assert seen == {name: size for name, size in expected.items() if name in synthesized.stacks}


def test_the_guard_command_calls_nothing_without_a_request(tmp_path):
    """An instance with no request id (the provider read none) has nothing to cancel."""
    done = run_guard(tmp_path, f"touch {tmp_path / 'called'}\nexit 1", request="")
    assert done.returncode == 0 and not (tmp_path / "called").exists()


def test_every_team_with_spot_training_sweeps_for_orphaned_requests_daily(synthesized):
    """The guard cancels a request when Terraform destroys its instance; what it cannot catch
    (requests from before it, a destroy without the AWS CLI) the function's daily sync cancels
    (terraform-provider-aws #38142). It knows the managed instances by id: every spot instance of
    the stack is in its environment, so a replaced instance updates it."""
    checked = 0
    for name, stack in team_stacks(synthesized).items():
        spot = [address for address, body in resources(stack, "aws_instance").items() if "instance_market_options" in body]
        if not spot:
            continue
        (function,) = resources(stack, "aws_lambda_function").values()
        variables = function["environment"]["variables"]
        assert variables[contract.TRAINING_PROFILE_ENV] == naming.training_role(name)
        for address in resources(stack, "aws_instance"):
            assert f"aws_instance.{address}.id" in variables[contract.MANAGED_INSTANCES_ENV]
        schedules = [s for s in resources(stack, "aws_scheduler_schedule").values() if '"sync"' in s["target"]["input"]]
        assert len(schedules) == 1, name
        checked += 1
    assert checked
