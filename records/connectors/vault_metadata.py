"""Veeva Vault metadata: the object list, each object's fields (with their picklists' values) and
related lists, read once per connector; and the copy-key field, added by an MDL script.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from records.connectors import vault_metadata_parse as vmp
from records.connectors import vault_parse as vp
from records.connectors.at_once import map_at_once
from records.connectors.base import CopyKeyField, FieldInfo, ObjectInfo, RelatedList
from records.connectors.errors import ConnectorError, Rejected
from records.connectors.vault_api import VaultApi

log = logging.getLogger(__name__)

COPY_KEY_LABEL = "Copy Key"
COPY_KEY_LENGTH = 100  # the engine's keys are 29 characters (plan.idempotency_key)


class VaultMetadata:
    """What the Vault holds. Each object's metadata and each picklist's values are read once per
    connector; a picklist that can't be read is asked for again next time."""

    def __init__(self, api: VaultApi) -> None:
        self.api = api
        self._describe: dict[str, tuple[list[FieldInfo], dict[str, Any]]] = {}
        # object name -> its fields (each with the picklist it names) and metadata, as read
        self._raw: dict[str, tuple[list[tuple[FieldInfo, str]], dict[str, Any]]] = {}
        self._picklists: dict[str, tuple[str, ...]] = {}  # picklist name -> active value names
        self._picklist_labels: dict[str, tuple[str, ...]] = {}  # picklist name -> their labels
        self._objects: list[ObjectInfo] | None = None
        self._locks: dict[str, threading.Lock] = {}  # held while an object's metadata (or picklists) is read
        self._locks_lock = threading.Lock()

    def list_objects(self) -> list[ObjectInfo]:
        """The object list, read once per connector (a deep copy's plan names its objects, its
        levels and their costs by it)."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-collection/
        if self._objects is None:
            with self._reading(" object list"):  # one read, however many threads ask at once
                if self._objects is None:
                    self._objects = vmp.objects(self.api.call("GET", "metadata/vobjects"))
        return list(self._objects)

    def object(self, object_name: str) -> tuple[list[FieldInfo], dict[str, Any]]:
        """An object's fields, its picklists' values filled in, and its raw metadata."""
        if object_name in self._describe:
            return self._describe[object_name]
        infos, obj = self._metadata(object_name)
        with self._reading(f"{object_name} picklists"):  # the metadata's lock is not held meanwhile
            if object_name not in self._describe:
                lists = self._picklists_at_once([name for _, name in infos])
                fields = [self._with_picklist_values(info, name, lists) for info, name in infos]
                self._describe[object_name] = fields, obj
        return self._describe[object_name]

    def _metadata(self, object_name: str) -> tuple[list[tuple[FieldInfo, str]], dict[str, Any]]:
        """An object's fields as its metadata lists them (each with the picklist it names, "" for
        none; no values yet) and the raw metadata: one call, all a query, the related lists and
        the run's field names need. The picklists' values are a call each (`object`), read only
        for what shows or checks values: a plan's next query no longer waits for them."""
        if object_name not in self._raw:
            with self._reading(object_name):  # one read per object, however many threads ask at once
                if object_name not in self._raw:
                    self._raw[object_name] = self._read_object(object_name)
        return self._raw[object_name]

    def _reading(self, key: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _read_object(self, object_name: str) -> tuple[list[tuple[FieldInfo, str]], dict[str, Any]]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-metadata/
        obj = vmp.object_metadata(self.api.call("GET", f"metadata/vobjects/{vp.vql_name(object_name)}"))
        infos = [(vmp.field_info(f), f) for f in vmp.raw_fields(obj)]
        return [(info, _picklist_name(info, raw)) for info, raw in infos], obj

    def _picklists_at_once(self, names: list[str]) -> dict[str, tuple[str, ...]]:
        """{picklist: its values} of the fields' picklists, those not read yet read at once (each
        is one independent call), up to the profile's concurrency; the session read first, so the
        pool's threads find it cached."""
        wanted = [n for n in dict.fromkeys(names) if n]
        if len([n for n in wanted if n not in self._picklists]) > 1:
            self.api.session()
        values = map_at_once(self._picklist_values, wanted, workers=self.api.config.concurrency)
        return dict(zip(wanted, values, strict=True))

    def forget(self, object_name: str) -> None:
        """Drop an object's cached metadata, so the next read sees a field just added."""
        self._describe.pop(object_name, None)
        self._raw.pop(object_name, None)

    def describe(self, object_name: str) -> list[FieldInfo]:
        return list(self.object(object_name)[0])

    def fields(self, object_name: str) -> dict[str, FieldInfo]:
        return {f.name: f for f in self.describe(object_name)}

    def listed_fields(self, object_name: str) -> dict[str, FieldInfo]:
        """The object's fields by name as its metadata lists them, without their picklists' values
        (a query's columns): a plan's query of the next level waits for no picklist call."""
        return {info.name: info for info, _ in self._metadata(object_name)[0]}

    def object_info(self, object_name: str) -> ObjectInfo:
        """The object's labels, from its metadata (the call its fields come from), not the object list."""
        return vmp.object_info(self.raw(object_name))

    def raw(self, object_name: str) -> dict[str, Any]:
        """The object's raw metadata (relationships, allow_attachments): one call, no picklists."""
        return self._metadata(object_name)[1]

    def _with_picklist_values(self, info: FieldInfo, name: str, lists: dict[str, tuple[str, ...]]) -> FieldInfo:
        """Fill a Picklist field's allowed value names (and labels) from the picklist it names,
        read once per picklist per connector. Object metadata lists no values."""
        values = lists.get(name, ()) if name else ()
        if not values:
            return info
        return replace(info, picklist_values=values, picklist_labels=self._picklist_labels.get(name, ()))

    def _picklist_values(self, picklist: str) -> tuple[str, ...]:
        """The ACTIVE value names of a picklist, in order; () when they can't be read.

        Retrieve Picklist Values: GET /api/{v}/objects/picklists/{picklist_name} ->
        `picklistValues: [{name, label}]`, active values only. Reference:
        https://limited.veevavault.dev/vault-api/api-reference/25.2/picklists/retrieve-picklist-values/
        A failure here must not fail describe(): the field then has no values and validation of
        its overrides is skipped (Vault itself still refuses a bad value, as a row failure)."""
        if picklist not in self._picklists:
            try:
                body = self.api.call("GET", f"objects/picklists/{vp.vql_name(picklist)}")
            except ConnectorError as exc:  # not cached: a later describe may try again
                log.warning("Could not read Vault picklist %s (%s); its values are not checked", picklist, exc)
                return ()
            values = vmp.picklist_values(body)
            if not values:
                log.warning("Vault picklist %s came back without values; its values are not checked", picklist)
                return ()
            self._picklists[picklist] = values
            # The labels of the same values, for the forms (picklists shown by label).
            self._picklist_labels[picklist] = vmp.picklist_labels(body, values)
        return self._picklists[picklist]

    def related_lists(self, object_name: str) -> list[RelatedList]:
        """Inbound parent-child relationships: from the object's `relationships[]`, or, when it
        lists none, from the Object fields of the other objects that point here (§2.2-2.4)."""
        obj = self.raw(object_name)
        out = vmp.child_lists(obj, object_name)
        if not out and not vmp.lists_relationships(obj):
            out = self._inbound_from_fields(object_name)
        return out

    def _inbound_from_fields(self, object_name: str) -> list[RelatedList]:
        out = []
        for other in self.list_objects():
            try:
                meta = self.raw(other.name)
            except ConnectorError:
                continue
            out.extend(vmp.inbound_lists(meta, other, object_name))
        return out

    # -- the copy-key field (MDL) -----------------------------------------------------------------
    def copy_key_definition(self, object_name: str, name: str) -> CopyKeyField:
        if name in self.fields(object_name):  # NotFound for an unknown object
            raise Rejected(f"{object_name} already has the field {name}.", error_type="ALREADY_EXISTS", field=name)
        statement = vmp.mdl_add_field(object_name, name, label=COPY_KEY_LABEL, max_length=COPY_KEY_LENGTH)
        return CopyKeyField(
            object_name=object_name,
            name=name,
            label=COPY_KEY_LABEL,
            type="String",
            length=COPY_KEY_LENGTH,
            unique=True,
            call=f"POST /api/mdl/execute\n{statement}",
            note="no_copy: Vault's own copies leave it empty; Record Copier sets it on each copy it makes.",
        )

    def add_copy_key(self, object_name: str, name: str) -> str:
        """Execute MDL Script (POST /api/mdl/execute, synchronous; the asynchronous endpoint is
        required only for objects of 10,000+ high-volume records). Needs an Admin with the
        permission to change object configuration; Vault answers otherwise with a FAILURE."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.1/metadata-definition-language-mdl/execute-mdl-script/
        definition = self.copy_key_definition(object_name, name)
        statement = definition.call.split("\n", 1)[1]
        try:
            # The documented request: Content-Type application/json, the script as the raw body.
            _, body = self.api.send(
                "POST",
                "/api/mdl/execute",
                safe=False,
                write=True,
                data=statement.encode(),
                headers={"Content-Type": "application/json"},
            )
            if body is None:
                raise vp.lost(True, "Vault gave an answer to the MDL script that is not JSON.")
            vmp.mdl_outcome(body)
        except ConnectorError as exc:
            return self._after_refused_script(object_name, definition, exc)
        self.forget(object_name)  # describe() reads the new field
        return definition.name

    def _after_refused_script(self, object_name: str, definition: CopyKeyField, exc: ConnectorError) -> str:
        """A refused or lost MDL script: the field if it is there now, else why not."""
        self.forget(object_name)
        if definition.name in self.fields(object_name):
            if isinstance(exc, Rejected):  # a second admin at the same moment
                raise Rejected(
                    f"{object_name} already has the field {definition.name}.",
                    error_type="ALREADY_EXISTS",
                    field=definition.name,
                ) from exc
            return definition.name  # the answer was lost; the script was applied
        if exc.error_type in ("INSUFFICIENT_ACCESS", "OPERATION_NOT_ALLOWED"):
            raise Rejected(
                f"Vault refused to add {definition.name} to {object_name}: {exc.message} The profile's "
                "user needs permission to change object configuration (a Vault Owner or System Admin).",
                error_type=exc.error_type,
            ) from exc
        raise exc


def _picklist_name(info: FieldInfo, raw: dict[str, Any]) -> str:
    """The picklist a Picklist field names (metadata key `picklist`, §2.3) whose values it doesn't
    list already; "" for any other field."""
    name = raw.get("picklist")
    if info.remote_type != "Picklist" or info.picklist_values or not isinstance(name, str):
        return ""
    return name
