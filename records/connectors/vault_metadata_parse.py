"""Veeva Vault metadata parsed at the boundary: the object list, an object's fields (as
FieldInfo), picklist values, the relationships a deep copy follows (as RelatedList); and the MDL
script that adds the copy-key field, with how its answer reads. No HTTP here: `vault_metadata.py`
makes these calls.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

from typing import Any

from records.connectors.base import FieldInfo, FieldType, ObjectInfo, RelatedList
from records.connectors.errors import Rejected, Unavailable
from records.connectors.vault_parse import check, first_error, lost, to_int, vql_name

TYPE_MAP = {
    "String": FieldType.TEXT,
    "ID": FieldType.TEXT,
    "LongText": FieldType.LONG_TEXT,
    "RichText": FieldType.LONG_TEXT,
    "Date": FieldType.DATE,
    "DateTime": FieldType.DATETIME,
    "Boolean": FieldType.BOOLEAN,
    "Currency": FieldType.DECIMAL,
    "Percent": FieldType.DECIMAL,
    "Object": FieldType.REFERENCE,
    "Parent": FieldType.REFERENCE,
    "Attachment": FieldType.FILE,
}


def follows_in_deep_copy(relationship: dict[str, Any]) -> bool:
    """Whether Vault's deep copy follows this inbound (child) relationship.

    UNCONFIRMED (api-notes §2.4, §5.1): Vault Help says deep copy follows relationships with
    "hierarchical copy" enabled, but no documented metadata key says which those are. Rule
    chosen here, in one place so it is easy to change: an explicit `hierarchical_copy` flag
    wins when the metadata has one (the sandbox does); otherwise every parent-child relationship
    is assumed to be followed. Reference relationships are never children of a copy.
    """
    flag = relationship.get("hierarchical_copy")
    if isinstance(flag, bool):
        return flag
    return True


def field_info(f: dict[str, Any]) -> FieldInfo:
    remote = str(f.get("type") or "")
    if remote == "Number":
        # Without a scale of 0 the field may hold decimals; a decimal widget accepts both.
        kind = FieldType.NUMBER if f.get("scale") == 0 else FieldType.DECIMAL
    elif remote == "Picklist":
        kind = FieldType.MULTI_PICKLIST if f.get("multi_value") else FieldType.PICKLIST
    else:
        kind = TYPE_MAP.get(remote, FieldType.OTHER)
    target = f.get("object") or ""
    if isinstance(target, dict):
        target = target.get("name") or ""
    values = f.get("picklist_values") or ()
    return FieldInfo(
        name=str(f["name"]),
        label=str(f.get("label") or f["name"]),
        type=kind,
        remote_type=remote,
        required=bool(f.get("required")),
        editable=bool(f.get("editable", True)) and remote != "ID",
        unique=bool(f.get("unique")),
        no_copy=bool(f.get("no_copy")),
        reference_to=str(target) if kind == FieldType.REFERENCE else "",
        picklist_values=tuple(str(v) for v in values) if isinstance(values, list) else (),
        max_length=to_int(f.get("max_length")),
        system_managed_name=bool(f.get("system_managed_name")),
        # Vault's write format for several values is a comma-separated string, and its value names
        # hold neither `;` nor `,`, so both split a Vault value (Zoho's display values may hold commas).
        multi_separators=";,",
        # Number field attributes (api-notes vault.md §2.3: scale, min_value, max_value).
        decimal_places=to_int(f.get("scale")) if remote == "Number" else None,
        min_value=_number(f.get("min_value")) if remote == "Number" else None,
        max_value=_number(f.get("max_value")) if remote == "Number" else None,
    )


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


# -- objects and relationships (§2) --------------------------------------------------------------------------------
def objects(body: dict[str, Any]) -> list[ObjectInfo]:
    out = [object_info(item) for item in body.get("objects") or [] if isinstance(item, dict) and item.get("name")]
    return sorted(out, key=lambda o: o.label.lower())


def object_info(item: dict[str, Any]) -> ObjectInfo:
    """An object's name and labels: an item of the object list, or one object's metadata (both
    give `name`, `label` and `label_plural`)."""
    return ObjectInfo(str(item["name"]), str(item.get("label") or item["name"]), str(item.get("label_plural") or ""))


def object_metadata(body: dict[str, Any]) -> dict[str, Any]:
    obj = body.get("object")
    if not isinstance(obj, dict):
        raise Unavailable("Vault's object metadata has an unexpected shape.", error_type="BAD_RESPONSE")
    return obj


def raw_fields(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in obj.get("fields") or [] if isinstance(f, dict) and f.get("name")]


def picklist_values(body: dict[str, Any]) -> tuple[str, ...]:
    """Retrieve Picklist Values: `picklistValues: [{name, label}]`, active values only."""
    items = body.get("picklistValues")
    if not isinstance(items, list):
        return ()
    return tuple(str(v["name"]) for v in items if isinstance(v, dict) and isinstance(v.get("name"), str) and v["name"])


def picklist_labels(body: dict[str, Any], values: tuple[str, ...]) -> tuple[str, ...]:
    """The labels of `values`, in their order (a value without a label stands for itself)."""
    items = body.get("picklistValues")
    labels = {
        str(v["name"]): str(v.get("label") or v["name"])
        for v in (items if isinstance(items, list) else ())
        if isinstance(v, dict) and isinstance(v.get("name"), str)
    }
    return tuple(labels.get(v, v) for v in values)


def lists_relationships(obj: dict[str, Any]) -> bool:
    """Whether the metadata lists inbound relationships at all (else they are read from fields)."""
    return any(
        isinstance(r, dict) and r.get("relationship_type") in ("child", "reference_inbound")
        for r in obj.get("relationships") or []
    )


def child_lists(obj: dict[str, Any], object_name: str) -> list[RelatedList]:
    """The parent-child relationships in an object's `relationships[]` (§2.2-2.4)."""
    out = []
    for rel in obj.get("relationships") or []:
        if not isinstance(rel, dict) or rel.get("relationship_type") != "child":
            continue
        target = rel.get("object") or {}
        child = target.get("name") if isinstance(target, dict) else str(target)
        if child and rel.get("field") and rel.get("relationship_name"):
            out.append(
                RelatedList(
                    name=rel["relationship_name"],
                    label=str(rel.get("relationship_label") or rel["relationship_name"]),
                    child_object=child,
                    parent_field=rel["field"],
                    deep_copy=follows_in_deep_copy(rel),
                    parent_object=object_name,
                )
            )
    return out


