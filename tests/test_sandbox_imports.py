"""The sandbox's modules import one another without a cycle, and each imports alone.

The graph counts every import a module names, TYPE_CHECKING ones and imports inside functions too:
a cycle hidden behind TYPE_CHECKING still ties two modules together for a reader and for a type
checker. The package's own __init__ is left out (importing a submodule imports it first anyway).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "memberships_cli.sandbox"
DIRECTORY = Path(__file__).resolve().parent.parent / "memberships_cli" / "sandbox"
MODULES = sorted(f"{PACKAGE}.{p.stem}" for p in DIRECTORY.glob("*.py") if p.stem != "__init__")


def imported_modules(source: str, module: str) -> set[str]:
    """Every sandbox submodule that `module`'s source imports, by any form of import."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.rsplit(".", node.level)[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # `from memberships_cli.sandbox import server` names a submodule, not an attribute
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


def import_graph() -> dict[str, set[str]]:
    return {
        module: imported_modules((DIRECTORY / f"{module.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8"), module)
        for module in MODULES
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt, path + [node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_the_graph_sees_the_imports_it_should():
    graph = import_graph()
    assert f"{PACKAGE}.admin" in graph[f"{PACKAGE}.server"]
    assert f"{PACKAGE}.store" in graph[f"{PACKAGE}.api"]


def test_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert imported_modules("if TYPE_CHECKING:\n    from .server import X\n", f"{PACKAGE}.admin") == {f"{PACKAGE}.server"}


def test_sandbox_modules_import_without_a_cycle():
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize("module", MODULES)
def test_each_sandbox_module_imports_alone(module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
