"""`genai-finops validate` and `schema` as CI and editors use them: output, exit codes, start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.manifest_helpers import REPO, example, heavy_modules_after, write_manifests

CLI = [sys.executable, "-m", "generators.cli"]
HEAVY_MODULES = ("cdktf", "jsii", "constructs", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_kubernetes")


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_valid_examples_exit_zero_with_a_one_line_summary():
    result = run("validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == ["ok: manifests/org.yaml and 3 team manifests valid (alpha, bravo, charlie)"]


def test_invalid_manifest_prints_every_problem_as_path_line_col_field_message(tmp_path):
    alpha = example("alpha")
    alpha["environment"] = "qa"
    alpha["training"][0]["count"] = 0
    alpha["budget"]["alerts_percent"] = "all"
    write_manifests(tmp_path, {"alpha": alpha})
    result = run("validate", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "3 problems in 1 file"
    for line in lines[:-1]:
        path, line_no, column, field, message = line.split(":", 4)
        assert path.endswith("alpha.yaml") and line_no.isdigit() and column.isdigit()
        assert field.strip() and message.strip()
    fields = sorted(line.split(":")[3].strip() for line in lines[:-1])
    assert fields == ["budget.alerts_percent", "environment", "training[0].count"]


def test_json_format_lists_problems_for_machines(tmp_path):
    alpha = example("alpha")
    alpha["region"] = "eu-central-1"
    write_manifests(tmp_path, {"alpha": alpha})
    result = run("validate", str(tmp_path), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert {p["field"] for p in report["problems"]} >= {"region"}
    assert all({"path", "line", "column", "field", "message"} <= set(p) for p in report["problems"])


def test_missing_path_is_a_usage_error_with_exit_two(tmp_path):
    result = run("validate", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_validate_never_imports_cdktf_jsii_or_providers():
    body = (
        "import pkgutil, importlib, generators, generators.commands\n"
        "from generators.cli import main\n"
        "for m in pkgutil.walk_packages(generators.__path__, 'generators.'):\n"
        "    importlib.import_module(m.name)\n"
        "code = main(['validate', 'manifests'])\n"
    )
    assert heavy_modules_after(body, HEAVY_MODULES) == ("0", [])


@pytest.mark.parametrize("command", ["validate", "schema"])
def test_help_explains_the_command_with_examples(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "usage: genai-finops" in result.stdout and "example" in result.stdout


def test_top_level_help_lists_commands_and_exit_codes():
    result = run("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "exit codes" in result.stdout


def test_schema_validates_the_shipped_examples_and_rejects_typos():
    schema = json.loads(run("schema").stdout)
    for name in ("alpha", "bravo", "charlie"):
        jsonschema.validate(example(name), schema)
    broken = example("alpha")
    broken["training"][0]["instnce_type"] = "g5.xlarge"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_org_schema_validates_the_shipped_org_policy():
    schema = json.loads(run("schema", "--org").stdout)
    jsonschema.validate(yaml.safe_load((REPO / "manifests" / "org.yaml").read_text()), schema)


def test_shipped_schema_files_match_the_model():
    """manifests/*.yaml point editors at schemas/; a model change must regenerate them."""
    for args, name in ((("schema",), "team"), (("schema", "--org"), "org")):
        shipped = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text())
        assert shipped == json.loads(run(*args).stdout), f"run: genai-finops {' '.join(args)} > schemas/{name}.schema.json"


def test_generators_never_import_the_stacks_or_the_constructs():
    """The arrow runs stacks -> modules -> generators: nothing under generators/ imports stacks/
    or modules/ (the CLI only names the package of the commands that build stacks)."""
    import ast

    offenders = []
    for path in (REPO / "generators").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(REPO)}: {name}" for name in names if name.split(".")[0] in ("stacks", "modules")]
    assert offenders == []


def test_a_region_the_catalog_does_not_price_fails_validate_as_it_fails_cost(tmp_path):
    """The pre-commit hook (validate) and CI (cost) agree: a region allowed by org.yaml but absent
    from the price catalog is named by both, at the same fields."""
    from generators.plan.pricing import load_catalog

    region = "ap-northeast-1"
    assert region not in load_catalog().regions()
    org = example("org")
    org["allowed_regions"].append(region)
    org["networks"][region] = {"subnet_id": "subnet-0a1b2c3d4e5f60009", "security_group_ids": ["sg-0a1b2c3d4e5f60009"]}
    alpha = example("alpha")
    alpha["region"] = region
    write_manifests(tmp_path, {"alpha": alpha}, org)
    validated, priced = run("validate", str(tmp_path)), run("cost", str(tmp_path))
    assert validated.returncode == priced.returncode == 1
    problems = [line for line in validated.stderr.splitlines() if region in line]
    assert problems and problems == [line for line in priced.stderr.splitlines() if region in line]
    # every training type and root volume of alpha is named, at its own field
    assert len(problems) == 2 * len(alpha["training"])
    assert all(f"prices refresh --region {region}" in line for line in problems)
