"""Find the copy a write made when its answer was lost (a crash, a timeout, a dropped connection),
before anything is sent again.

With a copy-key field the copy carries the row's idempotency key and is found by it (exact).
Without one, a copy is recognised by what only our copy can have (docs/reliability.md):
- the values it was sent with: its name (for a clone that sends none, the name it inherits from its
  source; none when the payload clears it), its parent, and the payload's other plain values, which
  a candidate must not contradict;
- created at or after the moment its row was marked sending, on the remote's clock (our time plus
  the connector's clock offset), less settings.RECONCILE_CLOCK_MARGIN_SECONDS (Zoho's times have
  whole seconds, the Date header one-second resolution);
- created by the profile's API user;
- not an id the app knows as a source record or as another row's copy, in any job.
Copies that inherit their sources' values (a clone, a create from source) are also told apart by
those: siblings under one parent with names the system makes share one look-up, however many.
Exactly one candidate: claimed. None: the write did not happen; the row is pending (sent again).
More: nothing is claimed or sent; the row needs review (its candidates listed) until a person picks
one or none (copying/review.py). Every rule here only ever narrows: a source record, another job's
copy or a record made before we wrote can never be claimed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from records.connectors.base import Connector, FieldInfo, FieldType, Record
from records.connectors.errors import NotFound, Rejected
from records.copying import results as res
from records.copying.known import known_ids, write_profile_id
from records.copying.reconcile_groups import Lookup, loose_text, prefetch
from records.copying.references import ref_id
from records.models import RecordResult

S = RecordResult.Status
# The payload values a candidate is compared on (beyond the name and the parent): plain values whose
# text the remote keeps as sent. Datetimes (reformatted, zoned) and files are left out.
COMPARED_TYPES = frozenset(
    {
        FieldType.TEXT,
        FieldType.LONG_TEXT,
        FieldType.NUMBER,
        FieldType.DECIMAL,
        FieldType.BOOLEAN,
        FieldType.DATE,
        FieldType.PICKLIST,
        FieldType.REFERENCE,
    }
)
AMBIGUOUS = "AMBIGUOUS_COPY"


@dataclass
class Sent:
    """What a batch of writes sent, for recognising their copies when the answer is lost.

    `payloads`: {row pk: the values sent} (the same dicts the calls read: "make unique" numbers a
    value in place). `inherits`: the copy takes its source's values where the payload sets none (a
    clone action, a create from `source_record_id`); `sources` then holds the source's fields as
    read for the plan (snapshots), else the source is read when its name is needed."""

    payloads: MutableMapping[int, dict[str, Any]] = field(default_factory=dict)
    parent_field: str = ""
    inherits: bool = False
    sources: dict[int, dict[str, Any]] = field(default_factory=dict)


def margin() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.RECONCILE_CLOCK_MARGIN_SECONDS))


def remote_since(connector: Connector, row: RecordResult) -> dt.datetime | None:
    """The earliest creation time (remote clock) a copy of `row`'s last attempt can have. A row
    marked sending before the column existed falls back to its last update (that marking)."""
    sent = row.sending_at or (row.updated if row.status == S.SENDING else None)
    if sent is None:
        return None
    return sent + connector.clock_offset() - margin()


def api_user(connector: Connector) -> str:
    try:
        return connector.api_user_id()
    except NotImplementedError:  # a connector that can't say: the other rules still hold
        return ""


def name_field(connector: Connector, fields: list[FieldInfo]) -> str:
    """The first of the connector's name fields this object has and a copy keeps as sent."""
    infos = {f.name: f for f in fields}
    for name in connector.name_fields:
        info = infos.get(name)
        if info is not None and info.editable and not info.system_managed_name:
            return name
    return ""


def lookup_for(
    connector: Connector,
    row: RecordResult,
    sent: Sent,
    fields: list[FieldInfo],
    user: str,
    *,
    with_source: bool = False,
) -> Lookup:
    """`with_source`: also compare the values a copy inherits from its source. Only to tell several
    candidates apart: a value the system changes on copy must not make a lone copy look foreign.
    An inherited name is the source's name field as read (the snapshot, else the record), not the
    row's display name (a contact's is its full name, not the Last_Name a look-up compares)."""
    payload = sent.payloads.get(row.pk) or {}
    equals: dict[str, str] = {}
    name = name_field(connector, fields)
    if name:
        value = payload[name] if name in payload else _source(connector, row, sent).get(name)
        if isinstance(value, str) and value.strip():  # None: the payload clears it, the copy has none
            equals[name] = value
    parent = ref_id(payload.get(sent.parent_field)) if sent.parent_field else ""
    if parent:
        equals[sent.parent_field] = parent
    skip = {*equals, sent.parent_field, *connector.copy_key_fields}
    compare: dict[str, Any] = {}
    if sent.inherits and with_source:  # the copy keeps its source's plain values
        source = _source(connector, row, sent)
        for info in fields:
            if _kept(info) and info.type != FieldType.REFERENCE and info.name not in skip:
                _put(compare, info, source.get(info.name))
    for info in fields:
        if info.name in payload and info.name not in skip and info.type in COMPARED_TYPES:
            compare.pop(info.name, None)
            _put(compare, info, payload[info.name])
    return Lookup(equals, compare, remote_since(connector, row), user)


