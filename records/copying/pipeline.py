"""The waves of an engine-built copy sent as their parents come to exist.

A record's create needs the new ids of its parent and of the records of earlier waves it points at
(its dependencies), not of the whole previous wave. So a batch of one object and wave is built as
soon as enough of its records have theirs: a full batch (`batch_size` records) at once, the rest of
the object's wave once none of it waits any more — the same number of calls as wave by wave. Up to
the profile's concurrency of batches are under way at a time (in_flight.InFlight: each marked SENDING
before its call, its answer completed in this thread), the lowest wave first.

The rows may come a piece at a time (`run_pieces`, the tree read while the first batches are out):
a group's partial batch then also waits for its rows not read yet.

A record whose dependency was not copied is still handed to `build`, which fails it (its parent
has no copy) as the wave-by-wave run did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from records.copying.in_flight import Batch, InFlight
from records.copying.write import BatchWriter
from records.models import RecordResult

S = RecordResult.Status
Group = tuple[int, str]  # (wave, object): the records one create call may carry together
# Build one batch of `rows` (one object and wave) against the new ids known: () when none of the
# rows is to be sent (each failed, or found by a reconcile, and saved).
Build = Callable[[str, list[RecordResult], Mapping[str, str]], list[Batch]]


class EarlierIds(Mapping[str, str]):
    """The new ids a record of `wave` may point at: those of records not created by this run and
    of its earlier waves. A record of its own wave or a later one is the second pass's (repoint.py),
    even when its copy happens to exist already: a payload is the same whatever the timing."""

    def __init__(self, ids: dict[str, str], wave_of: dict[str, int], wave: int) -> None:
        self._ids, self._wave_of, self._wave = ids, wave_of, wave

    def __getitem__(self, source_id: str) -> str:
        if self._wave_of.get(source_id, -1) >= self._wave:
            raise KeyError(source_id)
        return self._ids[source_id]

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._ids if self._wave_of.get(k, -1) < self._wave)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Piece(NamedTuple):
    """Rows handed to the pipeline together: what each points at (as `run`'s `depends_on`), and how
    many rows of each group are still to come in later pieces (a partial batch waits for them)."""

    rows: list[RecordResult]
    depends_on: Mapping[str, set[str]]
    unread: Mapping[Group, int]


@dataclass
class _Waiting:
    """The rows not handed to `build` yet: per group those ready (ordered) and how many still wait."""

    ready: dict[Group, list[RecordResult]] = field(default_factory=dict)
    blocked: dict[Group, int] = field(default_factory=dict)
    missing: dict[str, set[str]] = field(default_factory=dict)  # source id -> dependencies not done
    dependents: dict[str, list[RecordResult]] = field(default_factory=dict)
    blocked_rows: dict[str, RecordResult] = field(default_factory=dict)


class WavePipeline:
    """Sends `rows` (PENDING or SENDING, each `depth` its wave) wave after wave as their
    dependencies are done, by the write protocol, through `build`."""

    def __init__(
        self,
        writer: BatchWriter,
        *,
        build: Build,
        batch_size: int,
        heartbeat: Callable[[], None],
        size_of: Callable[[str, int], int] | None = None,
    ) -> None:
        """`size_of(object, wave)`: a group's batch size where it is not `batch_size` (a level the
        plan writes by one bulk job waits for all of its records)."""
        self.writer = writer
        self.build = build
        self.size_of = size_of or (lambda _object, _wave: batch_size)
        self.heartbeat = heartbeat

    def run(self, rows: list[RecordResult], depends_on: Mapping[str, set[str]], ids: dict[str, str]) -> None:
        """`depends_on`: source id -> the source ids its create needs copied first (parent, earlier
        waves); `ids`: the new ids known (source id -> new id), completed here as copies are made."""
        self.run_pieces([Piece(rows, depends_on, {})], ids)

    def run_pieces(self, pieces: Iterable[Piece], ids: dict[str, str]) -> None:
        """`run` for rows handed over a piece at a time (each piece's rows of no later wave than the
        next piece's): batches start as soon as their rows are in, while the next piece is read."""
        self.ids = ids
        self.wave_of: dict[str, int] = {}
        self.waiting = _Waiting()
        self.unread: Mapping[Group, int] = {}
        self.finished: set[str] = set()
        feed: Iterator[Piece] | None = iter(pieces)
        with InFlight(self.writer, self.writer.parallelism()) as flight:

            def fill() -> None:
                while flight.free and self._start_next(flight):
                    pass

            while True:
                fill()
                if feed is not None:
                    feed = self._read_next(feed)
                    answered = flight.wait(refill=fill, block=False)  # the answers in by now
                elif not flight.busy and not self._unblock_rest():
                    break
                else:
                    answered = flight.wait(refill=fill)
                for batch, _, _ in answered:
                    self._done(batch)
                self.heartbeat()

    def _read_next(self, feed: Iterator[Piece]) -> Iterator[Piece] | None:
        """The next piece taken in (its rows waiting for their dependencies); None once all are."""
        piece = next(feed, None)
        if piece is None:
            self.unread = {}
            return None
        self.unread = piece.unread
        self.wave_of.update((r.source_id, r.depth) for r in piece.rows)
        for row in piece.rows:
            needs = {
                d
                for d in piece.depends_on.get(row.source_id, ())
                if self.wave_of.get(d, row.depth) < row.depth and d not in self.finished
            }
            self._wait_for(row, needs)
        return feed

    def _wait_for(self, row: RecordResult, needs: set[str]) -> None:
        waiting, group = self.waiting, (row.depth, row.object_name)
        if not needs:
            waiting.ready.setdefault(group, []).append(row)
            return
        waiting.missing[row.source_id] = needs
        waiting.blocked_rows[row.source_id] = row
        waiting.blocked[group] = waiting.blocked.get(group, 0) + 1
        for source_id in needs:
            waiting.dependents.setdefault(source_id, []).append(row)

    def _start_next(self, flight: InFlight) -> bool:
        """Build and start the next batch (the lowest wave's first); False when none is due."""
        for group in sorted(self.waiting.ready):
            rows, size = self.waiting.ready[group], max(1, self.size_of(group[1], group[0]))
            if len(rows) < size and (self.waiting.blocked.get(group, 0) or self.unread.get(group, 0)):
                continue  # a partial batch waits for the rest of its group (or its unread rows): no extra call
            taken, rest = rows[:size], rows[size:]
            if rest:
                self.waiting.ready[group] = rest
            else:
                del self.waiting.ready[group]
            batches = self.build(group[1], taken, EarlierIds(self.ids, self.wave_of, group[0]))
            sent = {r.id for batch, _, _ in batches for r in batch}
            self._done([r for r in taken if r.id not in sent])  # failed or found: done now
            for batch in batches:
                flight.start(batch)
            return True
        return False

    def _done(self, rows: list[RecordResult]) -> None:
        """Rows that reached their end: their copies' ids known, their dependents maybe ready."""
        waiting = self.waiting
        for row in rows:
            self.finished.add(row.source_id)  # a dependent read later doesn't wait for it
            if row.status == S.SUCCEEDED and row.new_id:
                self.ids[row.source_id] = row.new_id
            for dependent in waiting.dependents.pop(row.source_id, []):
                needs = waiting.missing.get(dependent.source_id)
                if needs is None:
                    continue
                needs.discard(row.source_id)
                if not needs:
                    self._release(dependent)

    def _release(self, row: RecordResult) -> None:
        group = (row.depth, row.object_name)
        del self.waiting.missing[row.source_id]
        del self.waiting.blocked_rows[row.source_id]
        self.waiting.blocked[group] -= 1
        self.waiting.ready.setdefault(group, []).append(row)

    def _unblock_rest(self) -> bool:
        """Nothing under way: whatever still waits (on a record no batch carries) is built now, so
        a run always ends (`build` fails what has no parent copy). False when nothing is left."""
        waiting = self.waiting
        for source_id in list(waiting.missing):
            self._release(waiting.blocked_rows[source_id])
        waiting.dependents.clear()
        return bool(waiting.ready)
