"""`genai-finops preflight` against a moto server on 127.0.0.1, seeded healthy and broken.

The seeded account has real VPCs, subnets in chosen Availability Zones, security groups, IAM
node roles, EKS clusters and AWS Config recorders; the shipped example teams run against it
with an org.yaml naming those ids. The broken one has the faults the issue lists: a missing
subnet, a region without a recorder, a missing cluster, and a training subnet in a zone where
the instance type is not offered (moto's offerings are AWS's: g5.xlarge is not in us-east-1e).

moto implements neither EC2's Service Quotas, nor Lambda's GetAccountSettings, nor Cost
Explorer's tag list; those clients get botocore's Stubber with responses in the documented
shape, and without it the checks must come back `unverified`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.stub import Stubber

from generators import catalog, cli
from generators.manifest.loading import load_manifest_set
from generators.provision.preflight import READ_ONLY_ACTIONS, Preflight
from generators.provision.preflight_needs import QUOTAS, needs_by_region
from tests.kube_api_server import KubeApiServer
from tests.manifest_helpers import example, write_manifests
from tests.moto_server import MotoServer, point_boto3_at

ACCOUNT = "123456789012"
# HeadBucket has no action of its own: IAM authorizes it as s3:ListBucket.
IAM_ACTION = {"s3:HeadBucket": "s3:ListBucket"}
CALLED: set[str] = set()


@dataclass
class Account:
    setup: MotoServer
    session: Any
    calls: list[str] = field(default_factory=list)
    stubs: dict[tuple[str, str], Stubber] = field(default_factory=dict)
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    kube: dict[str, KubeApiServer] = field(default_factory=dict)

    def client(self, service: str, region: str) -> Any:
        """What preflight calls: the test session's clients (recorded), stubbed where moto lacks the API."""
        key = (service, region)
        if key not in self.clients:
            self.clients[key] = self.session.client(service, region_name=region)
            if service == "eks":
                self.clients[key].meta.events.register("after-call.eks.DescribeCluster", self._point_at_kube_api)
        return self.clients[key]

    def _point_at_kube_api(self, parsed: dict[str, Any], **_: Any) -> None:
        """moto makes up a cluster's endpoint and CA data; the cluster's API is the local server,
        so its URL and CA take their place in the (otherwise moto's) DescribeCluster answer."""
        cluster = parsed.get("cluster") or {}
        server = self.kube.get(cluster.get("name", ""))
        if server is not None:
            cluster["endpoint"] = server.endpoint
            cluster["certificateAuthority"] = {"data": server.ca_data}

    def stub(self, service: str, region: str) -> Stubber:
        if (service, region) not in self.stubs:
            stubber = Stubber(self.client(service, region))
            stubber.activate()
            self.stubs[(service, region)] = stubber
        return self.stubs[(service, region)]