def _kept(info: FieldInfo) -> bool:
    return info.editable and not info.no_copy and not info.unique and info.type in COMPARED_TYPES


def _put(compare: dict[str, Any], info: FieldInfo, value: Any) -> None:
    if value is None or isinstance(value, list) or (isinstance(value, str) and not value.strip()):
        return
    compare[info.name] = ref_id(value) if info.type == FieldType.REFERENCE or isinstance(value, dict) else value


def _source(connector: Connector, row: RecordResult, sent: Sent) -> dict[str, Any]:
    """The fields a copy inherits (nothing unless it does): the snapshot, else its source read now."""
    if not sent.inherits:
        return {}
    if sent.sources.get(row.pk) is None:
        try:
            sent.sources[row.pk] = connector.get(row.object_name, row.source_id).fields
        except NotFound:
            sent.sources[row.pk] = {}
    return sent.sources[row.pk]


def candidates(
    connector: Connector,
    row: RecordResult,
    lookup: Lookup,
    *,
    except_rows: Iterable[int],
    found: list[Record] | None = None,
) -> list[Record]:
    """The records that could be a copy by its name, parent, time and user and that no one else
    holds, oldest first. The payload's other values are compared by the caller (`contradicts`).
    `found`: what the remote answered for this look-up, when it was asked with others (`prefetch`)."""
    if not (lookup.equals or lookup.since or lookup.created_by):
        return []  # nothing tells our copy from any other record: never claim blindly
    if found is None:
        found = connector.find(row.object_name, lookup.equals, created_since=lookup.since, created_by=lookup.created_by)
    found = [r for r in found if stamped_ok(r, lookup)]
    known = known_ids((r.id for r in found), org=write_profile_id(row.job_id), except_rows=except_rows)
    found = [r for r in found if r.id not in known and r.id != row.source_id]
    return sorted(found, key=lambda r: (r.created or dt.datetime.min.replace(tzinfo=dt.UTC), r.id))


def stamped_ok(record: Record, lookup: Lookup) -> bool:
    # The connector filters on the remote; checked again here where the answer carries the stamps.
    if lookup.since and record.created and record.created < lookup.since:
        return False
    return not (lookup.created_by and record.created_by and record.created_by != lookup.created_by)


def contradicts(record: Record, compare: dict[str, Any]) -> bool:
    return any(_differs(record.fields, k, v) for k, v in compare.items())


def _differs(fields: dict[str, Any], name: str, sent: Any) -> bool:
    """The candidate holds another value than we sent. An absent or empty value is no
    contradiction (the find may not return the field; a value we may not write is dropped)."""
    have = fields.get(name)
    if have is None or have == "" or have == []:
        return False
    if isinstance(have, dict):
        have = ref_id(have)
    if isinstance(sent, bool) or isinstance(have, bool):
        return str(sent).lower() != str(have).lower()
    if isinstance(sent, int | float) or isinstance(have, int | float):
        try:
            return float(sent) != float(have)
        except (TypeError, ValueError):
            return True
    return loose_text(have) != loose_text(sent)


def by_key(
    connector: Connector,
    row: RecordResult,
    key_field: str,
    *,
    except_rows: Iterable[int],
    found: list[Record] | None = None,
) -> str:
    """The copy carrying `row`'s key (exact), never a record known as a source or another's copy.
    `found`: the records carrying it, when the keys of a batch were asked at once (`_keyed`)."""
    if found is None:
        found = connector.find(row.object_name, {key_field: row.idempotency_key})
    known = known_ids((r.id for r in found), org=write_profile_id(row.job_id), except_rows=except_rows)
    return next((r.id for r in found if r.id not in known and r.id != row.source_id), "")


def is_our_copy(connector: Connector, row: RecordResult, existing_id: str, key_field: str) -> bool:
    """A duplicate answer on the copy key names the copy an earlier attempt of this row made."""
    return bool(key_field) and by_key(connector, row, key_field, except_rows=[row.pk]) == existing_id