def inbound_lists(meta: dict[str, Any], other: ObjectInfo, object_name: str) -> list[RelatedList]:
    """The relationships to `object_name` that the Object fields of `other` (metadata `meta`) make."""
    out = []
    for f in meta.get("fields") or []:
        target = f.get("object") or {}
        target = target.get("name") if isinstance(target, dict) else target
        if f.get("type") == "Object" and target == object_name and f.get("relationship_type") == "parent":
            name = f.get("relationship_inbound_name") or f"{other.name}.{f['name']}"
            out.append(
                RelatedList(
                    name=name,
                    label=str(f.get("relationship_inbound_label") or other.label_plural or other.label),
                    child_object=other.name,
                    parent_field=f["name"],
                    deep_copy=follows_in_deep_copy(f),
                    parent_object=object_name,
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# MDL (Metadata Definition Language): the copy-key field. Reference:
# https://general.veevavault.dev/vault-api/api-reference/26.1/metadata-definition-language-mdl/execute-mdl-script/
# (POST /api/mdl/execute, the script as the raw body, answered with script_execution and one
# statement_execution per statement) and the ALTER command, whose ADD adds a subcomponent:
# https://general.veevavault.dev/safety/mdl/documentation/mdl-commands/alter.md


def mdl_string(text: str) -> str:
    """An MDL String attribute value: single-quoted (MDL "Attribute Data Types"); a quote or a
    backslash is refused rather than escaped (the documented syntax shows no escape)."""
    if "'" in text or "\\" in text:
        raise Rejected("A label may not contain a quote or a backslash.", error_type="INVALID_NAME")
    return f"'{text}'"


def mdl_add_field(object_name: str, field: str, *, label: str, max_length: int) -> str:
    """`ALTER Object {object} (ADD Field {field} (...));`: a unique, optional text field that
    Vault's own copies (deep copy, create from source_record_id) leave empty (no_copy).
    [UNCONFIRMED] the Field subcomponent's attribute names (label, type, active, required, unique,
    max_length, no_copy, list_column) are those of an object field's metadata (api-notes vault.md
    §2.3); a Vault that refuses one answers FAILURE naming it, and nothing is created."""
    attributes = [
        f"label({mdl_string(label)})",
        "type('String')",
        "active(true)",
        "required(false)",
        "unique(true)",
        f"max_length({int(max_length)})",
        "no_copy(true)",
        "list_column(false)",
    ]
    inner = ",\n      ".join(attributes)
    return f"ALTER Object {vql_name(object_name)} (\n   ADD Field {vql_name(field)} (\n      {inner}\n   )\n);"


def mdl_outcome(body: dict[str, Any]) -> None:
    """Raise the typed error an Execute MDL Script answer carries, if any. Errors of the request
    (a session, a permission) come as the usual `errors`; those of a statement in its
    statement_execution[].errors ({line, message, context, code}, MDL "Errors")."""
    status = body.get("responseStatus")
    if status in ("SUCCESS", "WARNING"):
        return
    if first_error(body) != ("", ""):
        check(body, write=True)
    statements = body.get("statement_execution")
    for statement in statements if isinstance(statements, list) else []:
        errors = statement.get("errors") if isinstance(statement, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = str(errors[0].get("message") or statement.get("message") or "")
            raise Rejected(
                message or "Vault refused the MDL statement.", error_type=str(errors[0].get("code") or "MDL")
            )
    script = body.get("script_execution")
    message = str(script.get("message") or "") if isinstance(script, dict) else ""
    if status == "EXCEPTION" or status is None:
        raise lost(True, f"Vault had an internal error running the MDL script: {message or 'no details'}.")
    raise Rejected(message or "Vault refused the MDL script.", error_type="MDL")
