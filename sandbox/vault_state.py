"""In-memory Vault data: records in plain dicts, unique and reference indexes, writes with checks.

Row checks follow api-notes vault.md §4.1 (create/upsert) and §8.1 (delete).
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sandbox import clock, demo, target_org
from sandbox.vault_schema import PICKLISTS, USER_OBJECT, FieldDef, ObjectDef, build_schema

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BLANK: tuple[object, ...] = (None, "", [])


def now_iso(skew: float = 0.0) -> str:
    """Now as Vault writes a DateTime (§3.2): `2026-12-06T02:03:04.000Z`, UTC. Every value in Vault's
    documentation has `.000` milliseconds, so the emulator keeps whole seconds (cut, not rounded): a
    record created at 02:03:04.9 reads 02:03:04.000, up to a second before the call that made it.
    Whoever compares these times with its own clock must allow that second (and the clock skew)."""
    global _last_stamp
    second = math.floor(clock.timestamp(skew))
    last = _last_stamp
    if last[0] != second:  # formatted once a second: a 500-record create stamps every record
        stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        last = _last_stamp = (second, stamp)
    return last[1]


_last_stamp: tuple[int, str] = (-1, "")


def err(type_: str, message: str) -> dict:
    return {"type": type_, "message": message}


class VaultError(Exception):
    """A request-level error: the whole call fails with `responseStatus: FAILURE` and this type."""

    def __init__(self, type_: str, message: str, **extra):
        super().__init__(message)
        self.type, self.message, self.extra = type_, message, extra


class RowError(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = errors


class VaultState:
    def __init__(self, settings):
        self.settings = settings
        self.lock = threading.RLock()
        self.schema: dict[str, ObjectDef] = build_schema(copy_keys=settings.copy_keys)
        self.picklists = dict(PICKLISTS)
        self.target = getattr(settings, "org", "main") == "target"
        if self.target:
            self.schema, self.picklists = target_org.vault_schema(self.schema, self.picklists)
        self.records: dict[str, dict[str, dict]] = {name: {} for name in self.schema}
        # {id: (user name, e-mail, first, last)}; the API user the profiles log in as, the data loader.
        self.users = target_org.vault_users(demo.VAULT_USERS) if self.target else dict(demo.VAULT_USERS)
        user_id = target_org.vault_user_id if self.target else int
        self.api_user_id: int = user_id(demo.VAULT_USER_ID)
        self.data_user_id: int = user_id(demo.VAULT_DATA_USER_ID)
        # What tests inspect: each create/upsert request's migration-mode headers (api-notes §4.1).
        self.write_modes: list[dict] = []
        self.unique: dict[str, dict[str, dict]] = {
            o.name: {f.name: {} for f in o.fields if f.unique and f.name != "id"} for o in self.schema.values()
        }
        # (child object, field) -> {parent id: {child id: None}}  (ordered, like a set)
        self.refs: dict[tuple[str, str], dict[str, dict]] = {
            (o.name, f.name): {} for o in self.schema.values() for f in o.fields if f.type == "Object"
        }
        self._refs_by_object: dict[str, list[tuple[str, dict]]] = {}
        # Moved by every record written (indexed or unindexed): a query's matching records kept for
        # its later pages (vault.py `_hits`) hold while it stays the same.
        self.written = 0
        self.query_hits: OrderedDict[str, tuple[int, tuple[list[dict], Any]]] = OrderedDict()
        start = target_org.VAULT_COUNTER_START if self.target else 0
        self.counters = {name: start for name in self.schema}
        self.name_counters = {name: 0 for name in self.schema}
        self.deletions: dict[str, list[dict]] = {name: [] for name in self.schema}
        self.sessions: dict[str, dict] = {}
        self.auth_calls: dict[str, list[float]] = {}
        self.jobs: dict[int, object] = {}
        self.next_job_id = 26001
        self.queries: OrderedDict[str, dict] = OrderedDict()
        self.burst_window_start = 0.0
        self.burst_count = 0
        self.poll_times: dict[int, float] = {}
        # Attachment fields' files (VaultFieldFiles): set by the app; a write naming a staging path moves it.
        self.attachment_fields: Any = None
        self._load_demo()

    # -- loading ---------------------------------------------------------------------------
    def _load_demo(self) -> None:
        data = demo.vault_demo_records(giant=getattr(self.settings, "giant_related", 0))
        if self.target:
            data = target_org.vault_records(data)
        ids: dict[str, list[str]] = {}
        parent_objects = {"product__c": "product__v", "formulation__c": "formulation__c"}
        links: list[tuple[dict, int]] = []
        for obj in ("country__v", "product__v", "formulation__c", "packaging__c", "product_contact__c"):
            ids[obj] = []
            for row in data[obj]:
                values = dict(row)
                if "country__c" in values:
                    _, idx = values["country__c"]
                    values["country__c"] = ids["country__v"][idx]
                if "_parent" in values:
                    field, idx = values.pop("_parent")
                    values[field] = ids[parent_objects[field]][idx]
                based_on = values.pop("_based_on", None)
                if "copy_key__c" not in self.schema[obj].by_name:
                    values.pop("copy_key__c", None)  # served without copy-key fields
                # The demo data was loaded by another user than the one the profiles log in as.
                rec = self.insert(obj, values, timestamp=demo.DEMO_TIMESTAMP, created_by=self.data_user_id)
                ids[obj].append(rec["id"])
                if based_on is not None:
                    links.append((rec, based_on))
        for rec, idx in links:  # a reference to a sibling or to itself: both exist only now
            self.update("formulation__c", rec, {"based_on__c": ids["formulation__c"][idx]})
            rec["modified_date__v"] = demo.DEMO_TIMESTAMP
            rec["modified_by__v"] = self.data_user_id

    def to_json(self) -> dict:
        return {"records": self.records, "counters": self.counters, "name_counters": self.name_counters}

    def load_json(self, data: dict) -> None:
        """Replace the records with a saved snapshot (python -m sandbox --state)."""
        with self.lock:
            for obj in self.schema:
                for rid in list(self.records[obj]):
                    self._unindex(obj, self.records[obj].pop(rid))
            for obj, recs in data.get("records", {}).items():
                for rec in recs.values():
                    self.records[obj][rec["id"]] = rec
                    self._index(obj, rec)
            self.counters.update(data.get("counters", {}))
            self.name_counters.update(data.get("name_counters", {}))

    # -- indexes ---------------------------------------------------------------------------
    def _index(self, obj: str, rec: dict) -> None:
        self.written += 1
        for fname, index in self.unique[obj].items():
            v = rec.get(fname)
            if v not in BLANK:
                index[v] = rec["id"]
        for fname, index in self._refs_of(obj):
            if rec.get(fname):
                index.setdefault(rec[fname], {})[rec["id"]] = None

    def _refs_of(self, obj: str) -> list[tuple[str, dict]]:
        """The reference indexes of `obj`'s fields (the schema's every index was scanned per record
        written). `refs` is made once with the state: a schema change adds String fields only."""
        found = self._refs_by_object.get(obj)
        if found is None:
            found = self._refs_by_object[obj] = [(f, index) for (o, f), index in self.refs.items() if o == obj]
        return found

    def _unindex(self, obj: str, rec: dict) -> None:
        self.written += 1
        for fname, index in self.unique[obj].items():
            v = rec.get(fname)
            if v not in BLANK and index.get(v) == rec["id"]:
                del index[v]
        for (child_obj, fname), index in self.refs.items():
            if child_obj == obj and rec.get(fname):
                index.get(rec[fname], {}).pop(rec["id"], None)

    def children_of(self, child_obj: str, field: str, parent_id: str) -> list[str]:
        return list(self.refs[(child_obj, field)].get(parent_id, ()))

    # -- writes ----------------------------------------------------------------------------
    def new_id(self, obj: str) -> str:
        self.counters[obj] += 1
        return f"{self.schema[obj].prefix}{self.counters[obj]:012d}"

    def now_iso(self) -> str:
        """Now on this Vault's clock (the `clock_skew` setting)."""
        return now_iso(self.settings.clock_skew)

    def insert(self, obj: str, values: dict, *, timestamp: str | None = None, created_by: int | None = None) -> dict:
        """Store a new record (no checks) and return it: created and last modified now (or at
        `timestamp`) by `created_by`, the API user unless said otherwise."""
        objdef = self.schema[obj]
        ts = timestamp or self.now_iso()
        rec: dict[str, Any] = dict.fromkeys(objdef.field_names)
        rec.update(values)
        rec["id"] = self.new_id(obj)
        if objdef.system_managed_name:
            self.name_counters[obj] += 1
            rec["name__v"] = f"{objdef.name_prefix}{self.name_counters[obj]:06d}"
        rec["created_date__v"] = rec["modified_date__v"] = ts
        rec["created_by__v"] = rec["modified_by__v"] = created_by or self.api_user_id
        self.records[obj][rec["id"]] = rec
        self._index(obj, rec)
        return rec

    def update(self, obj: str, rec: dict, changes: dict) -> None:
        self._unindex(obj, rec)
        rec.update(changes)
        rec["modified_date__v"] = self.now_iso()
        rec["modified_by__v"] = self.api_user_id
        self._index(obj, rec)

    def delete(self, obj: str, rid: str) -> None:
        rec = self.records[obj].pop(rid)
        self._unindex(obj, rec)
        self.deletions[obj].append({"id": rid, "date_deleted": self.now_iso()[:19] + "Z"})

    def blocking_references(self, obj: str, rid: str, ignore: set | None = None) -> list[str]:
        """Return ids of records whose block-deletion reference points at obj/rid."""
        found = []
        for o in self.schema.values():
            for f in o.fields:
                if f.type == "Object" and f.object == obj and f.relationship_deletion == "block":
                    found += [c for c in self.refs[(o.name, f.name)].get(rid, ()) if not ignore or c not in ignore]
        return found

    # -- row checks ------------------------------------------------------------------------
    def coerce(self, objdef: ObjectDef, f: FieldDef, value):
        """Return the stored form of `value` for field `f`, or raise RowError (INVALID_DATA)."""
        if value in BLANK:
            return None
        if f.type == "String" and isinstance(value, str):  # most values: no checker made for them
            if f.max_length and len(value) > f.max_length:
                raise _invalid(f, value)
            return value
        bad = _invalid(f, value)
        by_type = {
            "Number": lambda: _number(value, bad),
            "Picklist": lambda: _picklist_values(f, value, bad),
            "Date": lambda: _date(value, bad),
            "Attachment": lambda: self._staging_path(f, value),
        }
        if f.type in by_type:
            return by_type[f.type]()
        if f.object == USER_OBJECT:
            return self._user_value(value, bad)
        if f.type == "Object":
            if not isinstance(value, str) or value not in self.records[f.object or ""]:
                raise bad
            return value
        text = str(value) if not isinstance(value, str) else value
        if f.max_length and len(text) > f.max_length:
            raise bad
        return text

    def _staging_path(self, f: FieldDef, value) -> str:
        """Create/Update Object Records: an Attachment field takes a file-staging path (api-notes §4.1)."""
        if self.attachment_fields is None or self.attachment_fields.staged_name(value) is None:
            # [UNCONFIRMED] the error of a path with nothing staged at it.
            raise RowError([err("INVALID_DATA", f"No file on file staging at [{value}] for field [{f.name}]")])
        return str(value)

    def _user_value(self, value, bad: RowError) -> int:
        """A user field's stored form: the user's id as an integer (§3.2); an id string is accepted
        on writes [UNCONFIRMED: Vault's answer to a user id that isn't a number or no user's]."""
        try:
            user_id = int(str(value).strip())
        except ValueError:
            raise bad from None
        if user_id not in self.users:
            raise bad
        return user_id

    def check_row(self, objdef: ObjectDef, values: dict, *, self_id: str | None = None) -> list[dict]:
        """Required and unique checks on the full set of values a record would have."""
        errors = [
            err("PARAMETER_REQUIRED", f"Missing required parameter [{name}]")
            for name in objdef.required_names
            if values.get(name) in BLANK
        ]
        for fname, index in self.unique[objdef.name].items():
            if fname == "name__v" and objdef.system_managed_name and self_id is None:
                continue  # generated on insert
            v = values.get(fname)
            if v not in BLANK and index.get(v, self_id) != self_id:
                errors.append(err("OPERATION_NOT_ALLOWED", f"Another resource already exists with [{fname}={v}]"))
        return errors

    def copy_base(self, objdef: ObjectDef, source: dict, *, honour_no_copy: bool = True) -> dict:
        """The values a copy of `source` starts from: editable fields, minus no_copy ones."""
        get = source.get
        return {
            name: (list(value) if isinstance(value := get(name), list) else value)
            for name in objdef.copied_names(honour_no_copy=honour_no_copy)
        }

    def apply_row(
        self,
        objdef: ObjectDef,
        row: dict,
        *,
        id_param: str | None = None,
        source: dict | None = None,
        honour_no_copy: bool = True,
        version: str = demo.VAULT_API_VERSION,
    ) -> dict:
        """Create, copy or upsert one row; return its per-row result (api-notes §4.1)."""
        row = dict(row)
        result_data: dict[str, Any] = {}
        try:
            existing = self._row_target(objdef, row, id_param, result_data)
            source = self._row_source(objdef, row, source)
            changes = self._row_changes(objdef, row, id_param)
        except RowError as exc:
            return _row_failure(exc.errors, result_data)
        staged = _staged(objdef, changes)
        if existing is not None:
            result = self._update_row(objdef, existing, changes, result_data, version)
        else:
            result = self._insert_row(
                objdef, source, changes, result_data, honour_no_copy=honour_no_copy, version=version
            )
        if staged and result["responseStatus"] != "FAILURE":
            self.attachment_fields.attach(objdef.name, result["data"]["id"], staged)
        return result

    def _row_target(self, objdef: ObjectDef, row: dict, id_param: str | None, result_data: dict) -> dict | None:
        """The record an upsert or update by `id_param` changes (None: the row creates one)."""
        if not id_param:
            return None
        obj = objdef.name
        key = row.get(id_param)
        result_data["id_param_value"] = key
        if key in BLANK:
            raise RowError([err("PARAMETER_REQUIRED", f"Missing required parameter [{id_param}]")])
        if id_param == "id":
            existing = self.records[obj].get(str(key))
            if existing is None:
                raise RowError([err("INVALID_DATA", f"The resource [{key}] does not exist")])
            row.pop("id")
            return existing
        existing_id = self.unique[obj][id_param].get(key)
        return self.records[obj].get(existing_id) if existing_id else None

    def _row_source(self, objdef: ObjectDef, row: dict, source: dict | None) -> dict | None:
        """The record a copy starts from: given, or named by the row's source_record_id."""
        source_id = row.pop("source_record_id", None)
        if source is None and source_id not in BLANK:
            source = self.records[objdef.name].get(source_id)
            if source is None:
                raise RowError([err("INVALID_DATA", f"The resource [{source_id}] does not exist")])
        return source

    def _row_changes(self, objdef: ObjectDef, row: dict, id_param: str | None) -> dict:
        """The row's values in their stored form; every field's error at once."""
        errors, changes = [], {}
        for key, value in row.items():
            f = objdef.get(key)
            if f is None:
                if self.settings.unknown_fields == "reject":
                    errors.append(err("INVALID_DATA", f"Field [{key}] does not exist on object [{objdef.name}]"))
                continue
            if not f.editable:
                if key == id_param:
                    continue
                errors.append(err("INVALID_DATA", f"Field [{key}] is not editable"))
                continue
            try:
                changes[key] = self.coerce(objdef, f, value)
            except RowError as exc:
                errors.extend(exc.errors)
        if errors:
            raise RowError(errors)
        return changes

    def _update_row(self, objdef: ObjectDef, existing: dict, changes: dict, result_data: dict, version: str) -> dict:
        obj = objdef.name
        values = {**existing, **changes}
        errors = self.check_row(objdef, values, self_id=existing["id"])
        if errors:
            return _row_failure(errors, result_data)
        real = {k: v for k, v in changes.items() if existing.get(k) != v}
        result = {"id": existing["id"], "url": self.record_url(obj, existing["id"], version)}
        if not real:
            return {
                "responseStatus": "WARNING",
                "warnings": [
                    {"warning_type": "NO_DATA_CHANGES", "message": "No changes in values - record not updated"}
                ],
                "data": {**result_data, **result},
            }
        self.update(obj, existing, real)
        return {"responseStatus": "SUCCESS", "data": {**result_data, **result, "event": "updated__sys"}}

    def _insert_row(
        self,
        objdef: ObjectDef,
        source: dict | None,
        changes: dict,
        result_data: dict,
        *,
        honour_no_copy: bool,
        version: str,
    ) -> dict:
        obj = objdef.name
        values = self.copy_base(objdef, source, honour_no_copy=honour_no_copy) if source else {}
        values.update(changes)
        errors = self.check_row(objdef, values)
        if errors:
            return _row_failure(errors, result_data)
        rec = self.insert(obj, values)
        return {
            "responseStatus": "SUCCESS",
            "data": {
                **result_data,
                "id": rec["id"],
                "url": self.record_url(obj, rec["id"], version),
                "event": "created__sys",
            },
        }

    @staticmethod
    def record_url(obj: str, rid: str, version: str = demo.VAULT_API_VERSION) -> str:
        return f"/api/{version}/vobjects/{obj}/{rid}"


