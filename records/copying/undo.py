"""Undo: delete what a job created, children first; Vault deep copies by its cascade delete."""

from __future__ import annotations

from records.connectors.base import ConnectorError, NotFound, OutcomeUnknown, RateLimited, Unavailable
from records.copying import results as res
from records.copying.lifecycle import Paused
from records.copying.reconcile import reconcile_deletes
from records.copying.write import MAX_SEND_ATTEMPTS
from records.models import CopyJob, RecordResult

S = RecordResult.Status


class Undo:
    def run_undo(self) -> None:
        job, conn = self.job, self.connector
        original = job.parent_job
        native = conn.native_deep_copy and original is not None and original.mode == CopyJob.Mode.DEEP_COPY
        if native:
            for row in self.rows(depth=0):
                self._vault_cascade_delete(row)
            return
        rows = [r for r in self.rows(status__in=[S.PENDING, S.SENDING])]
        sending = [r for r in rows if r.status == S.SENDING]
        if sending:
            reconcile_deletes(conn, sending)
        # Children first, so no record is left pointing at a deleted parent.
        for depth in sorted({r.depth for r in rows}, reverse=True):
            level = [r for r in rows if r.depth == depth and r.status == S.PENDING]
            by_object: dict[str, list[RecordResult]] = {}
            for row in level:
                by_object.setdefault(row.object_name, []).append(row)
            for object_name, object_rows in by_object.items():
                size = conn.batch_size
                for start in range(0, len(object_rows), size):
                    self.heartbeat()
                    batch = object_rows[start : start + size]
                    self._send_delete(object_name, batch)
        self.heartbeat()

    def _send_delete(self, object_name, batch) -> None:
        res.mark_sending(batch)
        try:
            outcomes = self.connector.delete(object_name, [r.source_id for r in batch])
        except OutcomeUnknown:
            reconcile_deletes(self.connector, batch)
            rest = [r for r in batch if r.status == S.PENDING]
            if rest:
                self._send_delete(object_name, rest) if all(r.attempts < MAX_SEND_ATTEMPTS for r in rest) else None
            return
        except (RateLimited, Unavailable) as exc:
            _pause(batch, exc)
        except ConnectorError as exc:
            for row in batch:
                res.fail_with(row, exc)
            res.save(batch)
            return
        for row, outcome in zip(batch, outcomes, strict=False):
            if outcome.ok:
                res.succeed(row, "")
            else:
                res.fail(row, outcome.error_type or "ERROR", outcome.error_message or "Not deleted.")
        res.save(batch)

    def _vault_cascade_delete(self, root_row: RecordResult) -> None:
        job, conn = self.job, self.connector
        st = job.state.setdefault("cascade", {}).setdefault(root_row.source_id, {})
        if st.get("phase") == "done":
            return
        if not st.get("remote_job_id"):
            self.heartbeat()
            res.mark_sending([root_row])
            try:
                remote_id = conn.start_cascade_delete(root_row.object_name, root_row.source_id)
            except NotFound:
                remote_id = ""
            except (RateLimited, Unavailable) as exc:
                _pause([root_row], exc)
            except ConnectorError as exc:
                for row in self.rows(status__in=[S.PENDING, S.SENDING]):
                    res.fail_with(row, exc)
                    res.save([row])
                st["phase"] = "done"
                self.save_state()
                return
            st["remote_job_id"] = remote_id
            job.remote_job_id = remote_id
            self.save_state()
        status = self._poll(st["remote_job_id"]) if st["remote_job_id"] else "SUCCESS"
        try:
            conn.get(root_row.object_name, root_row.source_id)
            gone = False
        except NotFound:
            gone = True
        for row in self.rows(status__in=[S.PENDING, S.SENDING]):
            if gone:
                res.succeed(row, "")
            else:
                res.fail(row, status, f"The Vault cascade delete ended with {status}.")
            res.save([row])
        st["phase"] = "done"
        self.save_state()


def _pause(rows: list[RecordResult], exc: ConnectorError) -> None:
    """Nothing was deleted (the contract for a rate limit or an outage): the rows are pending
    again and the undo waits, then resumes, instead of failing them."""
    for row in rows:
        row.status = S.PENDING
        row.attempts = max(0, row.attempts - 1)
    res.save(rows)
    raise Paused(exc) from exc
