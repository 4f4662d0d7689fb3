"""Editing a manifest in place (generators/act/edits.py): the data changes exactly as asked and
every other line stays byte for byte, comments and quoting included."""

from __future__ import annotations

import copy
import difflib

import pytest
import yaml

from generators.act.edits import Edit, EditError, apply_all, scalar
from tests.manifest_helpers import EXAMPLES


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def set_in(data: dict, path: tuple, value: object) -> dict:
    data = copy.deepcopy(data)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


CASES = [
    ("bravo", ("inference", 0, "min_nodes"), 1, ["    min_nodes: 2"], ["    min_nodes: 1"]),
    ("bravo", ("inference", 0, "market"), "spot", ["    market: on-demand"], ["    market: spot"]),
    ("alpha", ("training", 0, "hours_per_month"), 120, [], ["    hours_per_month: 120"]),
    ("alpha", ("training", 1, "hours_per_month"), 12.5, ["    hours_per_month: 40"], ["    hours_per_month: 12.5"]),
    ("alpha", ("schedule", "start"), "09:30", ['  start: "08:00"'], ['  start: "09:30"']),
    ("bravo", ("schedule",), {"timezone": "Europe/Berlin", "weekdays": ["mon", "fri"], "start": "08:00", "stop": "19:00"}, [],
     ["schedule:", "  timezone: Europe/Berlin", "  weekdays: [mon, fri]", '  start: "08:00"', '  stop: "19:00"']),
]


@pytest.mark.parametrize(("team", "path", "value", "removed", "added"), CASES, ids=[f"{c[0]}:{'.'.join(map(str, c[1]))}" for c in CASES])
def test_an_edit_changes_its_value_and_nothing_else(team, path, value, removed, added):
    before = (EXAMPLES / "teams" / f"{team}.yaml").read_text(encoding="utf-8")
    after = apply_all(before, [Edit(path, value)])
    assert changed_lines(before, after) == (removed, added)
    assert yaml.safe_load(after) == set_in(yaml.safe_load(before), path, value)


def test_comments_and_quoting_around_an_edit_survive():
    before = 'version: 1  # the format\nteam: "alpha"   # quoted on purpose\ntraining:\n  - name: a  # first\n    count: 2 # two\n\n# trailing\n'
    after = apply_all(before, [Edit(("training", 0, "count"), 3)])
    assert after == before.replace("count: 2 # two", "count: 3 # two")


def test_a_flow_mapping_or_a_list_is_refused_not_rewritten():
    with pytest.raises(EditError, match="flow mapping"):
        Edit(("budget", "notify"), "x").apply("budget: {monthly_usd: 5}\n")
    with pytest.raises(EditError, match="not a single value"):
        Edit(("schedule", "weekdays"), "mon").apply("schedule:\n  weekdays: [mon]\n")


@pytest.mark.parametrize("value", ["08:00", "on", "yes", "null", "1.5", "a b", "Europe/Berlin", "x: y", "#not", "", "ünïcode"])
def test_a_written_string_reads_back_as_itself(value):
    assert yaml.safe_load(f"k: {scalar(value)}\n")["k"] == value
