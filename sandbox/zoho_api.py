"""Endpoint handlers of the Zoho CRM emulator below `/crm/v{n}/`. Section numbers: api-notes zoho.md.

`RecordsApi.route(req, parts)` returns `(status, payload)`; payload None means an empty body.
Request-level errors raise `ApiError`; per-record errors go into `data[]` in input order (§10).
"""

from __future__ import annotations

import base64
import builtins  # RecordsApi has a method called `list`
import json
import time
from datetime import UTC, datetime, timedelta

from sandbox.zoho_fields import create_fields
from sandbox.zoho_query import Coql, QueryError, parse_criteria
from sandbox.zoho_schema import module_meta, related_list_meta
from sandbox.zoho_state import ApiError, err

MAX_WRITE = 100  # §3.1, §3.4, §8
MAX_FIELDS = 50  # §4.1
MAX_PER_PAGE = 200  # §4.1
COQL_MAX_LIMIT = 2000  # §4.4
COQL_MAX_TOTAL = 100_000  # §4.4
# A module this large answers `lookup in (ids)` from an index (a scan of 100,000 tasks per query of
# 100 parents made the sandbox's share of a giant read grow with the square of the records).
COQL_INDEX_FROM = 20_000
PAGE_TOKEN_MAX = 100_000  # §4.1
INVALID_ID = "the id given seems to be invalid"


_api_error = ApiError


