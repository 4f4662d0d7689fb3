"""The loaded set: every validated manifest with the file and positions it came from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from generators.errors import Problem, format_path
from generators.model.org import OrgPolicy
from generators.model.team import TeamManifest
from generators.yaml_source import SourceDocument


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
