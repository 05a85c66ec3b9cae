"""DESIGN.md's one-way doors, read from the code's own imports (also those inside functions): the core
imports no component outside its CLI layer; components never import each other nor the core's CLI; no
module imports itself back through a circle."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

COMPONENTS = ("edge", "api_probes", "model_checks")
PACKAGES = ("vehicle_ds", *COMPONENTS)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: frozenset[str] = frozenset(), name: str = "") -> set[str]:
    """Every module ``path`` imports, resolved, skipping ``if TYPE_CHECKING:`` blocks (never run);
    ``from pkg import module`` is an import of that module, not of the package's ``__init__``."""
    tree = ast.parse(path.read_text("utf-8"))
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    known = frozenset(modules)
    graph = {}
    for mod, path in modules.items():
        # an import of pkg.mod.name is an edge to the longest module it names
        named = ([m for m in known if i == m or i.startswith(m + ".")] for i in _imports(path, known))
        graph[mod] = {max(ms, key=len) for ms in named if ms} - {mod}
    return graph


def _top(mod: str) -> str:
    return mod.split(".")[0]


def _is_core_cli(mod: str) -> bool:
    return mod == "vehicle_ds.cli" or mod.startswith("vehicle_ds.cli_") or mod.endswith(".cli")


def test_the_core_imports_a_component_only_from_its_cli_layer():
    bad = sorted(f"{m} -> {t}" for m, ts in _graph().items() if _top(m) == "vehicle_ds" and not _is_core_cli(m)
                 for t in ts if _top(t) in COMPONENTS)
    assert not bad, bad


def test_components_import_neither_each_other_nor_the_core_cli():
    bad = sorted(f"{m} -> {t}" for m, ts in _graph().items() if _top(m) in COMPONENTS for t in ts
                 if (_top(t) in COMPONENTS and _top(t) != _top(m)) or (_top(t) == "vehicle_ds" and _is_core_cli(t)))
    assert not bad, bad


def test_no_module_imports_itself_back_through_a_circle():
    graph = _graph()
    circles = []
    state: dict[str, int] = {}

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = 1
        for t in sorted(graph.get(mod, ())):
            if state.get(t) == 1:
                circles.append(" -> ".join([*path[path.index(t):], t]))
            elif t not in state:
                visit(t, [*path, t])
        state[mod] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])
    assert not circles, circles


def test_the_boundary_reader_sees_lazy_and_relative_imports_and_skips_type_checking(tmp_path):
    """The oracle can fail: an import inside a function is an edge; one under TYPE_CHECKING never runs."""
    fake = tmp_path / "x.py"
    fake.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from model_checks import runner\n"
                    "def f():\n    from edge.agent import Agent\n    from .sibling import y\n", "utf-8")
    got = _imports(fake, frozenset({"edge.agent"}), name="vehicle_ds.x")
    assert {"edge.agent", "vehicle_ds.sibling"} <= got and not any(g.startswith("model_checks") for g in got)
