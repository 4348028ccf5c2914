"""Run a claimed job: clone, deep copy (Vault native / Zoho engine-built) and undo.

Every remote write follows the same steps: rows marked SENDING and committed, the call, the rows
completed. Rows left SENDING by a crash or a lost answer are reconciled before anything is resent.
No remote call happens inside a transaction.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from records.connectors.base import (
    CloneRequest,
    Connector,
    ConnectorError,
    FieldInfo,
    FieldType,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unavailable,
    WriteResult,
)
from records.copying import results as res
from records.copying.lifecycle import Fence, LeaseLost, renew
from records.copying.plan import Node, copy_key_field, read_tree, ref_id, unique_fields
from records.copying.reconcile import reconcile_deletes, reconcile_rows
from records.models import CopyJob, RecordResult

log = logging.getLogger(__name__)
S = RecordResult.Status
MAX_SEND_ATTEMPTS = 3
ZOHO_SYSTEM_FIELDS = {
    "id", "Created_By", "Modified_By", "Created_Time", "Modified_Time", "Last_Activity_Time",
    "Tag", "Record_Image", "Unsubscribed_Time", "Unsubscribed_Mode", "Locked__s",
}
SUBFORM_ROW_DROP = {"id", "Parent_Id", "Created_By", "Modified_By", "Created_Time", "Modified_Time"}


class Cancelled(Exception):
    pass


class Paused(Exception):
    """A rate limit or an outage outlasted the connector's retries: nothing of the batch was
    applied (the rows are pending again); the job waits and resumes (lifecycle.wait_or_stop)."""

    def __init__(self, cause: ConnectorError):
        super().__init__(str(cause))
        self.cause = cause


class Runner:
    def __init__(self, job: CopyJob, connector: Connector, worker_id: str, fence: Fence | None = None):
        self.job = job
        self.connector = connector
        self.worker_id = worker_id
        self.fence = fence or Fence(job.pk, worker_id, job.lease_generation)
        self._describe: dict[str, list[FieldInfo]] = {}

    # -- lease, cancel, progress ------------------------------------------------------------
    def heartbeat(self) -> None:
        """Renew the lease (or stop if it was taken over) and stop at a cancel request."""
        if not renew(self.fence):
            raise LeaseLost
        res.refresh_counts(self.job)
        if CopyJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled

    def save_state(self) -> None:
        updated = CopyJob.objects.filter(pk=self.job.pk, lease_generation=self.fence.generation).update(
            state=self.job.state, remote_job_id=self.job.remote_job_id)
        if updated != 1:
            raise LeaseLost

    def describe(self, object_name: str) -> list[FieldInfo]:
        if object_name not in self._describe:
            self._describe[object_name] = self.connector.describe(object_name)
        return self._describe[object_name]

    def key_field(self, object_name: str) -> str:
        return copy_key_field(self.describe(object_name))

    def claimed_ids(self) -> set[str]:
        return set(self.job.results.exclude(new_id="").values_list("new_id", flat=True))

    def rows(self, **filters) -> list[RecordResult]:
        return list(self.job.results.defer("source_snapshot").filter(**filters).order_by("depth", "id"))

    def overrides_for(self, source_id: str) -> dict[str, Any]:
        """The top record's overrides: the job's, the row's, and None (cleared) for each unique,
        not required field the user left alone (a copy keeping it would be a duplicate)."""
        values = dict(self.job.overrides or {})
        values.update((self.job.row_overrides or {}).get(source_id, {}))
        to_clear, _ = unique_fields(self.describe(self.job.object_name), values)
        for info in to_clear:
            values[info.name] = None
        return values

    # -- entry --------------------------------------------------------------------------------
    def run(self) -> None:
        job = self.job
        if job.mode == CopyJob.Mode.UNDO:
            self.run_undo()
        elif job.mode == CopyJob.Mode.CLONE:
            self.run_clone()
        elif self.connector.native_deep_copy:
            for root in job.source_ids:
                self.run_vault_deep_copy(str(root))
        else:
            for root in job.source_ids:
                self.run_engine_deep_copy(str(root))

    # -- sending with retries and reconciliation ------------------------------------------------
    def send(self, rows: list[RecordResult], call, *, payloads=None, parent_field: str = "") -> None:
        """Send one batch: SENDING committed first; a lost answer is reconciled, then resent if absent."""
        object_name = rows[0].object_name
        key_field = self.key_field(object_name)
        pending = rows
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            res.mark_sending(pending)
            try:
                outcomes = call(pending)
            except OutcomeUnknown:
                reconcile_rows(
                    self.connector, pending, key_field=key_field, payloads=payloads,
                    parent_field=parent_field, claimed=self.claimed_ids(),
                )
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
            return

    def complete(self, rows: list[RecordResult], outcomes: list[WriteResult], key_field: str) -> None:
        for row, outcome in zip(rows, outcomes, strict=False):
            if not outcome.ok and outcome.existing_id and key_field and self._is_our_copy(row, outcome.existing_id, key_field):
                outcome = WriteResult(ok=True, new_id=outcome.existing_id)
            link = self.connector.record_url(row.object_name, outcome.new_id) if outcome.ok else ""
            res.apply_write(row, outcome, link)
        for row in rows[len(outcomes):]:
            res.fail(row, "NO_RESULT", "The remote system returned no result for this record.")
        res.save(rows)

    def _is_our_copy(self, row: RecordResult, existing_id: str, key_field: str) -> bool:
        # DUPLICATE_DATA on the copy key means an earlier attempt created it; any other duplicate is an error.
        found = self.connector.find(row.object_name, {key_field: row.idempotency_key})
        return any(r.id == existing_id for r in found)

    def reconcile_leftovers(self, rows: list[RecordResult], *, payloads=None, parent_field: str = "") -> None:
        sending = [r for r in rows if r.status == S.SENDING]
        if sending:
            reconcile_rows(
                self.connector, sending, key_field=self.key_field(sending[0].object_name),
                payloads=payloads, parent_field=parent_field, claimed=self.claimed_ids(),
            )

    # -- clone (both systems; many source records in one job) ---------------------------------
    def run_clone(self) -> None:
        rows = self.rows(status__in=[S.PENDING, S.SENDING])
        key_field = self.key_field(self.job.object_name)
        requests = {}
        for row in rows:
            overrides = self.overrides_for(row.source_id)
            if key_field:
                overrides[key_field] = row.idempotency_key
            requests[row.pk] = CloneRequest(row.source_id, overrides)
        payloads = {pk: {**req.overrides} for pk, req in requests.items()}
        self.reconcile_leftovers(rows, payloads=payloads)
        rows = [r for r in rows if r.status == S.PENDING]
        size = self.connector.batch_size
        for start in range(0, len(rows), size):
            self.heartbeat()
            batch = rows[start : start + size]
            self.send(
                batch,
                lambda b: self.connector.clone(self.job.object_name, [requests[r.pk] for r in b]),
                payloads=payloads,
            )
        self.heartbeat()

    # -- Vault deep copy: the native job ------------------------------------------------------
    def run_vault_deep_copy(self, root_id: str) -> None:
        job, conn = self.job, self.connector
        roots = job.state.setdefault("roots", {})
        st = roots.setdefault(root_id, {})
        root_row = job.results.get(object_name=job.object_name, source_id=root_id, depth=0)
        if st.get("phase") == "done":
            return
        key_field = self.key_field(job.object_name)
        if st.get("phase") == "starting" and not st.get("remote_job_id"):
            # Crashed between sending the start and storing its id: the job may still be queued in
            # Vault, so wait a while for its top copy to appear before starting another.
            new_id = self._await_root_copy(root_row, key_field)
            if new_id:
                st.update(phase="discover", new_id=new_id)
                self.save_state()
        if not st.get("phase") or (st.get("phase") == "starting" and not st.get("remote_job_id")):
            self.heartbeat()
            overrides = self.overrides_for(root_id)
            if key_field:
                overrides[key_field] = root_row.idempotency_key
            st["phase"] = "starting"
            self.save_state()
            res.mark_sending([root_row])
            try:
                remote_id = conn.start_deep_copy(job.object_name, root_id, overrides)
            except (RateLimited, Unavailable) as exc:
                # Not started (the contract for these): the top row is pending again, the job waits.
                root_row.status = S.PENDING
                res.save([root_row])
                roots[root_id] = {}
                self.save_state()
                raise Paused(exc) from exc
            except OutcomeUnknown:
                new_id = self._await_root_copy(root_row, key_field)
                if not new_id:
                    raise
                st.update(phase="discover", new_id=new_id)
                self.save_state()
            except ConnectorError as exc:
                rows = self.tree_rows(root_id)
                for row in rows:
                    res.fail_with(row, exc)
                res.save_in_batches(rows)
                st["phase"] = "done"
                self.save_state()
                return
            else:
                # Stored before polling: a resumed run polls this job instead of starting another.
                st.update(phase="polling", remote_job_id=remote_id)
                job.remote_job_id = remote_id
                self.save_state()
        if st.get("phase") == "polling":
            status = self._poll(st["remote_job_id"])
            rows = {(r.object_name, r.source_id): r for r in self.tree_rows(root_id)}
            changed = []
            for item in conn.deep_copy_results(job.object_name, st["remote_job_id"]):
                row = rows.get((item.object_name, item.source_id))
                if row is None or row.status == S.SUCCEEDED:
                    continue
                if item.ok and item.new_id and item.new_id != item.source_id:  # never mistake the source for its copy
                    res.succeed(row, item.new_id, conn.record_url(row.object_name, item.new_id))
                elif not item.ok:
                    res.fail(row, item.error_type or "ERROR", item.error_message or "Not copied.")
                changed.append(row)
            # One UPDATE per few hundred rows, not one per row: a 10,000-record result file is
            # written in seconds. Re-running this after a crash rewrites the same values.
            res.save_in_batches(changed)
            root_row.refresh_from_db()
            new_id = root_row.new_id or self._find_root_copy(root_row, key_field)
            if not new_id:
                unfinished = [r for r in self.tree_rows(root_id) if r.status in (S.PENDING, S.SENDING)]
                for row in unfinished:
                    res.fail(row, status, f"The Vault deep copy job ended with {status}.")
                res.save_in_batches(unfinished)
                st["phase"] = "done"
                self.save_state()
                return
            st.update(phase="discover", new_id=new_id)
            self.save_state()
        if st.get("phase") == "discover":
            # Without the job's id (its start answer was lost) the copy may still be growing: match
            # again until every record is found or the wait is over.
            if not st.get("remote_job_id"):
                deadline = time.monotonic() + _lost_start_wait()
                while self._match_hierarchy(root_id, st["new_id"], final=False) and time.monotonic() < deadline:
                    self.heartbeat_no_cancel()
                    time.sleep(settings.VAULT_JOB_POLL_SECONDS)
            self._match_hierarchy(root_id, st["new_id"], final=True)
            st["phase"] = "done"
            self.save_state()
        self.heartbeat()

    def tree_rows(self, root_id: str, *, snapshots: bool = False) -> list[RecordResult]:
        tree = self.job.state.get("trees", {}).get(root_id)
        qs = self.job.results.all() if snapshots else self.job.results.defer("source_snapshot")
        if tree is not None:
            qs = qs.filter(pk__in=tree)
        return list(qs.order_by("depth", "id"))

    def _find_root_copy(self, root_row: RecordResult, key_field: str) -> str:
        """The top copy of a deep copy: by its copy key, or, where the object has no key field, by the
        unique values the overrides gave it (e.g. name__v) — only when exactly one record matches."""
        conn = self.connector
        if key_field:
            found = conn.find(root_row.object_name, {key_field: root_row.idempotency_key})
            return found[0].id if found else ""
        infos = {f.name: f for f in self.describe(root_row.object_name)}
        overrides = self.overrides_for(root_row.source_id)
        equals = {
            k: str(v) for k, v in overrides.items()
            if k in infos and infos[k].unique and isinstance(v, str | int) and not isinstance(v, bool) and str(v)
        }
        if not equals:
            return ""
        claimed = self.claimed_ids() - {root_row.new_id}
        found = [r for r in conn.find(root_row.object_name, equals) if r.id != root_row.source_id and r.id not in claimed]
        return found[0].id if len(found) == 1 else ""

    def _poll(self, remote_id: str) -> str:
        while True:
            remote = self.connector.job_status(remote_id)
            if remote.finished:
                return remote.status
            self.heartbeat_no_cancel()
            time.sleep(settings.VAULT_JOB_POLL_SECONDS)

    def heartbeat_no_cancel(self) -> None:
        # A started Vault job can't be stopped; a cancel takes effect once it has finished.
        try:
            self.heartbeat()
        except Cancelled:
            pass

    def _await_root_copy(self, root_row: RecordResult, key_field: str) -> str:
        """The copy a lost start made, or "" once the wait is over and a search found none.

        A search that fails (Vault busy) is not "none": it is tried again, and re-raised at the
        end, so an unanswered search never leads to starting a second deep copy."""
        deadline = time.monotonic() + _lost_start_wait()
        while True:
            try:
                new_id, error = self._find_root_copy(root_row, key_field), None
            except (Unavailable, RateLimited) as exc:
                new_id, error = "", exc
            if new_id:
                return new_id
            if time.monotonic() >= deadline:
                if error is not None:
                    raise error
                return ""
            self.heartbeat_no_cancel()
            time.sleep(settings.VAULT_JOB_POLL_SECONDS)

    def _match_hierarchy(self, root_id: str, new_root_id: str, *, final: bool = True) -> int:
        """Give each tree row without a new id the copy found under its copied parent (same values).

        Returns how many rows are still without a copy; `final` marks those failed."""
        conn = self.connector
        rows = self.tree_rows(root_id)
        root_row = rows[0]
        if root_row.status != S.SUCCEEDED:
            res.succeed(root_row, new_root_id, conn.record_url(root_row.object_name, new_root_id))
            res.save([root_row])
        missing = [r for r in rows if r.status in (S.PENDING, S.SENDING)]
        if not missing:
            return 0
        id_map = {r.source_id: r.new_id for r in rows if r.new_id}
        claimed = self.claimed_ids()
        level = {root_row.object_name: [root_id]}
        by_key = {(r.object_name, r.source_id): r for r in rows}
        while level:
            next_level: dict[str, list[str]] = {}
            for parent_object, source_parents in level.items():
                for related in [r for r in conn.related_lists(parent_object) if r.deep_copy]:
                    new_parents = [id_map[s] for s in source_parents if s in id_map]
                    sources = list(conn.children(related, source_parents))
                    copies = [c for c in conn.children(related, new_parents) if c.id not in claimed] if new_parents else []
                    skip = self._signature_skip(related.child_object, related.parent_field)
                    for src in sources:
                        row = by_key.get((related.child_object, src.id))
                        if row is None:
                            continue
                        next_level.setdefault(related.child_object, []).append(src.id)
                        if row.new_id:
                            continue
                        new_parent = id_map.get(ref_id(src.fields.get(related.parent_field)))
                        sig = _signature(src.fields, skip)
                        match = next(
                            (c for c in copies if c.id not in claimed
                             and ref_id(c.fields.get(related.parent_field)) == new_parent
                             and _signature(c.fields, skip) == sig),
                            None,
                        )
                        if match:
                            claimed.add(match.id)
                            id_map[src.id] = match.id
                            res.succeed(row, match.id, conn.record_url(row.object_name, match.id))
                            res.save([row])
            level = next_level
        left = [row for row in self.tree_rows(root_id) if row.status in (S.PENDING, S.SENDING)]
        if final:
            for row in left:
                res.fail(row, "NOT_COPIED", "The copy of this record was not found in the new hierarchy.")
                res.save([row])
        return len(left)

    def _signature_skip(self, object_name: str, parent_field: str) -> set[str]:
        skip = {"id", parent_field}
        for f in self.describe(object_name):
            if not f.editable or f.no_copy or f.unique or f.system_managed_name:
                skip.add(f.name)
        return skip

    # -- Zoho deep copy: built by the engine --------------------------------------------------
    def run_engine_deep_copy(self, root_id: str) -> None:
        job, conn = self.job, self.connector
        rows = self.tree_rows(root_id, snapshots=True)
        nodes = _snapshot_nodes(rows)
        if nodes is None:  # planned before snapshots were kept: read the records again
            nodes = read_tree(conn, job.object_name, root_id)
        node_by_key = {(n.object_name, n.source_id): n for n in nodes}
        rows = [r for r in rows if (r.object_name, r.source_id) in node_by_key]
        for row in rows:
            row.source_snapshot = None  # held by the nodes; rows are saved without it
        if all(r.status in (S.SUCCEEDED, S.FAILED, S.SKIPPED) for r in rows):
            return
        root_row = next(r for r in rows if r.depth == 0)
        root_node = node_by_key[(root_row.object_name, root_row.source_id)]

        # The root: the system's clone action, with the overrides (and the copy key).
        if root_row.status in (S.PENDING, S.SENDING):
            key_field = self.key_field(job.object_name)
            overrides = self.overrides_for(root_id)
            if key_field:
                overrides[key_field] = root_row.idempotency_key
            payloads = {root_row.pk: {**_name_values(root_node), **overrides}}
            self.reconcile_leftovers([root_row], payloads=payloads)
            if root_row.status == S.PENDING:
                self.heartbeat()
                self.send(
                    [root_row],
                    lambda b: conn.clone(job.object_name, [CloneRequest(root_id, overrides)]),
                    payloads=payloads,
                )

        # Then each wave: records whose lookups point only at records of earlier waves.
        for depth in sorted({r.depth for r in rows if r.depth > 0}):
            self.heartbeat()
            id_map = dict(self.job.results.exclude(new_id="").values_list("source_id", "new_id"))
            wave = [r for r in self.tree_rows(root_id) if r.depth == depth and r.status in (S.PENDING, S.SENDING)]
            by_object: dict[str, list[RecordResult]] = {}
            for row in wave:
                by_object.setdefault(row.object_name, []).append(row)
            for object_name, object_rows in by_object.items():
                self._create_children(object_name, object_rows, node_by_key, id_map)
        self.heartbeat()

    def _create_children(self, object_name, rows, node_by_key, id_map) -> None:
        conn = self.connector
        fields = self.describe(object_name)
        key_field = copy_key_field(fields)
        payloads: dict[int, dict] = {}
        parent_fields: dict[int, str] = {}
        ready: list[RecordResult] = []
        for row in rows:
            node = node_by_key[(row.object_name, row.source_id)]
            new_parent = id_map.get(node.parent_source_id)
            if not new_parent:
                res.fail(row, "PARENT_NOT_COPIED", "Its parent record was not copied.")
                res.save([row])
                continue
            payload = build_payload(node, fields, id_map, new_parent)
            if key_field:
                payload[key_field] = row.idempotency_key
            payloads[row.pk] = payload
            parent_fields[row.pk] = node.parent_field
            ready.append(row)
        parent_field = next(iter(parent_fields.values()), "")
        self.reconcile_leftovers(ready, payloads=payloads, parent_field=parent_field)
        ready = [r for r in ready if r.status == S.PENDING]
        size = conn.batch_size
        batches = [ready[i : i + size] for i in range(0, len(ready), size)]
        window = self.parallelism()
        for start in range(0, len(batches), window):
            self.heartbeat()
            group = batches[start : start + window]
            calls = [
                (batch, lambda b: conn.create(object_name, [payloads[r.pk] for r in b])) for batch in group
            ]
            self._send_group(calls, payloads, parent_field)

    def parallelism(self) -> int:
        # Threads only outside a transaction (tests wrap each test in one that threads can't see).
        if connection.in_atomic_block:
            return 1
        return max(1, min(self.job.profile.concurrency, 4))

    def _send_group(self, calls, payloads, parent_field) -> None:
        if len(calls) == 1:
            batch, call = calls[0]
            self.send(batch, call, payloads=payloads, parent_field=parent_field)
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
                    self.reconcile_leftovers(batch, payloads=payloads, parent_field=parent_field)
                    rest = [r for r in batch if r.status == S.PENDING]
                    if rest:
                        self.send(rest, call, payloads=payloads, parent_field=parent_field)
                    continue
                self.complete(batch, outcomes, self.key_field(batch[0].object_name))

    # -- undo ----------------------------------------------------------------------------------
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


def _lost_start_wait() -> float:
    """How long to wait for the copy of a deep copy whose start answer was lost (it may be queued)."""
    return float(getattr(settings, "VAULT_LOST_START_WAIT_SECONDS", 120))


def _threaded(call, batch):
    try:
        return call(batch)
    finally:
        close_old_connections()
        connection.close()


def _snapshot_nodes(rows: list[RecordResult]) -> list[Node] | None:
    """The tree as read when the job was planned, or None when a record still to copy has no
    snapshot. A copied record's snapshot is dropped when its job ends (a retry doesn't send it)."""
    nodes = []
    for row in rows:
        snap = row.source_snapshot
        if not isinstance(snap, dict):
            if row.status != S.SUCCEEDED:
                return None
            snap = {}
        nodes.append(Node(
            row.object_name, row.source_id, row.depth, parent_source_id=row.parent_source_id,
            parent_field=snap.get("parent_field", ""), fields=snap.get("fields") or {},
        ))
    return nodes


def _name_values(node: Node) -> dict[str, Any]:
    from records.copying.reconcile import NAME_FIELDS

    return {k: node.fields[k] for k in NAME_FIELDS if isinstance(node.fields.get(k), str)}


def _signature(values: dict[str, Any], skip: set[str]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in values.items() if k not in skip and not k.startswith("$")))


def build_payload(node: Node, fields: list[FieldInfo], id_map: dict[str, str], new_parent: str) -> dict[str, Any]:
    """An insert payload from a source record: copyable fields only, lookups re-pointed to copies."""
    infos = {f.name: f for f in fields}
    cleared = {f.name for f in unique_fields(fields)[0]}  # unique values stay with the source
    payload: dict[str, Any] = {}
    for name, value in node.fields.items():
        if name == "$se_module" and node.fields.get("What_Id"):
            payload[name] = value  # tells Zoho which module What_Id points into
            continue
        info = infos.get(name)
        if (
            name.startswith("$")
            or name in ZOHO_SYSTEM_FIELDS
            or info is None
            or not info.editable
            or info.no_copy
            or info.type == FieldType.FILE
            or name in cleared
            or value is None
        ):
            continue
        if info.type == FieldType.SUBFORM and isinstance(value, list):
            value = [_subform_row(r) for r in value if isinstance(r, dict)]
        elif isinstance(value, dict) and "id" in value:
            target = id_map.get(str(value["id"]))
            value = {"id": target} if target else {"id": value["id"]}
        elif info.type == FieldType.REFERENCE and isinstance(value, str) and value in id_map:
            value = id_map[value]
        payload[name] = value
    current = node.fields.get(node.parent_field)
    payload[node.parent_field] = {"id": new_parent} if isinstance(current, dict) or current is None else new_parent
    return payload


def _subform_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in SUBFORM_ROW_DROP and not k.startswith("$")}
