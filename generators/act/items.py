"""What `recommend` finds, and how a change's saving is priced: the team's expected estimate
before minus the expected estimate of the edited file, parsed as `cost` parses it and priced by
`plan.estimate` (the same code), so a pull request's cost diff is exactly what was promised."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from generators.act.edits import Edit, apply_all
from generators.errors import format_path
from generators.model import LoadedTeam, TeamManifest
from generators.months import Month
from generators.plan.estimate import estimate_team
from generators.plan.pricing import PriceCatalog
from generators.yaml_source import FieldPath

SCHEMA_VERSION = 1
# libyaml's parser, as loading uses (generators/yaml_source.py): ten times PyYAML's own.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Kind = Literal["spot", "schedule", "pool-size", "idle-training", "gpu-fit", "commitment", "calibrate"]
# Kinds that may propose several fields of one target: their id names the field too.
PER_FIELD: tuple[Kind, ...] = ("pool-size", "calibrate")


@dataclass(frozen=True)
class Evidence:
    what: str
    value: str
    source: str

    def as_json(self) -> dict[str, str]:
        return {"what": self.what, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class Recommendation:
    kind: Kind
    team: str
    target: str  # inference/<name>, training/<name> or team
    file: str
    line: int
    path: FieldPath
    current: Any
    proposed: Any
    monthly_saving_usd: float
    evidence: tuple[Evidence, ...]
    writes: bool = True
    note: str = ""

    # False for a change made for capacity or accuracy, not money (a max_nodes raised for the
    # busiest hour, a calibration): kept whatever its saving, which may be zero or negative.
    for_saving: bool = True

    @property
    def id(self) -> str:
        leaf = f":{self.path[-1]}" if self.kind in PER_FIELD else ""
        return f"{self.kind}:{self.team}:{self.target}{leaf}"

    @property
    def field(self) -> str:
        return format_path(self.path)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "team": self.team, "target": self.target, "file": self.file, "line": self.line,
                "field": self.field, "current": self.current, "proposed": self.proposed,
                "monthly_saving_usd": round(self.monthly_saving_usd, 2), "evidence": [e.as_json() for e in self.evidence],
                "writes": self.writes, "note": self.note}


@dataclass(frozen=True)
class Skipped:
    kind: Kind
    team: str
    target: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "team": self.team, "target": self.target, "reason": self.reason}


@dataclass
class Recommendations:
    month: str
    items: list[Recommendation] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # What `--write` saves: per team, the estimate before minus after all its written changes
    # together (less than the sum of their savings when two touch the same capacity, e.g. spot
    # and a schedule on one pool).
    total_monthly_saving_usd: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "month": self.month, "recommendations": [r.as_json() for r in self.items],
                "skipped": [s.as_json() for s in self.skipped], "total_monthly_saving_usd": round(self.total_monthly_saving_usd, 2)}


def edited(loaded: LoadedTeam, edits: list[Edit]) -> tuple[str, TeamManifest]:
    """The team file's text with `edits` made, and the manifest it parses into (as loading does)."""
    text = apply_all(Path(loaded.path).read_text(encoding="utf-8"), edits)
    return text, TeamManifest.model_validate(yaml.load(text, Loader=_Loader))


@dataclass
class Pricing:
    """One team's expected estimate, priced once, and the saving of edits against it, by the
    estimator `cost` uses.

    `written` prices the edited file, parsed as loading parses it: what `--write` leaves, so the
    total a pull request promises is its cost diff (recommend's total uses it). `saving` prices
    the same edits made to the file's parsed data, skipping the text round trip (a thousand
    recommendations for 500 teams priced in a second, not seven); the tests check that the two
    agree."""

    loaded: LoadedTeam
    org_cap: float
    catalog: PriceCatalog
    month: Month

    def __post_init__(self) -> None:
        self.before = estimate_team(self.loaded, self.org_cap, self.catalog, self.month)[0].total.expected
        self.data = yaml.load(Path(self.loaded.path).read_text(encoding="utf-8"), Loader=_Loader)

    def saving(self, edits: list[Edit]) -> float:
        data = copy.deepcopy(self.data)
        for edit in edits:
            *parents, leaf = edit.path
            target = data
            for part in parents:
                target = target[part]
            target[leaf] = copy.deepcopy(edit.value)
        return self.saving_of(TeamManifest.model_validate(data))

    def written(self, edits: list[Edit]) -> float:
        return self.saving_of(edited(self.loaded, edits)[1])

    def saving_of(self, manifest: TeamManifest) -> float:
        """The saving of the team as `manifest` (for advice that is never written: gpu-fit)."""
        return self.before - self.expected(manifest)

    def expected(self, manifest: TeamManifest) -> float:
        after, _ = estimate_team(self.loaded.model_copy(update={"manifest": manifest}), self.org_cap, self.catalog, self.month)
        return after.total.expected
