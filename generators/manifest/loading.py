"""Find, parse and validate manifests; the one entry point every command uses.

`load_manifest_set(paths)` returns a fully validated ManifestSet or raises ManifestError with
every problem in every file (parse errors, schema errors, org-policy and cross-file rules),
each with file, line, column and field path. Nothing downstream ever sees a partial set.
"""

from __future__ import annotations

import copy
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from generators.errors import ManifestError, Problem, UsageError, display_path
from generators.manifest.schema_errors import parse_model
from generators.manifest.validation import validate_org, validate_set
from generators.model import LoadedTeam, ManifestSet, OrgPolicy, TeamManifest
from generators.yaml_source import FieldPath, SourceDocument, load_yaml

ORG_FILE = "org.yaml"
TEAMS_DIR = "teams"
TEAM_SUFFIXES = (".yaml", ".yml")

# --------------------------------------------------------------------------- discovery


def discover(paths: Iterable[str]) -> tuple[Path, list[Path]]:
    """The org file and the team files named by PATH arguments.

    A PATH is a manifests directory (org.yaml + teams/*.yaml), a team file (its org.yaml is
    found in the directory above `teams/`), or an org.yaml. All PATHs must share one org.yaml.
    """
    org_files: set[Path] = set()
    team_files: dict[Path, None] = {}
    outside: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _refuse_outside(path / ORG_FILE, path, outside)
            org_files.add((path / ORG_FILE).resolve())
            teams = path / TEAMS_DIR
            if teams.is_dir():
                for candidate in sorted(teams.iterdir()):
                    if candidate.suffix in TEAM_SUFFIXES and candidate.is_file() and _refuse_outside(candidate, path, outside):
                        team_files[candidate.resolve()] = None
            _warn_about_strays(path)
        elif path.is_file():
            parent = path.absolute().parent
            root = parent.parent if parent.name == TEAMS_DIR else parent
            if not _refuse_outside(path, root, outside):
                continue
            if path.name == ORG_FILE:
                org_files.add(path.resolve())
            else:
                team_files[path.resolve()] = None
                parent = path.resolve().parent
                org_files.add((parent.parent if parent.name == TEAMS_DIR else parent) / ORG_FILE)
        else:
            raise UsageError(f"{raw}: no such file or directory (expected a manifests directory with {ORG_FILE} and {TEAMS_DIR}/)")
    if outside:
        raise ManifestError(outside)
    if not org_files:
        raise UsageError("no manifests given")
    if len(org_files) > 1:
        listed = ", ".join(sorted(display_path(p) for p in org_files))
        raise UsageError(f"the PATHs use different org policies ({listed}); validate one manifests directory at a time")
    return org_files.pop(), list(team_files)


def teams_beside(paths: Iterable[str]) -> set[str]:
    """When PATHs name team files, the other teams of their manifests directory (by file name,
    which validation keeps equal to the team's name): a view of some teams must not call the
    others' spend unknown. Empty when PATHs name whole directories."""
    named = [Path(raw) for raw in paths if Path(raw).is_file() and Path(raw).name != ORG_FILE]
    if not named:
        return set()
    org_path, _ = discover(paths)
    teams = org_path.parent / TEAMS_DIR
    found = {p.stem for p in teams.iterdir() if p.suffix in TEAM_SUFFIXES and p.is_file()} if teams.is_dir() else set()
    return found - {p.stem for p in named}


def _refuse_outside(path: Path, root: Path, problems: list[Problem]) -> bool:
    """Whether `path` may be read: a link (or a path through one) whose target lies outside the
    manifests directory `root` is refused, one problem, without reading the target (its values
    would otherwise be quoted in error messages)."""
    if not path.exists() and not path.is_symlink():
        return True
    if path.resolve().is_relative_to(root.resolve()):
        return True
    problems.append(Problem(display_path(path.absolute()), 1, 1, "",
                            "a symbolic link to a file outside the manifests directory; refusing to read it (copy the manifest in instead)"))
    return False


