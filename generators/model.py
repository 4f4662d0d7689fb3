"""Typed models of the team manifest and the org policy (docs/manifest.md).

The models are the single source of truth for field names, types, defaults, the JSON Schema
(`genai-finops schema`) and the per-field error messages. Rules that need more than one field
or more than one file (org allow-lists, cross-team uniqueness, AWS name limits) live in
`generators.manifest.validation`, which works on these already-typed objects.

Every model forbids unknown fields and is strict about types: YAML `"5"` is not the number 5,
and a typo'd field is an error rather than a silently ignored key.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from generators.amis import EKS_NODE_DEFAULT_VOLUME_GB, EKS_NODE_MIN_VOLUME_GB
from generators.errors import Problem, format_path
from generators.yaml_source import SourceDocument
from policies.gfo_facts import TEAM_NAME_PATTERN, glob_match

# Training and inference entry names become parts of AWS resource names (node group,
# instance Name tag, construct ids). Same alphabet as team names; the length that matters is
# the combined name's, checked against each AWS limit in generators.naming.
ENTRY_NAME_PATTERN = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
# RFC 5322 is far wider; this is the practical subset AWS Budgets and SNS accept.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
# Kubernetes object names (namespace, deployment): RFC 1123 labels / subdomains.
# https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# IAM role names: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
IAM_ROLE_NAME_PATTERN = r"^[A-Za-z0-9_+=,.@-]{1,64}$"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Environment = Literal["dev", "staging", "prod"]
Market = Literal["spot", "on-demand"]
OnExceed = Literal["notify", "stop-training", "deny-new-gpu"]

TeamName = Annotated[str, StringConstraints(pattern=TEAM_NAME_PATTERN)]
EntryName = Annotated[str, StringConstraints(pattern=ENTRY_NAME_PATTERN, max_length=40)]
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
K8sName = Annotated[str, StringConstraints(pattern=K8S_NAME_PATTERN, max_length=63)]
HHMM = Annotated[str, StringConstraints(pattern=HHMM_PATTERN)]


def repeated(values: list, show=str) -> str:
    """The values listed more than once, in order, as text ("" when none is): for "listed twice"."""
    return ", ".join(show(v) for v in sorted({v for v in values if values.count(v) > 1}))


def _once_each(values: list, what: str, show=str) -> list:
    twice = repeated(values, show)
    if twice:
        raise ValueError(f"{what} listed twice: {twice}")
    return values


def _once(what: str, show=str) -> AfterValidator:
    """A list field's check that no item is listed twice, naming the items that are."""
    return AfterValidator(lambda values: _once_each(values, what, show))
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Percent = Annotated[float, Field(gt=0, le=1000)]
RoleName = Annotated[str, StringConstraints(pattern=IAM_ROLE_NAME_PATTERN)]


class StrictModel(BaseModel):
    """Unknown fields are errors; YAML strings are never coerced to numbers or back."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=False)


# --------------------------------------------------------------------------- team manifest


class Schedule(StrictModel):
    """When GPU capacity may run. Outside these hours the off-hours function stops it."""

    timezone: NonEmpty = Field(description="IANA time zone name, e.g. Europe/Berlin.")
    weekdays: Annotated[list[Weekday], _once("weekdays")] = Field(min_length=1, description="Days on which capacity runs.")
    start: HHMM = Field(description='Local start time, "HH:MM" (quote it in YAML).')
    stop: HHMM = Field(description='Local stop time, "HH:MM" (quote it in YAML).')


    @model_validator(mode="after")
    def _start_before_stop(self) -> Schedule:
        if self.start >= self.stop:
            raise ValueError(
                f"start ({self.start}) must be earlier than stop ({self.stop}) on the same day; "
                "overnight windows are not supported in manifest v1"
            )
        return self

    @property
    def daily_hours(self) -> float:
        return _minutes(self.stop) / 60 - _minutes(self.start) / 60


def hour_minute(hhmm: str) -> tuple[int, int]:
    """The one reader of a manifest's "HH:MM" (HHMM has validated it): (hours, minutes)."""
    hours, minutes = hhmm.split(":")
    return int(hours), int(minutes)