class RecordsApi:
    def __init__(self, app):
        self.app = app

    @property
    def state(self):
        return self.app.state

    @property
    def settings(self):
        return self.app.settings

    # -- routing ----------------------------------------------------------------------------------
    def route(self, req, parts: list[str]):
        if parts[0] in ("settings", "coql", "users", "org"):
            return self._route_org(req, parts)
        return self._route_module(req, self._module(parts[0]), parts)

    def _route_org(self, req, parts: list[str]):
        """The org-wide endpoints: metadata, COQL, users, the org."""
        m = req.method
        if parts[0] == "settings" and len(parts) == 2 and m == "GET":
            handler = {"modules": self.modules, "fields": self.fields, "related_lists": self.related_lists}.get(
                parts[1]
            )
            if handler:
                return handler(req)
        if parts == ["settings", "fields"] and m == "POST":
            return self.create_fields(req)
        if parts == ["coql"] and m == "POST":
            return self.coql(req)
        if parts == ["users"] and m == "GET":
            return self.users(req)
        if parts[0] == "users" and len(parts) == 2 and m == "GET":
            return self.user(req, parts[1])
        if parts == ["org"] and m == "GET":
            return self.org(req)
        raise self._bad_url()

    def _route_module(self, req, module, parts: list[str]):
        """/{module}[/...]: its records, one record, a record's related lists and clone."""
        m = req.method
        if len(parts) == 1:
            on_module = {"GET": self.list, "POST": self.insert, "PUT": self.update, "DELETE": self.delete}.get(m)
            if on_module:
                return on_module(req, module)
        elif len(parts) == 2:
            return self._route_module_item(req, module, parts[1])
        elif len(parts) == 4 and parts[2:] == ["actions", "clone"] and m == "POST":
            if req.version < 7:
                raise self._bad_url()  # §11: Record Clone is v7+ only
            return self.clone(req, module, parts[1])
        elif len(parts) == 3 and m == "GET":
            return self.related(req, module, parts[1], parts[2])
        elif len(parts) == 3 and m == "POST" and parts[2] == "Notes":
            return self.notes_for(req, module, parts[1])
        raise self._bad_url()

    def _route_module_item(self, req, module, item: str):
        """/{module}/search, /{module}/upsert, /{module}/{record id}."""
        m = req.method
        if item == "search" and m == "GET":
            return self.search(req, module)
        if item == "upsert" and m == "POST":
            return self.upsert(req, module)
        on_record = {"GET": self.get_one, "PUT": self.update_one, "DELETE": self.delete_one}.get(m)
        if on_record:
            return on_record(req, module, item)
        raise self._bad_url()

    @staticmethod
    def _bad_url():
        return _api_error(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")

    def _module(self, name: str):
        mod = self.state.module(name)
        if mod is None:
            raise _api_error(400, "INVALID_MODULE", "the module name given seems to be invalid", api_name=name)
        return mod

    # -- §5 metadata --------------------------------------------------------------------------------
    def modules(self, req):
        return 200, {"modules": [module_meta(m) for m in self.state.modules.values()]}

    def _module_param(self, req):
        name = req.param("module")
        if not name:
            raise _api_error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="module")
        return self._module(name)

    def fields(self, req):
        return 200, {"fields": [dict(f) for f in self._module_param(req).fields]}

    def create_fields(self, req):
        """Create Custom Fields (sandbox/zoho_fields.py); `fields_create_error` refuses it as an org
        would a user who isn't an administrator, or a token without the settings scope."""
        refusal = self.settings.fields_create_error
        if refusal == "NO_PERMISSION":
            raise _api_error(403, "NO_PERMISSION", "permission denied")
        if refusal:
            raise _api_error(401, refusal, "invalid oauth scope to access this URL")
        return create_fields(self.state, self._module_param(req), req.json())

    def related_lists(self, req):
        mod = self._module_param(req)
        return 200, {"related_lists": [related_list_meta(mod, rl, i + 1) for i, rl in enumerate(mod.related)]}

    # -- §4.1 listing and paging --------------------------------------------------------------------
    def _fields_param(self, req, mod, *, required: bool = True) -> list[str] | None:
        raw = req.param("fields")
        if not raw:
            if required:
                raise _api_error(
                    400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="fields"
                )
            return None
        names = [n.strip() for n in raw.split(",") if n.strip()]
        if len(names) > MAX_FIELDS:
            raise _api_error(400, "LIMIT_EXCEEDED", "fields limit exceeded", by="fields", limit=MAX_FIELDS)
        return names

    def _int_param(self, req, name, default):
        raw = req.param(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _api_error(400, "INVALID_DATA", "invalid data", param=name) from None
        if value < 1:
            raise _api_error(400, "INVALID_DATA", "invalid data", param=name)
        return value

    def _sorted(self, req, records: list[dict]) -> tuple[list[dict], str, str]:
        sort_by = req.param("sort_by") or "id"
        sort_order = (req.param("sort_order") or "desc").lower()  # §4.1 defaults: id, desc
        if sort_by not in ("id", "Created_Time", "Modified_Time") or sort_order not in ("asc", "desc"):
            raise _api_error(400, "INVALID_DATA", "invalid data", param="sort_by")
        key = (lambda r: int(r["id"])) if sort_by == "id" else (lambda r: (r.get(sort_by) or "", int(r["id"])))
        return sorted(records, key=key, reverse=sort_order == "desc"), sort_by, sort_order

    def _page(self, req, records: list[dict], bound: str, *, cap: int | None = None, cap_code=None):
        """Slice one page (§4.1): page/per_page up to the first 2,000, then page_token."""
        per_page = min(self._int_param(req, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
        token = req.param("page_token")
        if token and req.param("page"):
            raise _api_error(400, "AMBIGUITY_DURING_PROCESSING", "both page and page_token are given")
        if token:
            start = self._read_token(token, bound)
            page = start // per_page + 1
        else:
            page = self._int_param(req, "page", 1)
            start = (page - 1) * per_page
            limit = cap or self.settings.max_page_records
            if start >= limit:
                code = cap_code or "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
                raise _api_error(400, code, "pagination limit exceeded; use page_token", limit=limit)
        if start >= PAGE_TOKEN_MAX:
            raise _api_error(400, "PAGINATION_LIMIT_EXCEEDED", "pagination limit exceeded", limit=PAGE_TOKEN_MAX)
        end = start + per_page
        if cap is not None:
            records = records[:cap]
        chunk = records[start:end]
        more = len(records) > end
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": more}
        return chunk, info, (self._make_token(end, bound) if more else None)

    @staticmethod
    def _make_token(offset: int, bound: str) -> str:
        return base64.urlsafe_b64encode(json.dumps([offset, bound]).encode()).decode().rstrip("=")

    @staticmethod
    def _read_token(token: str, bound: str) -> int:
        try:
            offset, token_bound = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (ValueError, TypeError):
            raise _api_error(400, "INVALID_DATA", "invalid page token", param="page_token") from None
        if token_bound != bound:
            raise _api_error(400, "TOKEN_BOUND_DATA_MISMATCH", "page token is bound to other parameters")
        return int(offset)

    def _listing(self, req, mod, records, fields, bound):
        records, sort_by, sort_order = self._sorted(req, records)
        chunk, info, next_token = self._page(req, records, bound)
        if not chunk:
            return 204, None  # §4.1: no body at all
        expiry = (datetime.now(UTC) + timedelta(hours=24)).isoformat(timespec="seconds")
        info.update(
            {
                "sort_by": sort_by,
                "sort_order": sort_order,
                "call": False,
                "email": False,
                "next_page_token": next_token,
                "previous_page_token": None,
                "page_token_expiry": expiry if next_token else None,
            }
        )
        return 200, {"data": [self.state.render(mod.api_name, r, fields) for r in chunk], "info": info}

    def list(self, req, mod):
        fields = self._fields_param(req, mod)
        stored = self.state.records[mod.api_name]
        ids = req.param("ids")
        if ids:
            # Looked up, not the module scanned for them (100 ids a call, 1,000 calls over 100,000
            # records); the order is the listing's sort either way.
            records = [stored[i] for i in dict.fromkeys(ids.split(",")) if i in stored]
        else:
            records = list(stored.values())
        bound = f"{mod.api_name}|{req.param('fields')}|{req.param('sort_by')}|{req.param('sort_order')}|{ids}"
        return self._listing(req, mod, records, fields, bound)

    # -- §4.2 one record ----------------------------------------------------------------------------
    def get_one(self, req, mod, record_id):
        rec = self.state.get(mod.api_name, record_id)
        if rec is None:
            if self.settings.missing_record == "204":
                return 204, None  # §4.2 [UNCONFIRMED]: what fakes and connectors assume
            raise _api_error(400, "INVALID_DATA", INVALID_ID, id=record_id)
        fields = self._fields_param(req, mod, required=False)
        return 200, {"data": [self.state.render(mod.api_name, rec, fields, single=True)]}

    # -- the Users API: one user ----------------------------------------------------------------------
    def user(self, req, user_id):
        """GET /crm/{version}/users/{user_id} → {"users": [{...}]} (scope ZohoCRM.users.READ;
        https://www.zoho.com/crm/developer/docs/api/v7/get-users.html). An unknown id answers
        INVALID_DATA "the id given seems to be invalid" (Kaizen #51's error table) with 400, as a
        record GET does [UNCONFIRMED: that table prints HTTP 200]."""
        found = self.state.users.get(user_id)
        if found is None:
            raise _api_error(400, "INVALID_DATA", INVALID_ID, id=user_id)
        return 200, {"users": [self.state.user_json(found)]}

    def users(self, req):
        """GET /crm/{version}/users?type=... → {"users": [...], "info": {...}}: the org's users of
        a type (default AllUsers); CurrentUser is the user the token acts for.
        Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-users.html"""
        kind = req.param("type") or "AllUsers"
        users = builtins.list(self.state.users.values())
        if kind == "CurrentUser":
            users = [self.state.api_user]
        elif kind in ("ActiveUsers", "ActiveConfirmedUsers", "ConfirmedUsers"):
            users = [u for u in users if u.get("status", "active") == "active"]
        elif kind in ("AdminUsers", "ActiveConfirmedAdmins"):
            users = [u for u in users if u.get("profile") == "Administrator"]
        elif kind in ("DeactiveUsers", "NotConfirmedUsers", "DeletedUsers"):
            users = []
        elif kind != "AllUsers":
            raise _api_error(400, "INVALID_DATA", "invalid data", param="type")
        per_page = min(self._int_param(req, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
        page = self._int_param(req, "page", 1)
        chunk = users[(page - 1) * per_page : page * per_page]
        if not chunk:
            return 204, None
        more = len(users) > page * per_page
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": more}
        return 200, {"users": [self.state.user_json(u) for u in chunk], "info": info}

    # -- the Organization API -----------------------------------------------------------------------
    def org(self, req):
        """GET /crm/{version}/org → {"org": [{...}]} (scope ZohoCRM.org.READ;
        https://www.zoho.com/crm/developer/docs/api/v7/get-org-data.html). Zoho's own SDK reads it
        after each token refresh, with GET /users?type=CurrentUser, to name the token it stores."""
        return 200, {"org": [self.state.org_json()]}

    # -- §6 related records -------------------------------------------------------------------------
    def related(self, req, mod, record_id, list_name):
        rl = next((r for r in mod.related if r.api_name == list_name), None)
        if rl is None:
            raise _api_error(400, "INVALID_DATA", "the relation name given seems to be invalid", api_name=list_name)
        if self.state.get(mod.api_name, record_id) is None:
            raise _api_error(400, "INVALID_DATA", INVALID_ID, id=record_id)
        child = self.state.module(rl.module)
        fields = self._fields_param(req, child)
        records = self.state.related(mod.api_name, record_id, rl)
        if rl.module == "Tasks" and self.settings.tasks_open_only:
            records = [r for r in records if r.get("Status") != "Completed"]
        bound = f"{mod.api_name}/{record_id}/{list_name}|{req.param('fields')}|{req.param('sort_by')}|{req.param('sort_order')}"
        return self._listing(req, child, records, fields, bound)

    # -- §4.3 search --------------------------------------------------------------------------------
    def _search_values(self, mod):
        def value_of(rec, name):
            if name == "id":
                return [rec["id"]]
            f = mod.by_name.get(name)
            if f is None:
                raise QueryError("INVALID_QUERY", "invalid field found in criteria", api_name=name)
            value = rec.get(name)
            if value is None:
                return []
            if f["data_type"] == "lookup":
                target = f["lookup"]["module"]["api_name"]
                target = rec.get("$se_module") if target == "se_module" else target
                return [value, self.state.display_name(target, value) or ""]
            if f["data_type"] == "ownerlookup":
                return [value, self.state.users.get(value, {}).get("name", "")]
            if isinstance(value, list):
                return [str(v) for v in value]
            if isinstance(value, bool):
                return ["true" if value else "false"]
            return [str(value)]

        return value_of

    def search(self, req, mod):
        value_of = self._search_values(mod)
        text_fields = [
            f["api_name"] for f in mod.fields if f["data_type"] in ("text", "textarea", "email", "phone", "picklist")
        ]
        try:
            if req.param("criteria"):
                pred = parse_criteria(
                    req.param("criteria"), value_of, equals_contains=self.settings.search_equals_contains
                )
            elif req.param("email"):
                email = req.param("email").lower()
                pred = lambda r: any(
                    v.lower() == email
                    for f in mod.fields
                    if f["data_type"] == "email"  # noqa: E731
                    for v in value_of(r, f["api_name"])
                )
            elif req.param("phone"):
                phone = req.param("phone")
                pred = lambda r: any(
                    v == phone
                    for f in mod.fields
                    if f["data_type"] == "phone"  # noqa: E731
                    for v in value_of(r, f["api_name"])
                )
            elif req.param("word"):
                word = req.param("word").lower()
                if len(word) < 2:
                    raise QueryError("INVALID_DATA", "the word given should have at least 2 characters")
                pred = lambda r: any(word in v.lower() for f in text_fields for v in value_of(r, f))  # noqa: E731
            else:
                raise _api_error(
                    400,
                    "EXPECTED_PARAM_MISSING",
                    "one of the expected parameter is missing",
                    expected_params=["criteria", "email", "phone", "word"],
                )
            fresh_before = time.monotonic() - self.settings.search_index_delay
            created = self.state.created_at
            records = [
                r
                for r in self.state.records[mod.api_name].values()
                if pred(r) and (not self.settings.search_index_delay or created.get(r["id"], 0) <= fresh_before)
            ]
        except QueryError as exc:
            raise _api_error(400, exc.code, exc.message, **exc.details) from None
        fields = self._fields_param(req, mod, required=False)
        if fields is None:
            fields = [f["api_name"] for f in mod.fields if f["data_type"] != "subform"]
        records.sort(key=lambda r: int(r["id"]))
        chunk, info, _ = self._page(req, records, "search", cap=self.settings.search_cap, cap_code="LIMIT_REACHED")
        if not chunk:
            return 204, None
        return 200, {"data": [self.state.render(mod.api_name, r, fields) for r in chunk], "info": info}

    # -- §4.4 COQL ----------------------------------------------------------------------------------
    def _coql_query(self, req) -> Coql:
        body = req.json()
        text = body.get("select_query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise _api_error(400, "REQUIRED_PARAM_MISSING", "select_query is missing", param="select_query")
        try:
            return Coql(text)
        except QueryError as exc:
            raise _api_error(400, exc.code, exc.message, **exc.details) from None

    def coql(self, req):
        q = self._coql_query(req)
        mod = self.state.module(q.module)
        if mod is None or not mod.coql:
            # §4.4: Notes (and subform modules) are not COQL modules.
            raise _api_error(400, "INVALID_QUERY", "invalid module given", module=q.module)
        if q.limit > COQL_MAX_LIMIT or q.offset + q.limit > COQL_MAX_TOTAL:
            raise _api_error(400, "LIMIT_EXCEEDED", "limit exceeded", by="limit", limit=COQL_MAX_LIMIT)
        if len(q.columns) > 500:
            raise _api_error(400, "LIMIT_EXCEEDED", "column limit exceeded", by="columns", limit=500)
        req.cost = 1 if q.limit <= 200 else 2 if q.limit <= 1000 else 3  # §4.4 credit tiers
        get = self._coql_getter(mod)
        for column in q.columns + [c for c, _ in q.order]:
            get(None, column)  # validates the column
        try:
            pred = q.predicate(get)
            rows = [r for r in self._coql_candidates(mod, q) if pred(r)]
        except QueryError as exc:
            raise _api_error(400, exc.code, exc.message, **exc.details) from None
        if q.count_of:
            get(None, q.count_of)
            return 200, {"data": [{f"COUNT({q.count_of})": len(rows)}], "info": {"count": 1, "more_records": False}}
        rows.sort(key=lambda r: int(r["id"]))
        for column, desc in reversed(q.order):
            rows.sort(key=lambda r, c=column: _sort_key(get(r, c)), reverse=desc)
        page = rows[q.offset : q.offset + q.limit]
        if not page:
            return self.settings.coql_empty_status, None if self.settings.coql_empty_status == 204 else {
                "data": [],
                "info": {"count": 0, "more_records": False},
            }
        data = [self._coql_row(mod, r, q.columns, get) for r in page]
        return 200, {"data": data, "info": {"count": len(data), "more_records": len(rows) > q.offset + q.limit}}

    def _coql_candidates(self, mod, q):
        """The records a query is checked against: for `lookup in (ids)` as its whole WHERE (a
        related level read by COQL) in a module of COQL_INDEX_FROM records or more, those an index
        by that lookup holds under the ids; else every record. Each is still checked by the query,
        and the page sorted by id, so the answer is the scan's. Small modules (the demo org, whose
        records tests edit in place, which the index doesn't see) are always scanned."""
        records = self.state.records[mod.api_name]
        where = q.where
        if len(records) < COQL_INDEX_FROM or not where or where[0] != "cmp" or where[2] != "in":
            return records.values()
        field = mod.by_name.get(where[1])
        ids = [v for v in where[3] if isinstance(v, str) and v.isdigit()]
        if field is None or field["data_type"] != "lookup" or len(ids) != len(where[3]):
            return records.values()
        index = self.state.by_lookup(mod.api_name, where[1])
        return list({r["id"]: r for v in ids for r in index.get(v, ())}.values())

    def _coql_getter(self, mod):
        state = self.state

        def get(rec, column):
            name, _, sub = column.partition(".")
            if "->" in name:
                name = name.split("->")[0]
            f = mod.by_name.get(name)
            if name != "id" and f is None:
                raise _api_error(400, "INVALID_QUERY", "column given seems to be invalid", column_name=column)
            if rec is None:
                return None
            if name == "id":
                return rec["id"]
            value = rec.get(name)
            if sub and f["data_type"] in ("lookup", "ownerlookup") and value is not None:
                if f["data_type"] == "ownerlookup":
                    return state.users.get(value, {}).get(sub)
                target = f["lookup"]["module"]["api_name"]
                target = rec.get("$se_module") if target == "se_module" else target
                if "->" in column:
                    target = column.split("->")[1].split(".")[0]
                    if rec.get("$se_module") != target:
                        return None
                other = state.get(target, value)
                return (
                    None
                    if other is None
                    else (other["id"] if sub.split(".")[-1] == "id" else other.get(sub.split(".")[-1]))
                )
            return value

        return get

    def _coql_row(self, mod, rec, columns, get):
        out = {}
        for column in columns:
            f = mod.by_name.get(column)
            if f is not None and f["data_type"] in ("lookup", "ownerlookup"):
                out[column] = self.state.render_value(mod, f, rec, False)
                if column == "What_Id":
                    out["$se_module"] = rec.get("$se_module")
            else:
                out[column] = get(rec, column)
        out["id"] = rec["id"]
        return out

    # -- §3 writes ----------------------------------------------------------------------------------
    def _data(self, req, *, limit=MAX_WRITE) -> tuple[dict, builtins.list[dict]]:
        body = req.json()
        if not isinstance(body, dict) or "data" not in body:
            raise _api_error(400, "MANDATORY_NOT_FOUND", "required field not found", api_name="data")
        data = body["data"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise _api_error(400, "INVALID_DATA", "invalid data", api_name="data", expected_data_type="jsonarray")
        if not data:
            raise _api_error(400, "MANDATORY_NOT_FOUND", "required field not found", api_name="data")
        if len(data) > limit:
            raise _api_error(400, "LIMIT_EXCEEDED", "limit exceeded", by="limit", limit=limit)
        return body, data

    def _success(self, rec, message="record added", **extra) -> dict:
        by = {"name": self.state.api_user["name"], "id": self.state.api_user["id"]}
        details = {
            "Modified_Time": rec["Modified_Time"],
            "Modified_By": by,
            "Created_Time": rec["Created_Time"],
            "id": rec["id"],
            "Created_By": by,
            "$approval_state": "approved",
        }
        return {"code": "SUCCESS", "details": details, "message": message, "status": "success", **extra}

    def _batch_status(self, results: builtins.list[dict], ok_status=201) -> int:
        ok = sum(1 for r in results if r["status"] == "success")
        if ok == len(results):
            return ok_status
        return self.settings.partial_status if ok else self.settings.all_failed_status

    def _record_action(self, op, mod, body, results):
        trigger = body.get("trigger") if isinstance(body, dict) else None
        self.state.actions.append(
            {
                "op": op,
                "module": mod.api_name,
                "ids": [r["details"]["id"] for r in results if r["status"] == "success"],
                # §3.1: trigger omitted → automations run; [] → none.
                "trigger": trigger,
                "automations_ran": trigger is None or bool(trigger),
                "skip_feature_execution": body.get("skip_feature_execution") if isinstance(body, dict) else None,
            }
        )

    def _insert_one(self, mod, row) -> dict:
        values, error = self.state.coerce(mod.api_name, row)
        error = (
            error
            or self.state.mandatory_error(mod.api_name, values)
            or self.state.duplicate_error(mod.api_name, values)
            or self._rule_error(mod, values)
        )
        if error:
            return error
        return self._success(self.state.add(mod.api_name, values))

    def _rule_error(self, mod, values: dict, rec: dict | None = None) -> dict | None:
        """The settings' `reject_values` (a validation rule): the record as it would be stored."""
        after = {**(rec or {}), **values}
        for module, field, value in self.settings.reject_values:
            if module == mod.api_name and field in after and str(after[field]) == value:
                return err("INVALID_DATA", "invalid data", api_name=field)
        return None

    def insert(self, req, mod):
        if mod.generated_type == "subform":
            raise _api_error(400, "NOT_SUPPORTED", "subform modules are written through their parent")
        body, data = self._data(req)
        results = [self._insert_one(mod, row) for row in data]
        self._record_action("insert", mod, body, results)
        return self._batch_status(results), {"data": results}

    def notes_for(self, req, mod, record_id):
        """§3.4 `POST /{module}/{id}/Notes`: the parent comes from the path."""
        if self.state.get(mod.api_name, record_id) is None:
            raise _api_error(400, "INVALID_DATA", INVALID_ID, id=record_id)
        body, data = self._data(req)
        notes = self.state.module("Notes")
        parent = {"module": {"api_name": mod.api_name}, "id": record_id}
        results = [self._insert_one(notes, {**row, "Parent_Id": parent}) for row in data]
        self._record_action("insert", notes, body, results)
        return self._batch_status(results), {"data": results}

    def _update_one(self, mod, record_id, row, message="record updated", **extra) -> dict:
        rec = self.state.get(mod.api_name, str(record_id)) if record_id else None
        if rec is None:
            return err("INVALID_DATA", INVALID_ID, id=record_id)
        values, error = self.state.coerce(mod.api_name, row)
        if error:
            return error
        for f in mod.fields:
            if f["system_mandatory"] and f["api_name"] in values and values[f["api_name"]] in (None, "", []):
                return err("MANDATORY_NOT_FOUND", "required field not found", api_name=f["api_name"])
        error = self.state.duplicate_error(mod.api_name, values, exclude_id=rec["id"]) or self._rule_error(
            mod, values, rec
        )
        if error:
            return error
        return self._success(self.state.update(mod.api_name, rec, values), message, **extra)

    def update(self, req, mod):
        body, data = self._data(req)
        results = [self._update_one(mod, row.get("id"), row) for row in data]
        self._record_action("update", mod, body, results)
        return self._batch_status(results, ok_status=200), {"data": results}

    def update_one(self, req, mod, record_id):
        body, data = self._data(req, limit=1)
        results = [self._update_one(mod, record_id, data[0])]
        self._record_action("update", mod, body, results)
        return self._batch_status(results, ok_status=200), {"data": results}

    def upsert(self, req, mod):
        """§3.2: match on duplicate_check_fields (then the other unique fields); update or insert."""
        body, data = self._data(req)
        unique = self.state.unique_fields(mod.api_name)
        allowed = list(mod.upsert_system_fields) + unique
        given = body.get("duplicate_check_fields")
        if given is None:
            order = allowed
        else:
            bad = [f for f in given if f not in allowed] if isinstance(given, list) else [given]
            if bad:
                raise _api_error(400, "INVALID_DATA", "invalid data", api_name="duplicate_check_fields", value=bad)
            order = list(given) + [f for f in unique if f not in given]
        results = []
        for row in data:
            match_id, match_field = None, None
            for name in order:
                value = row.get(name)
                if value in (None, ""):
                    continue
                match_id = self._find_by(mod, name, value)
                if match_id:
                    match_field = name
                    break
            if match_id:
                results.append(self._update_one(mod, match_id, row, duplicate_field=match_field, action="update"))
            else:
                result = self._insert_one(mod, row)
                if result["status"] == "success":
                    result.update(duplicate_field=None, action="insert")
                results.append(result)
        self._record_action("upsert", mod, body, results)
        return self._batch_status(
            results, ok_status=200 if all(r.get("action") == "update" for r in results) else 201
        ), {"data": results}

    def _find_by(self, mod, name, value) -> str | None:
        holder = self.state.owner_of(mod.api_name, name, value)
        if holder or name in self.state.unique_fields(mod.api_name):
            return holder
        lowered = str(value).lower()
        for rec in self.state.records[mod.api_name].values():
            if str(rec.get(name) or "").lower() == lowered:
                return rec["id"]
        return None

    # -- §2 clone -----------------------------------------------------------------------------------
    def clone(self, req, mod, record_id):
        src = self.state.get(mod.api_name, record_id)
        if src is None:
            if self.settings.clone_unknown_id == "204":
                return 204, None
            raise _api_error(400, "INVALID_DATA", INVALID_ID, id=record_id)
        body = req.json(required=False)
        overrides = self._clone_overrides(req, body)
        values = self.state.copyable_values(mod.api_name, src)
        changes, error = self.state.coerce(mod.api_name, overrides)
        if error:
            return 400, {"data": [error]}
        self._apply_clone_changes(mod, values, changes)
        for f in mod.fields:
            if f["data_type"] == "subform" and f["api_name"] in values:
                values[f["api_name"]] = [
                    {k: v for k, v in row.items() if k not in ("id", "_delete")}
                    for row in values.get(f["api_name"], [])
                ]
        error = (
            self.state.mandatory_error(mod.api_name, values)
            or self.state.duplicate_error(mod.api_name, values)
            or self._rule_error(mod, values)
        )
        if error:
            return 400, {"data": [error]}
        result = self._success(self.state.add(mod.api_name, values))
        self._record_action("clone", mod, body, [result])
        return 201, {"data": [result]}

    def _clone_overrides(self, req, body) -> dict:
        """The clone's body: {"data": [{field: value}]} or nothing (a plain copy)."""
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise _api_error(400, "INVALID_DATA", "invalid data")
        if "data" in body or self.settings.clone_body_requires_data:
            _, data = self._data(req, limit=1)
            return data[0]
        return {}

    def _apply_clone_changes(self, mod, values: dict, changes: dict) -> None:
        for name, value in changes.items():
            f = mod.by_name.get(name)
            if f is not None and f["data_type"] == "subform" and self.settings.clone_subform_override == "append":
                values[name] = values.get(name, []) + value
            else:
                values[name] = value  # §7: an override array replaces the rows

    # -- §8 delete ----------------------------------------------------------------------------------
    def delete(self, req, mod):
        raw = req.param("ids")
        if not raw:
            raise _api_error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="ids")
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if len(ids) > MAX_WRITE:
            raise _api_error(400, "LIMIT_EXCEEDED", "limit exceeded", by="ids", limit=MAX_WRITE)
        results = [self._delete_one(mod, i) for i in ids]
        self.state.actions.append(
            {
                "op": "delete",
                "module": mod.api_name,
                "ids": [r["details"]["id"] for r in results if r["status"] == "success"],
            }
        )
        return self._batch_status(results, ok_status=200), {"data": results}

    def delete_one(self, req, mod, record_id):
        result = self._delete_one(mod, record_id)
        return (200 if result["status"] == "success" else 400), {"data": [result]}

    def _delete_one(self, mod, record_id) -> dict:
        if self.state.get(mod.api_name, record_id) is None:
            return err("INVALID_DATA", "record not deleted", id=record_id)
        self.state.delete(mod.api_name, record_id)
        return {"code": "SUCCESS", "details": {"id": record_id}, "message": "record deleted", "status": "success"}


def _sort_key(value):
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value).lower())