def reconcile_rows(
    connector: Connector, rows: list[RecordResult], *, key_field: str, sent: Sent, fields: list[FieldInfo]
) -> None:
    """Resolve SENDING rows: found → succeeded; not found → pending (sent again); more than one
    record could be its copy → needs review (nothing claimed, nothing sent)."""
    pks = [r.pk for r in rows]
    if key_field:
        claimed: set[str] = set()
        keyed = _keyed(connector, rows, key_field)
        for row in rows:
            found = None if keyed is None else keyed.get(row.idempotency_key, [])
            new_id = by_key(connector, row, key_field, except_rows=pks, found=found)
            if new_id and new_id not in claimed:
                claimed.add(new_id)
                claim(connector, row, new_id)
            else:
                row.status = S.PENDING
        res.save(rows)
        return
    user = api_user(connector)
    queries: dict[str, list[tuple[RecordResult, Lookup]]] = {}
    for row in rows:
        lookup = lookup_for(connector, row, sent, fields, user)
        queries.setdefault(lookup.query(), []).append((row, lookup))
    wide = _widen(connector, queries, sent, fields, user)
    asked = prefetch(connector, rows[0].object_name, [group[0][1] for group in queries.values()], wide=wide)
    for query, group in queries.items():
        found = candidates(connector, group[0][0], group[0][1], except_rows=pks, found=asked.get(query))
        small = len(group) <= MAX_FULL_READS
        if query not in wide and sent.inherits and (len(found) > 1 or len(group) > 1) and small:
            # Copies that inherit their sources' values are told apart by them (sources read if need be).
            group = [(row, lookup_for(connector, row, sent, fields, user, with_source=True)) for row, _ in group]
        match_group(connector, group, found, sent)
    res.save(rows)


def _widen(
    connector: Connector,
    queries: dict[str, list[tuple[RecordResult, Lookup]]],
    sent: Sent,
    fields: list[FieldInfo],
    user: str,
) -> dict[str, list[str]]:
    """Siblings that share a look-up and whose sources' values are all in hand (the plan's
    snapshots) are told apart by the values their copies inherit, at any number: their look-ups
    compare those values (`queries` updated in place) and the look-up's answer carries them
    (`prefetch`), so no source and no candidate is read one by one. {query: the fields compared}."""
    wide: dict[str, list[str]] = {}
    for query, group in list(queries.items()):
        if sent.inherits and len(group) > 1 and all(sent.sources.get(row.pk) is not None for row, _ in group):
            group = [(row, lookup_for(connector, row, sent, fields, user, with_source=True)) for row, _ in group]
            queries[query] = group
            wide[query] = list(dict.fromkeys(name for _, lookup in group for name in lookup.compare))
    return wide


def _keyed(connector: Connector, rows: list[RecordResult], key_field: str) -> dict[str, list[Record]] | None:
    """{key: the records carrying it} for a batch's rows, asked at once (find_among); None when the
    list is refused (each row is then asked alone). The keys are ours, compared exactly."""
    keys = [r.idempotency_key for r in rows if r.idempotency_key]
    try:
        found = connector.find_among(rows[0].object_name, key_field, keys)
    except Rejected:
        return None
    out: dict[str, list[Record]] = {}
    for record in found:
        out.setdefault(str(record.fields.get(key_field) or ""), []).append(record)
    return out


# Above this many candidates for one look-up, they are not read one by one to tell them apart.
MAX_FULL_READS = 25


def match_group(  # noqa: C901 - the matching rules of one group read best as one decision, in order
    connector: Connector, group: list[tuple[RecordResult, Lookup]], found: list[Record], sent: Sent
) -> None:
    """Rows that share one look-up (name, parent, time, user) and its candidates. A row's
    candidates are those its other values don't contradict; it takes one only when it is its only
    one and no other row could take it. Rows with none were not written, unless a candidate fits no
    row at all: a copy whose values the system changed (a workflow) or a stranger's, never guessed."""
    if not found:
        for row, _ in group:
            row.status = S.PENDING  # the write did not happen: safe to send again
        return
    fits = _fits(group, found)
    if _ambiguous(group, fits) and len(found) <= MAX_FULL_READS and _partial(found, group):
        found = [_full(connector, r) for r in found]
        fits = _fits(group, found)
    holders = Counter(r.id for f in fits.values() for r in f)  # how many rows each candidate fits
    strays = [r for r in found if r.id not in holders]
    classes: dict[str, list[RecordResult]] = {}
    for row, lookup in group:
        classes.setdefault(json.dumps(lookup.compare, sort_keys=True, default=str), []).append(row)
    for rows in classes.values():
        mine = fits[rows[0].pk]
        shared = any(holders[r.id] > len(rows) for r in mine)
        if not mine and not strays:
            for row in rows:
                row.status = S.PENDING
        elif len(rows) == 1 and len(mine) == 1 and not shared:
            claim(connector, rows[0], mine[0].id)
        elif mine and not shared and len(mine) <= len(rows) and _interchangeable(rows, sent):
            for row, record in zip(rows, mine, strict=False):
                claim(connector, row, record.id)
            for row in rows[len(mine) :]:
                row.status = S.PENDING
        else:
            for row in rows:
                hold_for_review(connector, row, mine or strays)


