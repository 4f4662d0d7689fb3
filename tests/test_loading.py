"""Bad input of every kind the foundation issue lists: a clear, located error, never a traceback."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from generators.errors import ManifestError, UsageError
from generators.manifest.loading import load_manifest_set
from generators.yaml_source import MAX_ALIASES, MAX_NODES, load_yaml
from tests.manifest_helpers import EXAMPLES, example, write_manifests


def problems_for(tmp_path, teams, org=None) -> list[str]:
    write_manifests(tmp_path, teams, org)
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(tmp_path)])
    return [str(p) for p in caught.value.problems]


def test_shipped_examples_load_and_are_sorted_by_team():
    loaded = load_manifest_set(["manifests"])
    assert [t.manifest.team for t in loaded.teams] == ["alpha", "bravo", "charlie"]
    assert loaded.org.required_tags[0] == "Team"


def test_unknown_field_names_the_line_and_suggests_the_right_field(tmp_path):
    alpha = example("alpha")
    alpha["training"][0]["instnce_type"] = alpha["training"][0].pop("instance_type")
    problems = problems_for(tmp_path, {"alpha": alpha})
    # Two problems: the misspelt key, and the field it was meant to be, missing from its entry.
    assert len(problems) == 2, problems
    assert any("training[0].instnce_type: unknown field 'instnce_type'; did you mean 'instance_type'?" in p for p in problems)
    assert any(p.endswith(": training[0].instance_type: required field is missing") for p in problems)


def test_wrong_type_is_reported_with_what_was_found(tmp_path):
    alpha = example("alpha")
    alpha["training"][0]["count"] = "2"
    (problem,) = problems_for(tmp_path, {"alpha": alpha})
    assert "training[0].count: got text '2'; expected a whole number" in problem
    path, line, column, _ = problem.split(":", 3)
    assert path == f"{tmp_path}/teams/alpha.yaml" and line.isdigit() and column.isdigit()
    text = (tmp_path / "teams" / "alpha.yaml").read_text().splitlines()
    # The position is the wrong value itself, on the count line.
    assert text[int(line) - 1].lstrip().startswith("count:") and text[int(line) - 1][int(column) - 1:] == "'2'"


def test_missing_required_field_points_at_the_parent_mapping(tmp_path):
    alpha = example("alpha")
    del alpha["budget"]["monthly_usd"]
    (problem,) = problems_for(tmp_path, {"alpha": alpha})
    assert "budget.monthly_usd: required field is missing" in problem


def test_line_and_column_are_those_of_the_bad_value(tmp_path):
    alpha_yaml = (EXAMPLES / "teams" / "alpha.yaml").read_text().replace("environment: dev", "environment: qa")
    line = next(i for i, text in enumerate(alpha_yaml.splitlines(), 1) if text.startswith("environment:"))
    (problem,) = problems_for(tmp_path, {"alpha": alpha_yaml})
    assert f"alpha.yaml:{line}:14: environment: got text 'qa'; allowed: dev, staging, prod" in problem


def test_empty_file_is_refused(tmp_path):
    (problem,) = problems_for(tmp_path, {"alpha": ""})
    assert "alpha.yaml:1:1: file is empty" in problem


def test_file_that_is_not_a_mapping_is_refused(tmp_path):
    (problem,) = problems_for(tmp_path, {"alpha": "- a\n- b\n"})
    assert "file is a list; expected a YAML mapping" in problem


def test_invalid_utf8_names_line_and_byte(tmp_path):
    raw = b"version: 1\nteam: alpha\nproject: caf\xe9\n"
    (problem,) = problems_for(tmp_path, {"alpha": raw})
    assert "alpha.yaml:3:" in problem and "not valid UTF-8 (byte 0xe9)" in problem


def test_file_over_one_mib_is_refused_without_parsing(tmp_path):
    (problem,) = problems_for(tmp_path, {"alpha": "# pad\n" * 200_000})
    assert "manifests may be at most 1 MiB" in problem


def test_duplicate_key_is_an_error_with_both_lines(tmp_path):
    text = "version: 1\nteam: alpha\nteam: beta\n"
    problems = problems_for(tmp_path, {"alpha": text})
    assert any("alpha.yaml:3:1: team: duplicate key 'team' (first defined on line 2)" in p for p in problems)


def test_alias_bomb_is_refused_fast_and_in_bounded_memory(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ManifestError) as caught:
        load_yaml(path)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert f"more than {MAX_ALIASES} YAML aliases" in str(caught.value)
    # Fully expanded, this document has 10**10 values; anything near that would take hours.
    assert peak < 50 * 1024 * 1024 and elapsed < 30


def test_document_with_too_many_values_hits_the_node_limit(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text("items:\n" + "  - x\n" * (MAX_NODES + 1))
    with pytest.raises(ManifestError) as caught:
        load_yaml(path)
    assert "expands to more than" in str(caught.value)


def test_alias_uses_are_counted_as_they_expand(tmp_path):
    path = tmp_path / "refs.yaml"
    path.write_text("a: &a [x, y]\n" + "".join(f"b{i}: *a\n" for i in range(MAX_ALIASES + 1)))
    with pytest.raises(ManifestError, match=f"more than {MAX_ALIASES} YAML aliases"):
        load_yaml(path)


def test_python_object_tags_are_not_constructed(tmp_path):
    text = "version: 1\nteam: !!python/object/apply:os.system ['true']\n"
    problems = problems_for(tmp_path, {"alpha": text})
    assert any("team: unsupported YAML value" in p for p in problems)


def test_invalid_yaml_syntax_reports_the_position(tmp_path):
    (problem,) = problems_for(tmp_path, {"alpha": "version: 1\nteam: [alpha\n"})
    assert "alpha.yaml:3:1: invalid YAML" in problem


def test_several_files_report_all_problems_not_only_the_first(tmp_path):
    alpha, bravo = example("alpha"), example("bravo")
    alpha["environment"] = "qa"
    bravo["budget"]["monthly_usd"] = -1
    problems = problems_for(tmp_path, {"alpha": alpha, "bravo": bravo})
    assert any("alpha.yaml" in p and "environment" in p for p in problems)
    assert any("bravo.yaml" in p and "budget.monthly_usd: got number -1; must be greater than 0" in p for p in problems)


def test_missing_org_policy_is_reported(tmp_path):
    (tmp_path / "teams").mkdir()
    with pytest.raises(ManifestError) as caught:
        load_manifest_set([str(tmp_path)])
    assert "org policy not found" in str(caught.value)


def test_path_that_does_not_exist_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file or directory"):
        load_manifest_set([str(tmp_path / "nope")])


def test_team_file_path_finds_its_org_policy(tmp_path):
    write_manifests(tmp_path, {"alpha": example("alpha"), "bravo": example("bravo")})
    loaded = load_manifest_set([str(tmp_path / "teams" / "alpha.yaml")])
    assert [t.manifest.team for t in loaded.teams] == ["alpha"]


def test_paths_with_different_org_policies_are_refused(tmp_path):
    write_manifests(tmp_path / "one", {"alpha": example("alpha")})
    write_manifests(tmp_path / "two", {"bravo": example("bravo")})
    with pytest.raises(UsageError, match="different org policies"):
        load_manifest_set([str(tmp_path / "one"), str(tmp_path / "two")])


def test_the_org_policy_alone_is_read_without_the_teams(tmp_path):
    """scan needs two lists of org.yaml; it neither re-reads nor re-validates 500 team files."""
    from generators.manifest.loading import load_org_policy
    from tests.manifest_helpers import example, write_manifests

    root = write_manifests(tmp_path, {"alpha": "team: [this is not a manifest"}, example("org"))
    org = load_org_policy(str(root))
    assert list(org.required_tags) == list(example("org")["required_tags"])
    assert load_org_policy(str(root / "org.yaml")) == org


def test_the_org_policy_alone_still_gets_its_own_rules(tmp_path):
    from generators.manifest.loading import load_org_policy
    from tests.manifest_helpers import example, write_manifests

    org = example("org")
    org["allowed_regions"] = [*org["allowed_regions"], "mars-north-1x"]
    root = write_manifests(tmp_path, {}, org)
    with pytest.raises(ManifestError) as caught:
        load_org_policy(str(root))
    assert [p.field for p in caught.value.problems] == [f"allowed_regions[{len(org['allowed_regions']) - 1}]"]
    with pytest.raises(ManifestError, match="org policy not found"):
        load_org_policy(str(tmp_path / "nowhere"))
