"""docs/manifest.md is what the code generates, reads as tables, and says the rules users
otherwise learn only from errors."""

from __future__ import annotations

from markdown_it import MarkdownIt

from generators.manifest.reference import render
from generators.model import OrgPolicy, TeamManifest
from tests.manifest_helpers import REPO


def test_the_shipped_reference_is_the_generated_one():
    shipped = (REPO / "docs" / "manifest.md").read_text(encoding="utf-8")
    assert shipped == render(), "run: genai-finops schema --format markdown > docs/manifest.md"


def test_every_field_is_one_table_row_of_five_cells():
    """A pipe in a pattern or an enum must not split a cell: GFM tables, as GitHub renders them."""
    tokens = MarkdownIt("gfm-like").parse(render())
    rows, cells = [], 0
    for token in tokens:
        if token.type == "tr_open":
            cells = 0
        elif token.type in ("td_open", "th_open"):
            cells += 1
        elif token.type == "tr_close":
            rows.append(cells)
    team = TeamManifest.model_json_schema()
    org = OrgPolicy.model_json_schema()
    top_level = len(team["properties"]) + len(org["properties"])
    assert len(rows) > top_level and set(rows) == {5}


def test_the_rules_people_learned_from_errors_are_written_down():
    text = render()
    for rule in ("named after the team", "no windows across midnight", "at least 75 GiB", "IANA name"):
        assert rule in text, rule
    for field in ("budget.on_exceed", "inference[].autoscaling.deployment", "clusters.<name>.create_namespaces", "networks.<name>.subnet_id"):
        assert f"`{field}`" in text, field