@pytest.fixture
def account(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> Iterator[Account]:
    moto.reset()
    session = point_boto3_at(moto, monkeypatch, tmp_path_factory)
    state = Account(moto, session)

    def record(model: Any, **_: Any) -> None:
        action = f"{model.service_model.signing_name}:{model.name}"
        state.calls.append(IAM_ACTION.get(action, action))
        CALLED.add(IAM_ACTION.get(action, action))

    session.events.register("before-parameter-build", record)
    # The clusters' APIs: each example namespace exists (the platform team created them).
    for loaded in load_manifest_set(["manifests"]).teams:
        for pool in loaded.manifest.inference:
            if pool.autoscaling is not None:
                server = state.kube.get(pool.cluster) or KubeApiServer(pool.cluster).start()
                server.namespaces[pool.autoscaling.namespace] = {}
                state.kube[pool.cluster] = server
    yield state
    for server in state.kube.values():
        server.stop()


# --------------------------------------------------------------------------- the seeded account


def seed(setup: MotoServer, *, broken: bool, s3_state: bool = False, activate_tags: bool = False, version: str | None = None) -> dict[str, Any]:
    """Build the account; return an org.yaml (as a dict) that names what was built."""
    org = example("org")
    org["clusters"], org["networks"] = {}, {}
    zones = {"us-east-1": ("us-east-1e" if broken else "us-east-1a", "us-east-1b"), "us-west-2": ("us-west-2a", "us-west-2b")}
    for region, cluster in (("us-east-1", "genai-shared"), ("us-west-2", "genai-west")):
        ec2 = setup.client("ec2", region_name=region)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        training_zone, other_zone = zones[region]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
            for n, zone in enumerate((training_zone, other_zone))
        ]
        group = ec2.create_security_group(GroupName=f"training-{region}", Description="GPU training", VpcId=vpc)["GroupId"]
        role = setup.client("iam", region_name=region).create_role(
            RoleName=f"{cluster}-nodes",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        )["Role"]["Arn"]
        missing_cluster = broken and region == "us-west-2"
        if not missing_cluster:
            setup.client("eks", region_name=region).create_cluster(
                name=cluster, roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, **({"version": version} if version else {})
            )
        org["clusters"][cluster] = {"region": region, "node_role_arn": role, "subnet_ids": subnets}
        missing_subnet = broken and region == "us-west-2"
        org["networks"][region] = {
            "subnet_id": "subnet-0fedcba9876543210" if missing_subnet else subnets[0],
            "security_group_ids": [group],
        }
        if not (broken and region == "us-west-2"):
            config = setup.client("config", region_name=region)
            bucket = f"config-{region}-{ACCOUNT}"
            s3 = setup.client("s3", region_name=region)
            s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
            config.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role, "recordingGroup": {"allSupported": True}})
            config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
            config.start_configuration_recorder(ConfigurationRecorderName="default")
    if s3_state:
        s3 = setup.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="acme-genai-tfstate")
        if not broken:
            s3.put_bucket_versioning(Bucket="acme-genai-tfstate", VersioningConfiguration={"Status": "Enabled"})
        org["state"] = {"backend": "s3", "bucket": "acme-genai-tfstate", "region": "us-east-1"}
    if not broken:  # bravo's support-bot lets this role invoke it
        setup.client("iam", region_name="us-east-1").create_role(RoleName="bravo-app", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    org["governance"] = {"activate_cost_allocation_tags": activate_tags, "create_config_recorder": False}
    return org


def manifests_for(tmp_path: Path, org: dict[str, Any]):
    teams = {name: example(name, managed=True) for name in ("alpha", "bravo", "charlie")}
    return load_manifest_set([str(write_manifests(tmp_path, teams, org))])


def needed_vcpus(manifests, region: str) -> dict[tuple[str, str], int]:
    """The formula, written out: training counts, plus each pool at max_nodes of its largest type."""
    need: dict[tuple[str, str], int] = {}
    for loaded in manifests.teams:
        team = loaded.manifest
        if team.region != region:
            continue
        for job in team.training:
            key = (job.instance_type[0].upper(), job.market)
            need[key] = need.get(key, 0) + job.count * catalog.INSTANCE_TYPES[job.instance_type].vcpus
        for pool in team.inference:
            key = (pool.instance_types[0][0].upper(), pool.market)
            need[key] = need.get(key, 0) + pool.max_nodes * max(catalog.INSTANCE_TYPES[t].vcpus for t in pool.instance_types)
    return need


def stub_bedrock(account: Account, region: str, needs, *, on_demand: bool) -> None:
    """GetFoundationModel and GetInferenceProfile (moto 5.2.5 has neither), in the shapes of
    https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html and
    API_GetInferenceProfile.html; `on_demand` False: the model is sold through profiles only."""
    for team in needs.teams:
        for model in team.managed_models:
            stub = account.stub("bedrock", region)
            if model.foundation_model.split(".", 1)[0] in ("us", "eu", "global"):
                stub.add_response("get_inference_profile", {
                    "inferenceProfileName": f"US {model.foundation_model}", "inferenceProfileId": model.foundation_model,
                    "inferenceProfileArn": f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{model.foundation_model}",
                    "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model.foundation_model.split('.', 1)[1]}"}
                               for r in ("us-east-1", "us-east-2", "us-west-2")],
                    "status": "ACTIVE", "type": "SYSTEM_DEFINED"}, {"inferenceProfileIdentifier": model.foundation_model})
            else:
                stub.add_response("get_foundation_model", {"modelDetails": {
                    "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model.foundation_model}", "modelId": model.foundation_model,
                    "modelName": "Nova Lite", "providerName": "Amazon", "inputModalities": ["TEXT", "IMAGE"], "outputModalities": ["TEXT"],
                    "responseStreamingSupported": True, "customizationsSupported": [],
                    "inferenceTypesSupported": ["ON_DEMAND"] if on_demand else ["INFERENCE_PROFILE"],
                    "modelLifecycle": {"status": "ACTIVE"}}}, {"modelIdentifier": model.foundation_model})


