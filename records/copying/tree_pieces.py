"""An engine-built copy's tree read from its result rows a piece at a time, so a run of 100,000
records never holds every record's snapshot at once: a compact index of the tree (each record's
wave, its objects, the waves left to send), then each wave's rows CHUNK_ROWS at a time with the
snapshots taken when the job was planned (or, for a job planned before snapshots were kept, the
tree read again, whole, as before)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from records.copying.repoint import Mark
from records.copying.result_rows import loaded
from records.copying.run_context import RunContext
from records.copying.tree import Node, read_tree
from records.models import RecordResult

S = RecordResult.Status
# Rows (with their snapshots) held at once: enough batches to keep the profile's concurrency busy
# (20 Zoho inserts, 4 Vault creates), few enough that memory stays flat however large the tree.
CHUNK_ROWS = 2000
# The rows of a piece the pipeline is fed while it sends (`pieces`): the run's thread reads a piece
# (~50-100 µs a row: the rows, their snapshots, the second pass's plan) between taking answers in,
# so an answer that comes meanwhile waits for the piece's end, then its dependents' batches do
# (2,000 rows: up to ~0.15 s on the critical path of an engine-built copy; 500: ~40 ms).
PIECE_ROWS = 500
TO_SEND = (S.PENDING, S.SENDING)
Key = tuple[str, str]  # (object, source id)


@dataclass
class TreeIndex:
    """What the run needs of the whole tree, without its snapshots."""

    depths: dict[Key, int] = field(default_factory=dict)  # each record's wave
    objects: list[str] = field(default_factory=list)
    waves: list[int] = field(default_factory=list)  # the waves below the root with rows to send
    done: bool = True  # every row ended (succeeded, failed or skipped)
    # The rows still to send of each (wave, object): how many a piece-by-piece read has still to come.
    todo: Counter[tuple[int, str]] = field(default_factory=Counter)

    def source_ids(self) -> set[str]:
        return {source_id for _, source_id in self.depths}


def tree_index(context: RunContext, root_id: str) -> TreeIndex:
    index, objects, waves = TreeIndex(), dict[str, str](), set()
    rows = context.tree_results(root_id).values_list("object_name", "source_id", "depth", "status")
    for object_name, source_id, depth, status in rows.iterator(chunk_size=CHUNK_ROWS):
        # One string per object in the keys, not one per record (~5 MB at 100,000 records).
        index.depths[(objects.setdefault(object_name, object_name), source_id)] = depth
        if status in TO_SEND:
            index.done = False
            index.todo[(depth, objects[object_name])] += 1
            if depth > 0:
                waves.add(depth)
    index.objects, index.waves = list(objects), sorted(waves)
    return index


class TreeNodes:
    """The records of a tree as planned: from their rows' snapshots a chunk at a time, or from the
    tree read again when a row still to send has no snapshot (planned before they were kept)."""

    def __init__(self, context: RunContext, root_id: str) -> None:
        self.context, self.root_id = context, root_id
        self.read: dict[Key, Node] | None = None
        rows = context.tree_results(root_id)
        if rows.filter(source_snapshot__isnull=True).exclude(status=S.SUCCEEDED).exists():
            nodes = read_tree(
                context.source, context.job.object_name, root_id, exclude=frozenset(context.options.exclude)
            )
            self.read = {(n.object_name, n.source_id): n for n in nodes}

    def of(self, rows: list[RecordResult]) -> dict[Key, Node]:
        """The nodes of `rows` (rows loaded with their snapshots; the snapshots move to the nodes)."""
        if self.read is not None:
            return {k: self.read[k] for k in ((r.object_name, r.source_id) for r in rows) if k in self.read}
        out = {}
        for row in rows:
            snap = row.source_snapshot if isinstance(row.source_snapshot, dict) else {}
            row.source_snapshot = None  # held by the node; rows are saved without it
            out[(row.object_name, row.source_id)] = snapshot_node(row, snap)
        return out

    def placed(self) -> Iterator[tuple[Mark, Node]]:
        """Every node of the tree with its row's place in the read order (depth, id), CHUNK_ROWS
        rows read at a time."""
        tree = self.context.tree_results(self.root_id).order_by("depth", "id")
        if self.read is not None:
            for depth, pk, object_name, source_id in tree.values_list("depth", "pk", "object_name", "source_id"):
                node = self.read.get((object_name, source_id))
                if node is not None:
                    yield (depth, pk), node
            return
        # Only the columns a node is made of, not whole rows: every record's is read here once
        # more (the second pass's plan) besides its wave's piece, so it costs no row instances.
        pks = list(tree.values_list("pk", flat=True))
        for start in range(0, len(pks), CHUNK_ROWS):
            chunk = RecordResult.objects.filter(pk__in=pks[start : start + CHUNK_ROWS]).order_by("depth", "id")
            for pk, object_name, source_id, depth, parent, snap in chunk.values_list("pk", *NODE_COLUMNS):
                yield (depth, pk), _node(object_name, source_id, depth, parent, snap if isinstance(snap, dict) else {})

    def pieces(self) -> Iterator[tuple[list[RecordResult], bool]]:
        """Every row of the tree with its snapshot, PIECE_ROWS at a time in the order (depth, id),
        each piece with whether it is the last: the tree small enough to hold at once, read once
        (the run starts sending the first wave while it reads the rest)."""
        pks = list(self.context.tree_results(self.root_id).order_by("depth", "id").values_list("pk", flat=True))
        count = max(1, -(-len(pks) // PIECE_ROWS))
        for n, chunk in enumerate(_loaded(pks, PIECE_ROWS)):
            yield chunk, n == count - 1

    def wave(self, depth: int) -> Iterator[tuple[list[RecordResult], dict[Key, Node]]]:
        """The rows of one wave still to send and their nodes, CHUNK_ROWS at a time."""
        todo = self.context.tree_results(self.root_id).filter(depth=depth, status__in=TO_SEND)
        for rows in _loaded(list(todo.order_by("id").values_list("pk", flat=True))):
            rows = [r for r in rows if r.status in TO_SEND]  # settled since the wave began (a stored job's)
            nodes = self.of(rows)
            yield [r for r in rows if (r.object_name, r.source_id) in nodes], nodes


def snapshot_node(row: RecordResult, snap: dict[str, Any]) -> Node:
    """The record of `row` as read for the plan (`snap`: its snapshot, {} when it has none)."""
    return _node(row.object_name, row.source_id, row.depth, row.parent_source_id, snap)


NODE_COLUMNS = ("object_name", "source_id", "depth", "parent_source_id", "source_snapshot")


def _node(object_name: str, source_id: str, depth: int, parent: str, snap: dict[str, Any]) -> Node:
    return Node(
        object_name,
        source_id,
        depth,
        parent_source_id=parent,
        parent_field=snap.get("parent_field", ""),
        fields=snap.get("fields") or {},
    )


def _loaded(pks: list[int], size: int = CHUNK_ROWS) -> Iterator[list[RecordResult]]:
    for start in range(0, len(pks), size):
        yield loaded(RecordResult.objects.filter(pk__in=pks[start : start + size]).order_by("depth", "id"))
