"""Zoho CRM record reads: search, single records and users, batched reads by ids, children (COQL
or the related-list API), lookups for reconciliation, and which module a record id belongs to.

Facts and sources: ../shared/api-notes/zoho.md (section numbers below refer to it).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import quote

from records.connectors import zoho_filter, zoho_finds
from records.connectors import zoho_parse as zp
from records.connectors.at_once import map_at_once
from records.connectors.base import FieldType, Page, Record, RelatedList
from records.connectors.errors import NotFound, Rejected, Unavailable
from records.connectors.one_by_one import field_values_one_by_one, names_one_by_one
from records.connectors.zoho_api import ZohoApi
from records.connectors.zoho_metadata import ZohoMetadata

COQL_IN_MAX = 100  # §4.4 (v7): at most 100 values in `in (...)`
COQL_LIMIT = 2000  # §4.4: at most 2,000 rows per COQL call
COQL_MAX_OFFSET = 100_000  # §4.4: up to 100,000 rows through LIMIT/OFFSET
READ_PAGE = 200  # §4.1: per_page max 200
# §4.1 lists `ids` among Get Records' parameters without a maximum [UNCONFIRMED]: 100 a call, the
# documented limit of `ids` on delete (§8) and of COQL's `in (...)` (§4.4), the most plausible one.
GET_IDS_MAX = 100
USERS_PAGE = 200  # users a Get Users call (its per_page maximum)
USERS_PAGES_MAX = 100  # a bound on the pages of users read: 20,000 users
USERS = "Users"  # the target of Owner and user lookups (FieldInfo.reference_to)
LIST_FIELDS_MAX = 50  # §4.1: at most 50 fields when listing
COQL_FIELDS_MAX = 500  # §4.4 (v7): at most 500 SELECT columns
# A level too large for one COQL page: (module, parent field, parent ids, columns) -> its rows
# read another way, or None to go on with COQL (zoho_bulk_reads.BulkLevels).
LargeLevel = Callable[[str, str, list[str], list[str]], Iterator[dict[str, Any]] | None]
Instead = Callable[[], Iterator[dict[str, Any]] | None]
# §4.4: modules COQL cannot read; their children are read through the related-list API.
NON_COQL_MODULES = frozenset({"Notes", "Attachments"})


class ZohoReads:
    """Reads records of the org. Remembers the module of every record id it (or the writes,
    through `remember`) has seen: Notes' parents and related lists are addressed by module."""

    def __init__(self, api: ZohoApi, metadata: ZohoMetadata, *, concurrency: int) -> None:
        self.api = api
        self.metadata = metadata
        self.concurrency = concurrency
        self._module_of: dict[str, str] = {}  # record id -> module, learned from reads and writes
        self._api_user = ""
        self._zgid = ""
        self.large_level: LargeLevel | None = None  # set by the connector (its bulk reads)

    def remember(self, record_id: str, module: str) -> None:
        self._module_of[record_id] = module

    def module_of(self, record_id: str) -> str:
        """The module a record id belongs to: learned from earlier calls, else by asking each module."""
        if record_id in self._module_of:
            return self._module_of[record_id]
        for m in self.metadata.list_objects():
            try:
                self.get(m.name, record_id)
            except (NotFound, Rejected):
                continue
            return m.name
        return ""

    def _record(self, module: str, raw: dict[str, Any]) -> Record:
        rid = str(raw.get("id") or "")
        if rid:
            self.remember(rid, module)
        created, modified, created_by = zp.stamps(raw)
        return Record(
            id=rid,
            object_name=module,
            fields=dict(raw),
            name=zp.record_name(module, raw),
            created=created,
            modified=modified,
            created_by=created_by,
        )

    def _page(self, module: str, status: int, body: Any, page: int) -> Page:
        if status == 204 or not isinstance(body, dict):
            return Page(records=[], page=page, more=False)
        data = zp.list_in(body, "data")
        info = zp.dict_in(body, "info")
        records = [self._record(module, r) for r in data if isinstance(r, dict)]
        return Page(records=records, page=page, more=bool(info.get("more_records")))

    # -- search and single records -------------------------------------------------------------
    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        module = zp.check_name(object_name)
        per_page = max(1, min(per_page, READ_PAGE))
        page = max(1, page)
        text = (text or "").strip()
        fields = ",".join(self.metadata.list_columns(module, LIST_FIELDS_MAX))
        params: dict[str, Any] = {"fields": fields, "page": page, "per_page": per_page}
        if not text and self._sortable_by_name(module):
            return self._by_name(module, page, per_page)
        if not text:
            # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
            status, body = self.api.call("GET", self.api.module_path(module), safe=True, params=params)
            return self._page(module, status, body, page)
        if zp.looks_like_id(text) and page == 1:
            try:
                return Page(records=[self.get(module, text)], page=1, more=False)
            except NotFound:
                pass
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/search-records.html
        if len(text) >= 2:
            params["word"] = text
        else:
            name_field = zp.MODULE_NAME_FIELD.get(module, "Name")
            params["criteria"] = f"({name_field}:starts_with:{zoho_filter.criteria_value(text)})"
        status, body = self.api.call("GET", self.api.module_path(module, "search"), safe=True, params=params)
        return self._page(module, status, body, page)

    def query_ids(self, object_name: str, where: str, *, limit: int) -> list[Record]:
        """The newest `limit` records matching a person's search criteria (zoho_filter), with
        their name and creation time, in one COQL call (§4.4: `order by Created_Time desc limit n`;
        exact and without search's index delay)."""
        module = zp.check_name(object_name)
        if module in NON_COQL_MODULES:
            raise Rejected(f"{module} cannot be read by a filter.", error_type="NOT_SUPPORTED")
        fields = {f.name: f for f in self.metadata.describe(module)}
        # COQL wants a WHERE clause [UNCONFIRMED whether one is still required]: all records is `id is not null`.
        condition = zoho_filter.criteria_to_coql(where, fields) or "id is not null"
        columns = ", ".join(
            dict.fromkeys(n for n in ("id", *zp.name_columns(module), zp.CREATED_FIELD) if n == "id" or n in fields)
        )
        limit = max(1, min(int(limit), COQL_LIMIT))
        query = f"select {columns} from {module} where {condition} order by {zp.CREATED_FIELD} desc limit {limit}"
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/Get-Records-through-COQL-Query.html
        status, body = self.api.call("POST", "coql", safe=True, json={"select_query": query})
        if status == 204 or not isinstance(body, dict):
            return []
        return [self._record(module, raw) for raw in zp.list_in(body, "data") if isinstance(raw, dict)][:limit]

    def _sortable_by_name(self, module: str) -> bool:
        name = zp.MODULE_NAME_FIELD.get(module)
        if not name or module in NON_COQL_MODULES or module == USERS:
            return False
        return name in {f.name for f in self.metadata.describe(module)}

    def _by_name(self, module: str, page: int, per_page: int) -> Page:
        """One page of the module's records sorted by name, as Vault lists them: Get Records sorts
        only by id or a time (sort_by), so COQL's `order by`. COQL wants a where clause; `id is
        not null` holds for every record. Reads up to COQL_MAX_OFFSET records deep, as COQL allows."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/Get-Records-through-COQL-Query.html
        name = zp.MODULE_NAME_FIELD[module]
        offset = (page - 1) * per_page
        if offset >= COQL_MAX_OFFSET:
            return Page(records=[], page=page, more=False)
        columns = ", ".join(dict.fromkeys(["id", *self.metadata.list_columns(module, LIST_FIELDS_MAX)]))
        query = (
            f"select {columns} from {module} where id is not null order by {name} asc limit {per_page} offset {offset}"
        )
        status, body = self.api.call("POST", "coql", safe=True, json={"select_query": query})
        return self._page(module, status, body, page)

    def get(self, object_name: str, record_id: str) -> Record:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html (specific record)
        module = zp.check_name(object_name)
        if module == USERS:
            return self._user(record_id)
        try:
            status, body = self.api.call("GET", self.api.module_path(module, record_id), safe=True)
        except Rejected as exc:
            if exc.error_type == "INVALID_DATA":  # "the id given seems to be invalid" (§4.2)
                raise NotFound(f"No {module} record with that id.", error_type="INVALID_DATA") from None
            raise
        data = body.get("data") if isinstance(body, dict) else None
        if status == 204 or not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise NotFound(f"No {module} record with that id.", error_type="NO_CONTENT")
        return self._record(module, data[0])

    def _user(self, user_id: str) -> Record:
        """Owner and user lookups point at users, read by the Users API, not the records API."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-users.html (a specific user;
        # scope ZohoCRM.users.READ). An unknown id: INVALID_DATA [UNCONFIRMED status], or no content.
        if not zp.looks_like_id(str(user_id or "")):
            raise NotFound("No user with that id.", error_type="INVALID_DATA")
        try:
            status, body = self.api.call("GET", f"users/{quote(str(user_id), safe='')}", safe=True)
        except Rejected as exc:
            if exc.error_type == "INVALID_DATA":
                raise NotFound("No user with that id.", error_type="INVALID_DATA") from None
            raise
        user = zp.user(body) if status != 204 else None
        if user is None:
            raise NotFound("No user with that id.", error_type="NO_CONTENT")
        return Record(id=str(user["id"]), object_name=USERS, fields=user, name=zp.user_name(user))

    def api_user_id(self) -> str:
        """The id of the user the refresh token acts for, read once per connector: records this
        profile creates carry it in Created_By."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-users.html (type=CurrentUser;
        # scope ZohoCRM.users.READ)
        if not self._api_user:
            status, body = self.api.call("GET", "users", safe=True, params={"type": "CurrentUser"})
            found = zp.current_user_id(body) if status != 204 else ""
            if not found:
                raise Unavailable("Zoho did not say which user this profile acts as.", error_type="UNEXPECTED_ANSWER")
            self._api_user = found
        return self._api_user

    def org_id(self) -> str:
        """The org's id (the Organization API, one call; scope ZohoCRM.org.READ): a data centre's
        API domain is shared by all its orgs, so only this tells two of them apart."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-org-data.html
        status, body = self.api.call("GET", "org", safe=True)
        return zp.org_id(body) if status != 204 else ""

    def org_zgid(self) -> str:
        """The org's zgid (the Organization API): Bulk Write's upload names the org by it (X-CRM-ORG)."""
        if not self._zgid:
            status, body = self.api.call("GET", "org", safe=True)
            self._zgid = zp.org_zgid(body) if status != 204 else ""
        return self._zgid

    def users(self) -> list[dict[str, Any]]:
        """Every user of the org ({id, email, name, active}), USERS_PAGE a call while Zoho says more
        follow: a copy into another org maps its users by e-mail."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-users.html (type=AllUsers,
        # page, per_page <= 200; scope ZohoCRM.users.READ; no users: 204)
        out: list[dict[str, Any]] = []
        for page in range(1, USERS_PAGES_MAX + 1):
            params = {"type": "AllUsers", "page": page, "per_page": USERS_PAGE}
            status, body = self.api.call("GET", "users", safe=True, params=params)
            found, more = zp.users_page(body) if status != 204 else ([], False)
            out.extend(found)
            if not more:
                break
        return out

    # -- batched reads by ids (§4.1 Get Records with `ids`, GET_IDS_MAX a call) ----------------
    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        """Only the name fields in `fields`."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
        module = zp.check_name(object_name)
        if module == USERS:
            return names_one_by_one(self.get, module, ids)  # the Users API takes no list of ids
        known = {f.name for f in self.metadata.describe(module)}
        fields = ",".join(n for n in zp.name_columns(module) if n in known) or "id"
        return {r.id: r.name for r in self._by_ids(module, ids, fields).values()}

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The named fields (at most LIST_FIELDS_MAX: more, or the Users module, are read one
        record a call)."""
        module = zp.check_name(object_name)
        known = {f.name for f in self.metadata.describe(module)} if module != USERS else set()
        columns = [f for f in dict.fromkeys(fields) if f in known]
        if module == USERS or len(columns) > LIST_FIELDS_MAX:
            return field_values_one_by_one(self.get, module, ids, columns or fields)
        records = self._by_ids(module, ids, ",".join(columns) or "id")
        return {rid: {f: r.fields.get(f) for f in columns} for rid, r in records.items()}

    def holders(self, object_name: str, field_name: str, values: Sequence[str]) -> dict[str, str]:
        """The records match_ids finds (its batches; Notes one find a value: one rule for which
        records hold these values), each value named by its first holder: by the value itself when
        the field is the module's name field (no further call), else by a names() read of them."""
        module = zp.check_name(object_name)
        first = {value: ids[0] for value, ids in self.match_ids(module, field_name, values).items() if ids}
        if field_name == zp.MODULE_NAME_FIELD.get(module) or not first:
            return {value: value for value in first}
        names = self.names(module, list(first.values()))
        return {value: names.get(rid) or rid for value, rid in first.items()}

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        """`fields` = the name and Created_Time, Modified_Time, Created_By (as names()); Notes
        are read the same way."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
        module = zp.check_name(object_name)
        known = {f.name for f in self.metadata.describe(module)}
        name = zp.MODULE_NAME_FIELD.get(module)
        fields = ",".join(n for n in (name, *zp.STAMP_FIELDS) if n and n in known) or "id"
        return self._by_ids(module, ids, fields)

    def _by_ids(self, module: str, ids: Sequence[str], fields: str) -> dict[str, Record]:
        """{id: Record} of the records found among `ids`, with `fields` only. The calls (GET_IDS_MAX
        ids each) don't depend on each other: up to the profile's concurrency are made at once, as
        Vault's batched reads are (an undo's check of 100,000 copies reads 1,000 of them)."""
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if zp.looks_like_id(i)]
        chunks = [wanted[start : start + GET_IDS_MAX] for start in range(0, len(wanted), GET_IDS_MAX)]

        def read(chunk: list[str]) -> list[Record]:
            params = {"ids": ",".join(chunk), "fields": fields, "per_page": READ_PAGE}
            status, body = self.api.call("GET", self.api.module_path(module), safe=True, params=params)
            asked = set(chunk)
            return [r for r in self._page(module, status, body, 1).records if r.id in asked]

        return {r.id: r for found in map_at_once(read, chunks, workers=self.concurrency) for r in found}

    # -- children ------------------------------------------------------------------------------
    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        child = zp.check_name(related.child_object)
        parent_field = zp.check_name(related.parent_field)
        ids = [str(p) for p in dict.fromkeys(parent_ids) if str(p)]
        if not ids:
            return
        if child in NON_COQL_MODULES:
            yield from self._children_by_related_list(related, ids)
            return
        has_subforms = any(f.type == FieldType.SUBFORM for f in self.metadata.describe(child))
        columns = self.metadata.list_columns(child, COQL_FIELDS_MAX)
        if parent_field not in columns:
            columns.append(parent_field)
        large = self.large_level
        for start in range(0, len(ids), COQL_IN_MAX):
            chunk = ids[start : start + COQL_IN_MAX]
            condition = f"{parent_field} in ({', '.join(zp.coql_literal(i) for i in chunk)})"
            instead = partial(large, child, parent_field, chunk, columns) if large else None
            for raw in self._coql(child, columns, condition, instead=instead):
                if related.parent_object and parent_field == "What_Id" and not raw.get("$se_module"):
                    raw["$se_module"] = related.parent_object  # we asked for What_Id in this module's ids
                if has_subforms:
                    # §4.1: subform rows come only with a single-record GET.
                    yield self.get(child, str(raw.get("id")))
                else:
                    yield self._record(child, raw)

    def count(self, module: str, where: str) -> int:
        """How many records of `module` match `where`: one COQL call of the lowest credit tier."""
        # Reference: https://www.zoho.com/developer/docs/vertical-solutions/api/v5/COQL-Overview.html
        # (COQL's aggregate functions, COUNT() among them). [UNCONFIRMED] the answer's key: the
        # expression as written ("COUNT(id)"); any single number in the row is taken.
        query = f"select COUNT(id) from {zp.check_name(module)} where {where}"
        status, body = self.api.call("POST", "coql", safe=True, json={"select_query": query})
        rows = zp.list_in(body, "data") if status != 204 and isinstance(body, dict) else []
        row = rows[0] if rows and isinstance(rows[0], dict) else {}
        numbers = [v for v in row.values() if isinstance(v, int) and not isinstance(v, bool)]
        return numbers[0] if numbers else 0

    def _coql(
        self, module: str, columns: list[str], where: str, *, instead: Instead | None = None
    ) -> Iterator[dict[str, Any]]:
        """The matching rows, a page of COQL_LIMIT a call. `instead()`, asked once the first page
        says more follow, may give the rest another way (a bulk job: zoho_bulk_reads.py)."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/Get-Records-through-COQL-Query.html
        select = ", ".join(zp.check_name(c) if c != "id" else c for c in columns)
        offset = 0
        while offset < COQL_MAX_OFFSET:
            query = f"select {select} from {module} where {where} limit {COQL_LIMIT} offset {offset}"
            status, body = self.api.call("POST", "coql", safe=True, json={"select_query": query})
            if status == 204 or not isinstance(body, dict):
                return
            data = zp.list_in(body, "data")
            for raw in data:
                if isinstance(raw, dict):
                    yield raw
            info = zp.dict_in(body, "info")
            if not info.get("more_records") or not data:
                return
            rest = instead() if instead is not None and offset == 0 else None
            if rest is not None:
                first = {str(raw.get("id")) for raw in data if isinstance(raw, dict)}
                yield from (raw for raw in rest if str(raw.get("id")) not in first)
                return
            offset += len(data)

    def _children_by_related_list(self, related: RelatedList, parent_ids: list[str]) -> Iterator[Record]:
        # Notes can't be read with COQL (§4.4), so one paged call per parent (the api-notes recipe).
        # Those calls are independent: up to the profile's concurrency run at once (the gate
        # in ZohoApi.call still bounds what is in flight), each parent's records yielded in parent order.
        fields = ",".join(self.metadata.list_columns(related.child_object, LIST_FIELDS_MAX))
        workers = min(self.concurrency, len(parent_ids))
        if workers <= 1:
            for parent_id in parent_ids:
                yield from self._related_records(related, parent_id, fields)
            return
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            # A window of parents read ahead (not every parent at once: a level of 2,000 deals' notes
            # would wait whole in their futures while the reader takes them one by one).
            ahead: deque[Future[list[Record]]] = deque()
            for parent_id in parent_ids:
                ahead.append(pool.submit(lambda p: list(self._related_records(related, p, fields)), parent_id))
                if len(ahead) >= 2 * workers:
                    yield from ahead.popleft().result()
            while ahead:
                yield from ahead.popleft().result()
        finally:
            # A reader that stops early (a tree too large) must not wait for every other parent.
            pool.shutdown(wait=True, cancel_futures=True)

    def _related_records(self, related: RelatedList, parent_id: str, fields: str) -> Iterator[Record]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-related-records.html
        child = related.child_object
        parent_module = related.parent_object or self.module_of(parent_id)
        if not parent_module:
            return
        path = self.api.module_path(parent_module, parent_id, related.name)
        page, token = 1, ""
        while True:
            params: dict[str, Any] = {"fields": fields, "per_page": READ_PAGE}
            if token:
                params["page_token"] = token  # §4.1: beyond 2,000 records only by page token
            else:
                params["page"] = page
            status, body = self.api.call("GET", path, safe=True, params=params)
            result = self._page(child, status, body, page)
            yield from result.records
            info = zp.dict_in(body, "info")
            if not result.more or not result.records:
                break
            page += 1
            if page * READ_PAGE > 2000 or token:
                token = str(info.get("next_page_token") or "")
                if not token:
                    break

    def match_ids(self, object_name: str, field: str, values: Sequence[str]) -> dict[str, list[str]]:
        """COQL `select id, f from m where f in (...)`, COQL_IN_MAX values a query (KAIZEN183:
        100); modules COQL can't read (Notes) and Users are asked per value (`find`, `users`).
        Rows are mapped back by their exact value (COQL's text comparison may ignore case)."""
        module, name = zp.check_name(object_name), zp.check_name(field)
        wanted = list(dict.fromkeys(str(v) for v in values if v not in (None, "")))
        if module in NON_COQL_MODULES or module == USERS:
            return {v: ids for v in wanted if (ids := [r.id for r in self.find(module, {name: v})])}
        if name not in {f.name for f in self.metadata.describe(module)}:
            raise Rejected(f"{module} has no field {name}.", error_type="INVALID_FIELD", field=name)
        out: dict[str, list[str]] = {}
        for start in range(0, len(wanted), COQL_IN_MAX):
            chunk = wanted[start : start + COQL_IN_MAX]
            condition = f"{name} in ({', '.join(zp.coql_literal(v) for v in chunk)})"
            for raw in self._coql(module, ["id", name], condition):
                value = str(zp.ref_id(raw.get(name)) if isinstance(raw.get(name), dict) else raw.get(name) or "")
                if value in chunk:
                    out.setdefault(value, []).append(str(raw.get("id") or ""))
        return out

    # -- lookups for reconciliation ------------------------------------------------------------
    def find(
        self,
        object_name: str,
        equals: dict[str, str],
        *,
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        if not (equals or created_since or created_by):
            return []
        zoho_finds.check_fields(module := zp.check_name(object_name), equals, self.metadata.describe(module))
        if module in NON_COQL_MODULES:
            return self._find_without_coql(module, equals, created_since=created_since, created_by=created_by)
        conditions = [f"{name} = {zp.coql_literal(zp.ref_id(value))}" for name, value in equals.items()]
        conditions += zoho_finds.stamp_conditions(created_since, created_by)
        return self._found(module, conditions, list(equals))

    def find_among(
        self,
        object_name: str,
        field: str,
        values: Sequence[str],
        *,
        also: Sequence[str] = (),
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        """find's conditions with `field in (...)`, COQL_IN_MAX values a query (not Notes: by parent)."""
        if (module := zp.check_name(object_name)) in NON_COQL_MODULES:
            raise Rejected(f"{module} are looked up one parent at a time.", error_type="NOT_SUPPORTED")
        zoho_finds.check_fields(module, [field, *also], self.metadata.describe(module))
        wanted = list(dict.fromkeys(str(zp.ref_id(v)) for v in values if v not in (None, "")))
        stamps, found = zoho_finds.stamp_conditions(created_since, created_by), dict[str, Record]()
        for start in range(0, len(wanted), COQL_IN_MAX):
            listed = ", ".join(zp.coql_literal(v) for v in wanted[start : start + COQL_IN_MAX])
            found.update((r.id, r) for r in self._found(module, [f"{field} in ({listed})", *stamps], [field, *also]))
        return list(found.values())

    def _found(self, module: str, conditions: list[str], compared: Sequence[str]) -> list[Record]:
        columns = ["id", *compared, *self.metadata.list_columns(module, COQL_FIELDS_MAX)]  # compared: never capped
        rows = self._coql(module, list(dict.fromkeys(columns))[:COQL_FIELDS_MAX], zp.coql_where(conditions))
        return [self._record(module, raw) for raw in rows]

    def _find_without_coql(
        self, module: str, equals: dict[str, str], *, created_since: dt.datetime | None, created_by: str
    ) -> list[Record]:
        """Notes: the parent's, compared as COQL would (no documented filter without a parent)."""
        parent = zp.ref_id(equals.get("Parent_Id")) if "Parent_Id" in equals else ""
        if not parent:
            raise Rejected(f"{module} can only be looked up by their parent record.", error_type="NOT_SUPPORTED")
        related = RelatedList(
            name=module,
            label=module,
            child_object=module,
            parent_field="Parent_Id",
            parent_object=self.module_of(parent),
        )
        if not related.parent_object:
            return []
        records = self._children_by_related_list(related, [parent])
        return [r for r in records if zoho_finds.matches(r, equals, created_since=created_since, created_by=created_by)]