def stub_what_moto_lacks(account: Account, manifests, *, quota_short_by: int = 0, tag_keys_known: list[str] | None = None,
                         bedrock_broken: bool = False) -> None:
    """Service Quotas, Lambda account settings, Bedrock and Cost Explorer tags, in the documented shapes."""
    for region, needs in needs_by_region(manifests).items():
        quotas = account.stub("service-quotas", region)
        for (quota_class, market), vcpus in sorted(needed_vcpus(manifests, region).items()):
            code, name = QUOTAS[(quota_class, market)]
            value = vcpus - quota_short_by if (quota_class, market) == ("G", "on-demand") else vcpus + 64
            quotas.add_response(
                "get_service_quota",
                {
                    "Quota": {
                        "ServiceCode": "ec2",
                        "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
                        "QuotaArn": f"arn:aws:servicequotas:{region}:{ACCOUNT}:ec2/{code}",
                        "QuotaCode": code,
                        "QuotaName": name,
                        "Value": float(value),
                        "Unit": "None",
                        "Adjustable": True,
                        "GlobalQuota": False,
                    }
                },
                {"ServiceCode": "ec2", "QuotaCode": code},
            )
        if any(team.capacity_function for team in needs.teams):
            account.stub("lambda", region).add_response(
                "get_account_settings",
                {
                    "AccountLimit": {
                        "TotalCodeSize": 80530636800,
                        "CodeSizeUnzipped": 262144000,
                        "CodeSizeZipped": 52428800,
                        "ConcurrentExecutions": 1000,
                        "UnreservedConcurrentExecutions": 1000,
                    },
                    "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
                },
                {},
            )
        stub_bedrock(account, region, needs, on_demand=not bedrock_broken)
    if tag_keys_known is not None:
        account.stub("ce", "us-east-1").add_response(
            "list_cost_allocation_tags",
            {"CostAllocationTags": [{"TagKey": key, "Type": "UserDefined", "Status": "Inactive"} for key in tag_keys_known]},
            {"TagKeys": list(manifests.org.required_tags), "Type": "UserDefined"},
        )


def by(report, check: str, region: str | None = None) -> list:
    return [c for c in report.checks if c.check == check and (region is None or c.region == region)]


# --------------------------------------------------------------------------- healthy


def test_a_healthy_account_passes_every_check(account, tmp_path):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=False))
    stub_what_moto_lacks(account, manifests)

    report = Preflight(manifests, account.client).run()

    assert report.account == ACCOUNT
    assert report.regions == ["us-east-1", "us-west-2"]
    assert [c for c in report.checks if c.status != "pass"] == []
    assert {c.check for c in report.checks} == {
        "vcpu-quota", "training-network", "instance-offering", "eks-cluster", "kubernetes-access", "config-recorder", "lambda",
        "cost-allocation-tags", "managed-model",
    }
    # alpha's in-region model, bravo's cross-region profile and the role that may invoke it
    assert {c.subject for c in by(report, "managed-model")} == {
        "amazon.nova-lite-v1:0 for alpha/managed_models/labeler", "us.anthropic.claude-sonnet-4-5-20250929-v1:0 for bravo/managed_models/support-bot",
        "invoke role bravo-app for bravo/managed_models/support-bot"}
    for stubber in account.stubs.values():
        stubber.assert_no_pending_responses()


