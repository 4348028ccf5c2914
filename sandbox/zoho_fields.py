"""The Zoho CRM emulator's Create Custom Fields (`POST /settings/fields?module={module}`), for the
kind of field a client adds to mark its copies: a single-line text field, maybe unique.

Documented: the body is {"fields": [{field_label (mandatory), data_type (mandatory), length, ...}]},
scope ZohoCRM.settings.fields.CREATE (https://www.zoho.com/crm/developer/docs/api/v7/create-custom-field.html).
[UNCONFIRMED] the answer's shape ({"fields": [{code, details: {id}, message, status}]}, 201, as the
other settings writes answer), the error of a label already in use (DUPLICATE_DATA on field_label)
and how Zoho derives the api_name from the label (spaces to underscores, a number added when taken).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.zoho_schema import fld
from sandbox.zoho_state import ApiError, err

if TYPE_CHECKING:
    from sandbox.zoho_schema import Module
    from sandbox.zoho_state import ZohoState

TEXT_MAX_LENGTH = 255  # Single Line fields ("Field Types: Data Types and Length Limits")
LABEL_MAX_LENGTH = 50


def create_fields(state: ZohoState, module: Module, body: Any) -> tuple[int, dict[str, Any]]:
    """Validate each requested field and add the valid ones to `module`; (status, answer)."""
    entries = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ApiError(400, "MANDATORY_NOT_FOUND", "required field not found", api_name="fields")
    results = [_create_one(state, module, entry) for entry in entries]
    ok = all(r["status"] == "success" for r in results)
    return (201 if ok else 400), {"fields": results}


def _create_one(state: ZohoState, module: Module, entry: dict[str, Any]) -> dict[str, Any]:
    label, data_type = entry.get("field_label"), entry.get("data_type")
    if not isinstance(label, str) or not label.strip() or not isinstance(data_type, str):
        return err("MANDATORY_NOT_FOUND", "required field not found", api_name="field_label")
    if len(label) > LABEL_MAX_LENGTH:
        return err("INVALID_DATA", "invalid data", api_name="field_label")
    if data_type != "text":
        return err("INVALID_DATA", "this sandbox creates single-line text fields only", api_name="data_type")
    length = entry.get("length", TEXT_MAX_LENGTH)
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= TEXT_MAX_LENGTH:
        return err("INVALID_DATA", "invalid data", api_name="length")
    unique = entry.get("unique")
    if unique is not None and not isinstance(unique, dict):
        return err("INVALID_DATA", "invalid data", api_name="unique", expected_data_type="jsonobject")
    taken = {f["field_label"].lower() for f in module.fields} | {f["display_label"].lower() for f in module.fields}
    if label.strip().lower() in taken:
        return err("DUPLICATE_DATA", "duplicate data", api_name="field_label")
    field = fld(_api_name(module, label), "text", label=label.strip(), unique=unique is not None, length=length)
    field["id"] = _next_metadata_id(state)
    field["custom_field"] = True
    module.fields.append(field)
    module.by_name[field["api_name"]] = field
    return {"code": "SUCCESS", "details": {"id": field["id"]}, "message": "field created", "status": "success"}


def _next_metadata_id(state: ZohoState) -> str:
    """One above the org's highest metadata id: the process-wide counter restarts for each org
    built, so after a smaller org was built it would hand out an id this org already uses."""
    ids = [int(f["id"]) for m in state.modules.values() for f in m.fields]
    ids += [int(v["id"]) for m in state.modules.values() for f in m.fields for v in f.get("pick_list_values", ())]
    return str(max(ids) + 1)


def _api_name(module: Module, label: str) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "_", label.strip()).strip("_") or "Field"
    name, n = base, 1
    while name in module.by_name:
        name, n = f"{base}{n}", n + 1
    return name
