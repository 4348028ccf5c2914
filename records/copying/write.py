"""The write protocol, sequential and threaded in one place: rows marked SENDING (a fenced,
committed write) before the call, the call, the rows completed. A lost answer (OutcomeUnknown) is
reconciled (reconcile.py: the copy found by its key, or by its values, creation time and user)
before anything is sent again; a row whose copy can't be told apart needs review and is neither
claimed nor sent. A rate limit or an outage pauses the job (nothing of the batch was applied). No
remote call happens inside a transaction.

A row refused as a duplicate of a field the user chose to make unique is sent again, alone, with
the value the writer's `renumber` callback gives it (unique.py), until it is written or the
callback gives up."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, connection

from records.connectors.base import WriteResult
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import results as res
from records.copying.lifecycle import Paused
from records.copying.reconcile import Sent, is_our_copy, reconcile_rows
from records.copying.run_context import RunContext
from records.models import RecordResult

S = RecordResult.Status
log = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 3

# One remote call for a batch of rows: one answer per row, in order.
Call = Callable[[list[RecordResult]], list[WriteResult]]
# "Make unique": given a refused row, the field its value duplicates ("" for another refusal) and
# the row's payload, number the value in the payload for another try (True) or leave it (False).
Renumber = Callable[[RecordResult, str, dict[str, Any]], bool]
# One batch to send: its rows, the call that writes them, what was sent (for reconciling).
Batch = tuple[list[RecordResult], Call, Sent]


@dataclass(frozen=True)
class Completed:
    """The rows a call answered, and for each refused as a duplicate the field it duplicates
    (row pk -> field name, as the connector reads it from the answer; kept only for the retry)."""

    rows: list[RecordResult]
    duplicates: dict[int, str] = field(default_factory=dict)


class BatchWriter:
    """Sends batches of one run's rows by the write protocol."""

    def __init__(self, context: RunContext, *, renumber: Renumber | None = None) -> None:
        self.context = context
        self.connector = context.connector
        self.renumber = renumber

    def send(self, rows: list[RecordResult], call: Call, sent: Sent) -> None:
        """Send one batch: SENDING committed first; a lost answer is reconciled, then resent if absent.
        A duplicate on a field the user chose to make unique is sent again numbered."""
        completed = self._send(rows, call, sent)
        if completed is not None:
            self._make_unique(completed, call, sent)

    def send_group(self, calls: Sequence[tuple[list[RecordResult], Call]], sent: Sent) -> None:
        """Several batches at once: the remote calls run in parallel (up to the profile's
        concurrency, parallelism()); every DB write stays in this thread."""
        self.send_many([(batch, call, sent) for batch, call in calls])

    def send_all(self, items: Sequence[Batch], heartbeat: Callable[[], None]) -> None:
        """Every batch, up to `parallelism()` in flight: the next starts as soon as one is answered
        (batches of different objects overlap as well as batches of one object; each keeps its Sent)."""
        queue = deque(items)
        heartbeat()  # a cancel asked before the first batch sends none
        with InFlight(self, self.parallelism()) as flight:
            while queue or flight.busy:
                while queue and flight.free:
                    flight.start(queue.popleft())
                flight.wait()
                heartbeat()

    def send_many(self, items: Sequence[Batch]) -> None:
        """Batches sent together, each by the protocol: all marked SENDING (committed) before any
        call, the calls in threads, the answers completed here in order."""
        with InFlight(self, len(items)) as flight:
            for item in items:
                flight.start(item)
            while flight.busy:
                flight.wait()

    def finish(self, item: Batch, future: Future[list[WriteResult]]) -> None:
        """Complete a batch whose call ran in a thread (marked SENDING before): its answers
        applied here; a failed call reconciled and what is still absent sent again, the careful way."""
        batch, call, sent = item
        try:
            outcomes = future.result()
        except ConnectorError:
            for row in batch:
                row.attempts = max(0, row.attempts - 1)
            self.reconcile_leftovers(batch, sent)
            rest = [r for r in batch if r.status == S.PENDING]
            if rest:
                self.send(rest, call, sent)
            return
        completed = self._complete(batch, outcomes, self.context.key_field(batch[0].object_name))
        self._make_unique(completed, call, sent)

    def reconcile_leftovers(self, rows: list[RecordResult], sent: Sent) -> None:
        """Rows a crashed run left SENDING: their copy found (or held for review) before any resend."""
        sending = [r for r in rows if r.status == S.SENDING]
        if sending:
            self._reconcile(sending, sent)

    def parallelism(self) -> int:
        # Threads only outside a transaction (tests wrap each test in one that threads can't see).
        if connection.in_atomic_block:
            return 1
        # The profile's concurrency: the limiter in the connector bounds the calls in flight anyway.
        return max(1, self.context.job.write_profile.concurrency)

    def _send(self, rows: list[RecordResult], call: Call, sent: Sent) -> Completed | None:
        """The protocol for one batch, without "make unique"; None when no answer completed it."""
        key_field = self.context.key_field(rows[0].object_name)
        pending = rows
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            res.mark_sending(pending)
            try:
                outcomes = call(pending)
            except OutcomeUnknown:
                self._reconcile(pending, sent)
                pending = [r for r in pending if r.status == S.PENDING]
                if not pending:
                    return None
                if attempt == MAX_SEND_ATTEMPTS:
                    for row in pending:
                        res.fail(row, "OutcomeUnknown", "No answer from the remote system; the record was not found.")
                    res.save(pending)
                    return None
                continue
            except (RateLimited, Unavailable) as exc:
                # Nothing was applied (the connector's contract for these, which already retried
                # with backoff): the rows are pending again and the job waits, then resumes.
                res.not_sent(pending)
                raise Paused(exc) from exc
            except ConnectorError as exc:
                for row in pending:
                    res.fail_with(row, exc)
                res.save(pending)
                return None
            return self._complete(pending, outcomes, key_field)
        return None

    def _complete(self, rows: list[RecordResult], outcomes: list[WriteResult], key_field: str) -> Completed:
        duplicates: dict[int, str] = {}
        for row, outcome in zip(rows, outcomes, strict=False):
            # A duplicate on the copy key: an earlier attempt made this copy. Any other duplicate
            # (a name, a unique field) is an error, never a claim.
            if (
                not outcome.ok
                and outcome.existing_id
                and is_our_copy(self.connector, row, outcome.existing_id, key_field)
            ):
                outcome = WriteResult(ok=True, new_id=outcome.existing_id)
            link = self.connector.record_url(row.object_name, outcome.new_id) if outcome.ok else ""
            res.apply_write(row, outcome, link)
            if not outcome.ok:
                duplicates[row.pk] = self.connector.duplicate_field(outcome)
        for row in rows[len(outcomes) :]:
            res.fail(row, "NO_RESULT", "The remote system returned no result for this record.")
        res.save(rows)
        return Completed(rows, duplicates)

    def _make_unique(self, completed: Completed, call: Call, sent: Sent) -> None:
        """Each refused row sent again alone while `renumber` gives it another value; a retry is
        sent by the protocol like the first try, but its own refusal goes back to `renumber`."""
        if self.renumber is None or not completed.rows or not sent.payloads:
            return
        for row in completed.rows:
            duplicate = completed.duplicates.get(row.pk, "")
            while row.status == S.FAILED and self.renumber(row, duplicate, sent.payloads.get(row.pk, {})):
                again = self._send([row], call, sent)
                duplicate = again.duplicates.get(row.pk, "") if again is not None else ""

    def _reconcile(self, rows: list[RecordResult], sent: Sent) -> None:
        object_name = rows[0].object_name
        reconcile_rows(
            self.connector,
            rows,
            key_field=self.context.key_field(object_name),
            sent=sent,
            fields=self.context.describe(object_name),
        )


class InFlight:
    """Batches whose calls are under way, at most `limit` at once, by the write protocol: each
    marked SENDING (committed) before its call starts in a thread, its answer completed in the
    thread that waits (every DB write of the rows stays there). With a limit of 1 nothing is
    threaded: a batch is sent when it is waited for (tests run inside a transaction threads can't see)."""

    def __init__(self, writer: BatchWriter, limit: int) -> None:
        self.writer = writer
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
        """The run stops (a cancel, a pause, a lost lease): the answers of the calls still under
        way are recorded first, so every record they made is known (a row left SENDING only when
        recording fails too, for the next run to reconcile)."""
        while self._flying:
            self.wait()

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
        self._ahead = {row.pk: row for row in rows}

    def start(self, item: Batch) -> None:
        if self._pool is None:
            self._queued.append(item)
            return
        batch, call, _ = item
        res.mark_sending([row for row in batch if self._ahead.pop(row.pk, None) is None])
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
                self.writer.send(batch, call, sent)
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
                self.writer.finish(item, future)
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
