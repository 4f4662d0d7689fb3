"""`cost --compare`: per team, what a pull request changes against its base (the target branch's
manifests, or its saved `cost --format json`): totals, budget and the gate's verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generators.plan.estimate import Estimate, Range, TeamEstimate

ChangeStatus = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class TeamSide:
    """One side of a comparison for one team: its totals, its budget and the gate's verdict."""

    total: Range
    budget_usd: float
    within: bool  # neither over its budget nor over the org cap, at the gated figure

    @classmethod
    def of(cls, team: TeamEstimate) -> TeamSide:
        return cls(team.total, team.budget_usd, not (team.over_budget or team.over_org_cap))


@dataclass(frozen=True)
class TeamChange:
    team: str
    status: ChangeStatus
    base: TeamSide | None
    head: TeamSide | None

    @property
    def base_usd(self) -> Range | None:
        return self.base.total if self.base else None

    @property
    def head_usd(self) -> Range | None:
        return self.head.total if self.head else None

    @property
    def delta_expected_usd(self) -> float:
        return (self.head.total.expected if self.head else 0.0) - (self.base.total.expected if self.base else 0.0)

    @property
    def verdict(self) -> str:
        """"within", "over", or the move between them ("within -> over")."""
        def word(side: TeamSide | None) -> str:
            return "-" if side is None else "within" if side.within else "over"
        if self.base and self.head and self.base.within == self.head.within:
            return word(self.head)
        return f"{word(self.base)} -> {word(self.head)}"


def compare(base: Estimate | dict[str, TeamSide], head: Estimate) -> list[TeamChange]:
    """Per team, the change from `base` (e.g. the target branch: an estimate, or the teams of
    its saved JSON) to `head` (the pull request): totals, budget and the gate's verdict, any of
    which makes a team "changed"."""
    before = base if isinstance(base, dict) else {t.team: TeamSide.of(t) for t in base.teams}
    after = {t.team: TeamSide.of(t) for t in head.teams}
    changes = []
    for team in sorted(before.keys() | after.keys()):
        old, new = before.get(team), after.get(team)
        status: ChangeStatus
        if old is None:
            status = "added"
        elif new is None:
            status = "removed"
        else:
            same = _same(old.total, new.total) and abs(old.budget_usd - new.budget_usd) < 0.005 and old.within == new.within
            status = "unchanged" if same else "changed"
        changes.append(TeamChange(team, status, old, new))
    return changes


def _same(a: Range, b: Range) -> bool:
    return all(abs(x - y) < 0.005 for x, y in ((a.low, b.low), (a.expected, b.expected), (a.high, b.high)))
