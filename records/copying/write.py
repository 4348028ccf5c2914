"""The write protocol, sequential and threaded in one place: rows marked SENDING (a fenced,
committed write) before the call, the call, the rows completed. A lost answer (OutcomeUnknown) is
reconciled (reconcile.py: the copy found by its key, or by its values, creation time and user)
before anything is sent again; a row whose copy can't be told apart needs review and is neither
claimed nor sent. A rate limit or an outage pauses the job (nothing of the batch was applied). No
remote call happens inside a transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

from records.connectors.base import ConnectorError, OutcomeUnknown, RateLimited, Unavailable, WriteResult
from records.copying import results as res
from records.copying.lifecycle import Paused
from records.copying.reconcile import Sent, is_our_copy, reconcile_rows
from records.models import RecordResult

S = RecordResult.Status
MAX_SEND_ATTEMPTS = 3


class WriteProtocol:
    """Mixed into the Runner: needs self.connector, self.key_field, self.describe."""

    def send(self, rows: list[RecordResult], call, sent: Sent, *, unique: bool = True) -> None:
        """Send one batch: SENDING committed first; a lost answer is reconciled, then resent if absent.
        A duplicate on a field the user chose to make unique is sent again numbered (unique.py)."""
        object_name = rows[0].object_name
        key_field = self.key_field(object_name)
        pending = rows
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            res.mark_sending(pending)
            try:
                outcomes = call(pending)
            except OutcomeUnknown:
                self._reconcile(pending, sent)
                pending = [r for r in pending if r.status == S.PENDING]
                if not pending:
                    return
                if attempt == MAX_SEND_ATTEMPTS:
                    for row in pending:
                        res.fail(row, "OutcomeUnknown", "No answer from the remote system; the record was not found.")
                    res.save(pending)
                    return
                continue
            except (RateLimited, Unavailable) as exc:
                # Nothing was applied (the connector's contract for these, which already retried
                # with backoff): the rows are pending again and the job waits, then resumes.
                for row in pending:
                    row.status = S.PENDING
                    row.attempts = max(0, row.attempts - 1)
                res.save(pending)
                raise Paused(exc) from exc
            except ConnectorError as exc:
                for row in pending:
                    res.fail_with(row, exc)
                res.save(pending)
                return
            self.complete(pending, outcomes, key_field)
            if unique:
                self.make_unique(pending, call, sent)
            return

    def complete(self, rows: list[RecordResult], outcomes: list[WriteResult], key_field: str) -> None:
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
            row.duplicate_field = "" if outcome.ok else self.connector.duplicate_field(outcome)  # not saved
        for row in rows[len(outcomes) :]:
            res.fail(row, "NO_RESULT", "The remote system returned no result for this record.")
        res.save(rows)

    def _reconcile(self, rows: list[RecordResult], sent: Sent) -> None:
        object_name = rows[0].object_name
        reconcile_rows(
            self.connector,
            rows,
            key_field=self.key_field(object_name),
            sent=sent,
            fields=self.describe(object_name),
        )

    def reconcile_leftovers(self, rows: list[RecordResult], sent: Sent) -> None:
        """Rows a crashed run left SENDING: their copy found (or held for review) before any resend."""
        sending = [r for r in rows if r.status == S.SENDING]
        if sending:
            self._reconcile(sending, sent)

    def parallelism(self) -> int:
        # Threads only outside a transaction (tests wrap each test in one that threads can't see).
        if connection.in_atomic_block:
            return 1
        return max(1, min(self.job.profile.concurrency, 4))

    def _send_group(self, calls, sent: Sent) -> None:
        if len(calls) == 1:
            batch, call = calls[0]
            self.send(batch, call, sent)
            return
        # The remote calls run in parallel (up to the profile's concurrency); every DB write stays here.
        pending_calls = []
        for batch, call in calls:
            res.mark_sending(batch)
            pending_calls.append((batch, call))
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [(batch, call, pool.submit(_threaded, call, batch)) for batch, call in pending_calls]
            for batch, call, future in futures:
                try:
                    outcomes = future.result()
                except ConnectorError:
                    # Reconcile and resend this batch the slow, careful way.
                    for row in batch:
                        row.attempts = max(0, row.attempts - 1)
                    self.reconcile_leftovers(batch, sent)
                    rest = [r for r in batch if r.status == S.PENDING]
                    if rest:
                        self.send(rest, call, sent)
                    continue
                self.complete(batch, outcomes, self.key_field(batch[0].object_name))
                self.make_unique(batch, call, sent)


def _threaded(call, batch):
    try:
        return call(batch)
    finally:
        close_old_connections()
        connection.close()