def test_quota_checks_compare_the_quota_with_what_can_run_at_once(account, tmp_path):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=False))
    stub_what_moto_lacks(account, manifests, quota_short_by=4)

    report = Preflight(manifests, account.client).run()

    short = 0
    for region in ("us-east-1", "us-west-2"):
        need = needed_vcpus(manifests, region)
        checks = {c.subject: c for c in by(report, "vcpu-quota", region)}
        assert len(checks) == len(need)
        if ("G", "on-demand") in need:  # us-east-1: alpha's eval and bravo's pool
            (on_demand_g,) = [c for s, c in checks.items() if "L-DB2E81BA" in s]
            wanted = need[("G", "on-demand")]
            assert on_demand_g.status == "fail"
            assert f"quota {wanted - 4} vCPUs, need {wanted}" in on_demand_g.detail
            assert f"--quota-code L-DB2E81BA --desired-value {wanted} --region {region}" in on_demand_g.detail
            short += 1
        others = [c for s, c in checks.items() if "L-DB2E81BA" not in s]
        assert others and all(c.status == "pass" and "headroom 64" in c.detail for c in others)
    assert short == 1


# --------------------------------------------------------------------------- broken


def test_a_broken_account_fails_each_seeded_fault_with_what_to_do(account, tmp_path):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=True))
    stub_what_moto_lacks(account, manifests, bedrock_broken=True)

    report = Preflight(manifests, account.client).run()
    failed = {(c.check, c.region, c.subject): c.detail for c in report.checks if c.status == "fail"}
    # a model Bedrock sells only through profiles in the region, and an invoke role that does not exist
    assert "not sold on demand in us-east-1 (only INFERENCE_PROFILE)" in failed[("managed-model", "us-east-1", "amazon.nova-lite-v1:0 for alpha/managed_models/labeler")]
    assert "role bravo-app does not exist" in failed[("managed-model", "us-east-1", "invoke role bravo-app for bravo/managed_models/support-bot")]

    # a training subnet in us-east-1e, where AWS offers neither g5.xlarge nor g6.xlarge
    assert "not offered in its subnets' zones (us-east-1e)" in failed[("instance-offering", "us-east-1", "g5.xlarge for alpha/training/finetune")]
    assert ("instance-offering", "us-east-1", "g6.xlarge for alpha/training/eval") in failed
    # the pool's subnets are in us-east-1e and 1b: offered in 1b, so it passes
    assert ("instance-offering", "us-east-1", "g5.xlarge for bravo/inference/chatbot") not in failed
    # us-west-2: the training subnet does not exist, no recorder, no cluster
    assert "subnet subnet-0fedcba9876543210 does not exist in us-west-2" in failed[("training-network", "us-west-2", "networks.us-west-2")]
    assert "start one, or set governance.create_config_recorder: true" in failed[("config-recorder", "us-west-2", "AWS Config recorder")]
    assert "EKS cluster genai-west does not exist in us-west-2" in failed[("eks-cluster", "us-west-2", "clusters.genai-west")]
    assert report.failed(strict=False)
    # and nothing else failed: the healthy parts of the account still pass
    assert {key[:2] for key in failed} == {
        ("instance-offering", "us-east-1"), ("instance-offering", "us-west-2"), ("training-network", "us-west-2"),
        ("config-recorder", "us-west-2"), ("eks-cluster", "us-west-2"), ("managed-model", "us-east-1"),
    }


def test_without_stubs_what_moto_lacks_is_unverified_not_passed_or_failed(account, tmp_path):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=False, activate_tags=True))

    report = Preflight(manifests, account.client).run()

    unverified = {c.check for c in report.checks if c.status == "unverified"}
    assert unverified == {"vcpu-quota", "lambda", "cost-allocation-tags", "managed-model"}
    assert all(c.status == "pass" for c in report.checks if c.check not in unverified)
    assert not report.failed(strict=False) and report.failed(strict=True)


