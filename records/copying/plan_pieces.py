"""A plan's trees in pieces: stored as PlanChunk rows of CHUNK_NODES records each, and read back
a piece at a time (or, for a plan read in the caller, sliced from memory), so making a job of
100,000 records never holds one JSON value of every record's snapshot, nor every row at once."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from records.copying import tree, waves
from records.copying.piece_reads import PieceReader
from records.copying.references import ref_id
from records.models import CopyPlan, PlanChunk

CHUNK_NODES = 2000  # records per stored piece (and per slice of a tree in memory)
# A read's pieces are numbered from its own base: two workers reading one plan at once (a revive
# while the first still reads) never number a piece alike, and the one that ends the plan keeps
# its own. 10,000 pieces a read (20 million records), 200,000 bases within a PositiveIntegerField.
READ_PIECES = 10_000
READ_BASES = 200_000
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
    """A stored plan's trees: its PlanChunk rows, one-piece trees read ahead many a query
    (piece_reads.PieceReader); a plan stored before the pieces: its `trees` JSON, read as it was."""

    def __init__(self, row: CopyPlan) -> None:
        self.plan_id, self.trees = row.pk, row.trees or {}
        self.reader = PieceReader(row.pk)

    def roots(self) -> list[str]:
        return list(self.trees.get("pieces") or self.trees.get("roots") or [])

    def chunks(self, root: str) -> Iterator[list[tree.Node]]:
        if "roots" in self.trees:  # the format before the pieces
            yield [tree.Node(**n) for n in self.trees["roots"].get(root, [])]
            return
        for nodes in self.reader.pieces(root):
            yield [tree.Node(**n) for n in nodes]


def store(*, plan_id: int, trees: Trees, snapshot: bool) -> None:
    """The trees as the plan's pieces (any earlier pieces of the plan replaced). A record's fields
    are kept only when the job needs them (engine-built deep copies' snapshots)."""
    PlanChunk.objects.filter(plan_id=plan_id).delete()
    seq, rows, held = 0, [], 0
    for root, nodes in trees.items():
        for start in range(0, len(nodes), CHUNK_NODES):
            piece = [_node_dict(n, snapshot) for n in nodes[start : start + CHUNK_NODES]]
            rows.append(PlanChunk(plan_id=plan_id, root=root, seq=seq, nodes=piece))
            seq, held = seq + 1, held + len(piece)
            if held >= CHUNK_NODES:  # small trees (a bulk clone's 5,000) stored many pieces a statement
                PlanChunk.objects.bulk_create(rows)
                rows, held = [], 0
    PlanChunk.objects.bulk_create(rows)


class PieceWriter:
    """A plan's pieces written while its trees are read (stored_plans.plan_read): each tree's
    records stored CHUNK_NODES at a time as they come, the reader keeping only `compact(node)` of
    each (plan_compact.compactor), so a plan of 100,000 records never holds their snapshots at once.
    `finish` keeps them when the read ends the plan, `drop` removes them otherwise."""

    def __init__(self, *, plan_id: int, snapshot: bool, compact: Callable[[tree.Node], tree.Node]) -> None:
        self.plan_id, self.snapshot, self.compact = plan_id, snapshot, compact
        self.base = secrets.randbelow(READ_BASES) * READ_PIECES
        self.seq, self.root = self.base, ""
        self.piece: list[dict[str, Any]] = []

    def keep_of(self, root: str) -> Callable[[tree.Node], tree.Node]:
        """keep(node) for tree.read_tree of the top record `root`: the node stored, its compact kept."""
        self._flush()
        self.root = root
        return self._add

    def _add(self, node: tree.Node) -> tree.Node:
        self.piece.append(_node_dict(node, self.snapshot))
        if len(self.piece) >= CHUNK_NODES:
            self._flush()
        return self.compact(node)

    def _flush(self) -> None:
        if self.piece:
            PlanChunk.objects.create(plan_id=self.plan_id, root=self.root, seq=self.seq, nodes=self.piece)
            self.seq, self.piece = self.seq + 1, []

    def finish(self, trees: Trees) -> None:
        """The plan's pieces once it ends ready: those written here (any other read's removed), or
        `trees` stored whole when the plan was read without this writer (store)."""
        if self.seq == self.base and not self.piece:
            store(plan_id=self.plan_id, trees=trees, snapshot=self.snapshot)
            return
        self._flush()
        ours = range(self.base, self.seq)
        PlanChunk.objects.filter(plan_id=self.plan_id).exclude(seq__gte=ours.start, seq__lt=ours.stop).delete()

    def drop(self) -> None:
        """The pieces written here removed: the plan ended failed or refused, or another read ended it."""
        self.piece = []
        PlanChunk.objects.filter(plan_id=self.plan_id, seq__gte=self.base, seq__lt=self.seq).delete()


def stored_value(trees: Trees, snapshot: bool) -> dict[str, Any]:
    """CopyPlan.trees of a plan stored in pieces: whether they keep snapshots, and the roots."""
    return {"snapshot": snapshot, "pieces": list(trees)}


def stored_nodes(row: CopyPlan) -> Iterator[dict[str, Any]]:
    """Every stored record of a plan as a dict, in order (the admin and tests look at them)."""
    pieces = StoredTrees(row)
    for root in pieces.roots():
        for nodes in pieces.chunks(root):
            yield from (tree.node_dict(n) for n in nodes)


def top_name(pieces: TreePieces, root: str) -> str:
    first = next(pieces.chunks(root), [])
    return first[0].name if first else ""


def waves_of(pieces: TreePieces, root: str) -> dict[str, int]:
    """tree.assign_waves of a tree read in pieces, computed over compact entries: each record's
    depth and the ids of the tree's records it points at (its parent among them), not its snapshot;
    a tree whose records point only at their parents (or themselves) is created level by level,
    with no graph built at all."""
    ids = {n.source_id for nodes in pieces.chunks(root) for n in nodes}
    depth: dict[str, int] = {}
    for nodes in pieces.chunks(root):
        for n in nodes:
            if set(_points_at(n, ids)) - {n.parent_source_id}:
                # The graph is built only now (the pieces read once more): most trees never need it.
                return _graph_waves(pieces, root, ids)
            depth[n.source_id] = n.depth
    return depth


def _graph_waves(pieces: TreePieces, root: str, ids: set[str]) -> dict[str, int]:
    refs: dict[str, tuple[str, ...]] = {}
    depth: dict[str, int] = {}
    for nodes in pieces.chunks(root):
        for n in nodes:
            refs[n.source_id], depth[n.source_id] = _points_at(n, ids), n.depth
    return waves.waves_of_graph(refs, depth)


def _points_at(node: tree.Node, ids: set[str]) -> tuple[str, ...]:
    """The records of the tree `node` points at (waves.references_within, as ids only)."""
    found = {ref_id(v) for v in node.fields.values() if isinstance(v, dict | str)} & ids
    if node.parent_source_id in ids:
        found.add(node.parent_source_id)
    found.discard(node.source_id)
    return tuple(sys.intern(r) for r in found)


def _node_dict(node: tree.Node, snapshot: bool) -> dict[str, Any]:
    data = tree.node_dict(node)
    if not snapshot:
        data["fields"] = {}
    return data
