"""References outside a copied tree, found in the target profile by a match key: the record a
product's country or an account's parent account points at is looked up there by its name (or
another unique field, or the one the user named with `--match OBJECT:FIELD`), in batches: one
read per object and batch in the source (the key values) and one in the target (Connector.match_ids,
Vault 1,000 values a VQL IN, Zoho 100 a COQL in), never one call per reference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from records.connectors.base import Connector, FieldInfo, FieldType
from records.connectors.errors import ConnectorError, NotFound
from records.copying.references import ref_id
from records.copying.tree import Node
from records.masking.apply import MaskSet


@dataclass(frozen=True)
class MatchKey:
    object_name: str
    field: str


@dataclass
class Resolution:
    """{object: {source id: target id}} of the references matched, and those that were not:
    {object: [(source id, key value, why)]}."""

    mapped: dict[str, dict[str, str]] = field(default_factory=dict)
    unmatched: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)


def match_key(*, target: Connector, object_name: str, chosen: str = "") -> MatchKey | None:
    """The one rule for the field a record is found by in the target, for the references outside a
    copied tree and for the records a re-run finds there already (copying/existing.py), so a
    `--match OBJECT:FIELD` applies to both: the one chosen, else the object's own name field when
    it is unique (or the system matches by name, Zoho), else the first unique editable text field
    other than the copy key; None when there is none or the target has no such object."""
    if chosen:
        return MatchKey(object_name, chosen)  # check_match_options has checked it against the target
    try:
        fields = target.describe(object_name)
    except NotFound:
        return None  # nothing can match in a target without the object
    by_name = {f.name: f for f in fields}
    for name in target.name_fields:
        info = by_name.get(name)
        if info is not None and _own_name(info) and (info.unique or target.match_by_name):
            return MatchKey(object_name, name)
    for info in fields:
        if info.unique and info.editable and _own_name(info) and info.name not in target.copy_key_fields:
            return MatchKey(object_name, info.name)
    return None


def _own_name(info: FieldInfo) -> bool:
    """A text field that names the record itself: not a lookup that shares a name field's name (Zoho
    Contacts' Account_Name), nor a name the system numbers (Vault FOR-000001 names another record
    in another vault)."""
    return info.type == FieldType.TEXT and not info.system_managed_name


def usable_key(target: Connector, info: FieldInfo) -> bool:
    """A field the user may match an object's records by: unique in the target, or the name field
    of a system that matches by name."""
    return info.unique or (target.match_by_name and info.name in target.name_fields)


def key_choices(*, target: Connector, object_name: str) -> list[tuple[str, str]]:
    """(field, label) of each field `object_name` may be matched by in the target (a select on the
    preview); [] when the target has no such object."""
    try:
        fields = target.describe(object_name)
    except NotFound:
        return []
    # The copy key is left out: unique, but the tool's own, a new value on every copy.
    return [
        (f.name, f.label or f.name) for f in fields if usable_key(target, f) and f.name not in target.copy_key_fields
    ]


def check_match_options(*, target: Connector, match: dict[str, str]) -> None:
    """Refuse a `--match OBJECT:FIELD` whose object or field the target doesn't have, or whose field
    is not unique there (a name field of a system that matches by name is accepted)."""
    for object_name, name in match.items():
        try:
            fields = {f.name: f for f in target.describe(object_name)}
        except NotFound as exc:
            raise ValidationError(f"--match {object_name}:{name}: the target has no object {object_name}.") from exc
        info = fields.get(name)
        if info is None:
            raise ValidationError(f"--match {object_name}:{name}: {object_name} has no field {name} in the target.")
        if not usable_key(target, info):
            raise ValidationError(
                f"--match {object_name}:{name}: {name} is not unique in the target, so a value could match "
                "several records."
            )


def outside_references(*, source: Connector, trees: dict[str, list[Node]]) -> dict[str, set[str]]:
    """{object: source ids} of the records the trees' references point at that are not in the trees
    themselves (users included, under the source's user object), parent fields aside."""
    inside = {n.source_id for nodes in trees.values() for n in nodes}
    out: dict[str, set[str]] = {}
    described: dict[str, dict[str, FieldInfo]] = {}
    for node in (n for nodes in trees.values() for n in nodes):
        if node.object_name not in described:
            described[node.object_name] = {f.name: f for f in source.describe(node.object_name)}
        for info, target_id in _references(source, node, described[node.object_name]):
            if target_id not in inside:
                out.setdefault(source.reference_target(info, node.fields), set()).add(target_id)
    out.pop("", None)
    return out


def _references(source: Connector, node: Node, infos: dict[str, FieldInfo]) -> Iterable[tuple[FieldInfo, str]]:
    for name, value in node.fields.items():
        info = infos.get(name)
        if info is None or info.type != FieldType.REFERENCE or name == node.parent_field:
            continue
        target_id = ref_id(value)
        if target_id:
            yield info, target_id


def resolve(
    *,
    source: Connector,
    target: Connector,
    wanted: dict[str, set[str]],
    keys: dict[str, MatchKey | None],
    masks: MaskSet | None = None,
) -> Resolution:
    """Find each wanted record in the target by its object's key: the key values read in the source
    in batches, then looked up in the target in batches. One hit matches; none or several don't."""
    out = Resolution()
    for object_name, ids in sorted(wanted.items()):
        key = keys.get(object_name)
        ordered = sorted(ids)
        if key is None:
            out.unmatched[object_name] = [(i, "", "no unique field to match it by") for i in ordered]
            continue
        _resolve_object(source, target, key, ordered, out, masks)
    return out


def _resolve_object(
    source: Connector, target: Connector, key: MatchKey, ids: list[str], out: Resolution, masks: MaskSet | None
) -> None:
    values = {i: _text(v.get(key.field)) for i, v in source.field_values(key.object_name, ids, [key.field]).items()}
    if masks is not None:  # a masked key: the record a masked copy made holds the stand-in
        values = masks.key_values(key.object_name, key.field, values)
    try:
        found = target.match_ids(key.object_name, key.field, [v for v in values.values() if v])
    except ConnectorError as exc:
        raise ValidationError(f"Could not look up {key.object_name} in the target: {exc.message}") from exc
    mapped = out.mapped.setdefault(key.object_name, {})
    for source_id in ids:
        value = values.get(source_id, "")
        hits = found.get(value, []) if value else []
        if len(hits) == 1:
            mapped[source_id] = hits[0]
            continue
        why = (
            "not found in the source"
            if source_id not in values
            else f"no {key.field}"
            if not value
            else f"{len(hits)} records in the target have {key.field} {value!r}"
            if hits
            else f"no {key.object_name} with {key.field} {value!r} in the target"
        )
        out.unmatched.setdefault(key.object_name, []).append((source_id, value, why))


def _text(value: object) -> str:
    if isinstance(value, list):  # a Vault picklist or multi-value answer
        value = value[0] if len(value) == 1 else ""
    if isinstance(value, dict):
        value = value.get("name") or ""
    return "" if value is None else str(value)