def test_cost_allocation_tags_not_yet_in_billing_fail_when_activation_is_on(account, tmp_path):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=False, activate_tags=True))
    stub_what_moto_lacks(account, manifests, tag_keys_known=["Team", "Project"])

    (check,) = by(Preflight(manifests, account.client).run(), "cost-allocation-tags")

    assert check.status == "fail" and check.subject == "Owner, Environment, CostCenter, ModelID"
    assert "deploy the team stacks first, wait up to 24 hours" in check.detail


@pytest.mark.parametrize("broken,status", [(False, "pass"), (True, "fail")])
def test_the_s3_state_bucket_must_exist_with_versioning(account, tmp_path, broken, status):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=broken, s3_state=True))
    stub_what_moto_lacks(account, manifests)

    (check,) = by(Preflight(manifests, account.client).run(), "state-bucket")

    assert check.status == status
    assert check.subject == "s3://acme-genai-tfstate"


def test_a_denied_call_is_unverified_with_the_reason(account, tmp_path):
    from botocore.awsrequest import AWSResponse

    manifests = manifests_for(tmp_path, seed(account.setup, broken=False))
    stub_what_moto_lacks(account, manifests)

    def deny(params: dict, **_: Any):
        return AWSResponse(params["url"], 403, {}, None), {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}, "ResponseMetadata": {}}

    account.session.events.register("before-call.eks.DescribeCluster", deny)
    checks = by(Preflight(manifests, account.client).run(), "eks-cluster")

    assert {c.status for c in checks} == {"unverified"}
    assert all("eks:describe_cluster was denied (AccessDeniedException)" in c.detail for c in checks)


# --------------------------------------------------------------------------- the command


