"""A stored plan's pieces (PlanChunk rows) read back for making its job: the trees of one piece
each (a bulk clone's 5,000 one-record trees) read ahead many a query, in the plan's order, so
Confirm costs a few queries per thousand trees, not two a tree; a tree of several pieces (a deep
copy's big tree) still read a piece a query. Memory stays bounded: at most READ_AHEAD_NODES
records are held ahead (one piece alone may be up to CHUNK_NODES), never every piece at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, IntegerField
from django.db.models.sql.compiler import SQLCompiler

from records.models import PlanChunk

READ_AHEAD_PIECES = 500  # pieces a query at most (well within every backend's parameter limit)
READ_AHEAD_NODES = 2000  # records held ahead at most (a piece larger than this is read alone)
Piece = list[dict[str, Any]]  # [tree.Node as a dict, ...]
SqlParams = tuple[str, Any]


class _NodeCount(Func):
    """The records in a piece, counted by the database (its JSON not sent back)."""

    function = "json_array_length"  # SQLite
    output_field = IntegerField()

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> SqlParams:
        return self.as_sql(compiler, connection, function="jsonb_array_length", **extra)

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> SqlParams:
        return self.as_sql(compiler, connection, function="JSON_LENGTH", **extra)


class PieceReader:
    """The pieces of one stored plan by tree. The plan's index of pieces (ids and trees, no
    records) is read once; the pieces of one-piece trees are read ahead in the order stored."""

    def __init__(self, plan_id: int) -> None:
        self.plan_id = plan_id
        self._by_root: dict[str, list[int]] | None = None
        self._lone: list[int] = []  # the pieces of one-piece trees, in the plan's order
        self._place: dict[int, int] = {}  # a lone piece's place in _lone
        self._held: dict[int, Piece] = {}  # the pieces read ahead (replaced at each read)

    def pieces(self, root: str) -> Iterator[Piece]:
        """The pieces of the tree of `root`, in order."""
        pks = self._index().get(root, [])
        if len(pks) > 1:  # a big tree: a piece a query, as it is read (waves_of reads it again)
            for pk in pks:
                yield PlanChunk.objects.values_list("nodes", flat=True).get(pk=pk)
            return
        for pk in pks:
            if pk not in self._held:
                self._read_ahead(pk)
            yield self._held[pk]

    def _index(self) -> dict[str, list[int]]:
        if self._by_root is None:
            rows = PlanChunk.objects.filter(plan_id=self.plan_id).order_by("seq").values_list("pk", "root")
            by_root: dict[str, list[int]] = {}
            for pk, root in rows.iterator(chunk_size=5000):
                by_root.setdefault(root, []).append(pk)
            self._lone = [pks[0] for pks in by_root.values() if len(pks) == 1]  # in the order stored
            self._place = {pk: i for i, pk in enumerate(self._lone)}
            self._by_root = by_root
        return self._by_root

    def _read_ahead(self, pk: int) -> None:
        """The lone pieces from `pk` on, up to READ_AHEAD_PIECES and READ_AHEAD_NODES records
        (at least `pk`'s own), read in one query; those held before are let go."""
        start = self._place[pk]
        window = self._lone[start : start + READ_AHEAD_PIECES]
        counts = dict(PlanChunk.objects.filter(pk__in=window).values_list("pk", _NodeCount("nodes")))
        chosen, held = [pk], counts.get(pk, 0)
        for nxt in window[1:]:
            held += counts.get(nxt, 0)
            if held > READ_AHEAD_NODES:
                break
            chosen.append(nxt)
        self._held = dict(PlanChunk.objects.filter(pk__in=chosen).values_list("pk", "nodes"))