def _minutes(hhmm: str) -> int:
    hours, minutes = hour_minute(hhmm)
    return hours * 60 + minutes


class Budget(StrictModel):
    """Monthly AWS Budget for the team, filtered on its Team cost-allocation tag."""

    monthly_usd: float = Field(gt=0, description="Monthly budget in USD; > 0 and <= org max_team_monthly_usd.")
    alerts_percent: Annotated[list[Percent], _once("thresholds", show=lambda p: f"{p:g}")] = Field(
        min_length=1, description="ACTUAL spend thresholds, percent of the budget."
    )
    forecast_alert_percent: Percent | None = Field(default=None, description="Optional FORECASTED threshold.")
    notify: list[Email] | None = Field(default=None, min_length=1, description="Alert recipients; defaults to [owner].")
    on_exceed: OnExceed = Field(default="notify", description="What happens when the budget is exceeded.")
    action_role_names: list[RoleName] = Field(
        default_factory=list, description="IAM roles the deny-new-gpu policy is attached to."
    )


    @model_validator(mode="after")
    def _roles_for_deny(self) -> Budget:
        if self.on_exceed == "deny-new-gpu" and not self.action_role_names:
            raise ValueError("action_role_names is required when on_exceed is deny-new-gpu")
        if self.on_exceed != "deny-new-gpu" and self.action_role_names:
            raise ValueError("action_role_names is only used when on_exceed is deny-new-gpu")
        return self


class TrainingJob(StrictModel):
    """GPU training / fine-tuning instances: `count` EC2 instances of one type."""

    name: EntryName = Field(description="Unique within the manifest.")
    instance_type: NonEmpty = Field(description="A GPU instance type allowed by org policy, e.g. g5.xlarge.")
    count: int = Field(ge=1, le=64, description="Number of instances.")
    market: Market = Field(description="spot or on-demand.")
    model_id: NonEmpty = Field(description="Becomes the ModelID tag of these instances.")
    root_volume_gb: int = Field(ge=8, le=16384, description="Encrypted gp3 root volume size in GiB.")
    hours_per_month: float | None = Field(
        default=None, gt=0, le=744, description="Expected usage for the cost estimate; default from schedule, else 730."
    )


class Autoscaling(StrictModel):
    """Kubernetes HorizontalPodAutoscaler (autoscaling/v2) for the serving Deployment."""

    namespace: K8sName
    deployment: K8sName
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    # A percentage of the pods' CPU requests, which pods may exceed: Kubernetes accepts more than
    # 100 (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details).
    target_cpu_percent: int = Field(gt=0, le=1000)
    target_requests_per_second: float = Field(gt=0)

    @model_validator(mode="after")
    def _replica_bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) must be <= max_replicas ({self.max_replicas})")
        return self


class InferencePool(StrictModel):
    """An autoscaled EKS managed GPU node group on a shared cluster."""

    name: EntryName = Field(description="Unique within the manifest.")
    cluster: NonEmpty = Field(description="A key of org.clusters, in the manifest's region.")
    instance_types: Annotated[list[NonEmpty], _once("instance types")] = Field(
        min_length=1, description="GPU instance types for the node group."
    )
    market: Market
    min_nodes: int = Field(ge=0)
    max_nodes: int = Field(ge=1, description="EKS refuses a max size of 0.")
    desired_nodes: int = Field(ge=0)
    model_id: NonEmpty = Field(description="Becomes the ModelID tag and model-id node label.")
    autoscaling: Autoscaling | None = None
    tokens_per_second_per_node: float | None = Field(default=None, gt=0)
    utilization_percent: float = Field(
        default=100,
        ge=1,
        le=100,
        description="The share of tokens_per_second_per_node expected on average, for the estimated cost per million tokens.",
    )
    served_model_name: NonEmpty | None = Field(
        default=None, description="The model name the inference server reports in its metrics; default: model_id."
    )
    node_volume_gb: int = Field(
        default=EKS_NODE_DEFAULT_VOLUME_GB,
        ge=EKS_NODE_MIN_VOLUME_GB,
        le=16384,
        description="Each node's encrypted gp3 root volume in GiB; default 100.",
    )


    @model_validator(mode="after")
    def _node_bounds(self) -> InferencePool:
        if not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError(
                "min_nodes <= desired_nodes <= max_nodes must hold, got "
                f"{self.min_nodes} <= {self.desired_nodes} <= {self.max_nodes}"
            )
        return self


