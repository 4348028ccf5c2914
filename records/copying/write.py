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
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from records.connectors.base import WriteResult
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import in_flight
from records.copying import results as res
from records.copying.in_flight import Batch, Call, InFlight
from records.copying.lifecycle import Paused
from records.copying.reconcile import Sent, is_our_copy, reconcile_rows
from records.copying.run_context import RunContext
from records.models import RecordResult

S = RecordResult.Status
log = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 3

# "Make unique": given a refused row, the field its value duplicates ("" for another refusal) and
# the row's payload, number the value in the payload for another try (True) or leave it (False).
Renumber = Callable[[RecordResult, str, dict[str, Any]], bool]


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
        in_flight.send_all(self, items, self.parallelism(), heartbeat)

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
        # The profile's concurrency: the limiter in the connector bounds the calls in flight anyway.
        return in_flight.parallelism(self.context.job.write_profile.concurrency)

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
                res.fail_all(pending, exc)
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
