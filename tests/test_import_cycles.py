"""No import cycles under generators/, stacks/ and modules/ (issue 24).

Every import counts: module level, inside functions, and under TYPE_CHECKING, since each is a
dependency a reader must follow and a lazy import only hides a cycle until someone moves it.
The graph is read from the source with `ast` (nothing is imported), and its strongly connected
components must all be single modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.manifest_helpers import REPO

ROOTS = ("generators", "stacks", "modules")


def module_name(path: Path, repo: Path = REPO) -> str:
    parts = path.relative_to(repo).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(repo: Path = REPO) -> dict[str, set[str]]:
    files = {module_name(path, repo): path for root in ROOTS for path in (repo / root).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {target for target in found if target in files and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_there_is_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50 and "generators.plan.estimate" in graph
    assert cycles(graph) == []


def test_a_cycle_made_on_purpose_is_found(tmp_path):
    """The test above can fail: a copy of generators/ where months imports cost back."""
    import shutil

    for root in ROOTS:
        shutil.copytree(REPO / root, tmp_path / root, ignore=shutil.ignore_patterns("__pycache__"))
    months = tmp_path / "generators" / "months.py"
    months.write_text(months.read_text(encoding="utf-8") + "\n\ndef _cycle():\n    from generators.plan.estimate import estimate  # noqa: F401\n")
    found = cycles(import_graph(tmp_path))
    assert any({"generators.plan.estimate", "generators.months"} <= set(component) for component in found), found


def test_no_module_under_generators_is_over_400_lines():
    """The layout's rule for small units: a module that outgrows it is split into named parts."""
    long = {str(path.relative_to(REPO)): n for path in (REPO / "generators").rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
