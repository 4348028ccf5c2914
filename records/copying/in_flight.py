"""Calls under way by the write protocol, shared by every way of writing (a copy's create and
update batches, an undo's deletes): at most `limit` at once, each batch marked SENDING (committed)
before its call starts in a pool thread, each answer recorded in the thread that waits, and when
the run stops (a pause, a cancel, a lost lease) every call still under way waited for and recorded
first. What a batch's answer means is the `Answers`' part (write.BatchWriter for a copy,
undo.DeleteAnswers for an undo)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol

from django.db import close_old_connections, connection

from records.connectors.base import WriteResult
from records.copying import results as res
from records.copying.reconcile import Sent
from records.models import RecordResult

S = RecordResult.Status
log = logging.getLogger(__name__)

# One remote call for a batch of rows: one answer per row, in order.
Call = Callable[[list[RecordResult]], list[WriteResult]]
# One batch to send: its rows, the call that writes them, what was sent (for reconciling).
Batch = tuple[list[RecordResult], Call, Sent]


class Answers(Protocol):
    """What a batch's answer means, recorded in the run's thread."""

    def send(self, rows: list[RecordResult], call: Call, sent: Sent) -> None:
        """One batch, the whole protocol in this thread (the sequential path)."""

    def finish(self, item: Batch, future: Future[list[WriteResult]]) -> None:
        """The answer of a batch whose call ran in a pool thread (marked SENDING before)."""


def parallelism(concurrency: int) -> int:
    """Calls at once: the profile's concurrency, or 1 inside a transaction (tests wrap each test in
    one that a pool thread, refreshing the profile's token, can't see)."""
    return 1 if connection.in_atomic_block else max(1, concurrency)


def send_all(answers: Answers, items: Sequence[Batch], limit: int, heartbeat: Callable[[], None]) -> None:
    """Every batch, up to `limit` in flight: the next starts as soon as one is answered."""
    queue = deque(items)
    heartbeat()  # a stop asked before the first batch sends none
    with InFlight(answers, limit) as flight:
        while queue or flight.busy:
            while queue and flight.free:
                flight.start(queue.popleft())
            flight.wait()
            heartbeat()


class InFlight:
    """Batches whose calls are under way, at most `limit` at once, by the write protocol: each
    marked SENDING (committed) before its call starts in a thread, its answer completed in the
    thread that waits (every DB write of the rows stays there). With a limit of 1 nothing is
    threaded: a batch is sent when it is waited for (tests run inside a transaction threads can't see)."""

    def __init__(self, answers: Answers, limit: int) -> None:
        self.answers = answers
        self.limit = max(1, limit)
        self._pool = ThreadPoolExecutor(max_workers=self.limit) if self.limit > 1 else None
        self._flying: dict[Future[list[WriteResult]], Batch] = {}
        self._queued: list[Batch] = []  # sequential: started, sent when waited for
        self._ahead: dict[int, RecordResult] = {}  # marked SENDING by mark_ahead, not started yet

    def __enter__(self) -> InFlight:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._pool is None:
            return
        try:
            if exc_type is not None:
                self._drain()
        finally:
            self._pool.shutdown(wait=True)  # never leave a call running past the run
            if exc_type is not None:
                self._release_ahead()

    def _drain(self) -> None:
        """The run stops (a cancel, a pause, a lost lease): each call still under way waited for and
        its answer recorded, so every record it made is known. What fails here (a second pause, the
        lease lost meanwhile) is logged, not raised: the first reason the run stops is; a row not
        recorded stays SENDING, for the next run to reconcile."""
        wait(self._flying)
        for future, item in self._take(set(self._flying)):
            try:
                self.answers.finish(item, future)
            except Exception:
                log.warning("An answer not recorded while the run stops", exc_info=True)

    @property
    def busy(self) -> bool:
        return bool(self._flying or self._queued)

    @property
    def free(self) -> bool:
        return len(self._flying) + len(self._queued) < self.limit

    def mark_ahead(self, batches: Sequence[list[RecordResult]]) -> None:
        """The next batches' rows marked SENDING now, in one transaction, while calls (or a read)
        are out and this thread would wait: when a slot frees, their call starts at once instead
        of after a write (~10 ms a batch, the answers' recording delayed as much). Marking early
        is as safe as marking just before (a crash leaves SENDING rows, reconciled before any
        resend); at most one window ahead: nothing is marked until the last such batch started.
        A run that stops first sets them back to PENDING (they were never sent)."""
        if self._pool is None or self._ahead:
            return
        rows = [row for batch in batches[: self.limit] for row in batch if row.status == S.PENDING]
        res.mark_sending(rows)
        self._ahead = {row.id: row for row in rows}

    def start(self, item: Batch) -> None:
        if self._pool is None:
            self._queued.append(item)
            return
        batch, call, _ = item
        res.mark_sending([row for row in batch if self._ahead.pop(row.id, None) is None])
        self._flying[self._pool.submit(_threaded, call, batch)] = item

    def _release_ahead(self) -> None:
        """Rows marked ahead whose call never started: PENDING again (attempt not counted). If
        that write fails too (a lost lease), they stay SENDING for the next run to reconcile."""
        rows, self._ahead = list(self._ahead.values()), {}
        try:
            res.not_sent(rows)
        except Exception:
            log.warning("Rows marked SENDING but never sent left for the next run to reconcile", exc_info=True)

    def wait(self, refill: Callable[[], None] | None = None, *, block: bool = True) -> list[Batch]:
        """The batches answered next (at least one while any is under way), each completed.
        `refill`: called once their slots are free and before their answers are recorded, to start
        the next batches (each marked SENDING first, as always), so their calls are out meanwhile.
        `block=False`: only the answers already in (none is waited for)."""
        if self._pool is None:
            done, self._queued = self._queued, []
            for batch, call, sent in done:
                self.answers.send(batch, call, sent)
            return done
        if not self._flying:
            return []
        answered, _ = wait(self._flying, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        if not answered:
            return []
        in_hand = self._take(answered)
        try:
            if refill is not None:
                refill()
        except BaseException:
            refill = None  # no further batch starts; the answers in hand are still recorded
            raise
        finally:
            recorded = self._record(in_hand, refill)
        return recorded

    def _take(self, answered: set[Future[list[WriteResult]]]) -> list[tuple[Future[list[WriteResult]], Batch]]:
        """The answered calls, out of the flight (their slots free), in the order they started."""
        return [(future, self._flying.pop(future)) for future in [f for f in self._flying if f in answered]]

    def _record(
        self, in_hand: list[tuple[Future[list[WriteResult]], Batch]], refill: Callable[[], None] | None
    ) -> list[Batch]:
        """Each answer in hand recorded, whatever happens; a call answered meanwhile is taken too,
        its slot refilled before the next answer is recorded (recording 500 rows takes a while:
        the next batch's call is out meanwhile). A refill that fails is raised once all are recorded."""
        recorded: list[Batch] = []
        failure: BaseException | None = None
        try:
            while in_hand:
                future, item = in_hand.pop(0)
                self.answers.finish(item, future)
                recorded.append(item)
                # Taken up to one window's worth a wait: the caller's beat (lease, progress,
                # cancel) comes between waits, and answers may keep coming while these are recorded.
                room = self.limit - len(recorded) - len(in_hand)
                late = self._take(set([f for f in self._flying if f.done()][: max(room, 0)]))
                in_hand += late
                if late and refill is not None and failure is None:
                    try:
                        refill()
                    except BaseException as exc:  # recorded first, raised after
                        failure = exc
        except BaseException:
            self._flying.update(in_hand)  # not recorded: left in the flight, for the drain
            raise
        if failure is not None:
            raise failure
        return recorded


def _threaded(call: Call, batch: list[RecordResult]) -> list[WriteResult]:
    try:
        return call(batch)
    finally:
        close_old_connections()
        connection.close()
