"""No import cycle in ``flowengine`` and every import goes down the layers.

The allowlist of known cycles can only shrink. The layers, highest first:
``_cli``/``testing`` -> ``_flow`` -> ``_engine`` -> ``_repository`` -> ``_api`` ->
``expression`` -> leaves; the engine never imports a built-in, and built-ins import
only public names.

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


#: The layers, highest first: a module may import its own layer and the layers below it,
#: never one above (``flowengine`` is the public facade; leaves are every top-level
#: ``flowengine._x`` module: errors, units, clock, cron, logging, status, flow format, …).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "cli",
        ("flowengine", "flowengine.__main__", "flowengine._cli", "flowengine.testing"),
    ),
    ("flow", ("flowengine._flow",)),
    ("engine", ("flowengine._engine",)),
    ("repository", ("flowengine._repository",)),
    ("api", ("flowengine._api",)),
    ("expression", ("flowengine.expression",)),
)
LEAVES = "leaves"


def layer_of(module: str) -> tuple[int, str]:
    """(rank, layer name) of a module: the higher the rank, the higher the layer."""
    for i, (layer, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            exact = prefix in {
                "flowengine",
                "flowengine.__main__",
                "flowengine.testing",
            }
            if module == prefix or (not exact and module.startswith(prefix + ".")):
                return len(LAYERS) - i, layer
    return 0, LEAVES


def layer_violations(
    graph: dict[str, dict[str, int]], where: dict[str, str]
) -> list[str]:
    """``file:line: src (layer) -> dst (layer)`` for every import of a higher layer."""
    found = []
    for src in sorted(graph):
        rank, layer = layer_of(src)
        for dst, line in sorted(graph[src].items()):
            dst_rank, dst_layer = layer_of(dst)
            if dst_rank > rank:
                found.append(
                    f"{where.get(src, src)}:{line}: {src} ({layer}) -> "
                    f"{dst} ({dst_layer})"
                )
    return found


def test_layer_check_catches_an_upward_import() -> None:
    """A synthetic graph with the API importing the engine fails, naming file:line; a
    downward import and an import within a layer pass (the check can fail)."""
    graph = {
        "flowengine._api._session": {"flowengine._engine._node": 7},
        "flowengine._engine._node": {
            "flowengine._api._session": 3,
            "flowengine._engine._connection": 4,
            "flowengine._errors": 5,
        },
        "flowengine._errors": {"flowengine.expression": 9},
    }
    where = {"flowengine._api._session": "flowengine/_api/_session.py"}
    assert layer_violations(graph, where) == [
        "flowengine/_api/_session.py:7: flowengine._api._session (api) -> "
        "flowengine._engine._node (engine)",
        "flowengine._errors:9: flowengine._errors (leaves) -> "
        "flowengine.expression (expression)",
    ]
    assert layer_of("flowengine._flow_format") == (0, LEAVES)
    assert layer_of("flowengine._flow._loader")[1] == "flow"
    assert layer_of("flowengine.testing")[1] == "cli"


def test_every_import_goes_down_the_layers() -> None:
    """_cli/testing -> _flow -> _engine -> _repository -> _api -> expression -> leaves:
    no module imports a higher layer, type-checking and function-level imports
    included."""
    graph = import_graph()
    where = {m: str(p.relative_to(ROOT)) for m, p in modules().items()}
    bad = layer_violations(graph, where)
    assert not bad, "import(s) of a higher layer:\n" + "\n".join(bad)


def absolute_imports(path: Path, name: str) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) of every import in a file, relative ones resolved
    against its dotted ``name``."""
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


#: where the built-in processors and services live, and their package names
BUILT_INS = {
    "processors": "flowengine.processors",
    "controller_services": "flowengine.controller_services",
}


def built_in_files() -> Iterator[tuple[Path, str]]:
    """(file, dotted module name) of every built-in processor and service module."""
    for folder, package in BUILT_INS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield path, ".".join([package, *parts])


def private_engine_names(imports: Iterator[tuple[str, int]]) -> list[tuple[str, int]]:
    """The imports of an engine-private module (``flowengine._x``, at any depth)."""
    return [
        (m, line)
        for m, line in imports
        if m.startswith("flowengine.")
        and not m.startswith(tuple(p + "." for p in BUILT_INS.values()))
        and any(part.startswith("_") for part in m.split(".")[1:])
    ]


def test_private_name_check_catches_a_private_import() -> None:
    """``flowengine._api._session`` and ``from flowengine import _units`` are private;
    the public package, ``expression`` and a built-in's own helpers are not."""
    imports = [
        ("flowengine._api._session", 1),
        ("flowengine._units", 2),
        ("flowengine.Processor", 3),
        ("flowengine.expression.compile", 4),
        ("flowengine.processors._merging.unique_attributes", 5),
    ]
    assert private_engine_names(iter(imports)) == [
        ("flowengine._api._session", 1),
        ("flowengine._units", 2),
    ]


def test_built_ins_import_only_public_names() -> None:
    """Built-in processors and services are written against the public API, like any
    plugin: no ``flowengine._x`` import (their own private helpers are fine)."""
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path, name in built_in_files()
        for module, line in private_engine_names(absolute_imports(path, name))
    ]
    assert not bad, "built-in(s) importing engine internals:\n" + "\n".join(bad)


def test_the_engine_never_imports_a_built_in() -> None:
    """Nothing in flowengine/ imports a built-in processor or service: the engine finds
    them through the registry (entry points), as it finds any plugin."""
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for name, path in modules().items()
        for module, line in absolute_imports(path, name)
        if module.startswith(tuple(BUILT_INS.values()))
    ]
    assert not bad, "engine import(s) of a built-in:\n" + "\n".join(bad)


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
    """The session interface, context, processor and service APIs (``_api``) stand
    below the engine: none of them reaches a module of a higher layer, even for type
    checking."""
    graph = import_graph()
    contract = [m for m in graph if layer_of(m)[1] == "api"]
    assert "flowengine._api._session" in contract
    higher = {"repository", "engine", "flow", "cli"}
    leaks = {
        m: sorted(x for x in reachable(graph, m) if layer_of(x)[1] in higher)
        for m in contract
    }
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
