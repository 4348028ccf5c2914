"""The import graph of records/: nodes, layers, edges and import circles, read from the source with ast.

    .venv/bin/python scripts/import_graph.py            # modules as nodes
    .venv/bin/python scripts/import_graph.py --top      # records' top-level entries (models, copying, web ...)
    .venv/bin/python scripts/import_graph.py --edges    # and list every edge
    .venv/bin/python scripts/import_graph.py --inside   # and list the imports inside functions

An edge is a distinct import of one records module by another: at module level, inside functions and
under TYPE_CHECKING alike (each is a dependency a reader follows). Migrations are left out. Layers:
the nodes on the longest path of the graph (its circles counted as one node each). A circle: a group
of modules that import each other, directly or through others (a strongly connected component).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from records.copying.waves import components  # Tarjan's algorithm (after the path: run as a script)

PACKAGE = "records"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    files = sorted((ROOT / PACKAGE).rglob("*.py"))
    return {module_name(p): p for p in files if "migrations" not in p.relative_to(ROOT).parts}


def imported_modules(tree: ast.AST, importer: str, is_package: bool, files: dict[str, Path]) -> Iterator[str]:
    """The records modules the import statements anywhere in `tree` name: `from pkg import mod`
    names the module pkg.mod, `from pkg import name` the package pkg."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in files)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, importer, is_package)
            for alias in node.names:
                if f"{base}.{alias.name}" in files:
                    yield f"{base}.{alias.name}"
                elif base in files:
                    yield base


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def build_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name].update(imported_modules(tree, name, path.name == "__init__.py", files))
        graph[name].discard(name)
    return graph


def top_level(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between records' top-level entries (records.copying.* -> records.copying)."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    out: dict[str, set[str]] = {}
    for name, targets in graph.items():
        out.setdefault(top(name), set()).update(top(t) for t in targets)
    for name, targets in out.items():
        targets.discard(name)
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of more than one module that import each other (strongly connected components)."""
    return sorted(sorted(c) for c in components(graph) if len(c) > 1)


def layers(graph: dict[str, set[str]]) -> int:
    """Nodes on the longest path, each circle counted as one node."""
    found = components(graph)  # each listed after every component it points at
    group = {member: i for i, component in enumerate(found) for member in component}
    depth: list[int] = []
    for i, component in enumerate(found):
        below = [depth[group[t]] for member in component for t in graph[member] if group[t] != i]
        depth.append(1 + max(below, default=0))
    return max(depth, default=0)


def imports_inside_functions(files: dict[str, Path]) -> list[str]:
    """`path:line statement` for each import in a function's body (of any package)."""
    found: dict[tuple[str, int], str] = {}
    for path in files.values():
        source = path.read_text()
        for func in ast.walk(ast.parse(source, str(path))):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    where = str(path.relative_to(ROOT))
                    found[(where, node.lineno)] = ast.get_source_segment(source, node) or ""
    return [f"{where}:{line} {text}" for (where, line), text in sorted(found.items())]


def report(graph: dict[str, set[str]], *, list_edges: bool) -> None:
    edges = sum(len(targets) for targets in graph.values())
    found = circles(graph)
    print(f"nodes {len(graph)}, layers {layers(graph)}, edges {edges}, circles {len(found)}")
    for component in found:
        print("  circle: " + " ⇄ ".join(component))
    if list_edges:
        for name in sorted(graph):
            for target in sorted(graph[name]):
                print(f"  {name} -> {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", action="store_true", help="records' top-level entries as nodes")
    parser.add_argument("--edges", action="store_true", help="list every edge")
    parser.add_argument("--inside", action="store_true", help="list the imports inside functions")
    args = parser.parse_args()
    files = source_files()
    graph = build_graph(files)
    report(top_level(graph) if args.top else graph, list_edges=args.edges)
    inside = imports_inside_functions(files)
    print(f"imports inside functions: {len(inside)}")
    if args.inside:
        print("\n".join(f"  {line}" for line in inside))
    return 1 if circles(graph) else 0


if __name__ == "__main__":
    sys.exit(main())
