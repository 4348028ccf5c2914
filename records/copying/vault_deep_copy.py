"""Vault's own deep copy: one Vault job per top record, its phases as an enum, one method each.

The phase is stored (job.state["roots"][root]) before each step's remote effect, so a resumed run
continues where the last one stopped: it polls a started job instead of starting another, and a
start whose answer was lost waits for the copy to appear before starting again. That copy is found
by the reconcile rules (reconcile.find_one: its key, or its name, creation time, API user and an id
no job knows); when more than one record could be it, the top row needs review and the tree waits
for a person's pick (review.py), which sets the phase to match the hierarchy under the pick.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from django.conf import settings

from records.connectors.base import DeepCopyRow, FieldType, Record, RelatedList, WriteResult
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import results as res
from records.copying import unique
from records.copying.known import known_ids
from records.copying.lifecycle import Paused
from records.copying.reconcile import (
    Sent,
    api_user,
    find_one,
    hold_for_review,
    remote_since,
    stamped_ok,
)
from records.copying.reconcile_groups import Lookup
from records.copying.references import ref_id
from records.copying.run_context import RunContext
from records.copying.vault_jobs import VaultJobPoller
from records.models import RecordResult

S = RecordResult.Status


class Phase(StrEnum):
    START = ""  # not sent yet
    STARTING = "starting"  # the start was sent; no job id stored yet
    POLLING = "polling"  # Vault's job runs; its id is stored
    DISCOVER = "discover"  # the top copy is known; find each child's copy in the new hierarchy
    DONE = "done"


class VaultDeepCopyRun:
    """Vault's own deep copy of each of the job's top records, one Vault job each."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.connector = context.connector
        self.poller = VaultJobPoller(context)

    def run(self) -> None:
        for root in self.context.job.source_ids:
            self._copy_root(str(root))

    def _copy_root(self, root_id: str) -> None:
        job = self.context.job
        st = job.state.setdefault("roots", {}).setdefault(root_id, {})
        root_row = job.results.get(object_name=job.object_name, source_id=root_id, depth=0)
        if st.get("phase") == Phase.DONE or root_row.status == S.REVIEW:
            return  # a top row in review waits for a person's pick: never started again
        steps = {
            Phase.START: self._start,
            Phase.STARTING: self._starting,
            Phase.POLLING: self._poll,
            Phase.DISCOVER: self._discover,
        }
        while (phase := Phase(st.get("phase", ""))) != Phase.DONE:
            steps[phase](root_id, root_row, st)
        self.context.heartbeat()

    def _set_phase(self, st: dict[str, Any], phase: Phase, **values: str) -> None:
        st.update(phase=str(phase), **values)
        self.context.save_state()

    def _starting(self, root_id: str, root_row: RecordResult, st: dict[str, Any]) -> None:
        """Crashed between sending the start and storing its id: the job may still be queued in
        Vault, so wait a while for its top copy to appear before starting another."""
        new_id, found = self._await_root_copy(root_row)
        if found:
            self._hold_root(root_id, root_row, st, found)
        elif new_id:
            self._set_phase(st, Phase.DISCOVER, new_id=new_id)
        else:
            self._start(root_id, root_row, st)

    def _start(self, root_id: str, root_row: RecordResult, st: dict[str, Any]) -> None:
        job, conn = self.context.job, self.connector
        self.context.heartbeat()
        overrides = self._top_values(root_row)
        self._set_phase(st, Phase.STARTING)
        res.mark_sending([root_row])
        try:
            remote_id = conn.start_deep_copy(job.object_name, root_id, overrides)
        except (RateLimited, Unavailable) as exc:
            # Not started (the contract for these): the top row is pending again, the job waits.
            root_row.status = S.PENDING
            res.save([root_row])
            st.clear()
            self.context.save_state()
            raise Paused(exc) from exc
        except OutcomeUnknown:
            new_id, found = self._await_root_copy(root_row)
            if found:
                self._hold_root(root_id, root_row, st, found)
                return
            if not new_id:
                raise
            self._set_phase(st, Phase.DISCOVER, new_id=new_id)
        except ConnectorError as exc:
            res.fail_with(root_row, exc)
            if self._numbered_again(root_id, root_row, exc.error_type, exc.message):
                st.clear()  # refused before it started: start again with the name numbered
                self.context.save_state()
                return
            rows = self.context.tree_rows(root_id)
            for row in rows:
                res.fail_with(row, exc)
            res.save_in_batches(rows)
            self._set_phase(st, Phase.DONE)
        else:
            # Stored before polling: a resumed run polls this job instead of starting another.
            job.remote_job_id = remote_id
            self._set_phase(st, Phase.POLLING, remote_job_id=remote_id)

    def _top_values(self, root_row: RecordResult) -> dict[str, Any]:
        """The top record's values for the deep copy's call (api-notes vault.md §5.1: its body is
        one row of values for the top-level copy), with a name numbered by earlier tries; kept on
        the row before the call, so a resumed run sends the same and the page shows them."""
        previous = root_row.values
        values = self.context.top_overrides(root_row)
        again = unique.numbered_values(previous)
        values.update(again)
        root_row.values = {**(root_row.values or {}), **again, **unique.tries_of(previous)} or None
        res.save([root_row])
        return values

    def _top_was_a_duplicate(self, root_id: str, root_row: RecordResult, items: list[DeepCopyRow]) -> bool:
        """The Vault job failed on the top record, made nothing, and the top name it was given is
        taken, to be made unique: the row is numbered for another deep copy (True).

        Unconfirmed (api-notes vault.md §5.1 and §5.2 say neither): whether a taken top name
        fails the job's top record in its failure file (the most plausible; the sandbox does) or
        the start call itself (handled in _start by the same rule). Nothing is started again
        unless the results say that nothing was made."""
        top = next(
            (i for i in items if (i.object_name, i.source_id) == (root_row.object_name, root_row.source_id)), None
        )
        if root_row.new_id or top is None or top.ok or any(i.ok for i in items):
            return False
        return self._numbered_again(root_id, root_row, top.error_type, top.error_message)

    def _numbered_again(self, root_id: str, root_row: RecordResult, error_type: str, message: str) -> bool:
        """A top record refused as a duplicate of a field to make unique: number it (MakeUnique,
        the same tries as an engine-built copy) and put its tree back to pending (True)."""
        duplicate = self.connector.duplicate_field(WriteResult(ok=False, error_type=error_type, error_message=message))
        payload = dict(root_row.values or {})
        if not duplicate or not unique.MakeUnique(self.context).renumber(root_row, duplicate, payload):
            return False
        rows = [r for r in self.context.tree_rows(root_id) if r.pk != root_row.pk and r.status == S.FAILED]
        for row in rows:
            row.status, row.error_type, row.error_message = S.PENDING, "", ""
        res.save_in_batches([root_row, *rows])
        return True

    def _poll(self, root_id: str, root_row: RecordResult, st: dict[str, Any]) -> None:
        job, conn = self.context.job, self.connector
        status = self.poller.wait(st["remote_job_id"], st)
        rows = {(r.object_name, r.source_id): r for r in self.context.tree_rows(root_id)}
        items = list(conn.deep_copy_results(job.object_name, st["remote_job_id"]))
        # Never mistake a source (of any job) or another row's copy for this job's copy.
        known = known_ids(
            (i.new_id for i in items if i.ok), org=job.write_profile.pk, except_rows=[r.pk for r in rows.values()]
        )
        changed = []
        for item in items:
            row = rows.get((item.object_name, item.source_id))
            if row is None or row.status in (S.SUCCEEDED, S.REVIEW):
                continue
            if item.ok and item.new_id and item.new_id != item.source_id and item.new_id not in known:
                res.succeed(row, item.new_id, conn.record_url(row.object_name, item.new_id))
            elif not item.ok:
                res.fail(row, item.error_type or "ERROR", item.error_message or "Not copied.")
            changed.append(row)
        # One UPDATE per few hundred rows, not one per row: a 10,000-record result file is
        # written in seconds. Re-running this after a crash rewrites the same values.
        res.save_in_batches(changed)
        root_row.refresh_from_db()
        if self._top_was_a_duplicate(root_id, root_row, items):
            st.clear()  # nothing was made: start again with the name numbered
            self.context.save_state()
            return
        new_id, found = root_row.new_id, list[Record]()
        if not new_id:
            new_id, found = self._find_root_copy(root_row)
        if found:
            self._hold_root(root_id, root_row, st, found)
            return
        if not new_id:
            unfinished = [r for r in self.context.tree_rows(root_id) if r.status in (S.PENDING, S.SENDING)]
            for row in unfinished:
                res.fail(row, status, f"The Vault deep copy job ended with {status}.")
            res.save_in_batches(unfinished)
            self._set_phase(st, Phase.DONE)
            return
        self._set_phase(st, Phase.DISCOVER, new_id=new_id)

    def _discover(self, root_id: str, root_row: RecordResult, st: dict[str, Any]) -> None:
        # Without the job's id (its start answer was lost) the copy may still be growing: match
        # again until every record is found or the wait is over.
        if not st.get("remote_job_id"):
            deadline = time.monotonic() + _lost_start_wait()
            while self._match_hierarchy(root_id, st["new_id"], final=False) and time.monotonic() < deadline:
                self.poller.pause()
        self._match_hierarchy(root_id, st["new_id"], final=True)
        self._set_phase(st, Phase.DONE)

    def _find_root_copy(self, root_row: RecordResult) -> tuple[str, list[Record]]:
        """The top copy of a deep copy whose start answer was lost (or whose results didn't name
        it): reconcile.find_one with what the start sent (the overrides; the rest, its name too, is
        inherited from the source). (id, []) found; ("", []) none; ("", candidates) ambiguous."""
        object_name = root_row.object_name
        overrides = self.context.overrides_for(root_row.source_id, fixes=root_row.fixes)
        sent = Sent(payloads={root_row.pk: overrides}, inherits=True)
        return find_one(
            self.connector,
            root_row,
            key_field=self.context.key_field(object_name),
            sent=sent,
            fields=self.context.describe(object_name),
        )

    def _hold_root(self, root_id: str, root_row: RecordResult, st: dict[str, Any], found: list[Record]) -> None:
        """More than one record could be the top copy: nothing is claimed or started again; the
        tree's other rows wait for the pick (a resume after it matches them under the copy)."""
        hold_for_review(self.connector, root_row, found)
        res.save([root_row])
        rest = [
            r for r in self.context.tree_rows(root_id) if r.pk != root_row.pk and r.status in (S.PENDING, S.SENDING)
        ]
        for row in rest:
            res.fail(row, "PARENT_IN_REVIEW", "Its top record's copy needs review; resume after picking it.")
        res.save_in_batches(rest)
        self._set_phase(st, Phase.DONE)

    def _await_root_copy(self, root_row: RecordResult) -> tuple[str, list[Record]]:
        """The copy a lost start made, ("", []) once the wait is over and a search found none, or
        ("", candidates) as soon as more than one record could be it (waiting won't tell them apart).

        A search that fails (Vault busy) is not "none": it is tried again, and re-raised at the
        end, so an unanswered search never leads to starting a second deep copy."""
        deadline = time.monotonic() + _lost_start_wait()
        while True:
            try:
                (new_id, found), error = self._find_root_copy(root_row), None
            except (Unavailable, RateLimited) as exc:
                new_id, found, error = "", [], exc
            if new_id or found:
                return new_id, found
            if time.monotonic() >= deadline:
                if error is not None:
                    raise error
                return "", []
            self.poller.pause()

    def _match_hierarchy(  # noqa: C901 - one pass over the tree, each rule a guard against a wrong claim
        self, root_id: str, new_root_id: str, *, final: bool = True
    ) -> int:
        """Give each tree row without a new id the copy found under its copied parent (same values).

        Returns how many rows are still without a copy; `final` marks those failed."""
        conn = self.connector
        rows = self.context.tree_rows(root_id)
        root_row = rows[0]
        if root_row.status != S.SUCCEEDED:
            res.succeed(root_row, new_root_id, conn.record_url(root_row.object_name, new_root_id))
            res.save([root_row])
        missing = [r for r in rows if r.status in (S.PENDING, S.SENDING)]
        if not missing:
            return 0
        id_map = {r.source_id: r.new_id for r in rows if r.new_id}
        # Only records the deep copy made can match: none known as a source or as any row's copy
        # (this job's matches included), none created before the start or by another user.
        claimed: set[str] = set()
        ours = Lookup({}, {}, remote_since(conn, root_row), api_user(conn))
        level = {root_row.object_name: [root_id]}
        by_key = {(r.object_name, r.source_id): r for r in rows}
        while level:
            next_level: dict[str, list[str]] = {}
            for parent_object, source_parents in level.items():
                for related in [r for r in conn.related_lists(parent_object) if r.deep_copy]:
                    new_parents = [id_map[s] for s in source_parents if s in id_map]
                    sources = list(conn.children(related, source_parents))
                    copies = self._copies_under(related, new_parents, ours)
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
                            (
                                c
                                for c in copies
                                if c.id not in claimed
                                and ref_id(c.fields.get(related.parent_field)) == new_parent
                                and _signature(c.fields, skip) == sig
                            ),
                            None,
                        )
                        if match:
                            claimed.add(match.id)
                            id_map[src.id] = match.id
                            res.succeed(row, match.id, conn.record_url(row.object_name, match.id))
                            res.save([row])
            level = next_level
        left = [row for row in self.context.tree_rows(root_id) if row.status in (S.PENDING, S.SENDING)]
        if final:
            for row in left:
                res.fail(row, "NOT_COPIED", "The copy of this record was not found in the new hierarchy.")
                res.save([row])
        return len(left)

    def _copies_under(self, related: RelatedList, new_parents: list[str], ours: Lookup) -> list[Record]:
        if not new_parents:
            return []
        copies = [c for c in self.connector.children(related, new_parents) if stamped_ok(c, ours)]
        known = known_ids((c.id for c in copies), org=self.context.job.write_profile.pk)
        return [c for c in copies if c.id not in known]

    def _signature_skip(self, object_name: str, parent_field: str) -> set[str]:
        skip = {"id", parent_field}
        for f in self.context.describe(object_name):
            # A file field: Vault's own copy leaves it out ([UNCONFIRMED], docs/files-api.md), so
            # a copy never shows its source's file there.
            if not f.editable or f.no_copy or f.unique or f.system_managed_name or f.type == FieldType.FILE:
                skip.add(f.name)
        return skip


def _lost_start_wait() -> float:
    """How long to wait for the copy of a deep copy whose start answer was lost (it may be queued)."""
    return float(settings.VAULT_LOST_START_WAIT_SECONDS)


def _signature(values: dict[str, Any], skip: set[str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in values.items() if k not in skip and not k.startswith("$")))
