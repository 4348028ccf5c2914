"""Undo of a copy that updated records in another profile (`job undo --restore-updated`): each
updated record gets back the values the update replaced (the copy job's row kept them, `previous`).

A field is written back only while it still holds what the update wrote: one changed since by
someone else keeps their value (the row lists it). Writing the same values twice changes nothing,
so a lost answer is simply sent again, and a resumed undo reads the records again first.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from records.connectors.base import Connector
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import results as res
from records.copying.references import ref_id
from records.copying.undo_preview import unrestorable
from records.copying.update_diff import same
from records.copying.write import MAX_SEND_ATTEMPTS
from records.models import RecordResult

S = RecordResult.Status


def restore(connector: Connector, rows: list[RecordResult], *, pause: Any) -> None:
    """Write back the previous values of the undo's restore rows (source_id: the updated record,
    previous: what it held, values: what the update wrote). `pause(rows, exc)` raises Paused."""
    by_object: dict[str, list[RecordResult]] = defaultdict(list)
    for row in rows:
        by_object[row.object_name].append(row)
    for object_name, group in by_object.items():
        for start in range(0, len(group), connector.batch_size):
            _restore_batch(connector, object_name, group[start : start + connector.batch_size], pause)


def _restore_batch(connector: Connector, object_name: str, batch: list[RecordResult], pause: Any) -> None:
    fields = sorted({f for row in batch for f in (row.previous or {})})
    current = connector.field_values(object_name, [r.source_id for r in batch], fields)
    sends: list[tuple[RecordResult, dict[str, Any]]] = []
    for row in batch:
        now = current.get(row.source_id)
        if now is None:
            res.fail(row, "NOT_FOUND", "The updated record is gone: nothing to write back.")
            continue
        back, kept = _back(connector, row, now)
        res.succeed(row, "")
        row.error_message = _kept_words(kept, unrestorable(row))
        if back:
            sends.append((row, back))
    res.save(batch)
    if sends:
        _send(connector, object_name, sends, pause)


def _back(connector: Connector, row: RecordResult, now: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the values to write back, the fields changed again since the update: kept). A field that
    holds its old value already (an earlier attempt whose answer was lost) needs nothing."""
    wrote, back, kept = row.values or {}, {}, []
    masked = set(unrestorable(row))
    for name, old in (row.previous or {}).items():
        if name in masked or same(now.get(name), old):
            continue
        if same(now.get(name), wrote.get(name)):
            back[name] = connector.reference_value(ref_id(old)) if isinstance(old, dict) and "id" in old else old
        else:
            kept.append(name)
    return back, kept


def _kept_words(kept: list[str], masked: list[str]) -> str:
    words = [f"Kept, changed again since the update: {', '.join(kept)}."] if kept else []
    if masked:
        # The update wrote a stand-in the ledger doesn't keep (a label instead): whether the field
        # changed since can't be told, so it is left as it is rather than overwrite someone's edit.
        words.append(f"Not written back: {', '.join(masked)} (masked: the stand-in written is not stored).")
    return " ".join(words)


def _send(connector: Connector, object_name: str, sends: list[tuple[RecordResult, dict[str, Any]]], pause: Any) -> None:
    rows = [r for r, _ in sends]
    res.mark_sending(rows)
    try:
        outcomes = connector.update(object_name, [{"id": r.source_id, **back} for r, back in sends])
    except OutcomeUnknown:
        # An update repeats safely: the same values again.
        again = [(r, b) for r, b in sends if r.attempts < MAX_SEND_ATTEMPTS]
        for row in (r for r, _ in sends if r.attempts >= MAX_SEND_ATTEMPTS):
            res.fail(row, "OUTCOME_UNKNOWN", "No answer to writing the old values back; resume to try again.")
        res.save(rows)
        if again:
            _send(connector, object_name, again, pause)
        return
    except (RateLimited, Unavailable) as exc:
        pause(rows, exc)
        return
    except ConnectorError as exc:
        res.fail_all(rows, exc)
        return
    for row, outcome in zip(rows, outcomes, strict=False):
        if outcome.ok:
            message = row.error_message
            res.succeed(row, "")
            row.error_message = message  # the fields kept, if any
        else:
            res.fail(
                row, outcome.error_type or "ERROR", outcome.error_message or "The old values were not written back."
            )
    res.save(rows)
