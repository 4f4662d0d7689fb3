"""A real Terraform in the loop (issue 23): init and validate every synthesized stack with the
local hashicorp/aws 5.100.0 mirror, then plan, apply, plan again and destroy the examples against
the moto server.

What this proves: the JSON is a configuration Terraform and the AWS provider accept (types,
required arguments, references, blocks), the data sources resolve, every resource moto can stand
for is created, a second plan right after the apply has nothing to change (the hundredth apply
is a no-op), and destroy removes everything. What it does not prove: that AWS accepts the values
(moto accepts much that AWS refuses: the per-constraint tests in test_deployability.py cover
those), the Kubernetes objects (no cluster, no provider here), or provider 6.25.0's behaviour.
tests/terraform_loop.py lists what is set aside and why.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generators import naming
from generators.manifest.loading import load_manifest_set
from stacks.synthesis import synthesize
from tests import terraform_loop as loop
from tests.manifest_helpers import example, write_manifests
from tests.test_deployability import several_manifests

REASON = loop.missing()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"Terraform loop not possible here: {REASON}")
ACCOUNT = "123456789012"
DLAMI_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"


def stack_dirs(out: Path) -> dict[str, Path]:
    return {path.name: path for path in sorted((out / "stacks").iterdir())}


def init_and_validate(stack: Path, work: Path, tfrc: Path) -> None:
    folder, aside = loop.prepare(stack, work)
    assert all(address.startswith("kubernetes_") for address in aside), aside
    env = loop.environment(tfrc)
    init = loop.run(folder, env, "init", "-backend=false")
    assert init.returncode == 0, init.stderr
    validated = loop.run(folder, env, "validate")
    assert validated.returncode == 0, f"{stack.name}: {validated.stderr or validated.stdout}"


def test_every_stack_of_the_examples_and_of_several_validates(synthesized_examples, tmp_path):
    # the several set with anomaly monitors on: Terraform validates their monitors and subscriptions too
    org = example("org")
    org["anomalies"] = {"alert_threshold_usd": 150, "create_monitors": True}
    several_set = load_manifest_set([str(several_manifests(tmp_path / "m", org))])
    several = synthesize(several_set, tmp_path / "several" / "cdktf.out")
    assert sum("aws_ce_anomaly_monitor" in json.loads(several.stack_file(name).read_text()).get("resource", {})
               for name in several.stacks) == len(several_set.teams)
    tfrc = loop.cli_config(tmp_path)
    validated = 0
    for label, out in (("examples", synthesized_examples.out_dir), ("several", several.out_dir)):
        for name, stack in stack_dirs(out).items():
            init_and_validate(stack, tmp_path / label / name, tfrc)
            validated += 1
    assert validated >= 4 + 6


def test_only_kubernetes_objects_are_set_aside_for_validate(synthesized_examples):
    """validate sees every AWS resource and argument as synthesized (nothing in ADDED_IN_6X today)."""
    for name, stack in stack_dirs(synthesized_examples.out_dir).items():
        original = json.loads((stack / "cdk.tf.json").read_text())
        config, aside = loop.for_mirror(original)
        kept = {kind: set(body) for kind, body in config.get("resource", {}).items()}
        expected = {kind: set(body) for kind, body in original.get("resource", {}).items() if not kind.startswith("kubernetes_")}
        assert kept == expected, name
        assert {a.split(".")[0] for a in aside} <= {k for k in original.get("resource", {}) if k.startswith("kubernetes_")}


def seed_amis(setup) -> None:
    """The Deep Learning AMI parameter the stacks read. Names under /aws/ are AWS's own and
    PutParameter refuses them (moto too), so it goes into moto's backend, in this process."""
    from moto.ssm.models import Parameter, ssm_backends

    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        image = setup.client("ec2", region).register_image(
            Name="deep-learning-base-oss-nvidia-al2023", RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 75}}],
        )["ImageId"]
        ssm_backends[ACCOUNT][region]._parameters[DLAMI_PARAMETER].append(Parameter(
            account_id=ACCOUNT, name=DLAMI_PARAMETER, value=image, parameter_type="String", description=None,
            allowed_pattern=None, keyid=None, last_modified_date=time.time(), version=1, data_type="aws:ec2:image",
        ))


