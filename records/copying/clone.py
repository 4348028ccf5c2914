"""Clone (both systems; many source records in one job): the system's own copy action.

The rows are sent `batch_size` a call, up to the profile's concurrency of calls under way. A
batch's payloads are built just before it is marked SENDING, and the next batches' while calls are
out, so the first call leaves after one batch's payloads, not all of them; the next batch starts as
soon as a call answers, before that answer is recorded (in_flight.InFlight).

Marking a batch SENDING is a commit of 500 rows (~10 ms): the first window's rows are marked while
the object's describe is out, and the next window's while calls are, so a freed slot's call starts
without a write first (InFlight.mark_ahead; a row still marked before its call, never sent unmarked).

A job whose plan kept the object's fields (planned_fields.py) sends its first window while the
describe is out too, on those fields: the describe takes one of the profile's slots, the batches
the others, rather than every batch waiting a round trip for it."""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from records.connectors.base import CloneRequest, WriteResult
from records.copying.in_flight import InFlight
from records.copying.reads_together import Overlap
from records.copying.reconcile import Sent
from records.copying.result_rows import loaded
from records.copying.run_context import RunContext
from records.copying.unique import MakeUnique
from records.copying.write import BatchWriter
from records.models import RecordResult

S = RecordResult.Status


class CloneRun:
    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.writer = BatchWriter(context, renumber=MakeUnique(context).renumber)
        self.requests: dict[int, CloneRequest] = {}
        # The same dicts as the requests': "make unique" changes a value in the payload and the
        # clone sends it. A clone sends only what changes: its copy inherits the rest (its name too).
        self.sent = Sent(inherits=True)
        self.sources: dict[str, dict[str, Any]] = {}

    def run(self) -> None:
        context = self.context
        name = context.job.object_name
        with InFlight(self.writer, self.writer.parallelism()) as flight:
            # The object's describe (a remote call) while the rows are read, the first beat is
            # made and the first window marked SENDING (or sent: _first_window). A clone checks
            # no value, so no picklist's values are read unless a field is masked.
            with Overlap(context.connector, 1) as reads:
                described = reads.start(context.describe, name)
                rows, sending, queue = self._unsent(flight)
                described.result()
            context.key_described(name)  # the key the first calls carried, checked against the object now
            # A clone inherits what it isn't sent: a masked field's stand-in is sent, from its source value.
            self.sources = context.clone_sources(name, [r.source_id for r in rows])
            if sending:
                self._prepare(sending)  # what they were sent, to find their copies
                self.writer.reconcile_leftovers(sending, self.sent)
                queue = _batches([r for r in rows if r.status == S.PENDING], context.connector.batch_size)
            self._send_all(flight, queue)
        context.heartbeat()

    def _unsent(self, flight: InFlight) -> tuple[list[RecordResult], list[RecordResult], deque[list[RecordResult]]]:
        """The job's rows not written yet, those of them a crashed run left SENDING, and the batches
        to send, the first window's rows marked SENDING meanwhile (a resumed run's are not: the
        reconcile's resends join the batches first)."""
        context, size = self.context, self.context.connector.batch_size
        unsent = context.job.results.filter(status__in=[S.PENDING, S.SENDING]).order_by("depth", "id")
        if self._sends_first(unsent):
            rows, queue = self._first_window(flight, unsent)
            return rows, [], queue
        rows = loaded(unsent)
        sending = [r for r in rows if r.status == S.SENDING]
        queue = _batches([r for r in rows if r.status == S.PENDING], size)
        context.heartbeat()  # a cancel asked before the first batch marks and sends none
        if not sending:
            flight.mark_ahead(list(queue))
        return rows, sending, queue

    def _sends_first(self, unsent: QuerySet[RecordResult]) -> bool:
        """Whether the first window goes out before the describe is back: a first run (nothing left
        SENDING) of a job whose plan kept the object's fields, with nothing to mask."""
        context = self.context
        if context.planned_fields(context.job.object_name) is None or context.masks.any_rules():
            return False
        return not unsent.filter(status=S.SENDING).exists()

    def _first_window(
        self, flight: InFlight, unsent: QuerySet[RecordResult]
    ) -> tuple[list[RecordResult], deque[list[RecordResult]]]:
        """The first window's rows read and their calls started, on the fields the plan kept
        (planned_fields.py), then the other rows read and the next window marked SENDING while
        those calls and the describe are out: every row, in order, and the batches left to send."""
        context, size = self.context, self.context.connector.batch_size
        first = loaded(unsent[: flight.limit * size])
        context.heartbeat()  # a cancel asked before the first batch sends none
        context.key_before_described(context.job.object_name)
        window = _batches(first, size)
        while window:
            batch = window.popleft()
            self._prepare(batch)
            flight.start((batch, self._clone, self.sent))
        # A clone's rows are all at depth 0: the others are those after the first window's by id.
        rest = loaded(unsent.filter(id__gt=first[-1].id)) if first else []
        queue = _batches(rest, size)
        flight.mark_ahead(list(queue))
        return first + rest, queue

    def _prepare(self, rows: list[RecordResult]) -> None:
        """The clone requests of `rows` not built yet (each row's values kept on it)."""
        for row in rows:
            if row.id not in self.requests:
                values = self.context.top_overrides(row, self.sources.get(row.source_id))
                self.requests[row.id] = CloneRequest(row.source_id, values)
                self.sent.payloads[row.id] = values

    def _clone(self, batch: list[RecordResult]) -> list[WriteResult]:
        conn = self.context.connector
        return conn.clone(self.context.job.object_name, [self.requests[r.id] for r in batch])

    def _send_all(self, flight: InFlight, queue: deque[list[RecordResult]]) -> None:
        """Every batch by the write protocol, up to the writer's parallelism in flight; the next
        window's payloads built and its rows marked SENDING while calls are out."""

        def refill() -> None:
            while queue and flight.free:
                self.context.stop_if_cancelled()  # started before the beat: a cancel still stops it
                batch = queue.popleft()
                self._prepare(batch)
                flight.start((batch, self._clone, self.sent))

        while queue or flight.busy:
            refill()
            ahead = list(islice(queue, flight.limit))
            for batch in ahead:
                self._prepare(batch)
            flight.mark_ahead(ahead)
            flight.wait(refill)
            self.context.heartbeat()


def _batches(rows: list[RecordResult], size: int) -> deque[list[RecordResult]]:
    return deque(rows[i : i + size] for i in range(0, len(rows), size))
