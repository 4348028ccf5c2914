"""The order in which an engine-built deep copy creates its records: waves.

A record is created after every record of the tree its lookups point at, so its create carries their
copies' ids. Records that point at each other, directly or round (a cycle: contacts reporting to
each other, formulations based on each other) can't all come after each other: a cycle's records
share a wave, and their references to each other are set by the second pass (repoint.py) instead of
being chased from wave to wave. So is a chain of lookups longer than MAX_EXTRA_WAVES (one more insert
call per wave would cost more than the update calls that set them afterwards).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from records.copying.references import ref_id

# Waves a record may be pushed below its depth by the records it points at.
MAX_EXTRA_WAVES = 6


def assign_waves(nodes: Iterable[Any]) -> dict[str, int]:
    """{source_id: wave} for plan.Node-like records: the root 0, a child at least its depth and
    after its parent. E.g. a Task under an Account that also points at a Contact of the same Account
    is created after that Contact. The graph is built only of the records whose wave may differ
    from their depth (pushed_graph): a tree of 100,000 records mostly needs none."""
    nodes = nodes if isinstance(nodes, list) else list(nodes)
    depth = {n.source_id: n.depth for n in nodes}
    # A record met twice counts as read last (its depth, its refs), as references_within has it.
    once = nodes if len(depth) == len(nodes) else list({n.source_id: n for n in nodes}.values())
    depth.update(waves_of_graph(pushed_graph(once, depth), depth))  # the others at their depths
    return depth


def pushed_graph(nodes: Iterable[Any], depth: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
    """The part of references_within that can move a record below its depth: the records that point
    at one of the tree not above them (the same level or deeper), and those that point at such a
    record, directly or through others; plus, pointing at nothing, the records they point at (each
    created at its depth). Every other record points only at records above it that are created at
    their depths, so it is created at its own (waves_of_graph would say the same of it)."""
    graph: dict[str, tuple[str, ...]] = {}
    for n in sorted(nodes, key=lambda n: n.depth):  # what a record points at above it is decided before it
        refs = _points_at(n, depth)
        if any(depth[r] >= n.depth or r in graph for r in refs):
            graph[n.source_id] = refs
    for refs in list(graph.values()):
        for r in refs:
            graph.setdefault(r, ())
    return graph


def waves_of_graph(refs: Mapping[str, Collection[str]], depth: Mapping[str, int]) -> dict[str, int]:
    """assign_waves of a tree given compactly: {source_id: the records of the tree it points at,
    its parent included} and {source_id: depth} (a tree of 100,000 records read a piece at a time
    keeps no more of it: plan_pieces.waves_of)."""
    wave: dict[str, int] = {}
    for component in components(refs):  # every record a component points at is placed already
        members = set(component)
        for sid in component:
            if depth[sid] == 0:
                wave[sid] = 0
                continue
            after = [wave[r] + 1 for r in refs[sid] if r not in members]
            # A parent is never in its child's cycle (it points at nothing below it), and a parent's
            # own wave is at most its depth + MAX_EXTRA_WAVES, so the cap keeps children after parents.
            wave[sid] = min(max([depth[sid], *after]), depth[sid] + MAX_EXTRA_WAVES)
    return wave


def references_within(nodes: Iterable[Any], *, within: set[str] | None = None) -> dict[str, set[str]]:
    """{source_id: the records of `nodes` it points at}: its parent and its lookups into the tree
    (`within`: the tree's source ids, when `nodes` is a piece of it)."""
    nodes = list(nodes)
    ids = {n.source_id for n in nodes} if within is None else within
    refs: dict[str, set[str]] = {}
    for n in nodes:
        # Zoho lookups are {"id": ...}; Vault references are bare ids (a sibling in the tree).
        found = {v if isinstance(v, str) else ref_id(v) for v in n.fields.values() if isinstance(v, dict | str)}
        found &= ids
        found.discard(n.source_id)
        if n.parent_source_id in ids:
            found.add(n.parent_source_id)
        refs[n.source_id] = found
    return refs


def _points_at(node: Any, depth: Mapping[str, int]) -> tuple[str, ...]:
    """references_within of one record: the records of the tree (the keys of `depth`) it points at."""
    found = {v if isinstance(v, str) else ref_id(v) for v in node.fields.values() if isinstance(v, dict | str)}
    found = {r for r in found if r in depth}
    found.discard(node.source_id)
    if node.parent_source_id in depth:
        found.add(node.parent_source_id)
    return tuple(found)


def components(graph: Mapping[str, Collection[str]]) -> list[list[str]]:  # noqa: C901 - Tarjan's algorithm, kept whole
    """The strongly connected components of `graph` (node -> the nodes it points at), each listed
    after every component it points at (Tarjan's algorithm, iterative: trees can be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(graph[start]))]
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    out.append(component)
    return out