def _warn_about_strays(root: Path) -> None:
    """Say which YAML files a manifests directory holds that are never read: a team manifest in
    a subdirectory of teams/ or beside org.yaml would otherwise be ignored in silence."""
    teams = root / TEAMS_DIR
    strays = [p for p in sorted(root.glob("*")) if p.suffix in TEAM_SUFFIXES and p.name != ORG_FILE and p.is_file()]
    if teams.is_dir():
        strays += [p for p in sorted(teams.rglob("*")) if p.suffix in TEAM_SUFFIXES and p.is_file() and p.parent != teams]
    for stray in strays:
        print(f"genai-finops: warning: {display_path(stray)} is not read: team manifests go in {display_path(teams)}/<team>.yaml", file=sys.stderr)
    if not teams.is_dir() or not any(p.suffix in TEAM_SUFFIXES and p.is_file() for p in teams.iterdir()):
        print(f"genai-finops: warning: no team manifests: {display_path(teams)}/ has no <team>.yaml; only {ORG_FILE} is checked", file=sys.stderr)



# Top-level team fields with a default: a schema problem in one of them (or in one item of a
# list) can be dropped to check the rest.
_DROPPABLE = frozenset(name for name, info in TeamManifest.model_fields.items() if not info.is_required())
# Required fields no cross-field rule reads as a key: a schema problem in one of them is reported
# and the field stands in as a value that passes every rule (the most permissive: dev, a budget
# of $1 that only notifies), so a bad owner or budget does not hide the rest of the file's
# problems. `team`, `region` and `version` have no stand-in: the rules key on them.
_STAND_INS: dict[str, Any] = {
    "owner": "stand-in@example.com",
    "project": "stand-in",
    "cost_center": "stand-in",
    "environment": "dev",
    "budget": {"monthly_usd": 1, "alerts_percent": [100]},
}
_LISTS = frozenset(name for name in _DROPPABLE if typing.get_origin(TeamManifest.model_fields[name].annotation) is list)
_SALVAGE_ROUNDS = 6


def salvage_team(document: SourceDocument) -> tuple[SourceDocument, TeamManifest] | None:
    """The parts of a team manifest with schema problems that did parse, to check their rules in
    the same run: unknown keys, whole optional fields and single list items with a problem are
    dropped (list items keep their original index in every position, so rule problems point at
    the right line), and a required field with a stand-in takes it (_STAND_INS). None when
    `team`, `region` or `version` has a problem: the rules key on them."""
    data = copy.deepcopy(document.data)
    dropped: dict[str, set[int]] = {name: set() for name in _LISTS}
    incomplete: set[str] = set()

    def pruned() -> dict[str, Any]:
        view = dict(data)
        for name, indices in dropped.items():
            if isinstance(view.get(name), list) and indices:
                view[name] = [item for index, item in enumerate(view[name]) if index not in indices]
        return view

    for _ in range(_SALVAGE_ROUNDS):
        try:
            manifest = TeamManifest.model_validate(pruned())
        except ValidationError as error:
            # Positions in this round's pruned lists -> indices in the file, fixed for the round.
            survivors = {
                name: [i for i in range(len(data[name])) if i not in dropped[name]] for name in _LISTS if isinstance(data.get(name), list)
            }
            for item in error.errors(include_url=False):
                loc = tuple(item["loc"])
                if not loc:
                    return None
                top = str(loc[0])  # a TeamManifest field name
                if top in survivors and len(loc) > 1 and isinstance(loc[1], int):
                    loc = (top, survivors[top][loc[1]], *loc[2:])
                if item["type"] == "extra_forbidden" and len(loc) > 1:
                    parent = _at(data, loc[:-1])
                    if isinstance(parent, dict):
                        parent.pop(loc[-1], None)
                        incomplete.add(str(top))
                        continue
                if top in _LISTS and len(loc) > 1 and isinstance(loc[1], int):
                    dropped[top].add(loc[1])
                elif top in _DROPPABLE or item["type"] == "extra_forbidden":
                    data.pop(top, None)
                elif top in _STAND_INS:
                    data[top] = copy.deepcopy(_STAND_INS[top])
                else:
                    return None
                incomplete.add(str(top))
            continue
        return _remapped(document, pruned(), dropped, frozenset(incomplete)), manifest
    return None


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


