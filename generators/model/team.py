"""The team manifest: `<manifests>/teams/<team>.yaml`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from generators.amis import EKS_NODE_DEFAULT_VOLUME_GB, EKS_NODE_MIN_VOLUME_GB
from generators.model.fields import (
    HHMM,
    BedrockModel,
    Email,
    EntryName,
    Environment,
    K8sName,
    Market,
    NonEmpty,
    OnExceed,
    Percent,
    RoleName,
    StrictModel,
    TeamName,
    TokensPerMonth,
    Weekday,
    _once,
)


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
    managed_alternative: BedrockModel | None = Field(
        default=None, description="A Bedrock model ID the pool's measured tokens are priced against (build or buy)."
    )


    @model_validator(mode="after")
    def _node_bounds(self) -> InferencePool:
        if not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError(
                "min_nodes <= desired_nodes <= max_nodes must hold, got "
                f"{self.min_nodes} <= {self.desired_nodes} <= {self.max_nodes}"
            )
        return self


class ManagedModel(StrictModel):
    """A foundation model the team calls through Amazon Bedrock, via its own application inference profile."""

    name: EntryName = Field(description="Unique within the manifest; names the application inference profile.")
    provider: Literal["bedrock"] = Field(description="bedrock (the only provider in v1).")
    foundation_model: BedrockModel = Field(
        description="A Bedrock model ID or a system-defined cross-region inference profile ID (us.anthropic...); "
        "priced in the catalog for the manifest's region."
    )
    model_id: NonEmpty = Field(description="Becomes the ModelID tag, as for pools and training.")
    input_tokens_per_month: TokensPerMonth = Field(description="Expected input tokens a month, for the estimate.")
    output_tokens_per_month: TokensPerMonth = Field(description="Expected output tokens a month, for the estimate.")
    invoke_role_names: Annotated[list[RoleName], _once("roles")] = Field(
        default_factory=list, description="IAM roles allowed to invoke through the team's profile."
    )


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
    managed_models: list[ManagedModel] = Field(default_factory=list)

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