class TeamManifest(StrictModel):
    """One team's project manifest, `manifests/teams/<team>.yaml`."""

    version: Literal[1] = Field(description="Manifest format version; only 1 exists.")
    team: TeamName = Field(description="Unique across all manifests; ^[a-z][a-z0-9-]{1,28}[a-z0-9]$.")
    owner: Email = Field(description="Owner e-mail; default recipient of budget alerts.")
    project: NonEmpty = Field(description="Becomes the Project tag.")
    cost_center: NonEmpty = Field(description="Becomes the CostCenter tag.")
    environment: Environment
    region: NonEmpty = Field(description="Must be in org.allowed_regions.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags; may not redefine a required tag.")
    schedule: Schedule | None = None
    budget: Budget
    training: list[TrainingJob] = Field(default_factory=list)
    inference: list[InferencePool] = Field(default_factory=list)

    @property
    def alert_recipients(self) -> list[str]:
        return list(self.budget.notify) if self.budget.notify else [self.owner]

    @property
    def capacity_function(self) -> bool:
        """Whether the team gets the off-hours function (lambdas/offhours): to follow its schedule,
        to cap its pools when the deny-new-gpu budget action fires, and for every team with
        pools, prod included, to bring each pool to the bounds the manifest gives (`sync`, which
        clamps the desired size into them and never stops a pool). Terraform cannot: it sends
        the new min/max with the desired size it ignores, and EKS refuses bounds that exclude
        the autoscaler's current desired size ("Minimum capacity 4 can't be greater than desired
        size 3": terraform-aws-modules/terraform-aws-eks #3683, #2508). Its pools' scaling is
        then the function's to set, within the bounds the manifest gives. Every team with spot
        training too: its daily `sync` cancels persistent spot requests that outlived their
        instance (terraform-provider-aws #38142; lambdas/offhours/spot_requests.py)."""
        return self.schedule is not None or bool(self.inference) or any(job.market == "spot" for job in self.training)


# --------------------------------------------------------------------------- org policy


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

    def allows_instance_type(self, instance_type: str) -> bool:
        return any(glob_match(pattern, instance_type) for pattern in self.allowed_instance_types)


# --------------------------------------------------------------------------- the loaded set


class LoadedTeam(BaseModel):
    """A validated team manifest, the file it came from, and the parsed document with the line
    and column of every field, so a later step (cost's missing prices) can point at a field
    without reading the file again."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    path: str
    manifest: TeamManifest
    source: SourceDocument | None = Field(default=None, exclude=True, repr=False)

    def problem(self, field_path: tuple, message: str) -> Problem:
        """A problem at `field_path` of this manifest (at the file's start if it was built
        without its document, as tests that assemble a set by hand do)."""
        if self.source is not None:
            return self.source.problem(field_path, message)
        return Problem(self.path, 1, 1, format_path(field_path), message)


class ManifestSet(BaseModel):
    """Everything one run works on: the org policy and every team manifest, all validated."""

    model_config = ConfigDict(frozen=True)
    org_path: str
    org: OrgPolicy
    teams: tuple[LoadedTeam, ...]

    def team(self, name: str) -> TeamManifest:
        for loaded in self.teams:
            if loaded.manifest.team == name:
                return loaded.manifest
        raise KeyError(name)
