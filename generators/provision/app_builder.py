"""Which stacks a set of manifests becomes, in which order, with which state: pure Python.

`plan_app` turns a validated ManifestSet into an AppPlan: one GovernanceStack for org-wide
resources, then one TeamStack per team. `stacks/app.py` turns the plan into cdktf constructs;
`genai-finops stacks` prints it for a CI deploy matrix. Keeping the plan here means the order,
the dependencies and the state keys are decided (and tested) without paying the jsii start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

from generators import naming
from generators.errors import UsageError, did_you_mean
from generators.model import ManifestSet, OrgPolicy, TeamManifest

StackKind = Literal["governance", "team"]

# Local state lives here, relative to the directory synth and `cdktf deploy` run in (the project
# root), one file per stack. Never inside the synth output: synth replaces that directory as a
# whole and `make clean` deletes it, and a lost state file makes the next deploy try to create
# everything again. Git-ignored (.gitignore). Teams share state through the S3 backend instead.
STATE_DIR = "state"
# Where cdktf writes each stack inside the output directory, and where `cdktf deploy` runs
# terraform: the local backend's relative path is resolved from there.
STACKS_DIR = "stacks"
# The Terraform JSON cdktf writes for each stack: <out>/stacks/<stack>/cdk.tf.json.
STACK_FILE = "cdk.tf.json"
DEFAULT_OUT_DIR = "cdktf.out"


@dataclass(frozen=True)
class StateConfig:
    """Where one stack keeps its Terraform state. One key (and so one lock) per stack."""

    backend: Literal["local", "s3"]
    path: str  # local: the state file, relative to the project root; s3: the object key
    bucket: str | None = None
    region: str | None = None

    def backend_path(self, stack_dir: Path) -> str:
        """The local state file as Terraform, running in `stack_dir`, must name it."""
        return os.path.relpath(Path(self.path).resolve(), stack_dir.resolve())


@dataclass(frozen=True)
class StackPlan:
    name: str
    kind: StackKind
    region: str
    state: StateConfig
    depends_on: tuple[str, ...] = ()
    team: TeamManifest | None = None
    # governance: every region a team runs in, `region` first (Config rules are regional)
    regions: tuple[str, ...] = ()

    def as_json(self) -> dict:
        state: dict[str, str | None] = {"backend": self.state.backend, "key" if self.state.backend == "s3" else "path": self.state.path}
        if self.state.bucket:
            state["bucket"] = self.state.bucket
            state["region"] = self.state.region
        row = {"name": self.name, "kind": self.kind, "depends_on": list(self.depends_on), "region": self.region, "state": state}
        if self.regions:
            row["regions"] = list(self.regions)
        return row


@dataclass(frozen=True)
class AppPlan:
    org: OrgPolicy
    stacks: tuple[StackPlan, ...] = field(default_factory=tuple)
    # Where the stacks will finally be written (synth writes elsewhere first, then renames).
    out_dir: Path = Path(DEFAULT_OUT_DIR)

    def stack_dir(self, name: str) -> Path:
        return self.out_dir / STACKS_DIR / name

    @property
    def names(self) -> list[str]:
        return [stack.name for stack in self.stacks]


def state_for(org: OrgPolicy, stack: str) -> StateConfig:
    if org.state.backend == "s3":
        return StateConfig("s3", naming.state_key(stack), org.state.bucket, org.state.region)
    return StateConfig("local", f"{STATE_DIR}/{stack}.tfstate")


def governance_region(org: OrgPolicy) -> str:
    """Org-wide resources (Config rules, cost-allocation tags) live in the first allowed region.

    Cost Explorer (cost-allocation tags) is a global API served from us-east-1, but the
    provider routes it there itself; Config rules are regional, so they go where teams run first.
    """
    return org.allowed_regions[0]


def config_regions(org: OrgPolicy, teams: Iterable[TeamManifest]) -> tuple[str, ...]:
    """Where the governance stack puts AWS Config tag rules: every region a team manifest uses.

    A Config rule is a regional resource (its ARN names the region:
    https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html, ConfigRuleArn)
    that evaluates what the region's recorder records, so a rule in one region leaves teams
    elsewhere unchecked. The governance region comes first (it always
    has rules, so a set of manifests with no team yet still gets them), then the rest in name order.
    """
    first = governance_region(org)
    return (first, *sorted({team.region for team in teams} - {first}))


def plan_app(manifests: ManifestSet, only: Iterable[str] | None = None, out_dir: Path | None = None) -> AppPlan:
    """The stacks to synthesize: governance first, then the teams in name order.

    `only` restricts the plan to those team names (and `governance` when named), for a pull
    request that changes one manifest. An unknown name is a usage error that lists the known ones.
    """
    org = manifests.org
    teams = [loaded.manifest for loaded in manifests.teams]
    governance = StackPlan(
        naming.GOVERNANCE_STACK,
        "governance",
        governance_region(org),
        state_for(org, naming.GOVERNANCE_STACK),
        regions=config_regions(org, teams),
    )
    stacks = [governance] + [
        # Team stacks read nothing from the governance stack's state, but Config must record
        # before the team's resources are created for the tag rules to see them: deploy after it.
        StackPlan(team.team, "team", team.region, state_for(org, team.team), (naming.GOVERNANCE_STACK,), team)
        for team in teams
    ]
    if only:
        wanted = list(dict.fromkeys(only))
        known = {stack.name for stack in stacks}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise UsageError(
                f"--only: no stack named {', '.join(unknown)}{did_you_mean(unknown[0], known)}; known: {', '.join(stack.name for stack in stacks)}"
            )
        stacks = [stack for stack in stacks if stack.name in wanted]
    return AppPlan(org=org, stacks=tuple(stacks), out_dir=out_dir if out_dir is not None else Path(DEFAULT_OUT_DIR))
