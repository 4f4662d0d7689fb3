"""The org policy: `<manifests>/org.yaml`, kept by the platform team."""

from __future__ import annotations

from typing import Annotated, Literal, Sequence, get_args

from pydantic import Field, StringConstraints, model_validator

from generators.model.fields import (
    Email,
    NonEmpty,
    StrictModel,
)
from policies.gfo_facts import glob_match


def patterns_allow(patterns: Sequence[str], instance_type: str) -> bool:
    """Whether any of org.yaml's allowed_instance_types glob patterns admits `instance_type`."""
    return any(glob_match(pattern, instance_type) for pattern in patterns)


class ProdRules(StrictModel):
    allow_spot_training: bool = True
    allow_spot_inference: bool = False


# The kubectl image the serving CronJobs run, per cluster minor version. kubectl is supported
# within one minor version of the API server (https://kubernetes.io/releases/version-skew-policy/#kubectl),
# so each minor gets its own; the Kubernetes project publishes registry.k8s.io/kubectl:v1.X.0 with
# every release (kubernetes/kubernetes CHANGELOG/CHANGELOG-1.X.md, "Container Images"; the image
# exists from 1.28, https://github.com/kubernetes/kubernetes/pull/116672, so a 1.27 cluster runs
# 1.28's, one minor newer, as the skew policy allows).
KUBECTL_IMAGES: dict[str, str] = {
    "1.27": "registry.k8s.io/kubectl:v1.28.0",
    **{f"1.{minor}": f"registry.k8s.io/kubectl:v1.{minor}.0" for minor in range(28, 37)},
}
# A cluster whose org.yaml entry names no version: the newest minor EKS had in standard support
# when the serving CronJobs were written (kept for clusters configured before the field existed).
DEFAULT_KUBERNETES_VERSION = "1.33"


class Cluster(StrictModel):
    region: NonEmpty
    node_role_arn: Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")]
    subnet_ids: list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(min_length=1)
    kubernetes_version: Literal[tuple(KUBECTL_IMAGES)] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The cluster's Kubernetes minor version, such as \"1.33\": the serving CronJobs run the matching kubectl, "
        "and preflight compares it with the cluster's.",
    )
    create_namespaces: bool = Field(
        default=False,
        description="True when the team stacks create their namespaces on this cluster (one team per namespace); "
        "false when the platform team creates them beforehand. preflight checks either way.",
    )

    @property
    def kubectl_image(self) -> str:
        return KUBECTL_IMAGES[self.kubernetes_version or DEFAULT_KUBERNETES_VERSION]


class Network(StrictModel):
    subnet_id: Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]
    security_group_ids: list[Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(min_length=1)


class StateBackend(StrictModel):
    backend: Literal["local", "s3"] = "local"
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None = None
    region: NonEmpty | None = None

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> StateBackend:
        if self.backend == "s3" and (not self.bucket or not self.region):
            raise ValueError("backend s3 needs both bucket and region")
        if self.backend == "local" and (self.bucket or self.region):
            raise ValueError("bucket and region are only used with backend s3")
        return self


class Alerts(StrictModel):
    finops_email: Email


class Governance(StrictModel):
    activate_cost_allocation_tags: bool = False
    create_config_recorder: bool = False
    create_billing_export: bool = Field(
        default=False, description="Payer account only: a FOCUS 1.2 export of AWS Data Exports, with its bucket and an Athena workgroup."
    )


class Recommend(StrictModel):
    """What `genai-finops recommend` proposes (docs/manifest.md)."""

    target_gpu_busy_percent: float = Field(
        default=70, gt=0, le=100, description="Pools are sized so that the measured load runs at this share of their GPUs."
    )
    min_monthly_saving_usd: float = Field(default=0, ge=0, description="Smaller savings are listed as skipped, with their figure.")
    timezone: NonEmpty = Field(default="UTC", description="IANA time zone of the schedules recommend proposes.")


class Anomalies(StrictModel):
    """When a day's spend is an anomaly (showback over time) and whether governance watches for them."""

    alert_threshold_usd: float = Field(
        default=100, ge=0, description="A day's spend above the team's baseline by at least this is an anomaly (the minimum dollar impact)."
    )
    create_monitors: bool = Field(
        default=False, description="AWS Cost Anomaly Detection monitors per team (in each team stack), alerting the team's topic at the threshold."
    )


class Billing(StrictModel):
    """Where showback reads actual spend: the FOCUS export of AWS Data Exports."""

    export_bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] = Field(
        description="S3 bucket of the FOCUS export (created when governance.create_billing_export is true)."
    )
    export_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()/-]{1,512}$")] = Field(
        default="focus", description="Key prefix of the export in the bucket."
    )
    athena_workgroup: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,128}$")] | None = Field(
        default=None, description="Athena workgroup for showback --engine athena."
    )
    athena_table: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,255}\.[A-Za-z0-9_]{1,255}$")] | None = Field(
        default=None, description="database.table over the export, for showback --engine athena."
    )


CostGate = Literal["expected", "high"]
# The gates, for --gate and the estimate: one list, the Literal's.
GATES: tuple[CostGate, ...] = get_args(CostGate)


class OrgPolicy(StrictModel):
    """The platform team's policy, `manifests/org.yaml`."""

    version: Literal[1]
    required_tags: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(min_length=1)
    allowed_regions: list[NonEmpty] = Field(min_length=1)
    allowed_instance_types: list[NonEmpty] = Field(min_length=1, description="Glob patterns, e.g. g5.*")
    max_team_monthly_usd: float = Field(gt=0)
    prod: ProdRules = Field(default_factory=ProdRules)
    clusters: dict[str, Cluster] = Field(default_factory=dict)
    networks: dict[str, Network] = Field(default_factory=dict)
    state: StateBackend = Field(default_factory=StateBackend)
    alerts: Alerts
    governance: Governance = Field(default_factory=Governance)
    billing: Billing | None = Field(default=None, description="Where showback reads actual spend.")
    cost_gate: CostGate = Field(
        default="expected", description="What `cost --fail-on-budget` compares with the budget by default: expected or high."
    )
    recommend: Recommend = Field(default_factory=Recommend)
    anomalies: Anomalies = Field(default_factory=Anomalies)

    def allows_instance_type(self, instance_type: str) -> bool:
        return patterns_allow(self.allowed_instance_types, instance_type)

    def allows_spot(self, environment: str, section: Literal["training", "inference"]) -> bool:
        """Whether a team of `environment` may run `section` (training or inference) on spot:
        always outside prod; in prod as prod.allow_spot_training / allow_spot_inference say."""
        if environment != "prod":
            return True
        return self.prod.allow_spot_training if section == "training" else self.prod.allow_spot_inference