@dataclass
class _SalvagedDocument(SourceDocument):
    """A team document reduced by salvage_team. Rules see the reduced data; every position and
    field path they report is translated back to the file's own (a list item keeps its index)."""

    survivors: dict[str, list[int]] = field(default_factory=dict)

    def original(self, field_path: FieldPath) -> FieldPath:
        if len(field_path) > 1 and field_path[0] in self.survivors and isinstance(field_path[1], int):
            kept = self.survivors[field_path[0]]
            if 0 <= field_path[1] < len(kept):
                return (field_path[0], kept[field_path[1]], *field_path[2:])
        return field_path

    def locate(self, field_path: FieldPath, *, key: bool = False) -> tuple[int, int]:
        return super().locate(self.original(field_path), key=key)

    def problem(self, field_path: FieldPath, message: str, *, key: bool = False) -> Problem:
        return super().problem(self.original(field_path), message, key=key)


def _remapped(document: SourceDocument, data: dict[str, Any], dropped: dict[str, set[int]], incomplete: frozenset[str]) -> SourceDocument:
    survivors = {
        name: [i for i in range(len(document.data[name])) if i not in indices]
        for name, indices in dropped.items()
        if isinstance(document.data.get(name), list)
    }
    return _SalvagedDocument(document.path, data, document.positions, document.key_positions, incomplete, survivors)


# --------------------------------------------------------------------------- loading


def _org_missing(org_path: Path, team_paths: list[Path]) -> str:
    """Where the org policy was looked for, and why there."""
    lone = [p for p in team_paths if p.parent.name != TEAMS_DIR]
    if lone:
        return (f"org policy not found: looked for {display_path(org_path)} beside {display_path(lone[0])}, which is not in a "
                f"{TEAMS_DIR}/ folder; a team file's {ORG_FILE} is the one above its {TEAMS_DIR}/ (manifests/{TEAMS_DIR}/<team>.yaml "
                f"-> manifests/{ORG_FILE}): move it there, or pass the manifests directory")
    return f"org policy not found: looked for {display_path(org_path)}; every manifests directory needs {ORG_FILE} beside its {TEAMS_DIR}/"


def load_org_policy(path: str) -> OrgPolicy:
    """Only the org policy of a manifests directory (or org.yaml), parsed and checked by its own
    rules: for commands that need the org's lists and none of the teams (scan)."""
    candidate = Path(path)
    org_path = candidate / ORG_FILE if candidate.is_dir() else candidate
    if not org_path.is_file():
        raise ManifestError([Problem(display_path(org_path), 1, 1, "", f"org policy not found; every manifests directory needs {ORG_FILE}")])
    document = load_yaml(org_path, display_path(org_path))
    org = parse_model(document, OrgPolicy)
    problems = validate_org(document, org)
    if problems:
        raise ManifestError(problems)
    return org


def load_manifest_set(paths: Iterable[str]) -> ManifestSet:
    """Load, parse and validate everything PATHs name; raise ManifestError with all problems."""
    org_path, team_paths = discover(paths)
    problems: list[Problem] = []
    org: OrgPolicy | None = None
    org_doc: SourceDocument | None = None
    if not org_path.is_file():
        problems.append(Problem(display_path(org_path), 1, 1, "", _org_missing(org_path, team_paths)))
    else:
        try:
            org_doc = load_yaml(org_path, display_path(org_path))
            org = parse_model(org_doc, OrgPolicy)
        except ManifestError as error:
            problems.extend(error.problems)

    teams: list[tuple[SourceDocument, TeamManifest]] = []
    # Teams with schema problems, reduced to what parsed: their rule problems are reported in
    # the same run, but they never reach a ManifestSet.
    salvaged: list[tuple[SourceDocument, TeamManifest]] = []
    for team_path in team_paths:
        try:
            document = load_yaml(team_path, display_path(team_path))
        except ManifestError as error:
            problems.extend(error.problems)
            continue
        try:
            teams.append((document, parse_model(document, TeamManifest)))
        except ManifestError as error:
            problems.extend(error.problems)
            partial = salvage_team(document)
            if partial is not None:
                salvaged.append(partial)

    if org is not None and org_doc is not None:
        problems.extend(validate_set(org_doc, org, teams + salvaged))
    if problems:
        raise ManifestError(problems)
    assert org is not None and org_doc is not None
    return ManifestSet(
        org_path=org_doc.path,
        org=org,
        teams=tuple(LoadedTeam(path=doc.path, manifest=manifest, source=doc) for doc, manifest in sorted(teams, key=lambda t: t[1].team)),
    )
