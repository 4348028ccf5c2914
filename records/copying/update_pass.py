"""A copy into another profile that updates the records it found there (`--existing update`): only
the fields whose values differ are sent, the replaced values kept on the row for undo.

For each row with action "update" (existing.apply_to_rows: its new_id is the record found), the
payload the copy would insert is built as for a create (the run's own builder: same fields, same
references), compared with what the record holds now (one batched read per object,
update_diff.differing) and only the difference is sent, by id (Vault Update Object Records,
500 a call; Zoho Update Records, 100 a call). Updating by id, not upserting: the ids are known, an
update repeats safely and no batch fails whole on one idParam clash [the update endpoints are
documented; Vault's `NO_DATA_CHANGES` warning is success, UNCONFIRMED whether it comes as one].

Exactly once: the row's `previous` (what the record held) and `values` (what is sent) are stored
before the write and never read again from the record; a resumed run with `previous` stored sends
those same values again (an update repeats safely; the record may hold them already).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from records.connectors.base import FieldInfo, FieldType
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import results as res
from records.copying.engine_deep_copy import _snapshot_nodes
from records.copying.lifecycle import Paused
from records.copying.repoint import LaterRefs
from records.copying.run_context import RunContext
from records.copying.tree import Node
from records.copying.update_diff import differing, previous
from records.copying.write import MAX_SEND_ATTEMPTS
from records.masking.apply import unlabelled
from records.models import RecordResult

S = RecordResult.Status
# (node, the target's fields, {source id: copy id}, the new parent, later refs) -> (insert row, why it fails)
Build = Callable[[Node, list[FieldInfo], dict[str, str], str, LaterRefs], tuple[dict[str, Any], str]]
NO_CHANGES = "No changes: the record holds the source's values already."


class UpdatePass:
    def __init__(self, context: RunContext, build: Build | None = None) -> None:
        self.context = context
        self.connector = context.connector
        self.build = build

    def run(self, root_id: str) -> None:
        """Update the tree's rows with action "update"."""
        self.run_rows(self.context.tree_rows(root_id, snapshots=True))

    def run_rows(self, rows: list[RecordResult]) -> None:
        """Update those of `rows` with action "update" (their references re-pointed through `rows`)."""
        todo = [r for r in rows if r.action == RecordResult.Action.UPDATE and r.status in (S.PENDING, S.SENDING)]
        if not todo or self.build is None:  # without the run's builder there is nothing to compare with
            return
        build = self.build
        nodes = {(n.object_name, n.source_id): n for n in _snapshot_nodes(todo) or []}
        id_map = {r.source_id: r.new_id for r in rows if r.new_id and r.status in (S.SUCCEEDED, S.PENDING, S.SENDING)}
        by_object: dict[str, list[RecordResult]] = defaultdict(list)
        for row in todo:
            by_object[row.object_name].append(row)
        for object_name, group in by_object.items():
            size = self.connector.batch_size
            for start in range(0, len(group), size):
                self.context.heartbeat()
                self._update(object_name, group[start : start + size], nodes, id_map, build)

    def _update(
        self,
        object_name: str,
        batch: list[RecordResult],
        nodes: dict[tuple[str, str], Node],
        id_map: dict[str, str],
        build: Build,
    ) -> None:
        fields = self.context.describe(object_name)
        # Subform rows come only with a single record's read (Zoho) and carry their own ids: a
        # re-run compares and updates the record's own fields, never its subforms.
        subforms = {f.name for f in fields if f.type == FieldType.SUBFORM}
        wanted: dict[int, dict[str, Any]] = {}
        for row in batch:
            node = nodes.get((row.object_name, row.source_id))
            payload, why = _payload(build, node, fields, id_map) if node else ({}, "The source record was not read.")
            if why:
                res.fail(row, "UNMATCHED_REFERENCE" if node else "NO_SNAPSHOT", why)
            else:
                payload.update(self._choices(row, node.fields if node else {}))
                wanted[row.pk] = {k: v for k, v in payload.items() if k not in subforms}
        self._decide(object_name, [r for r in batch if r.pk in wanted], wanted)
        res.save(batch, fence=self.context.fence)
        _save_previous(batch)
        sends = [r for r in batch if r.status in (S.PENDING, S.SENDING) and r.values]
        if sends:
            self._send(object_name, sends, wanted)

    def _choices(self, row: RecordResult, source: dict[str, Any]) -> dict[str, Any]:
        """The values the user set as for a create (overrides on the top record, set/clear and
        templates per object), but neither the copy key nor the clearing of unique fields: the
        record is not a new copy, its own key and unique values stay."""
        job = self.context.job
        values: dict[str, Any] = {}
        if row.depth == 0:
            values = {**(job.overrides or {}), **(job.row_overrides or {}).get(row.source_id, {})}
        return self.context.record_values(row.object_name, row.source_id, values, source)

    def _decide(self, object_name: str, rows: list[RecordResult], wanted: dict[int, dict[str, Any]]) -> None:
        """Each row's fields to send and their current values, unless an earlier attempt stored them."""
        fresh = [r for r in rows if r.previous is None]
        names = sorted({k for r in fresh for k in wanted[r.pk] if not k.startswith("$")})
        current = self.connector.field_values(object_name, [r.new_id for r in fresh], names) if fresh else {}
        for row in fresh:
            now = current.get(row.new_id)
            if now is None:
                res.fail(row, "NOT_FOUND", "The record found in the target is gone.")
                continue
            plain = {k: v for k, v in wanted[row.pk].items() if not k.startswith("$")}
            changed = differing(plain, now)
            # The ledger keeps "masked (rule)" for a masked field; _send puts the stand-in back.
            row.previous, row.values = previous(changed, now), self.context.masks.labelled(row.object_name, changed)
            if not changed:
                res.succeed(row, row.new_id, row.link)
                row.error_message = NO_CHANGES

    def _send(self, object_name: str, rows: list[RecordResult], wanted: dict[int, dict[str, Any]]) -> None:
        res.mark_sending(rows, fence=self.context.fence)
        extras = {r.pk: {k: v for k, v in wanted.get(r.pk, {}).items() if k.startswith("$")} for r in rows}
        updates = [{"id": r.new_id, **extras[r.pk], **unlabelled(r.values or {}, wanted.get(r.pk, {}))} for r in rows]
        try:
            outcomes = self.connector.update(object_name, updates)
        except OutcomeUnknown:
            self._again(object_name, rows, wanted)
            return
        except (RateLimited, Unavailable) as exc:
            for row in rows:
                row.status, row.attempts = S.PENDING, max(0, row.attempts - 1)
            res.save(rows, fence=self.context.fence)
            raise Paused(exc) from exc
        except ConnectorError as exc:
            res.fail_all(rows, exc, fence=self.context.fence)
            return
        for row, outcome in zip(rows, outcomes, strict=False):
            if outcome.ok:
                res.succeed(row, row.new_id, row.link)
            else:
                res.fail(row, outcome.error_type or "ERROR", outcome.error_message or "The record was not updated.")
        res.save(rows, fence=self.context.fence)

    def _again(self, object_name: str, rows: list[RecordResult], wanted: dict[int, dict[str, Any]]) -> None:
        """No answer: an update repeats safely, so the same values again, up to the attempts every write has."""
        again = [r for r in rows if r.attempts < MAX_SEND_ATTEMPTS]
        for row in rows:
            if row not in again:
                res.fail(row, "OUTCOME_UNKNOWN", "No answer to the update; resume to send it again.")
        res.save(rows, fence=self.context.fence)
        if again:
            self._send(object_name, again, wanted)


def _payload(build: Build, node: Node, fields: list[FieldInfo], id_map: dict[str, str]) -> tuple[dict[str, Any], str]:
    payload, why = build(node, fields, id_map, id_map.get(node.parent_source_id, ""), {})
    return {k: v for k, v in payload.items() if not k.startswith("_")}, why


def _save_previous(rows: list[RecordResult]) -> None:
    """Stored before the write (results.save keeps `values`; `previous` is this pass's own)."""
    for row in rows:
        if row.previous is not None:
            RecordResult.objects.filter(pk=row.pk, previous__isnull=True).update(previous=row.previous)
