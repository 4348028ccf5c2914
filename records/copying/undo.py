"""Undo: delete what a job created and nobody has changed since (undo_checks), children first.

Every run reads the records first (a resumed run reads them again): a kept record's row is
skipped with the reason; a record already gone counts as deleted. What may go is deleted record by
record, children first (Vault's bulk delete, Zoho's DELETE ?ids=), or, for a Vault deep copy, by
Vault's cascade delete of the copied root.

Vault's cascade delete deletes everything under the root, including records someone added under
the copy later. So it is used only when the check found every record of the job deletable and read
the children of each (through all the related lists of its object, what a cascade follows) without
finding one the undo doesn't delete. Otherwise, or when the children could not be read, the
records are deleted one by one, children first, as for an engine-built copy: a record with
something under it that stays is kept ("records added under it"). Between the check and the cascade
a record can still be added: that window is the cascade's few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import partial
from typing import NoReturn

from django.db.models import QuerySet

from records.connectors.base import Connector, WriteResult
from records.connectors.errors import ConnectorError, NotFound, OutcomeUnknown, RateLimited, Unavailable
from records.copying import file_copy, in_flight, undo_checks, undo_pieces, undo_restore
from records.copying import results as res
from records.copying.in_flight import Batch, Call
from records.copying.lifecycle import Paused
from records.copying.reconcile import Sent, reconcile_deletes
from records.copying.result_rows import reloaded
from records.copying.run_context import RunContext
from records.copying.vault_jobs import VaultJobPoller
from records.copying.write import MAX_SEND_ATTEMPTS
from records.models import CopyJob, RecordResult

S = RecordResult.Status


class UndoRun:
    """Undo of the copy job `job.parent_job`: the rows name the copies (source_id) to delete."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.connector = context.connector
        self.poller = VaultJobPoller(context)

    def run(self) -> None:
        self._finish_cascades()  # one a stopped run started: wait for it before reading anything
        self._delete()
        # Then the records a copy into another profile updated get their values back (repeat-safe).
        restore = self.context.rows(status__in=[S.PENDING, S.SENDING], action=RecordResult.Action.UPDATE)
        if restore:
            undo_restore.restore(self.connector, restore, pause=_pause)
            self.context.heartbeat()
        file_copy.undo_files(self.context)  # and the files it added to records it did not create

    def _delete(self) -> None:
        # A piece of rows at a time: the undo of 100,000 records holds no row instance a record.
        for rows in self._pieces(self._created(S.SENDING)):
            reconcile_deletes(self.connector, rows)
        if not self._created(S.PENDING).exists():
            return
        judged = self._check()
        roots = [r for r in reloaded(self._pks(self._created(S.PENDING, depth=0))) if judged.deletable(r.source_id)]
        if self._cascades() and judged.cascade_safe and self._all_go(roots, judged):
            self._cascade(roots)
            self._settle(judged)
        else:
            self._delete_children_first(judged)
        self.context.heartbeat()

    def _created(self, *statuses: str, **filters: object) -> QuerySet[RecordResult]:
        return self.context.job.results.filter(action=RecordResult.Action.CREATE, status__in=statuses, **filters)

    @staticmethod
    def _pks(rows: QuerySet[RecordResult]) -> list[int]:
        return list(rows.order_by("depth", "id").values_list("pk", flat=True))

    def _pieces(self, rows: QuerySet[RecordResult]) -> Iterator[list[RecordResult]]:
        """`rows` (their ids read first) as instances without their snapshots, PIECE at a time."""
        pks = self._pks(rows)
        for start in range(0, len(pks), undo_pieces.PIECE):
            self.context.heartbeat()
            yield reloaded(pks[start : start + undo_pieces.PIECE])

    def _cascades(self) -> bool:
        original = self.context.job.parent_job
        if original is None or original.target_profile_id is not None:
            return False  # across profiles a re-run's records may hang under a record it skipped
        return self.connector.native_deep_copy and original.mode == CopyJob.Mode.DEEP_COPY

    def _all_go(self, roots: list[RecordResult], judged: undo_pieces.Judged) -> bool:
        """Every record left is below a root being deleted, and no row of the job stays (kept, or
        failed earlier): the cascade would take it too."""
        stays = self.context.job.results.filter(status__in=[S.SKIPPED, S.FAILED, S.REVIEW]).exists()
        return not stays and judged.under({r.source_id for r in roots})

    def _check(self) -> undo_pieces.Judged:
        """Settle the rows whose record is kept (skipped, with the reason) or gone (deleted)."""
        job = self.context.job
        self.context.heartbeat()
        judged = undo_pieces.check(
            self.connector,
            job.parent_job,
            job,
            include_changed=bool((job.options or {}).get("include_changed")),
            read_children=self.connector.native_deep_copy,
            heartbeat=self.context.heartbeat,
        )
        for rows in self._pieces(self._created(S.PENDING)):
            settled = []
            for row in rows:
                kept = judged.kept.get(row.source_id)
                if not judged.named(row.source_id):
                    kept = undo_checks.Kept(
                        undo_checks.Reason.NOT_NAMED, "Kept: the copy job no longer names this record as its copy."
                    )
                if kept is not None:
                    row.status, row.error_type, row.error_message = S.SKIPPED, kept.reason.value, kept.message
                elif row.source_id in judged.gone:
                    res.succeed(row, "")
                else:
                    continue
                settled.append(row)
            res.save_in_batches(settled)
        return judged

    def _delete_children_first(self, judged: undo_pieces.Judged) -> None:
        conn, pending = self.connector, self._created(S.PENDING)
        # Children first, so no record is left pointing at a deleted parent.
        for depth in sorted(pending.order_by().values_list("depth", flat=True).distinct(), reverse=True):
            level = pending.filter(depth=depth)
            for object_name in sorted(level.order_by().values_list("object_name", flat=True).distinct()):
                ids = level.filter(object_name=object_name).order_by("id").values_list("pk", "source_id")
                pks = [
                    pk for pk, record_id in ids.iterator(chunk_size=undo_pieces.PIECE) if judged.deletable(record_id)
                ]
                for start in range(0, len(pks), undo_pieces.PIECE):
                    rows = [r for r in reloaded(pks[start : start + undo_pieces.PIECE]) if r.status == S.PENDING]
                    batches = [rows[at : at + conn.batch_size] for at in range(0, len(rows), conn.batch_size)]
                    self._send_deletes(object_name, batches)

    def _send_deletes(self, object_name: str, batches: list[list[RecordResult]]) -> None:
        """The deletes of one object's records of one level: they depend on nothing but their
        children's (deleted before), so up to the profile's concurrency are under way at once, by
        the write protocol (in_flight: each batch SENDING before its call, its answer recorded in
        this thread, the calls under way recorded first when the run stops)."""
        call = partial(_delete, self.connector, object_name)
        limit = in_flight.parallelism(self.context.job.write_profile.concurrency)
        items = [(batch, call, Sent()) for batch in batches]
        in_flight.send_all(DeleteAnswers(self.connector), items, limit, self.context.heartbeat)

    # -- Vault's cascade delete ----------------------------------------------------------------------
    def _cascade(self, roots: list[RecordResult]) -> None:
        for root_row in roots:
            if self._start_cascade(root_row):
                self._finish_cascades()

    def _start_cascade(self, root_row: RecordResult) -> bool:
        """Start Vault's cascade delete of a copied root; its job id is stored before polling, so a
        resumed run waits for it instead of starting another. False when it could not start."""
        job, conn = self.context.job, self.connector
        st = job.state.setdefault("cascade", {}).setdefault(root_row.source_id, {})
        self.context.heartbeat()
        res.mark_sending([root_row])
        try:
            remote_id = conn.start_cascade_delete(root_row.object_name, root_row.source_id)
        except NotFound:
            remote_id = ""
        except (RateLimited, Unavailable) as exc:
            _pause([root_row], exc)
        except ConnectorError as exc:
            for rows in self._pieces(job.results.filter(status__in=[S.PENDING, S.SENDING])):
                for row in rows:
                    res.fail_with(row, exc)
                res.save_in_batches(rows)
            st["phase"] = "done"
            self.context.save_state()
            return False
        st.update(remote_job_id=remote_id, phase="" if remote_id else "done")
        job.remote_job_id = remote_id
        self.context.save_state()
        return True

    def _finish_cascades(self) -> None:
        """Wait for each started cascade delete to end (the rows are settled by reading them)."""
        for st in (self.context.job.state or {}).get("cascade", {}).values():
            if st.get("phase") != "done" and st.get("remote_job_id"):
                st["status"] = self.poller.wait(st["remote_job_id"])
                st["phase"] = "done"
                self.context.save_state()

    def _settle(self, judged: undo_pieces.Judged) -> None:
        """After the cascade: a record that is gone was deleted; one still there failed."""
        conn = self.connector
        statuses = {st.get("status") for st in self.context.job.state.get("cascade", {}).values()} - {None}
        ended = ", ".join(sorted(statuses)) or "an error"
        for rows in self._pieces(self._created(S.PENDING, S.SENDING)):
            rows = [r for r in rows if judged.deletable(r.source_id)]
            found: set[str] = set()
            for object_name in {r.object_name for r in rows}:
                found |= set(conn.stamps(object_name, [r.source_id for r in rows if r.object_name == object_name]))
            for row in rows:
                if row.source_id in found:
                    res.fail(
                        row, "NOT_DELETED", f"The Vault cascade delete ended with {ended}; this record is still there."
                    )
                else:
                    res.succeed(row, "")
            res.save_in_batches(rows)


