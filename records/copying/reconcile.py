"""Find copies whose create answer was lost (crash, timeout, dropped connection) before resending.

With a copy-key field the copy carries its idempotency key and is found by it. Without one, the copy
is looked up by its distinctive values (name + parent lookup), skipping ids this job already claimed.
"""

from __future__ import annotations

from typing import Any

from records.connectors.base import Connector
from records.copying import results as res
from records.copying.plan import ref_id
from records.models import RecordResult

S = RecordResult.Status


def distinctive_values(
    payload: dict[str, Any], parent_field: str = "", name_fields: tuple[str, ...] = ()
) -> dict[str, str]:
    """The values a copy can be recognised by when it carries no key: its name (the first of the
    connector's name_fields it has) and parent lookup."""
    equals = {}
    for name in name_fields:
        if isinstance(payload.get(name), str) and payload[name]:
            equals[name] = payload[name]
            break
    if parent_field and ref_id(payload.get(parent_field)):
        equals[parent_field] = ref_id(payload.get(parent_field))
    return equals


def find_copy(
    connector: Connector,
    row: RecordResult,
    *,
    key_field: str,
    payload: dict[str, Any] | None = None,
    parent_field: str = "",
    claimed: set[str],
) -> str:
    """Return the id of the copy `row` created, or "" when there is none."""
    if key_field:
        found = connector.find(row.object_name, {key_field: row.idempotency_key})
    else:
        equals = distinctive_values(payload or {}, parent_field, connector.name_fields)
        if not equals:
            return ""
        found = connector.find(row.object_name, equals)
    for record in found:
        if record.id not in claimed:
            return record.id
    return ""


def reconcile_rows(
    connector: Connector,
    rows: list[RecordResult],
    *,
    key_field: str,
    payloads: dict[int, dict] | None = None,
    parent_field: str = "",
    claimed: set[str],
) -> None:
    """Resolve SENDING rows: found → succeeded; not found → pending (safe to send again)."""
    for row in rows:
        new_id = find_copy(
            connector,
            row,
            key_field=key_field,
            payload=(payloads or {}).get(row.pk),
            parent_field=parent_field,
            claimed=claimed,
        )
        if new_id:
            res.succeed(row, new_id, connector.record_url(row.object_name, new_id))
            claimed.add(new_id)
        else:
            row.status = S.PENDING
    res.save(rows)


def reconcile_deletes(connector: Connector, rows: list[RecordResult]) -> None:
    """Resolve SENDING delete rows (an undo's lost answer): a record that is gone was deleted;
    otherwise the row is pending again, and the undo checks the record again before deleting it.
    Read in batches (connector.stamps), one object at a time."""
    by_object: dict[str, list[RecordResult]] = {}
    for row in rows:
        by_object.setdefault(row.object_name, []).append(row)
    for object_name, object_rows in by_object.items():
        there = connector.stamps(object_name, [r.source_id for r in object_rows])
        for row in object_rows:
            if row.source_id in there:
                row.status = S.PENDING
            else:
                res.succeed(row, "")
    res.save(rows)