def find_one(
    connector: Connector, row: RecordResult, *, key_field: str, sent: Sent, fields: list[FieldInfo]
) -> tuple[str, list[Record]]:
    """One row's copy, by the same rules, without touching the row (Vault's deep copy top record,
    whose phases decide what follows): (its id, []) when exactly one record can be it, ("", [])
    when none can, ("", the candidates) when more than one could."""
    if key_field:
        return by_key(connector, row, key_field, except_rows=[row.pk]), []
    lookup = lookup_for(connector, row, sent, fields, api_user(connector))
    found = candidates(connector, row, lookup, except_rows=[row.pk])
    mine = [r for r in found if not contradicts(r, lookup.compare)]
    if len(mine) > 1 and sent.inherits:
        lookup = lookup_for(connector, row, sent, fields, lookup.created_by, with_source=True)
        mine = [r for r in mine if not contradicts(r, lookup.compare)]
    if len(mine) > 1 and len(found) <= MAX_FULL_READS and _partial(found, [(row, lookup)]):
        found = [_full(connector, r) for r in found]
        mine = [r for r in found if not contradicts(r, lookup.compare)]
    if len(mine) == 1:
        return mine[0].id, []
    return "", (mine or found)


def _fits(group: list[tuple[RecordResult, Lookup]], found: list[Record]) -> dict[int, list[Record]]:
    return {row.pk: [r for r in found if not contradicts(r, lookup.compare)] for row, lookup in group}


def _ambiguous(group: list[tuple[RecordResult, Lookup]], fits: dict[int, list[Record]]) -> bool:
    return len(group) > 1 or any(len(f) > 1 for f in fits.values())


def _partial(found: list[Record], group: list[tuple[RecordResult, Lookup]]) -> bool:
    """Some compared value is missing from a candidate as the find returned it."""
    names = {k for _, lookup in group for k in lookup.compare}
    return any(n not in r.fields for r in found for n in names)


def _full(connector: Connector, record: Record) -> Record:
    try:
        full = connector.get(record.object_name, record.id)
    except NotFound:
        return record
    return Record(
        record.id,
        record.object_name,
        {**full.fields, **record.fields},
        record.name,
        record.created,
        record.modified,
        record.created_by,
    )


def _interchangeable(rows: list[RecordResult], sent: Sent) -> bool:
    """Rows whose copies can't differ in any value: each copy's values are all in its payload
    (nothing inherited from a source) and the payloads are equal. Which of such copies a row gets
    changes nothing in the remote system, so they are matched to the rows in order instead of held
    for review: the one sound rule for rows of one batch with the same name and parent."""
    if sent.inherits or len(rows) < 2:
        return False
    first = json.dumps(sent.payloads.get(rows[0].pk) or {}, sort_keys=True, default=str)
    return all(json.dumps(sent.payloads.get(r.pk) or {}, sort_keys=True, default=str) == first for r in rows)


def claim(connector: Connector, row: RecordResult, new_id: str) -> None:
    res.succeed(row, new_id, connector.record_url(row.object_name, new_id))
    row.candidates = None


def hold_for_review(connector: Connector, row: RecordResult, found: list[Record]) -> None:
    """More than one record could be this row's copy: claim none, send nothing, list them."""
    row.status = S.REVIEW
    row.candidates = [candidate_dict(r, connector.record_url(row.object_name, r.id)) for r in found]
    row.error_type = AMBIGUOUS
    row.error_message = (
        f"The answer to this write was lost and {len(found)} records could be its copy. "
        "Pick the copy (or none of them) on the job page or with `job resolve`."
    )


def candidate_dict(record: Record, link: str = "") -> dict[str, str]:
    created = record.created.isoformat() if record.created else ""
    return {"id": record.id, "name": record.name, "created": created, "link": link}


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
