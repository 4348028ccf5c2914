"""The cost and the limit verdict of a deep copy, as one rule for the server and the preview's JS
(static/records/preview_tree.js mirrors write_calls and limit_verdict on the same data)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from records.copying import waves


class Node(Protocol):
    """What the cost reads of a record of the tree (tree.Node)."""

    @property
    def source_id(self) -> str: ...
    @property
    def parent_source_id(self) -> str: ...
    @property
    def object_name(self) -> str: ...
    @property
    def depth(self) -> int: ...


def cost_data(
    nodes: Sequence[Node],
    *,
    batch_size: int,
    how: dict[str, Any],
    left_out: tuple[str, ...],
    engine_choice: dict[str, dict[str, Any]] | None = None,
    updating: frozenset[str] = frozenset(),
    wave_of: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The numbers a deep copy's cost and limit are computed from, as JSON.

    `groups`: the related records counted per (path of objects from the top, depth, creation wave),
    so leaving out an object drops every group whose path goes through it: its records and all
    below them. `how` = {own_deep_copy, limit, limit_owner}: whether the system's own deep copy
    would make it if nothing were left out (Vault: one call per top record; otherwise the engine
    builds it, one call per `batch_size` records of an object and wave) and the most related
    records allowed. `engine_choice` {"on": how, "off": how}: the same with "build it level by
    level" ticked and unticked (Vault). `left_out`: the objects the plan already left out (not read).
    `updating`: the records whose references the second pass sets (repoint.py); each group counts
    them as `updates`, so leaving out a branch drops its update calls too.
    """
    by_id = {n.source_id: n for n in nodes}
    wave_of = waves.assign_waves(nodes) if wave_of is None else wave_of  # the caller's, when it has them
    counts: dict[tuple[tuple[str, ...], int, int], int] = {}
    updates: dict[tuple[tuple[str, ...], int, int], int] = {}
    for node in nodes:
        if node.depth == 0:
            continue
        key = (_path(node, by_id), node.depth, wave_of.get(node.source_id, node.depth))
        counts[key] = counts.get(key, 0) + 1
        if node.source_id in updating:
            updates[key] = updates.get(key, 0) + 1
    return {
        "top": sum(1 for n in nodes if n.depth == 0),
        "batch_size": batch_size,
        **how,
        "engine_choice": engine_choice,
        "left_out": list(left_out),
        "groups": [
            {
                "path": list(path),
                "object": path[-1],
                "depth": depth,
                "wave": wave,
                "count": count,
                "updates": updates.get((path, depth, wave), 0),
            }
            for (path, depth, wave), count in counts.items()
        ],
    }


def _path(node: Node, by_id: dict[str, Node]) -> tuple[str, ...]:
    """The objects a record is reached through, top excluded, itself last (bounded: a broken or
    cyclic parent chain just stops)."""
    path = [node.object_name]
    current = by_id.get(node.parent_source_id)
    while current is not None and current.depth > 0 and len(path) < 20:
        path.append(current.object_name)
        current = by_id.get(current.parent_source_id)
    return tuple(reversed(path))


def kept_groups(cost: dict[str, Any], left_out: frozenset[str]) -> list[dict[str, Any]]:
    return [g for g in cost["groups"] if not left_out.intersection(g["path"])]


def _with_engine(cost: dict[str, Any], engine: bool | None) -> dict[str, Any]:
    if engine is None or not cost.get("engine_choice"):
        return cost
    return {**cost, **cost["engine_choice"]["on" if engine else "off"]}


def write_calls(cost: dict[str, Any], left_out: frozenset[str] | None = None, engine: bool | None = None) -> int:
    """Write calls of the copy: one per top record, plus, when the engine builds the hierarchy (it
    leaves something out, or the system has no own deep copy for it), one per batch of each
    object's records in each creation wave. `left_out` defaults to what the plan left out, `engine`
    ("build it level by level") to what the plan chose."""
    cost = _with_engine(cost, engine)
    left_out = frozenset(cost["left_out"]) if left_out is None else left_out
    if cost["own_deep_copy"] and not left_out:
        return int(cost["top"])
    per_batch: dict[tuple[str, int], int] = {}
    per_update: dict[str, int] = {}  # the second pass: one update call per batch of an object's records
    for group in kept_groups(cost, left_out):
        key = (group["object"], group["wave"])
        per_batch[key] = per_batch.get(key, 0) + group["count"]
        per_update[group["object"]] = per_update.get(group["object"], 0) + group.get("updates", 0)
    size = int(cost["batch_size"])
    batches = [*per_batch.values(), *(n for n in per_update.values() if n)]
    return int(cost["top"]) + sum(-(-count // size) for count in batches)


def update_calls(cost: dict[str, Any], left_out: frozenset[str] | None = None) -> int:
    """The second pass's share of write_calls (the preview names it)."""
    left_out = frozenset(cost["left_out"]) if left_out is None else left_out
    per_update: dict[str, int] = {}
    for group in kept_groups(cost, left_out):
        per_update[group["object"]] = per_update.get(group["object"], 0) + group.get("updates", 0)
    return sum(-(-n // int(cost["batch_size"])) for n in per_update.values() if n)


def limit_verdict(cost: dict[str, Any], left_out: frozenset[str] | None = None, engine: bool | None = None) -> str:
    left_out = frozenset(cost["left_out"]) if left_out is None else left_out
    # A branch left out has Record Copier build the copy (the page's box is then ticked and
    # locked): its limit counts, not the system's own deep copy's.
    cost = _with_engine(cost, True if left_out else engine)
    related = sum(g["count"] for g in kept_groups(cost, left_out))
    limit, owner = int(cost["limit"]), cost["limit_owner"]
    if related <= limit:
        return f"{related:,} related records: within {owner} {limit:,} limit."
    choice = cost.get("engine_choice") or {}
    engine_helps = bool(choice) and limit < int(choice["on"]["limit"])
    hint = "Leave out a branch, or build it level by level." if engine_helps else "Leave out a branch."
    return f"{related:,} related records: over the limit: more than {owner} {limit:,}. {hint}"