def seed_eu(setup) -> tuple[str, str, str]:
    """eu-west-1 for `several`'s delta: a VPC, a subnet, a security group, the node role and genai-eu."""
    ec2 = setup.client("ec2", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.0.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="training-eu-west-1", Description="GPU training", VpcId=vpc)["GroupId"]
    role = setup.client("iam", "eu-west-1").create_role(
        RoleName="genai-eu-nodes",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    setup.client("eks", "eu-west-1").create_cluster(name="genai-eu", roleArn=role, resourcesVpcConfig={"subnetIds": [subnet]}, version="1.29")
    return role, subnet, group


@pytest.mark.parametrize("which", ["examples", "several"])
def test_the_stacks_apply_reapply_as_a_no_op_and_destroy_against_moto(moto, tmp_path, monkeypatch, which):
    """`several` adds a team in eu-west-1 on a 1.29 cluster that creates its namespaces, a team
    sharing charlie's namespace, Inferentia pools; the examples have spot training and prod pools."""
    from tests.test_preflight import seed

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AmazonSSMManagedInstanceCore and friends
    moto.reset()
    org = seed(moto, broken=False)
    seed_amis(moto)
    if which == "examples":
        root = write_manifests(tmp_path / "m", {n: example(n, managed=True) for n in ("alpha", "bravo", "charlie")}, org)
    else:
        root = several_manifests(tmp_path / "m", org, seed_eu(moto))
    manifests = load_manifest_set([str(root)])
    out = synthesize(manifests, tmp_path / "cdktf.out").out_dir
    tfrc = loop.cli_config(tmp_path)
    env = loop.environment(
        tfrc, AWS_ENDPOINT_URL=moto.endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
    )
    stacks = stack_dirs(out)
    assert naming.GOVERNANCE_STACK in stacks and len(stacks) == 1 + len(manifests.teams)
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        failures = [problem for problems in pool.map(lambda item: round_trip(*item, tmp_path, env), stacks.items()) for problem in problems]
    assert failures == []


def managed(state_file: Path) -> list[dict]:
    return [r for r in json.loads(state_file.read_text()).get("resources", []) if r["mode"] == "managed"]


def round_trip(name: str, stack: Path, tmp_path: Path, env: dict[str, str]) -> list[str]:
    """plan everything; apply what moto can stand for; plan again (nothing to do); destroy."""
    full, _ = loop.prepare(stack, tmp_path / "plan" / name)
    if loop.run(full, env, "init", "-backend=false").returncode != 0:
        return [f"{name}: init failed"]
    plan = loop.run(full, env, "plan", "-lock=false")
    if plan.returncode != 0:
        return [f"{name}: plan: {plan.stderr[-3000:]}"]
    work, _ = loop.prepare(stack, tmp_path / "apply" / name, moto=True)
    loop.run(work, env, "init", "-backend=false")
    applied = loop.run(work, env, "apply", "-auto-approve", timeout=900)
    if applied.returncode != 0:
        return [f"{name}: apply: {applied.stderr[-3000:]}"]
    expected = sum(len(body) for body in json.loads((work / "main.tf.json").read_text())["resource"].values())
    created = len(managed(work / "terraform.tfstate"))
    problems = [] if created == expected else [f"{name}: {created} resources in state after apply, {expected} in the configuration"]
    again = loop.run(work, env, "plan", "-out=again.plan")
    if again.returncode != 0:
        return problems + [f"{name}: second plan: {again.stderr[-3000:]}"]
    shown = loop.run(work, env, "show", "-json", "again.plan")
    problems += [f"{name}: second plan wants {change}" for change in loop.unexplained_changes(json.loads(shown.stdout))]
    destroyed = loop.run(work, env, "destroy", "-auto-approve", timeout=900)
    if destroyed.returncode != 0:
        return problems + [f"{name}: destroy: {destroyed.stderr[-3000:]}"]
    left = managed(work / "terraform.tfstate")
    return problems + ([f"{name}: {len(left)} resources left after destroy"] if left else [])