def run_cli(tmp_path: Path, org: dict[str, Any], capsys, *args: str) -> tuple[int, str, str]:
    root = write_manifests(tmp_path / "m", {name: example(name) for name in ("alpha", "bravo", "charlie")}, org)
    code = cli.main(["preflight", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_exit_codes_and_json(account, tmp_path, capsys):
    code, out, _ = run_cli(tmp_path, seed(account.setup, broken=True), capsys, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["passed"] is False and report["schema_version"] == 1
    assert report["summary"]["fail"] == sum(1 for c in report["checks"] if c["status"] == "fail") > 0


def test_command_table_names_every_check_and_the_verdict(account, tmp_path, capsys):
    org = seed(account.setup, broken=False)
    code, out, _ = run_cli(tmp_path, org, capsys, "--only", "alpha")
    lines = out.splitlines()
    assert lines[0] == f"preflight of account {ACCOUNT}, regions us-east-1"
    # unverified (moto has no EC2 quotas) is not failed without --strict
    assert code == 0 and lines[-1].endswith("preflight passed")
    assert any(line.startswith("????  vcpu-quota") for line in lines)
    strict, out, _ = run_cli(tmp_path / "again", org, capsys, "--only", "alpha", "--strict")
    assert strict == 1 and out.splitlines()[-1].endswith("preflight FAILED (--strict: unverified counts as failed)")


def test_only_an_unknown_team_is_a_usage_error(account, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        run_cli(tmp_path, seed(account.setup, broken=False), capsys, "--only", "zulu")
    assert exited.value.code == 2
    assert "--only: no team named zulu; known: alpha, bravo, charlie" in capsys.readouterr().err


def test_expired_credentials_are_one_clear_line(account, tmp_path, capsys):
    from botocore.awsrequest import AWSResponse

    def expired(params: dict, **_: Any):
        return AWSResponse(params["url"], 403, {}, None), {"Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"}, "ResponseMetadata": {}}

    account.session.events.register("before-call.sts.GetCallerIdentity", expired)
    code, out, err = run_cli(tmp_path, seed(account.setup, broken=False), capsys)
    assert code == 1 and out == ""
    assert err.strip() == "genai-finops preflight: the AWS credentials were refused (ExpiredToken): refresh them (e.g. `aws sso login`) and run again"


def test_missing_credentials_are_one_clear_line(account, tmp_path, capsys, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = run_cli(tmp_path, seed(account.setup, broken=False), capsys)
    assert code == 1 and out == ""
    assert err.startswith("genai-finops preflight: no AWS credentials found") and "Traceback" not in err


# --------------------------------------------------------------------------- read-only


def test_preflight_calls_only_the_read_only_actions_the_readme_policy_grants(account, tmp_path):
    manifests = manifests_for(tmp_path, seed(account.setup, broken=False, s3_state=True, activate_tags=True))
    stub_what_moto_lacks(account, manifests, tag_keys_known=list(manifests.org.required_tags))
    Preflight(manifests, account.client).run()

    assert set(account.calls) <= set(READ_ONLY_ACTIONS)
    # every action granted is needed: this run reaches each check but the default-quota fallback
    assert set(READ_ONLY_ACTIONS) - set(account.calls) == {"servicequotas:GetAWSDefaultServiceQuota"}
    verbs = ("Get", "List", "Describe")
    assert all(action.split(":")[1].startswith(verbs) for action in READ_ONLY_ACTIONS)


def test_readme_lists_the_preflight_policy():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("<!-- preflight-policy -->")
    policy = json.loads(readme[readme.index("```json", start) + 7 : readme.index("```", readme.index("```json", start) + 7)])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and sorted(statement["Action"]) == sorted(READ_ONLY_ACTIONS)


def test_an_answer_botocore_cannot_parse_is_one_line_never_a_traceback_or_the_body(account, tmp_path):
    """Issue 22: a proxy's page or a truncated body where EC2's XML should be. botocore raises
    ResponseParserError, which is no BotoCoreError: each such call is one unverified line that
    does not quote the body."""
    import http.server
    import threading

    import boto3

    page = b"<html><body>\x1b]0;pwned\x07 corporate proxy: sign in</body>"

    class Garbage(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    manifests = manifests_for(tmp_path, seed(account.setup, broken=False))
    stub_what_moto_lacks(account, manifests)

    def client(service: str, region: str):
        if service == "ec2":
            return boto3.client("ec2", region_name=region, endpoint_url=f"http://127.0.0.1:{server.server_port}",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        return account.client(service, region)

    try:
        report = Preflight(manifests, client).run()
    finally:
        server.shutdown()
    ec2_checks = [c for c in report.checks if "ec2:" in c.detail]
    assert ec2_checks and {c.status for c in ec2_checks} == {"unverified"}
    assert all("answered something that is not the API's response" in c.detail for c in ec2_checks)
    assert not any("proxy" in c.detail or "\x1b" in c.detail for c in report.checks)


def test_the_cluster_version_org_yaml_names_must_be_the_clusters(account, tmp_path):
    """The serving CronJobs run the kubectl of clusters.*.kubernetes_version; kubectl is
    supported within one minor of the API server (https://kubernetes.io/releases/version-skew-policy/#kubectl).
    DescribeCluster answers the cluster's `version`
    (https://docs.aws.amazon.com/eks/latest/APIReference/API_Cluster.html)."""
    org = seed(account.setup, broken=False, version="1.31")
    running = account.setup.client("eks", region_name="us-east-1").describe_cluster(name="genai-shared")["cluster"]["version"]
    assert running == "1.31"
    other = "1.29"
    org["clusters"]["genai-shared"]["kubernetes_version"] = other
    org["clusters"]["genai-west"]["kubernetes_version"] = "1.31"
    manifests = manifests_for(tmp_path, org)
    stub_what_moto_lacks(account, manifests)

    checks = {c.subject: c for c in by(Preflight(manifests, account.client).run(), "eks-cluster")}

    assert checks["clusters.genai-shared"].status == "fail"
    assert f"the cluster runs Kubernetes {running}, org.yaml says kubernetes_version {other}" in checks["clusters.genai-shared"].detail
    assert checks["clusters.genai-west"].status == "pass"
