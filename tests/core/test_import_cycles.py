"""No new import cycle in ``flowengine``: the allowlist of known cycles can only shrink.

The graph holds every import a module names anywhere: at the top, inside functions
(a function-level import that closes a circle is still a circle, only hidden) and under
``if TYPE_CHECKING:``. An edge goes to the module imported (``from pkg import mod``
names the submodule ``pkg.mod``), not to the packages above it. Cycles are the strongly
connected components of that graph with more than one module.

To see the graph: ``python tests/core/test_import_cycles.py`` prints every cycle with the
imports that close it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "flowengine"

#: The cycles that remain, each exactly as it is today: none. A cycle that appears fails
#: the test; allowlist one only with the reason it cannot be cut yet (issue 12 cut the last,
#: the engine circle, by putting the session interface and the run-state and host protocols
#: below the engine).
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    """``flowengine/expression/_lexer.py`` -> ``flowengine.expression._lexer``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(module of the package imported, line) for every import in the file."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    yield sub, node.lineno
                elif target in known:
                    yield target, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {module it imports: first line naming it}."""
    mods = modules()
    known = set(mods)
    graph: dict[str, dict[str, int]] = {}
    for name, path in mods.items():
        edges: dict[str, int] = {}
        for target, line in imported(name, path, known):
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(cycle: frozenset[str], graph: dict[str, dict[str, int]]) -> str:
    """The cycle's modules and the imports between them, ``file:line``."""
    lines = [", ".join(sorted(cycle))]
    for src in sorted(cycle):
        path = modules()[src].relative_to(ROOT)
        for dst, line in sorted(graph[src].items()):
            if dst in cycle:
                lines.append(f"  {path}:{line}: {src} -> {dst}")
    return "\n".join(lines)


def test_cycle_finder_finds_a_known_circle() -> None:
    """The finder reports a two-module circle and ignores a chain (it can fail)."""
    graph = {"a": {"b": 1}, "b": {"a": 2, "c": 3}, "c": {}}
    assert cycles(graph) == [frozenset({"a", "b"})]
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {}}) == []


def test_import_graph_sees_function_level_and_type_checking_imports() -> None:
    """Imports inside functions and under TYPE_CHECKING are edges of the graph."""
    graph = import_graph()
    # _standard_session names Connection only for type checking; the loader imports
    # _units lazily.
    assert (
        "flowengine._engine._connection"
        in graph["flowengine._engine._standard_session"]
    )
    assert "flowengine._units" in graph["flowengine._flow._loader"]


def test_no_import_cycle_beyond_the_known_ones() -> None:
    """Every import cycle is allowlisted, and every allowlisted cycle still exists."""
    graph = import_graph()
    found = set(cycles(graph))
    new = [describe(c, graph) for c in found - set(KNOWN_CYCLES)]
    assert not new, "new import cycle(s):\n" + "\n".join(new)
    gone = [", ".join(sorted(c)) for c in set(KNOWN_CYCLES) - found]
    assert not gone, (
        "allowlisted cycle(s) no longer exist as listed (cut or changed): remove or "
        "update them in KNOWN_CYCLES:\n" + "\n".join(gone)
    )


#: the plugin contract: what processors and services are written against
CONTRACT = (
    "flowengine._api._context",
    "flowengine._api._processor",
    "flowengine._api._relationship",
    "flowengine._api._schedule",
    "flowengine._api._service",
    "flowengine._api._session",
)
#: the engine that runs a plan (``_status`` is not in it: frozen snapshots that import
#: nothing of the engine, which repositories may name for their background health)
ENGINE = frozenset(
    f"flowengine.{m}"
    for m in (
        "_engine._connection",
        "_flow._flow",
        "_engine._node",
        "_engine._plan",
        "_engine._ports",
        "_engine._runtime",
        "_engine._standard_session",
        "_flow._validation",
    )
)


def reachable(graph: dict[str, dict[str, int]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or not."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in graph[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def test_the_plugin_contract_never_imports_the_engine() -> None:
    """The session interface, context, processor and service APIs stand below the
    engine: none of them reaches an engine module, even for type checking."""
    graph = import_graph()
    leaks = {m: sorted(reachable(graph, m) & ENGINE) for m in CONTRACT}
    assert {m: e for m, e in leaks.items() if e} == {}


@pytest.mark.parametrize(
    ("module", "never"),
    [
        # the session sees its node through the SessionHost protocol
        ("_engine._standard_session", "_engine._node"),
        # a connection wakes its ends through the Endpoint protocol
        ("_engine._connection", "_engine._node"),
        # a node sees the run through the RunState protocol
        ("_engine._node", "_engine._runtime"),
        # the engine runs a plan; validation produces one
        ("_engine._runtime", "_flow._validation"),
        ("_status", "_engine._connection"),
    ],
)
def test_engine_parts_meet_through_protocols(module: str, never: str) -> None:
    """The back-edges of the engine circle stay cut (issue 12)."""
    assert f"flowengine.{never}" not in reachable(
        import_graph(), f"flowengine.{module}"
    )


if __name__ == "__main__":
    g = import_graph()
    for c in cycles(g):
        print(describe(c, g), end="\n\n")
    sys.exit(0)
