"""Zoho CRM metadata: the org's modules, each module's fields and related lists (cached per
connector), and the copy-key field made through Create Custom Fields.

Facts and sources: ../shared/api-notes/zoho.md (section numbers below refer to it).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from records.connectors import zoho_parse as zp
from records.connectors.base import CopyKeyField, FieldInfo, FieldType, ObjectInfo, RelatedList
from records.connectors.errors import AuthFailed, ConnectorError, NotFound, Rejected, Unavailable
from records.connectors.zoho_api import ZohoApi

ACTIVITY_MODULES = frozenset({"Tasks", "Events", "Calls"})
PERSON_MODULES = frozenset({"Contacts", "Leads"})
COPY_KEY_LABEL = "Copy Key"  # Zoho names the field from its label: Copy_Key
COPY_KEY_LENGTH = 100  # the engine's keys are 29 characters (plan.idempotency_key)


class ZohoMetadata:
    """What the org holds. Fields and related lists are read once per module and connector
    (threads of one job share them, hence the lock); the module list once per connector."""

    def __init__(self, api: ZohoApi, *, concurrency: int = 1) -> None:
        self.api = api
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._fields: dict[str, list[FieldInfo]] = {}
        self._related: dict[str, list[RelatedList]] = {}
        self._modules: list[dict[str, Any]] | None = None

    def modules(self) -> list[dict[str, Any]]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/modules-api.html
        if self._modules is None:
            _, body = self.api.call("GET", "settings/modules", safe=True)
            modules = body.get("modules") if isinstance(body, dict) else None
            if not isinstance(modules, list):
                raise Unavailable("Zoho returned an unexpected module list.", error_type="UNEXPECTED_ANSWER")
            self._modules = [m for m in modules if isinstance(m, dict) and isinstance(m.get("api_name"), str)]
        return self._modules

    def list_objects(self) -> list[ObjectInfo]:
        return [_object_info(m) for m in self.modules() if _copyable(m)]

    def describe(self, object_name: str) -> list[FieldInfo]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/field-meta.html
        module = zp.check_name(object_name)
        with self._lock:
            cached = self._fields.get(module)
        if cached is not None:
            return cached
        status, body = self.api.call("GET", "settings/fields", safe=True, params={"module": module})
        raw = body.get("fields") if isinstance(body, dict) else None
        if status == 204 or not isinstance(raw, list):
            raise NotFound(f"Zoho has no field metadata for {module}.", error_type="INVALID_MODULE")
        fields = [f for f in (zp.field_info(r, module) for r in raw if isinstance(r, dict)) if f]
        with self._lock:
            self._fields[module] = fields
        return fields

    def forget(self, module: str) -> None:
        """Drop a module's cached fields, so the next describe() reads them again."""
        with self._lock:
            self._fields.pop(module, None)

    def related_lists(self, object_name: str) -> list[RelatedList]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/related-list-meta.html
        module = zp.check_name(object_name)
        with self._lock:
            cached = self._related.get(module)
        if cached is not None:
            return list(cached)
        _, body = self.api.call("GET", "settings/related_lists", safe=True, params={"module": module})
        raw = body.get("related_lists") if isinstance(body, dict) else None
        entries = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
        self._describe_children(entries)
        out = []
        for entry in entries:
            related = self._related_list(module, entry)
            if related is not None:
                out.append(related)
        with self._lock:
            self._related[module] = out
        return list(out)

    def _describe_children(self, entries: list[dict[str, Any]]) -> None:
        """The fields of the lists' modules, described at once (up to the profile's concurrency;
        the gate in ZohoApi.call still bounds the calls in flight): each list's parent field is
        found among them, and one after another they were a call's latency each."""
        children = {
            str(e["module"]["api_name"])
            for e in entries
            if isinstance(e.get("module"), dict) and isinstance(e["module"].get("api_name"), str)
        }
        with self._lock:
            missing = sorted(c for c in children if c not in self._fields)
        if self.concurrency <= 1 or len(missing) <= 1:
            return  # described one by one as _parent_field asks
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(missing))) as pool:
            list(pool.map(self._describe_if_any, missing))

    def _describe_if_any(self, module: str) -> None:
        try:
            self.describe(module)
        except (NotFound, Rejected):
            pass  # _parent_field says "" for it

    def _related_list(self, module: str, entry: Any) -> RelatedList | None:
        if not isinstance(entry, dict) or not isinstance(entry.get("api_name"), str):
            return None
        child = (entry.get("module") or {}).get("api_name") if isinstance(entry.get("module"), dict) else None
        if not isinstance(child, str) or entry.get("status") not in (None, "visible"):
            return None  # grouped views (Activities_Chronological_View) have no module
        parent_field = ""
        if entry.get("type") in (None, "default"):
            parent_field = self._parent_field(module, child)
        return RelatedList(
            name=entry["api_name"],
            label=str(entry.get("display_label") or entry.get("name") or entry["api_name"]),
            child_object=child,
            parent_field=parent_field,
            # Only lists whose records point back through a lookup can be re-pointed at a copy.
            deep_copy=bool(parent_field),
            parent_object=module,
        )

    def _parent_field(self, parent: str, child: str) -> str:
        """The child's field that points at a `parent` record (§6), or "" when there is none."""
        if child == "Notes":
            return "Parent_Id"  # §3.4: Parent_Id {module:{api_name}, id}
        try:
            fields = self.describe(child)
        except (NotFound, Rejected):
            return ""
        names = {f.name for f in fields}
        if child in ACTIVITY_MODULES:
            if parent in PERSON_MODULES and "Who_Id" in names:
                return "Who_Id"
            if "What_Id" in names and parent not in PERSON_MODULES:
                return "What_Id"  # with $se_module = the parent module
        for f in fields:
            if f.remote_type == "lookup" and f.reference_to == parent and f.editable:
                return f.name
        return ""

    def list_columns(self, module: str, limit: int) -> list[str]:
        """Fields to request when listing: readable, not subform/file (only single GETs return those)."""
        names = ["id"]
        for f in self.describe(module):
            if f.type in (FieldType.SUBFORM, FieldType.FILE) or f.name.startswith("$") or f.name == "id":
                continue
            if f.remote_type in ("multiselectlookup", "multiuserlookup"):
                continue
            names.append(f.name)
        # The name field and who made the record when first, so they survive the cap.
        preferred = zp.MODULE_NAME_FIELD.get(module)
        front = [n for n in (preferred, *zp.STAMP_FIELDS) if n and n in names]
        names = ["id", *front, *(n for n in names[1:] if n not in front)]
        return names[:limit]

    # -- the copy-key field (Create Custom Fields) ----------------------------------------------
    def copy_key_definition(self, object_name: str, name: str) -> CopyKeyField:
        module = zp.check_name(object_name)
        fields = self.describe(module)  # NotFound for an unknown module
        taken = [f for f in fields if f.name == name or f.label == COPY_KEY_LABEL]
        if taken:
            raise Rejected(f"{module} already has the field {taken[0].name}.", error_type="ALREADY_EXISTS", field=name)
        body = zp.custom_text_field(COPY_KEY_LABEL, COPY_KEY_LENGTH)
        return CopyKeyField(
            object_name=module,
            name=name,
            label=COPY_KEY_LABEL,
            type="text (single line)",
            length=COPY_KEY_LENGTH,
            unique=True,
            call=f"POST /crm/{self.api.version}/settings/fields?module={module}\n{json.dumps(body)}",
            note="Zoho names it from its label; unique: “Do not allow duplicate values”.",
        )

    def add_copy_key(self, object_name: str, name: str) -> str:
        """Create Custom Fields, then read the module's fields again for the api_name Zoho gave
        it. Needs an administrator's profile and a token with ZohoCRM.settings.fields.CREATE."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/create-custom-field.html
        definition = self.copy_key_definition(object_name, name)
        module = definition.object_name
        body = zp.custom_text_field(COPY_KEY_LABEL, COPY_KEY_LENGTH)
        try:
            _, answer = self.api.call(
                "POST",
                "settings/fields",
                safe=False,
                write=True,
                results="fields",
                params={"module": module},
                json=body,
            )
            field_id = zp.created_field_id(answer)
        except ConnectorError as exc:
            return self._after_refused_field(module, definition, exc)
        self.forget(module)
        _, raw = self.api.call("GET", "settings/fields", safe=True, params={"module": module})
        created = [f for f in zp.list_in(raw, "fields") if isinstance(f, dict) and str(f.get("id")) == field_id]
        return str(created[0].get("api_name") or definition.name) if created else definition.name

    def _after_refused_field(self, module: str, definition: CopyKeyField, exc: ConnectorError) -> str:
        """A refused or lost Create Custom Fields: the field if it is there now, else why not."""
        self.forget(module)
        there = [f.name for f in self.describe(module) if f.name == definition.name or f.label == COPY_KEY_LABEL]
        if there and isinstance(exc, Rejected):
            raise Rejected(f"{module} already has the field {there[0]}.", error_type="ALREADY_EXISTS") from exc
        if there:
            return there[0]  # the answer was lost; the field was created
        if exc.error_type == "NO_PERMISSION" or (isinstance(exc, AuthFailed) and "SCOPE" in exc.error_type):
            raise Rejected(
                f"Zoho refused to add {definition.name} to {module}: {exc.message}. The profile needs an "
                "administrator's Zoho user and a refresh token with the scope ZohoCRM.settings.fields.CREATE "
                "(or ZohoCRM.settings.ALL).",
                error_type=exc.error_type,
            ) from exc
        raise exc


def _copyable(module: dict[str, Any]) -> bool:
    # §5.1: only api_supported modules work; subform/linking modules aren't copied alone.
    if not module.get("api_supported") or not module.get("creatable"):
        return False
    return module.get("generated_type") not in ("subform", "linking") and module.get("status") in (None, "visible")


def _object_info(module: dict[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        name=module["api_name"],
        label=str(module.get("singular_label") or module["api_name"]),
        label_plural=str(module.get("plural_label") or module["api_name"]),
    )
