"""Property: any mutation of a valid manifest is either accepted, with the mutated value in the
loaded model, or refused with our own error at the mutated field (or its parent or child), or
by a rule whose message names it. Never another exception, never a silent drop."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generators.errors import ManifestError, format_path
from generators.manifest.loading import load_manifest_set
from tests.manifest_helpers import example, write_manifests

BASES = {name: example(name) for name in ("alpha", "bravo", "charlie")}


def leaf_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaf_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaf_paths(child, (*prefix, index))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=40),
    st.sampled_from(["g5.xlarg", "spot", "on-demand", "Europe/Berlin", "08:00", "prod", "us-east-1", "aws:x", "", "x" * 300]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=8), scalars, max_size=2))


@st.composite
def mutations(draw):
    team = draw(st.sampled_from(sorted(BASES)))
    doc = copy.deepcopy(BASES[team])
    paths = [p for p in leaf_paths(doc) if p]
    path = draw(st.sampled_from(paths))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    kind = draw(st.sampled_from(["replace", "delete", "add_unknown"]))
    if kind == "replace":
        parent[path[-1]] = draw(values)
    elif kind == "delete":
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            del parent[path[-1]]
    else:
        target = parent[path[-1]]
        if isinstance(target, dict):
            key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in target))
            target[key] = draw(scalars)
            path = (*path, key)
        else:
            parent[path[-1]] = draw(values)
    return team, doc, path, kind


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer + ".") or inner.startswith(outer + "[")


def related(problem, path: tuple) -> bool:
    """The problem is at the mutated field, inside it or at one of its parents; or a cross-field
    rule names the mutated key in its message (deleting `training` is reported at
    `budget.on_exceed`, "stop-training needs at least one training entry")."""
    mutated = format_path(path)
    if problem.field and (_within(problem.field, mutated) or _within(mutated, problem.field)):
        return True
    key = next((part for part in reversed(path) if isinstance(part, str)), "")
    return bool(key) and key in problem.message


def _at(value, path: tuple):
    for part in path:
        value = value[part]
    return value


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_manifest_is_accepted_or_refused_with_a_named_field(case):
    team, doc, path, kind = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_manifests(root, {team: doc})
        try:
            loaded = load_manifest_set([str(root)])
        except ManifestError as error:
            assert error.problems
            assert all(p.message and p.line >= 1 and p.column >= 1 for p in error.problems)
            assert any(related(p, path) for p in error.problems), (format_path(path), [str(p) for p in error.problems])
        else:
            (only,) = loaded.teams
            assert only.manifest.team == team == doc["team"]
            if kind != "delete":
                # Accepted means kept: the value written is the value loaded (an unknown key is
                # accepted only under `tags`, whose keys are free).
                loaded_doc = only.manifest.model_dump(mode="json", by_alias=True)
                assert _at(loaded_doc, path) == _at(doc, path), (format_path(path), _at(doc, path))
