"""`preflight`: will these stacks deploy on this account? Read-only checks before the first apply.

Each check reports `pass`, `fail` (with what to do) or `unverified` (the API call was denied or
is not available, with why). Only Describe/List/Get/Head calls are made, each named in
`READ_ONLY_ACTIONS` (the IAM policy the README prints; tests/test_preflight.py records every
call and compares). Clients are plain boto3 clients, so AWS_ENDPOINT_URL redirects them, with
adaptive retries for throttling. An expired or missing credential stops the run with one line.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from generators import kubernetes
from generators.errors import ToolError
from generators.model import ManifestSet
from generators.provision import kube_access, preflight_bedrock
from generators.provision.preflight_needs import QUOTAS, RegionNeeds, needs_by_region
from generators.provision.preflight_report import CREDENTIAL_CODES, DENIED_CODES, Check, Missing, Report, Status, Unverified, error_code
from generators.safe_text import message

# Every API action preflight may call, for the README's IAM policy (all read-only). The test
# that records each call asserts the calls are exactly these.
READ_ONLY_ACTIONS: tuple[str, ...] = (
    "sts:GetCallerIdentity",
    "servicequotas:GetServiceQuota",
    "servicequotas:GetAWSDefaultServiceQuota",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstanceTypeOfferings",
    "eks:DescribeCluster",
    "iam:GetRole",
    "config:DescribeConfigurationRecorderStatus",
    "ce:ListCostAllocationTags",
    "lambda:GetAccountSettings",
    "s3:ListBucket",  # HeadBucket is authorized as s3:ListBucket
    "s3:GetBucketVersioning",
    *preflight_bedrock.ACTIONS,
)

# --------------------------------------------------------------------------- running the checks


ClientFactory = Callable[[str, str], Any]


class Preflight:
    def __init__(self, manifests: ManifestSet, new_client: ClientFactory, only: Iterable[str] | None = None) -> None:
        self.manifests = manifests
        self.org = manifests.org
        self.new_client = new_client
        self.needs = needs_by_region(manifests, only)
        self.checks: list[Check] = []

    def run(self, progress: Callable[[str], None] | None = None) -> Report:
        account = self._account()
        for region, needs in self.needs.items():
            if progress:
                progress(region)
            self._quotas(needs)
            self._training_networks(needs)
            self._offerings(needs)
            self._clusters(needs)
            self._config_recorder(needs)
            self._lambda(needs)
            preflight_bedrock.check(needs, self._call, self._add)
        self._cost_allocation_tags()
        self._state_bucket()
        return Report(account=account, regions=list(self.needs), checks=self.checks)

    # ------------------------------------------------------------------ plumbing

    def _add(self, check: str, region: str, subject: str, status: Status, detail: str) -> None:
        self.checks.append(Check(check, region, subject, status, detail))

    def _call(self, service: str, region: str, operation: str, missing: Iterable[str] = (), **params: Any) -> Any:
        """The API answer; raises Missing for `missing` codes and Unverified when denied or unavailable."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
        from botocore.parsers import ResponseParserError

        try:
            return getattr(self.new_client(service, region), operation)(**params)
        except NoCredentialsError as error:
            raise ToolError(f"no AWS credentials found ({error}); configure a profile, environment variables or SSO, then run again") from error
        except ClientError as error:
            code = error_code(error)
            if code in CREDENTIAL_CODES:
                raise ToolError(f"the AWS credentials were refused ({code}): refresh them (e.g. `aws sso login`) and run again") from error
            if code in missing:
                raise Missing(code) from error
            text = message(error.response.get("Error", {}).get("Message", ""), 200)
            if code in DENIED_CODES:
                raise Unverified(f"{service}:{operation} was denied ({message(code, 60)}); grant it (README, preflight IAM policy) to check this") from error
            raise Unverified(f"{service}:{operation} failed: {message(code or 'error', 60)} {text}".strip()) from error
        except BotoCoreError as error:
            raise Unverified(f"{service}:{operation} could not be called: {message(error, 200)}") from error
        except ResponseParserError as error:
            # Not a BotoCoreError: an answer botocore cannot parse (a proxy's HTML page, a
            # truncated body). The body is not echoed.
            raise Unverified(f"{service}:{operation} answered something that is not the API's response ({type(error).__name__})") from error

    def _account(self) -> str:
        region = next(iter(self.needs), None) or self.org.allowed_regions[0]
        try:
            return str(self._call("sts", region, "get_caller_identity")["Account"])
        except Unverified as error:
            raise ToolError(f"could not identify the AWS account: {error}") from error

    # ------------------------------------------------------------------ checks

    def _quotas(self, needs: RegionNeeds) -> None:
        for (quota_class, market), vcpus in sorted(needs.vcpus.items()):
            code, name = QUOTAS[(quota_class, market)]
            subject = f"{code} {name}"
            try:
                value = self._quota_value(needs.region, code)
            except Unverified as error:
                self._add("vcpu-quota", needs.region, subject, "unverified", str(error))
                continue
            if value >= vcpus:
                self._add("vcpu-quota", needs.region, subject, "pass", f"quota {value:g} vCPUs, need {vcpus}; headroom {value - vcpus:g}")
            else:
                self._add(
                    "vcpu-quota",
                    needs.region,
                    subject,
                    "fail",
                    f"quota {value:g} vCPUs, need {vcpus} (training plus every pool at max_nodes); ask for {vcpus}: "
                    f"aws service-quotas request-service-quota-increase --service-code ec2 --quota-code {code} "
                    f"--desired-value {vcpus} --region {needs.region}",
                )

    def _quota_value(self, region: str, code: str) -> float:
        # The applied value, else AWS's default where no value was ever applied
        # (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html).
        try:
            answer = self._call("service-quotas", region, "get_service_quota", missing=("NoSuchResourceException",), ServiceCode="ec2", QuotaCode=code)
            return float(answer["Quota"]["Value"])
        except Missing:
            pass
        try:
            answer = self._call(
                "service-quotas", region, "get_aws_default_service_quota", missing=("NoSuchResourceException",), ServiceCode="ec2", QuotaCode=code
            )
            return float(answer["Quota"]["Value"])
        except Missing as error:
            raise Unverified(f"Service Quotas knows no quota {code} for ec2 here") from error

    def _subnets(self, region: str, subnet_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The subnets that exist, by id (one call per subnet: a missing id fails the whole call)."""
        found = {}
        for subnet_id in dict.fromkeys(subnet_ids):
            try:
                (subnet,) = self._call("ec2", region, "describe_subnets", missing=("InvalidSubnetID.NotFound",), SubnetIds=[subnet_id])["Subnets"]
                found[subnet_id] = subnet
            except Missing:
                continue
        return found

    def _training_networks(self, needs: RegionNeeds) -> None:
        if not any(team.training for team in needs.teams):
            return
        network = self.org.networks[needs.region]
        subject = f"networks.{needs.region}"
        try:
            subnet = self._subnets(needs.region, [network.subnet_id]).get(network.subnet_id)
            if subnet is None:
                self._add("training-network", needs.region, subject, "fail", f"subnet {network.subnet_id} does not exist in "
                    f"{needs.region}: fix networks.{needs.region}.subnet_id in org.yaml")
                return
            missing, elsewhere = [], []
            for group_id in network.security_group_ids:
                try:
                    (group,) = self._call(
                        "ec2", needs.region, "describe_security_groups", missing=("InvalidGroup.NotFound", "InvalidGroupId.Malformed"), GroupIds=[group_id]
                    )["SecurityGroups"]
                except Missing:
                    missing.append(group_id)
                    continue
                if group["VpcId"] != subnet["VpcId"]:
                    elsewhere.append(f"{group_id} ({group['VpcId']})")
        except Unverified as error:
            self._add("training-network", needs.region, subject, "unverified", str(error))
            return
        if missing or elsewhere:
            problems = ([f"security groups {', '.join(missing)} do not exist"] if missing else []) + (
                [f"security groups {', '.join(elsewhere)} are not in the subnet's VPC {subnet['VpcId']}"] if elsewhere else []
            )
            self._add("training-network", needs.region, subject, "fail", "; ".join(problems) + f": fix networks.{needs.region} in org.yaml")
        else:
            self._add("training-network", needs.region, subject, "pass", f"subnet {network.subnet_id} in {subnet['VpcId']} "
                f"({subnet['AvailabilityZone']}) with its security groups")

    def _offerings(self, needs: RegionNeeds) -> None:
        if not needs.placements:
            return
        types = sorted({instance_type for instance_type, _, _ in needs.placements})
        try:
            offered: dict[str, set[str]] = {}
            token: dict[str, str] = {}
            while True:
                page = self._call(
                    "ec2",
                    needs.region,
                    "describe_instance_type_offerings",
                    LocationType="availability-zone",
                    Filters=[{"Name": "instance-type", "Values": types}],
                    **token,
                )
                for offering in page["InstanceTypeOfferings"]:
                    offered.setdefault(offering["InstanceType"], set()).add(offering["Location"])
                if not page.get("NextToken"):
                    break
                token = {"NextToken": page["NextToken"]}
            subnets = self._subnets(needs.region, [s for _, ids, _ in needs.placements for s in ids])
        except Unverified as error:
            for instance_type in types:
                self._add("instance-offering", needs.region, instance_type, "unverified", str(error))
            return
        for instance_type, subnet_ids, who in needs.placements:
            zones = {subnets[s]["AvailabilityZone"] for s in subnet_ids if s in subnets}
            subject = f"{instance_type} for {who}"
            if not zones:
                self._add("instance-offering", needs.region, subject, "fail", f"none of its subnets exist ({', '.join(subnet_ids)})")
            elif offered.get(instance_type, set()) & zones:
                self._add("instance-offering", needs.region, subject, "pass", f"offered in {', '.join(sorted(offered[instance_type] & zones))}")
            else:
                where = ", ".join(sorted(offered.get(instance_type, set()))) or "no Availability Zone of the region"
                self._add(
                    "instance-offering",
                    needs.region,
                    subject,
                    "fail",
                    f"not offered in its subnets' zones ({', '.join(sorted(zones))}); offered in {where}: use a subnet there or another type",
                )

    def _clusters(self, needs: RegionNeeds) -> None:
        clusters = sorted({pool.cluster for team in needs.teams for pool in team.inference})
        for name in clusters:
            spec = self.org.clusters[name]
            subject = f"clusters.{name}"
            problems = []
            active: dict[str, Any] | None = None
            try:
                try:
                    cluster = self._call("eks", needs.region, "describe_cluster", missing=("ResourceNotFoundException",), name=name)["cluster"]
                    active = cluster
                    if cluster["status"] != "ACTIVE":
                        problems.append(f"cluster is {message(cluster['status'], 40)}, not ACTIVE")
                    running = str(cluster.get("version", ""))
                    if spec.kubernetes_version is not None and running != spec.kubernetes_version:
                        # The serving CronJobs run the kubectl of the version org.yaml names;
                        # kubectl works within one minor of the API server.
                        problems.append(f"the cluster runs Kubernetes {message(running, 20)}, org.yaml says kubernetes_version "
                                        f"{spec.kubernetes_version} (the serving CronJobs' kubectl follows it): set it to \"{message(running, 20)}\"")
                except Missing:
                    problems.append(f"EKS cluster {name} does not exist in {needs.region}")
                absent = [s for s in spec.subnet_ids if s not in self._subnets(needs.region, spec.subnet_ids)]
                if absent:
                    problems.append(f"subnets {', '.join(absent)} do not exist")
                role = spec.node_role_arn.rsplit("/", 1)[-1]
                try:
                    self._call("iam", needs.region, "get_role", missing=("NoSuchEntity",), RoleName=role)
                except Missing:
                    problems.append(f"node role {role} does not exist")
            except Unverified as error:
                self._add("eks-cluster", needs.region, subject, "unverified", str(error))
                continue
            if problems:
                self._add("eks-cluster", needs.region, subject, "fail", "; ".join(problems) + f": fix clusters.{name} in org.yaml or create it")
            else:
                self._add("eks-cluster", needs.region, subject, "pass", f"ACTIVE, {len(spec.subnet_ids)} subnets and node role {role} exist")
            if active is not None and active.get("status") == "ACTIVE":
                self._kubernetes_access(needs, name, active)

    def _kubernetes_access(self, needs: RegionNeeds, name: str, cluster: dict[str, Any]) -> None:
        """Per team namespace on the cluster: it exists (or the stack may create it), and the caller may manage what the stack puts there."""
        uses = [use for team in needs.teams for use in kubernetes.namespace_uses(team, self.org) if use.cluster == name]
        if not uses:
            return
        subjects = [f"clusters.{name}/{use.namespace} ({use.team})" for use in uses]
        try:
            token = kube_access.eks_token(self.new_client("sts", needs.region), name)
            api = kube_access.KubeApi(str(cluster.get("endpoint", "")), str((cluster.get("certificateAuthority") or {}).get("data", "")), token)
        except kube_access.KubeUnverified as error:
            for subject in subjects:
                self._add("kubernetes-access", needs.region, subject, "unverified", str(error))
            return
        for use, subject in zip(uses, subjects):
            try:
                verdict = kube_access.check_namespace(api, use, name)
            except kube_access.KubeRefused as error:
                self._add("kubernetes-access", needs.region, subject, "fail", str(error))
            except kube_access.KubeUnverified as error:
                self._add("kubernetes-access", needs.region, subject, "unverified", str(error))
            else:
                self._add("kubernetes-access", needs.region, subject, "pass" if verdict.ok else "fail", verdict.detail)

    def _config_recorder(self, needs: RegionNeeds) -> None:
        subject = "AWS Config recorder"
        if self.org.governance.create_config_recorder:
            self._add("config-recorder", needs.region, subject, "pass", "the governance stack creates one (governance.create_config_recorder)")
            return
        try:
            statuses = self._call("config", needs.region, "describe_configuration_recorder_status")["ConfigurationRecordersStatus"]
        except Unverified as error:
            self._add("config-recorder", needs.region, subject, "unverified", str(error))
            return
        recording = [s["name"] for s in statuses if s.get("recording")]
        if recording:
            self._add("config-recorder", needs.region, subject, "pass", f"recording: {', '.join(recording)}")
        else:
            state = "stopped" if statuses else "none"
            self._add(
                "config-recorder",
                needs.region,
                subject,
                "fail",
                f"no recorder is recording ({state}); the REQUIRED_TAGS rules cannot be created: "
                "start one, or set governance.create_config_recorder: true in org.yaml",
            )

    def _lambda(self, needs: RegionNeeds) -> None:
        functions = sum(1 for team in needs.teams if team.capacity_function)
        if not functions:
            return
        subject = "off-hours function"
        try:
            limits = self._call("lambda", needs.region, "get_account_settings")["AccountLimit"]
        except Unverified as error:
            self._add("lambda", needs.region, subject, "unverified", str(error))
            return
        unreserved = int(limits.get("UnreservedConcurrentExecutions", 0))
        if unreserved >= 1:
            self._add("lambda", needs.region, subject, "pass", f"{functions} function(s), no reserved concurrency; {unreserved} "
                "unreserved executions in the account")
        else:
            self._add("lambda", needs.region, subject, "fail", "the account has no unreserved concurrency left: release reserved "
                "concurrency or ask for a Lambda concurrency increase")

    def _cost_allocation_tags(self) -> None:
        region = "global"
        keys = list(self.org.required_tags)
        if not self.org.governance.activate_cost_allocation_tags:
            self._add(
                "cost-allocation-tags",
                region,
                ", ".join(keys),
                "pass",
                "activation is off: deploy the team stacks, wait for the tags to reach billing (up to 24 hours), "
                "then turn on governance.activate_cost_allocation_tags",
            )
            return
        try:
            # Cost Explorer is served from us-east-1 (https://docs.aws.amazon.com/general/latest/gr/billing.html).
            answer = self._call("ce", "us-east-1", "list_cost_allocation_tags", TagKeys=keys, Type="UserDefined")
        except Unverified as error:
            self._add("cost-allocation-tags", region, ", ".join(keys), "unverified", str(error))
            return
        known = {tag["TagKey"] for tag in answer.get("CostAllocationTags", [])}
        absent = [key for key in keys if key not in known]
        if absent:
            self._add(
                "cost-allocation-tags",
                region,
                ", ".join(absent),
                "fail",
                "not in billing data yet, so activation fails on apply: deploy the team stacks first, wait up to 24 hours, then deploy governance",
            )
        else:
            self._add("cost-allocation-tags", region, ", ".join(keys), "pass", "every required tag key is known to billing")

    def _state_bucket(self) -> None:
        state = self.org.state
        if state.backend != "s3":
            return
        region, subject = str(state.region), f"s3://{state.bucket}"
        try:
            try:
                self._call("s3", region, "head_bucket", missing=("404", "NoSuchBucket"), Bucket=state.bucket)
            except Missing:
                self._add("state-bucket", region, subject, "fail", "the state bucket does not exist: create it (versioned, encrypted) before the first deploy")
                return
            versioning = self._call("s3", region, "get_bucket_versioning", Bucket=state.bucket).get("Status")
        except Unverified as error:
            self._add("state-bucket", region, subject, "unverified", str(error))
            return
        if versioning == "Enabled":
            self._add("state-bucket", region, subject, "pass", "exists, versioning enabled")
        else:
            self._add("state-bucket", region, subject, "fail", "versioning is off: turn it on, or one bad apply can overwrite the only copy of a stack's state")
