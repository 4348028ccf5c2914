"""A plan's trees in pieces: stored as PlanChunk rows of CHUNK_NODES records each, and read back
a piece at a time (or, for a plan read in the caller, sliced from memory), so making a job of
100,000 records never holds one JSON value of every record's snapshot, nor every row at once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Protocol

from records.copying import tree
from records.copying.references import ref_id
from records.models import CopyPlan, PlanChunk

CHUNK_NODES = 2000  # records per stored piece (and per slice of a tree in memory)
Trees = dict[str, list[tree.Node]]  # {top record id: its records, top first} (preview.Trees)


class TreePieces(Protocol):
    """The trees a job is made from, a piece at a time."""

    def roots(self) -> list[str]: ...

    def chunks(self, root: str) -> Iterator[list[tree.Node]]: ...


class InMemoryTrees:
    """Trees read in the caller (the CLI, the admin, tests), sliced as stored pieces are."""

    def __init__(self, trees: Trees) -> None:
        self.trees = trees

    def roots(self) -> list[str]:
        return list(self.trees)

    def chunks(self, root: str) -> Iterator[list[tree.Node]]:
        nodes = self.trees.get(root, [])
        for start in range(0, len(nodes), CHUNK_NODES):
            yield nodes[start : start + CHUNK_NODES]


class StoredTrees:
    """A stored plan's trees: its PlanChunk rows one at a time (a plan stored before the pieces:
    its `trees` JSON, read as it was)."""

    def __init__(self, row: CopyPlan) -> None:
        self.plan_id, self.trees = row.pk, row.trees or {}

    def roots(self) -> list[str]:
        return list(self.trees.get("pieces") or self.trees.get("roots") or [])

    def chunks(self, root: str) -> Iterator[list[tree.Node]]:
        if "roots" in self.trees:  # the format before the pieces
            yield [tree.Node(**n) for n in self.trees["roots"].get(root, [])]
            return
        pks = PlanChunk.objects.filter(plan_id=self.plan_id, root=root).order_by("seq").values_list("pk", flat=True)
        for pk in list(pks):
            nodes = PlanChunk.objects.values_list("nodes", flat=True).get(pk=pk)
            yield [tree.Node(**n) for n in nodes]


def store(*, plan_id: int, trees: Trees, snapshot: bool) -> None:
    """The trees as the plan's pieces (any earlier pieces of the plan replaced). A record's fields
    are kept only when the job needs them (engine-built deep copies' snapshots)."""
    PlanChunk.objects.filter(plan_id=plan_id).delete()
    seq = 0
    for root, nodes in trees.items():
        for start in range(0, len(nodes), CHUNK_NODES):
            piece = [_node_dict(n, snapshot) for n in nodes[start : start + CHUNK_NODES]]
            PlanChunk.objects.create(plan_id=plan_id, root=root, seq=seq, nodes=piece)
            seq += 1


def stored_value(trees: Trees, snapshot: bool) -> dict[str, Any]:
    """CopyPlan.trees of a plan stored in pieces: whether they keep snapshots, and the roots."""
    return {"snapshot": snapshot, "pieces": list(trees)}


def stored_nodes(row: CopyPlan) -> Iterator[dict[str, Any]]:
    """Every stored record of a plan as a dict, in order (the admin and tests look at them)."""
    pieces = StoredTrees(row)
    for root in pieces.roots():
        for nodes in pieces.chunks(root):
            yield from (dict(n.__dict__) for n in nodes)


def top_name(pieces: TreePieces, root: str) -> str:
    first = next(pieces.chunks(root), [])
    return first[0].name if first else ""


def waves_of(pieces: TreePieces, root: str) -> dict[str, int]:
    """tree.assign_waves of a tree read in pieces: each record kept with only the ids its values
    point at in the tree (all a wave depends on), not its whole snapshot; a tree whose records point
    only at their parents (or themselves) is created level by level, with no graph built at all."""
    ids = {n.source_id for nodes in pieces.chunks(root) for n in nodes}

    def refs(n: tree.Node) -> dict[str, str]:
        # The ids alone (a lookup's {"id", "name"} is read as its id).
        return {k: ref_id(v) for k, v in n.fields.items() if isinstance(v, dict | str) and ref_id(v) in ids}

    waves: dict[str, int] = {}
    for nodes in pieces.chunks(root):
        for n in nodes:
            if set(refs(n).values()) - {n.parent_source_id, n.source_id}:
                return tree.assign_waves(
                    [
                        replace(n, object_name=sys.intern(n.object_name), fields=refs(n), name="", parent_field="")
                        for nodes in pieces.chunks(root)
                        for n in nodes
                    ]
                )
            waves[n.source_id] = n.depth
    return waves


def _node_dict(node: tree.Node, snapshot: bool) -> dict[str, Any]:
    data = dict(node.__dict__)
    if not snapshot:
        data["fields"] = {}
    return data
