"""Which stacks a set of manifests becomes, in which order, with which state: pure Python.

`plan_app` turns a validated ManifestSet into an AppPlan: one GovernanceStack for org-wide
resources, then one TeamStack per team. `stacks/app.py` turns the plan into cdktf constructs;
`genai-finops stacks` prints it for a CI deploy matrix. Keeping the plan here means the order,
the dependencies and the state keys are decided (and tested) without paying the jsii start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

from generators import naming
from generators.errors import UsageError
from generators.model import ManifestSet, OrgPolicy, TeamManifest

StackKind = Literal["governance", "team"]


@dataclass(frozen=True)
class StateConfig:
    """Where one stack keeps its Terraform state. One key (and so one lock) per stack."""

    backend: Literal["local", "s3"]
    path: str  # local: the state file; s3: the object key
    bucket: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class StackPlan:
    name: str
    kind: StackKind
    region: str
    state: StateConfig
    depends_on: tuple[str, ...] = ()
    team: TeamManifest | None = None

    def as_json(self) -> dict:
        state = {"backend": self.state.backend, "key" if self.state.backend == "s3" else "path": self.state.path}
        if self.state.bucket:
            state["bucket"] = self.state.bucket
            state["region"] = self.state.region
        return {"name": self.name, "kind": self.kind, "depends_on": list(self.depends_on), "region": self.region, "state": state}


@dataclass(frozen=True)
class AppPlan:
    org: OrgPolicy
    stacks: tuple[StackPlan, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [stack.name for stack in self.stacks]


def state_for(org: OrgPolicy, stack: str) -> StateConfig:
    if org.state.backend == "s3":
        return StateConfig("s3", naming.state_key(stack), org.state.bucket, org.state.region)
    # Relative to the stack's output directory, where `cdktf deploy` runs terraform.
    return StateConfig("local", f"terraform.{stack}.tfstate")


def governance_region(org: OrgPolicy) -> str:
    """Org-wide resources (Config rules, cost-allocation tags) live in the first allowed region.

    Cost Explorer (cost-allocation tags) is a global API served from us-east-1, but the
    provider routes it there itself; Config rules are regional, so they go where teams run first.
    """
    return org.allowed_regions[0]


def plan_app(manifests: ManifestSet, only: Iterable[str] | None = None) -> AppPlan:
    """The stacks to synthesize: governance first, then the teams in name order.

    `only` restricts the plan to those team names (and `governance` when named), for a pull
    request that changes one manifest. An unknown name is a usage error that lists the known ones.
    """
    org = manifests.org
    teams = [loaded.manifest for loaded in manifests.teams]
    governance = StackPlan(naming.GOVERNANCE_STACK, "governance", governance_region(org), state_for(org, naming.GOVERNANCE_STACK))
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
                f"--only: no stack named {', '.join(unknown)}; known: {', '.join(stack.name for stack in stacks)}"
            )
        stacks = [stack for stack in stacks if stack.name in wanted]
    return AppPlan(org=org, stacks=tuple(stacks))
