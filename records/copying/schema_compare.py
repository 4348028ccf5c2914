"""What of an object won't fit in another profile's schema: one object's fields in the source and
in the target compared, with the copied records' values counted against each difference.

Pure: the describes and the records' values come in, a `SchemaDiff` goes out (schema_diff.py reads
them for every object of a plan). Nothing here names a system's field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from records.connectors.base import FieldInfo, FieldType

# A value of the first kind fits a field of the second without loss.
WIDER = {
    (FieldType.TEXT, FieldType.LONG_TEXT),
    (FieldType.NUMBER, FieldType.DECIMAL),
    (FieldType.PICKLIST, FieldType.MULTI_PICKLIST),
    (FieldType.DATE, FieldType.DATETIME),
}
NOT_COPIED = (FieldType.FILE, FieldType.SUBFORM)


@dataclass
class SchemaDiff:
    """One object's differences; each entry counts the copied records it touches ("records")."""

    object_name: str
    missing_object: bool = False
    missing_fields: list[dict[str, Any]] = field(default_factory=list)  # field, label, records: left out
    missing_values: list[dict[str, Any]] = field(default_factory=list)  # field, value, records: left out
    required_unfilled: list[dict[str, Any]] = field(default_factory=list)  # field, label, records
    shorter: list[dict[str, Any]] = field(default_factory=list)  # field, source_length, target_length, records
    other_type: list[dict[str, Any]] = field(default_factory=list)  # field, source_type, target_type, records

    @property
    def empty(self) -> bool:
        return not (
            self.missing_object
            or self.missing_fields
            or self.missing_values
            or self.required_unfilled
            or self.shorter
            or self.other_type
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def values_of(value: Any) -> list[str]:
    """The picklist values one record holds (a list for multi-value and Vault picklists)."""
    if not filled(value):
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in items if filled(v)]


def copied(info: FieldInfo, skip: Collection[str]) -> bool:
    """Whether a copy carries the field's value: set by people, not by the system, not a file."""
    return (
        info.editable
        and not info.no_copy
        and not info.system_managed_name
        and info.type not in NOT_COPIED
        and info.name not in skip
    )


def compare_object(
    object_name: str,
    source_fields: Sequence[FieldInfo],
    target_fields: Sequence[FieldInfo] | None,
    records: Sequence[Mapping[str, Any]],
    *,
    skip: Collection[str] = (),
) -> SchemaDiff:
    """The differences of `object_name` between the two describes (`target_fields` None: the
    target has no such object), counted over the copied `records` (their source values).
    `skip`: fields no copy carries whatever the schema says (system fields, the copy key, ids
    that differ per org)."""
    diff = SchemaDiff(object_name)
    if target_fields is None:
        diff.missing_object = True
        return diff
    target = {f.name: f for f in target_fields}
    for info in source_fields:
        if not copied(info, skip):
            continue
        held = [r.get(info.name) for r in records if filled(r.get(info.name))]
        other = target.get(info.name)
        if other is None:
            diff.missing_fields.append({"field": info.name, "label": info.label, "records": len(held)})
            continue
        _compare_field(diff, info, other, held)
    diff.required_unfilled = _required_unfilled(source_fields, target_fields, records, skip)
    return diff


def _compare_field(diff: SchemaDiff, info: FieldInfo, other: FieldInfo, held: list[Any]) -> None:
    if info.type != other.type and (info.type, other.type) not in WIDER:
        entry = {"field": info.name, "source_type": info.type, "target_type": other.type, "records": len(held)}
        diff.other_type.append(entry)
        return
    longer = sum(1 for v in held if other.max_length and len(str(v)) > other.max_length)
    # Listed when the target is shorter, or (the source's length unknown) when a value is too long.
    if other.max_length and (longer or (info.max_length or 0) > other.max_length):
        diff.shorter.append(
            {
                "field": info.name,
                "source_length": info.max_length,
                "target_length": other.max_length,
                "records": longer,
            }
        )
    if info.type in FieldType.PICKLISTS and other.picklist_values:
        diff.missing_values.extend(_missing_values(info.name, other.picklist_values, held))


def _missing_values(name: str, allowed: Iterable[str], held: list[Any]) -> list[dict[str, Any]]:
    known = set(allowed)
    counts = Counter(v for value in held for v in dict.fromkeys(values_of(value)) if v not in known)
    return [{"field": name, "value": v, "records": n} for v, n in sorted(counts.items())]


def _required_unfilled(
    source_fields: Sequence[FieldInfo],
    target_fields: Sequence[FieldInfo],
    records: Sequence[Mapping[str, Any]],
    skip: Collection[str],
) -> list[dict[str, Any]]:
    """Required target fields a copy sets, that the source lacks or leaves empty on some records."""
    carried = {f.name for f in source_fields if copied(f, skip)}
    out = []
    for info in target_fields:
        if not info.required or not copied(info, skip):
            continue
        empty = len(records) if info.name not in carried else sum(1 for r in records if not filled(r.get(info.name)))
        if empty:
            out.append({"field": info.name, "label": info.label, "records": empty})
    return out


def report_lines(diff: SchemaDiff) -> list[str]:
    """What a person reads in the preview and the CLI, one line a difference."""
    o = diff.object_name
    if diff.missing_object:
        return [f"{o}: the target has no such object."]
    lines = [
        f"{o}: field {d['field']} ({d['label']}) is not in the target; left out ({_records(d['records'])} hold a value)."
        for d in diff.missing_fields
    ]
    lines += [
        f"{o}: value {d['value']!r} of {d['field']} is not in the target; left out on {_records(d['records'])}."
        for d in diff.missing_values
    ]
    lines += [
        f"{o}: {d['field']} ({d['label']}) is required in the target and empty on {_records(d['records'])}; they will fail."
        for d in diff.required_unfilled
    ]
    lines += [
        f"{o}: {d['field']} holds {d['target_length']} characters in the target (source {d['source_length'] or 'unlimited'});"
        f" {_records(d['records'])} longer would fail."
        for d in diff.shorter
    ]
    lines += [
        f"{o}: {d['field']} is {d['target_type']} in the target, {d['source_type']} in the source;"
        f" {_records(d['records'])} with a value may fail."
        for d in diff.other_type
    ]
    return lines


def _records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"
