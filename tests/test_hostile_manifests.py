"""Hostile manifests and saved inputs (issue 22): deep nesting, links out of the manifests
directory, a hostile --compare base. Each input is built here; each test asserts the exit code,
the one line and that nothing it should not print was printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.manifest_helpers import REPO, example, write_manifests


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


@pytest.mark.parametrize("levels", [65, 500, 30_000])
@pytest.mark.parametrize("command", ["validate", "cost"])
def test_deep_nesting_is_one_problem_at_its_position_never_a_crash(tmp_path, levels, command):
    text = "team: alpha\nextra: " + "[" * levels + "]" * levels + "\n"
    root = write_manifests(tmp_path / "m", {"alpha": text})

    result = run(command, str(root))

    assert result.returncode == 1, (result.returncode, result.stderr[-300:])
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    # the file's mapping is level 1, so the 64th "[" opens level 65: line 2, column len("extra: ") + 64
    assert f"alpha.yaml:2:{len('extra: ') + 64}: nested more than 64 levels deep" in result.stderr


def test_sixty_four_levels_are_still_read(tmp_path):
    team = example("alpha")
    nested: object = "leaf"
    for _ in range(62):  # team file (1) + the key's mapping (1) + 62 lists = 64 levels
        nested = [nested]
    team["tags"] = {"Deep": "x"}
    root = write_manifests(tmp_path / "m", {"alpha": team})
    text = (root / "teams" / "alpha.yaml").read_text() + "unknown_field: " + json.dumps(nested) + "\n"
    (root / "teams" / "alpha.yaml").write_text(text)

    result = run("validate", str(root))

    assert "nested more than" not in result.stderr
    assert "unknown_field" in result.stderr  # read through to the schema check


def test_a_team_file_linking_outside_the_manifests_directory_is_refused_unread(tmp_path):
    secret = tmp_path / "elsewhere" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text("team: TOPSECRET-value-123\n")
    root = write_manifests(tmp_path / "m", {"alpha": example("alpha")})
    (root / "teams" / "bravo.yaml").symlink_to(secret)

    for command in ("validate", "cost"):
        result = run(command, str(root))
        assert result.returncode == 1
        assert "TOPSECRET" not in result.stdout + result.stderr
        assert "bravo.yaml:1:1: a symbolic link to a file outside the manifests directory; refusing to read it" in result.stderr


def test_a_link_inside_the_manifests_directory_is_read(tmp_path):
    root = write_manifests(tmp_path / "m", {"alpha": example("alpha")})
    (root / "shared").mkdir()
    os.replace(root / "teams" / "alpha.yaml", root / "shared" / "alpha.yaml")
    (root / "teams" / "alpha.yaml").symlink_to(root / "shared" / "alpha.yaml")

    assert run("validate", str(root)).returncode == 0


def test_an_org_policy_linking_outside_is_refused(tmp_path):
    root = write_manifests(tmp_path / "m", {"alpha": example("alpha")})
    outside = tmp_path / "org-elsewhere.yaml"
    os.replace(root / "org.yaml", outside)
    (root / "org.yaml").symlink_to(outside)

    result = run("validate", str(root))

    assert result.returncode == 1 and "org.yaml:1:1: a symbolic link to a file outside the manifests directory" in result.stderr


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema_version": 2, "teams": [{"team": "a", "total_monthly_usd": {"low": NaN, "expected": 1, "high": 1}}]}', "NaN is not a number JSON allows"),
        ('{"schema_version": 2, "teams": [{"team": "a", "total_monthly_usd": {"low": 1e999, "expected": 1, "high": 1}}]}', "not a finite number"),
    ],
)
def test_a_hostile_compare_base_is_one_line(tmp_path, content, expected):
    base = tmp_path / "base.json"
    base.write_text(content)

    result = run("cost", "manifests", "--compare", str(base), "--format", "json")

    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr


def test_a_team_name_in_a_compare_base_cannot_inject(tmp_path):
    base = tmp_path / "base.json"
    evil = "ghost\x1b]8;;http://evil\x07|<img src=x>`"
    base.write_text(json.dumps({"schema_version": 2, "teams": [{"team": evil, "total_monthly_usd": {"low": 1, "expected": 2, "high": 3},
                                                                "budget_usd": 10, "over_budget": False, "over_org_cap": False}]}))

    table = run("cost", "manifests", "--compare", str(base))
    markdown = run("cost", "manifests", "--compare", str(base), "--format", "markdown")

    assert table.returncode == 0 and "\x1b" not in table.stdout and "\\x1b]8;;http://evil\\x07" in table.stdout
    assert "\x1b" not in markdown.stdout
    from markdown_it import MarkdownIt

    html = MarkdownIt("gfm-like").render(markdown.stdout)
    # one code cell holding the whole value, made visible; no image, no link
    assert "<td><code>ghost\\x1b]8;;http://evil\\x07|&lt;img src=x&gt;`</code></td>" in html
    assert "<img" not in html and "<a " not in html