def _delete(conn: Connector, object_name: str, batch: list[RecordResult]) -> list[WriteResult]:
    return conn.delete(object_name, [r.source_id for r in batch])


class DeleteAnswers:
    """What a delete's answer means (in_flight.Answers): each row deleted or failed as the org
    answered; a lost answer settled by what the org holds, then what is still there sent again; a
    rate limit or an outage pauses the undo (nothing of the batch was deleted)."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    def send(self, rows: list[RecordResult], call: Call, sent: Sent) -> None:
        res.mark_sending(rows)
        self._record(rows, call, partial(call, rows))

    def finish(self, item: Batch, future: Future[list[WriteResult]]) -> None:
        rows, call, _ = item
        self._record(rows, call, future.result)

    def _record(self, batch: list[RecordResult], call: Call, answer: Callable[[], list[WriteResult]]) -> None:
        try:
            outcomes = answer()
        except OutcomeUnknown:
            reconcile_deletes(self.connector, batch)
            rest = [r for r in batch if r.status == S.PENDING]
            if rest and all(r.attempts < MAX_SEND_ATTEMPTS for r in rest):
                self.send(rest, call, Sent())
            return
        except (RateLimited, Unavailable) as exc:
            _pause(batch, exc)
        except ConnectorError as exc:
            res.fail_all(batch, exc)
            return
        for row, outcome in zip(batch, outcomes, strict=False):
            if outcome.ok:
                res.succeed(row, "")
            else:
                res.fail(row, outcome.error_type or "ERROR", outcome.error_message or "Not deleted.")
        res.save(batch)


def _pause(rows: list[RecordResult], exc: ConnectorError) -> NoReturn:
    """Nothing was deleted (the contract for a rate limit or an outage): the rows are pending
    again and the undo waits, then resumes, instead of failing them."""
    res.not_sent(rows)
    raise Paused(exc) from exc
