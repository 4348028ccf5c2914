"""In-memory records of the Zoho CRM emulator: ids, validation, unique checks and rendering.

Section numbers refer to api-notes zoho.md. Stored records keep lookups as bare ids (What_Id and
Notes' Parent_Id also keep the parent module under "$se_module"); they are rendered into the API's
`{"name", "id"}` shapes on the way out.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sandbox import clock, target_org
from sandbox.zoho_schema import NOT_COPYABLE_TYPES, Module, build_modules

ID_BASE = 5725767000000200000  # §3.1: 19-digit numeric strings
USER = {
    "name": "Sandbox Admin",
    "id": "5725767000000150001",
    "email": "admin@sandbox.zoho.example",
    "profile": "Administrator",
}
# The demo org, as the Organization API describes it (a few of its documented keys; Reference:
# https://www.zoho.com/crm/developer/docs/api/v7/get-org-data.html). Its admin is USER.
ORG = {
    "id": "5725767000000000101",
    "company_name": "Sandbox Demo Org",
    "domain_name": "org57257670",
    "zgid": "57257670",
    "primary_zuid": "57257671",
    "time_zone": "Asia/Kolkata",
    "currency": "US Dollar",
    "currency_symbol": "$",
    "currency_locale": "en_US",
    "iso_code": "USD",
    "country_code": "US",
}
# A second, active user of the demo org: a copy's Owner can be set to someone else.
REP = {"name": "Sandbox Rep", "id": "5725767000000150002", "email": "rep@sandbox.zoho.example"}
# The user who loaded the demo data: another person than the API user (USER, the one the refresh
# token acts for), so "created by the API user" tells the app's own copies from the records that
# were there before.
DATA_USER = {
    "name": "Data Migration",
    "id": "5725767000000150003",
    "email": "data.migration@sandbox.zoho.example",
    "profile": "Administrator",
}
DEMO_TIME = datetime(2024, 1, 15, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
SYSTEM_FIELDS = ("Owner", "Created_By", "Modified_By", "Created_Time", "Modified_Time")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)$")


def _user_ref(user: dict) -> dict:
    """A user as a user lookup renders one: {"name", "id", "email"} (api-notes zoho.md §4.1)."""
    return {"name": user.get("name"), "id": user.get("id"), "email": user.get("email")}


def err(code: str, message: str, **details) -> dict:
    """Return the §10 error object: code, details, message, status."""
    return {"code": code, "details": details, "message": message, "status": "error"}


class ApiError(Exception):
    """A request-level error: one top-level §10 error object, no `data` array."""

    def __init__(self, status: int, code: str, message: str, headers: list | None = None, **details):
        super().__init__(message)
        self.status, self.body, self.headers = status, err(code, message, **details), headers or []


def now_iso(skew: float = 0.0) -> str:
    """ISO-8601 with offset, to the second (§3.3 value formats), in the org's time zone. Zoho keeps
    whole seconds (cut, not rounded): a record created at 02:03:04.9 reads 02:03:04, up to a second
    before the call that made it; whoever compares these times with its own clock must allow that
    second (and the clock skew)."""
    return clock.now(skew).replace(microsecond=0).astimezone(DEMO_TIME.tzinfo).isoformat(timespec="seconds")


def _is_date(raw: Any) -> bool:
    if not isinstance(raw, str) or not _DATE_RE.match(raw):
        return False
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return True


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


# The field types whose value is stored as sent when it passes its check (else INVALID_DATA).
_KEPT_AS_SENT: dict[str, Callable[[Any], bool]] = {
    "email": lambda raw: isinstance(raw, str) and (raw == "" or bool(_EMAIL_RE.match(raw))),
    "integer": lambda raw: isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**9,
    "double": _is_number,
    "currency": _is_number,
    "boolean": lambda raw: isinstance(raw, bool),
    "date": _is_date,
    "datetime": lambda raw: isinstance(raw, str) and bool(_DATETIME_RE.match(raw)),
    "multiselectpicklist": lambda raw: isinstance(raw, list) and all(isinstance(v, str) for v in raw),
    "fileupload": lambda raw: isinstance(raw, list) and all(isinstance(v, dict) for v in raw),
    "imageupload": lambda raw: isinstance(raw, list) and all(isinstance(v, dict) for v in raw),
}


class ZohoState:
    """All records of the demo org. Callers hold `lock` around multi-step operations."""

    def __init__(self, *, copy_keys: bool = True, skew: Callable[[], float] = lambda: 0.0, org: str = "main"):
        self.lock = threading.RLock()
        self.org = org
        self.modules: dict[str, Module] = build_modules(copy_keys=copy_keys)
        # The user the token acts for and the one who loaded the demo data (the target org's: other ids).
        self.api_user, self.data_user = USER, DATA_USER
        users: tuple[dict, ...] = (USER, REP, DATA_USER)
        if org == "target":
            self.modules = target_org.zoho_modules(self.modules)
            self.api_user, self.data_user = target_org.ZOHO_API_USER, target_org.ZOHO_DATA_USER
            users = (self.api_user, self.data_user)
        self.skew = skew  # seconds the org's clock runs ahead of ours (the clock_skew setting)
        self.records: dict[str, dict[str, dict]] = {name: {} for name in self.modules}
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        self._next_id = target_org.ZOHO_ID_BASE if org == "target" else ID_BASE
        self.users = {u["id"]: u for u in users}
        # What the tests can inspect: every write with its `trigger` / `skip_feature_execution` (§3.1, §2).
        self.actions: list[dict] = []
        self.created_at: dict[str, float] = {}  # id -> monotonic time (search index delay)
        # Moved by every write (touched()): a related list's index by parent, built once per
        # generation, answers a list in a lookup, not a scan of the module (100,000 records).
        self.generation = 0
        self._related_index: dict[tuple, tuple[int, dict[str, list[dict]]]] = {}
        # {parent id: {child id: module}}: the notes and subform rows naming a record in Parent_Id,
        # kept on every write that sets or drops one (not rebuilt per generation, as a delete moves
        # the generation): a delete and a record's rows read its own children, not every note and row.
        self._children: dict[str, dict[str, str]] = {}

    @staticmethod
    def user_json(user: dict) -> dict:
        """A user as the Users API renders one (a few of its documented keys; Reference:
        https://www.zoho.com/crm/developer/docs/api/v7/get-users.html)."""
        first, _, last = user["name"].partition(" ")
        admin = user.get("profile") == "Administrator"
        return {
            "id": user["id"],
            "full_name": user["name"],
            "first_name": first,
            "last_name": last,
            "email": user["email"],
            "status": user.get("status", "active"),
            "confirm": True,
            "role": {
                "name": "CEO" if admin else "Manager",
                "id": "5725767000000026005" if admin else "5725767000000026006",
            },
            "profile": {
                "name": user.get("profile", "Standard"),
                "id": "5725767000000026011" if admin else "5725767000000026014",
            },
            "time_zone": "Asia/Kolkata",
            "locale": "en_US",
            "created_time": "2024-01-01T09:00:00+05:30",
            "Modified_Time": "2024-01-01T09:00:00+05:30",
        }

    def org_json(self) -> dict:
        """The demo org as `GET /org` renders it (`{"org": [this]}`); the target org has its own ids."""
        return {
            **ORG,
            **(target_org.ZOHO_ORG_IDS if self.org == "target" else {}),
            "primary_email": USER["email"],
            "employee_count": "2",
            "type": "Production",
            "mc_status": False,
            "gapps_enabled": False,
            "translation_enabled": False,
            "privacy_settings": False,
            "hipaa_compliance_enabled": False,
            "license_details": {
                "paid": True,
                "paid_type": "enterprise",
                "paid_expiry": None,
                "users_license_purchased": 10,
                "trial_type": None,
                "trial_expiry": None,
            },
        }

    # -- saving (python -m sandbox --state) ------------------------------------------------------
    def to_json(self) -> dict:
        return {"records": self.records, "next_id": self._next_id}

    def load_json(self, data: dict) -> None:
        """Replace the records with a saved snapshot; unique indexes are rebuilt from them."""
        with self.lock:
            self._unique.clear()
            self._children.clear()
            self.records = {name: {} for name in self.modules}
            for module, recs in data.get("records", {}).items():
                if module not in self.records:
                    continue  # a module this emulator no longer has
                for rec in recs.values():
                    self.records[module][rec["id"]] = rec
                    self._index(module, rec)
                    self._link(module, rec)
            self._next_id = max(self._next_id, int(data.get("next_id", 0)))

    # -- ids and raw writes ---------------------------------------------------------------------
    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def module(self, name: str) -> Module | None:
        return self.modules.get(name)

    def get(self, module: str, record_id: str) -> dict | None:
        return self.records.get(module, {}).get(str(record_id))

    def find_any(self, record_id: str) -> tuple[str, dict] | tuple[None, None]:
        for name, recs in self.records.items():
            if record_id in recs:
                return name, recs[record_id]
        return None, None

    def now_iso(self) -> str:
        """Now on the org's clock."""
        return now_iso(self.skew())

    def add(self, module: str, values: dict, *, stamp: str | None = None, by: dict | None = None) -> dict:
        """Store a validated record (subform rows under their field) and return it: created and
        last modified now (or at `stamp`) by `by`, the API user unless said otherwise."""
        mod = self.modules[module]
        when = stamp or self.now_iso()
        by = by or self.api_user
        rec = {"id": self.new_id()}
        rec.update(
            {
                "Owner": self.api_user["id"],
                "Created_By": by["id"],
                "Modified_By": by["id"],
                "Created_Time": when,
                "Modified_Time": when,
            }
        )
        subforms = {}
        for key, value in values.items():
            f = mod.by_name.get(key)
            if f is not None and f["data_type"] == "subform":
                subforms[key] = value
            else:
                rec[key] = value
        if module == "Contacts":
            rec["Full_Name"] = " ".join(p for p in (rec.get("First_Name"), rec.get("Last_Name")) if p)
        self.records[module][rec["id"]] = rec
        self.created_at[rec["id"]] = time.monotonic()
        self._index(module, rec)
        self._link(module, rec)
        for key, rows in subforms.items():
            self.replace_rows(mod, key, rec["id"], rows)
        return rec

    def update(self, module: str, rec: dict, values: dict) -> dict:
        mod = self.modules[module]
        self._unindex(module, rec)
        parent = rec.get("Parent_Id")  # a note's may change
        for key, value in values.items():
            f = mod.by_name.get(key)
            if f is not None and f["data_type"] == "subform":
                self.merge_rows(mod, key, rec["id"], value)
            else:
                rec[key] = value
        if module == "Contacts":
            rec["Full_Name"] = " ".join(p for p in (rec.get("First_Name"), rec.get("Last_Name")) if p)
        rec["Modified_Time"] = self.now_iso()
        rec["Modified_By"] = self.api_user["id"]
        self._index(module, rec)
        if rec.get("Parent_Id") != parent:
            self._unlink({**rec, "Parent_Id": parent})
            self._link(module, rec)
        return rec

    def delete(self, module: str, record_id: str) -> None:
        """Delete a record with its subform rows and notes (§8: subform rows go with the record)."""
        rec = self.records[module].pop(record_id)
        self._unindex(module, rec)
        self._unlink(rec)
        for f in self.modules[module].fields:
            if f["data_type"] == "subform":
                for row in self.rows(f, record_id):
                    self._drop(f["associated_module"]["module"], row["id"])
        if module != "Notes":
            for note in self.children(record_id, "Notes"):
                self._drop("Notes", note["id"])

    # -- children by parent: notes and subform rows ----------------------------------------------
    def children(self, parent_id: str, module: str) -> list[dict]:
        """The records of `module` whose Parent_Id is `parent_id`, in the order they were stored."""
        recs = self.records[module]
        kids = self._children.get(parent_id, {})
        # Checked again: a record edited in place (a test's) since it was linked drops out.
        found = (recs.get(i) for i, m in kids.items() if m == module)
        return [r for r in found if r is not None and r.get("Parent_Id") == parent_id]

    def _link(self, module: str, rec: dict) -> None:
        parent = rec.get("Parent_Id")
        if isinstance(parent, str):
            self._children.setdefault(parent, {})[rec["id"]] = module

    def _unlink(self, rec: dict) -> None:
        parent = rec.get("Parent_Id")
        kids = self._children.get(parent) if isinstance(parent, str) else None
        if isinstance(parent, str) and kids is not None:
            kids.pop(rec["id"], None)
            if not kids:
                del self._children[parent]

    def _drop(self, module: str, record_id: str) -> None:
        """Remove a note or a subform row (no unique fields, not in the related lists' generation)."""
        self._unlink(self.records[module].pop(record_id))

    # -- subform rows (§7) ----------------------------------------------------------------------
    def rows(self, subform_field: dict, parent_id: str) -> list[dict]:
        sub = subform_field["associated_module"]["module"]
        return [r for r in self.children(parent_id, sub) if r.get("_field") == subform_field["api_name"]]

    def replace_rows(self, mod: Module, field_name: str, parent_id: str, rows: list[dict]) -> None:
        f = mod.by_name[field_name]
        sub = f["associated_module"]["module"]
        for row in self.rows(f, parent_id):
            self._drop(sub, row["id"])
        for row in rows:
            self._add_row(sub, field_name, parent_id, row)

    def merge_rows(self, mod: Module, field_name: str, parent_id: str, rows: list[dict]) -> None:
        """§7 update: rows with an id are updated (or deleted with `_delete`), others appended, [] clears."""
        f = mod.by_name[field_name]
        sub = f["associated_module"]["module"]
        if not rows:
            return self.replace_rows(mod, field_name, parent_id, [])
        for row in rows:
            row_id = row.get("id")
            existing = self.records[sub].get(row_id) if row_id else None
            if existing is not None and row_id and existing.get("Parent_Id") == parent_id:
                if "_delete" in row:
                    self._drop(sub, row_id)
                else:
                    if row.get("Parent_Id", parent_id) != parent_id:  # moved to another record
                        self._unlink(existing)
                        existing["Parent_Id"] = row["Parent_Id"]
                        self._link(sub, existing)
                    existing.update({k: v for k, v in row.items() if k not in ("id", "_delete")})
            elif "_delete" not in row:
                self._add_row(sub, field_name, parent_id, {k: v for k, v in row.items() if k != "id"})
        return None

    def _add_row(self, sub: str, field_name: str, parent_id: str, row: dict) -> None:
        new = {"id": self.new_id(), **{k: v for k, v in row.items() if k not in ("id", "Parent_Id")}}
        new["Parent_Id"], new["_field"] = parent_id, field_name
        self.records[sub][new["id"]] = new
        self._link(sub, new)

    # -- unique fields (§3.1 "duplicates are checked on every insert") -------------------------
    def unique_fields(self, module: str) -> list[str]:
        return [f["api_name"] for f in self.modules[module].fields if f["unique"]]

    def _index(self, module: str, rec: dict) -> None:
        self.touched()  # added, updated or loaded
        for name in self.unique_fields(module):
            value = rec.get(name)
            if value not in (None, ""):
                self._unique.setdefault((module, name), {})[str(value).lower()] = rec["id"]

    def _unindex(self, module: str, rec: dict) -> None:
        self.touched()  # deleted
        for name in self.unique_fields(module):
            value = rec.get(name)
            if value not in (None, ""):
                index = self._unique.get((module, name), {})
                if index.get(str(value).lower()) == rec["id"]:
                    del index[str(value).lower()]

    def owner_of(self, module: str, name: str, value) -> str | None:
        """Return the id of the record holding `value` in unique field `name`, if any."""
        if value in (None, ""):
            return None
        return self._unique.get((module, name), {}).get(str(value).lower())

    def duplicate_error(self, module: str, values: dict, exclude_id: str | None = None) -> dict | None:
        for name in self.unique_fields(module):
            holder = self.owner_of(module, name, values.get(name))
            if holder is not None and holder != exclude_id:
                # §3.1 duplicate shape: details.api_name + duplicate_record {id, module, Owner}.
                return err(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    api_name=name,
                    duplicate_record={
                        "id": holder,
                        "module": {"api_name": module, "id": self.modules[module].id},
                        "Owner": _user_ref(self.api_user),
                    },
                )
        return None

    def mandatory_error(self, module: str, values: dict) -> dict | None:
        for f in self.modules[module].fields:
            if f["system_mandatory"] and values.get(f["api_name"]) in (None, "", []):
                return err("MANDATORY_NOT_FOUND", "required field not found", api_name=f["api_name"])
        return None

    # -- input validation (§3.1 "Value formats") -----------------------------------------------
    def coerce(self, module: str, data: dict) -> tuple[dict, dict | None]:
        """Turn an input record into stored values; return (values, error or None).

        Unknown, read-only and `$` keys are ignored, as Zoho ignores what it can't write.
        """
        mod = self.modules[module]
        values: dict = {}
        for key, raw in data.items():
            if key == "$se_module" or key.startswith("$") or key == "id":
                continue
            f = mod.by_name.get(key)
            if f is None or f["field_read_only"] or f["read_only"] or key in SYSTEM_FIELDS[1:]:
                continue
            value, error = self._coerce_value(mod, f, raw, data)
            if error:
                return {}, error
            if f["api_name"] in ("What_Id", "Parent_Id") and value is not None:
                values["$se_module"] = value[1]
                value = value[0]
            elif f["api_name"] in ("What_Id", "Parent_Id"):
                values["$se_module"] = None
            values[key] = value
        return values, None

    def _coerce_value(self, mod: Module, f: dict, raw, data: dict):
        name, kind = f["api_name"], f["data_type"]

        def bad():
            return None, err("INVALID_DATA", "invalid data", api_name=name, expected_data_type=kind)

        if raw is None:
            return None, None
        if kind in ("text", "textarea", "phone", "website", "picklist"):
            if not isinstance(raw, str):
                return bad()
            if len(raw) > f["length"]:
                return None, err("INVALID_DATA", "invalid data", api_name=name, maximum_length=f["length"])
            return raw, None
        check = _KEPT_AS_SENT.get(kind)
        if check is not None:
            return (raw, None) if check(raw) else bad()
        if kind == "ownerlookup":
            uid = raw.get("id") if isinstance(raw, dict) else raw
            return (str(uid), None) if str(uid) in self.users else bad()
        if kind == "lookup":
            return self._coerce_lookup(f, raw, data)
        if kind == "subform":
            return self._coerce_rows(f, raw)
        return raw, None

    def _coerce_lookup(self, f: dict, raw, data: dict):
        name = f["api_name"]
        target = f["lookup"]["module"]["api_name"]
        rid = raw.get("id") if isinstance(raw, dict) else raw
        if not isinstance(rid, (str, int)) or isinstance(rid, bool):
            return None, err("INVALID_DATA", "invalid data", api_name=name, expected_data_type="lookup")
        rid = str(rid)
        if target == "se_module":
            # §3.1/§3.4: What_Id names its module in "$se_module"; Notes' Parent_Id in module.api_name
            # (v7) or, v2 style, in "$se_module" too.
            module = data.get("$se_module")
            if isinstance(raw, dict) and isinstance(raw.get("module"), dict):
                module = raw["module"].get("api_name") or module
            if module is None:
                module, _ = self.find_any(rid)
            if module not in self.records or rid not in self.records[module]:
                return None, err("INVALID_DATA", "invalid data", api_name=name, id=rid)
            return (rid, module), None
        if rid not in self.records.get(target, {}):
            # §3.1 [UNCONFIRMED exact code]: a lookup to a missing record is INVALID_DATA with api_name.
            return None, err("INVALID_DATA", "invalid data", api_name=name, id=rid, expected_data_type="lookup")
        return rid, None

    def _coerce_rows(self, f: dict, raw):
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            return None, err("INVALID_DATA", "invalid data", api_name=f["api_name"], expected_data_type="subform")
        sub = self.modules[f["associated_module"]["module"]]
        rows = []
        for row in raw:
            values = {}
            for key, value in row.items():
                if key in ("id", "_delete"):
                    values[key] = value
                    continue
                sf = sub.by_name.get(key)
                if sf is None or sf["read_only"]:
                    continue
                coerced, error = self._coerce_value(sub, sf, value, row)
                if error:
                    return None, error
                values[key] = coerced
            rows.append(values)
        return rows, None

    # -- copying (§2) ---------------------------------------------------------------------------
    def copyable_values(self, module: str, rec: dict) -> dict:
        """Return what a clone carries over: no read-only, external, file/image or `$` values."""
        mod = self.modules[module]
        out: dict[str, Any] = {}
        for f in mod.fields:
            name = f["api_name"]
            if (
                f["read_only"]
                or f["field_read_only"]
                or f["external"]
                or f["data_type"] in NOT_COPYABLE_TYPES
                or name in mod.clone_exclusions
                or name in SYSTEM_FIELDS[1:]
            ):
                continue
            if f["data_type"] == "subform":
                keep = [
                    k for k, sf in self.modules[f["associated_module"]["module"]].by_name.items() if not sf["read_only"]
                ]
                out[name] = [{k: row.get(k) for k in keep} for row in self.rows(f, rec["id"])]
            elif name in rec:
                out[name] = rec[name]
                if name in ("What_Id", "Parent_Id"):
                    out["$se_module"] = rec.get("$se_module")
        return out

    # -- rendering (§4.1, §4.2) -----------------------------------------------------------------
    def display_name(self, module: str | None, record_id: str | None) -> str | None:
        if not module or not record_id:
            return None
        rec = self.get(module, record_id)
        return rec.get(self.modules[module].name_field) if rec else None

    def render_value(self, mod: Module, f: dict, rec: dict, single: bool):
        name, kind = f["api_name"], f["data_type"]
        value = rec.get(name)
        if kind == "subform":
            if not single:
                return None
            sub = self.modules[f["associated_module"]["module"]]
            return [self.render_row(sub, row, rec) for row in self.rows(f, rec["id"])]
        if value is None:
            return None
        if kind == "ownerlookup":
            return _user_ref(self.users.get(value, {"name": None, "id": value, "email": None}))
        if kind == "lookup":
            target = f["lookup"]["module"]["api_name"]
            if target == "se_module":
                target = rec.get("$se_module")
            if self.get(target, value) is None:
                return None  # the parent was deleted
            out = {"name": self.display_name(target, value), "id": value}
            if name == "Parent_Id" and mod.api_name == "Notes":
                out = {"module": {"api_name": target, "id": self.modules[target].id}, **out}
            return out
        return value

    def render_row(self, sub: Module, row: dict, parent: dict) -> dict:
        out = {"id": row["id"]}
        for f in sub.fields:
            if f["api_name"] == "Parent_Id":
                out["Parent_Id"] = {"name": self.display_name(sub.parent_module, parent["id"]), "id": parent["id"]}
            else:
                out[f["api_name"]] = row.get(f["api_name"])
        out.update({"$editable": True, "$approved": True, "$currency_symbol": "$", "$process_flow": False})
        return out

    def render(self, module: str, rec: dict, fields: list[str] | None = None, *, single: bool = False) -> dict:
        """Return the API view of a record: `fields` only (plus id), or everything when None."""
        mod = self.modules[module]
        out = {"id": rec["id"]}
        wanted = mod.fields if fields is None else [mod.by_name[n] for n in fields if n in mod.by_name]
        for f in wanted:
            if f["data_type"] == "subform" and not single:
                continue
            out[f["api_name"]] = self.render_value(mod, f, rec, single)
            if f["api_name"] == "What_Id":
                out["$se_module"] = rec.get("$se_module") if out["What_Id"] else None
        if fields is None:
            out.update(
                {
                    "$approval_state": "approved",
                    "$editable": True,
                    "$currency_symbol": "$",
                    "$process_flow": False,
                    "$locked_for_me": False,
                    "$in_merge": False,
                    "$state": "save",
                    "Tag": [],
                    "Record_Status__s": "Available",
                }
            )
        return out

    # -- related records (§6) -------------------------------------------------------------------
    def touched(self) -> None:
        """A record was written: the related lists' indexes are built again when next read."""
        self.generation += 1

    def related(self, module: str, record_id: str, rl) -> list[dict]:
        key = (module, rl.module, rl.field, rl.link)
        cached = self._related_index.get(key)
        if cached is None or cached[0] != self.generation:
            cached = (self.generation, self._related_by_parent(module, rl))
            self._related_index[key] = cached
        # Checked again: a record edited in place (a test's) since the index was built drops out.
        return [r for r in cached[1].get(record_id, []) if r.get(rl.field) == record_id]

    def by_lookup(self, module: str, field: str) -> dict[str, list[dict]]:
        """{id: the records of `module` whose lookup `field` holds it}, built once per generation."""
        key = ("lookup", module, field)
        cached = self._related_index.get(key)
        if cached is None or cached[0] != self.generation:
            index: dict[str, list[dict]] = {}
            for r in self.records[module].values():
                if isinstance(r.get(field), str):
                    index.setdefault(r[field], []).append(r)
            cached = (self.generation, index)
            self._related_index[key] = cached
        return cached[1]

    def _related_by_parent(self, module: str, rl) -> dict[str, list[dict]]:
        index: dict[str, list[dict]] = {}
        for r in self.records[rl.module].values():
            # "what" (What_Id + $se_module) and "parent" (Notes' Parent_Id) both name the parent module.
            if rl.link != "lookup" and r.get("$se_module") != module:
                continue
            parent = r.get(rl.field)
            if isinstance(parent, str):
                index.setdefault(parent, []).append(r)
        return index