def _invalid(f: FieldDef, value: Any) -> RowError:
    return RowError([err("INVALID_DATA", f"Invalid value [{value}] for field [{f.name}]")])


def _number(value: Any, bad: RowError) -> int | float:
    if isinstance(value, bool):
        raise bad
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad from None
    return int(number) if number.is_integer() else number


def _date(value: Any, bad: RowError) -> str:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise bad
    return value


def _picklist_values(f: FieldDef, value: Any, bad: RowError) -> list[str]:
    # Value NAMES only (not labels), exact case, active values only; a multi-value field
    # takes a list or a comma-separated string, a single-value field one value.
    values = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
    if any(v not in f.picklist for v in values) or (len(values) > 1 and not f.multi_value):
        raise bad
    return values


def _row_failure(errors: list[dict], data: dict) -> dict:
    result: dict[str, Any] = {"responseStatus": "FAILURE", "errors": errors}
    if data:
        result["data"] = data
    return result


def _staged(objdef: ObjectDef, changes: dict) -> dict:
    """{Attachment field: its staging path} of a row; the record keeps the file's name."""
    staged = {k: v for k, v in changes.items() if (f := objdef.get(k)) is not None and f.type == "Attachment"}
    for key, path in staged.items():
        changes[key] = str(path).rsplit("/", 1)[-1] if path else None
    return staged
