"""Zoho CRM connector: OAuth refresh-token flow, metadata, reads (REST + COQL), clone and writes.

Facts and sources: ../shared/api-notes/zoho.md (section numbers below refer to it). Every call goes
through `HttpClient`; the access token is cached per profile in the TokenStore shared by workers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

from records.connectors import zoho_parse as zp
from records.connectors.base import (
    AuthFailed,
    CloneRequest,
    ConfigurationError,
    Connector,
    ConnectorError,
    CopyKeyField,
    FieldInfo,
    FieldType,
    NotFound,
    ObjectInfo,
    OutcomeUnknown,
    Page,
    ProfileConfig,
    Record,
    Rejected,
    RelatedList,
    TokenStore,
    Unavailable,
    WriteResult,
)
from records.connectors.http import HttpClient
from records.connectors.slots import profile_gate
from records.connectors.urls import check_base_url, zoho_accounts_for

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v7"
# Refresh a little before Zoho would refuse the token, so a call never starts with a dying token.
REFRESH_MARGIN = dt.timedelta(seconds=60)
WRITE_BATCH = 100  # §3.1 insert/upsert, §3.4 notes, §8 delete: at most 100 per call
COQL_IN_MAX = 100  # §4.4 (v7): at most 100 values in `in (...)`
COQL_LIMIT = 2000  # §4.4: at most 2,000 rows per COQL call
COQL_MAX_OFFSET = 100_000  # §4.4: up to 100,000 rows through LIMIT/OFFSET
READ_PAGE = 200  # §4.1: per_page max 200
# §4.1 lists `ids` among Get Records' parameters without a maximum [UNCONFIRMED]: 100 a call, the
# documented limit of `ids` on delete (§8) and of COQL's `in (...)` (§4.4), the most plausible one.
GET_IDS_MAX = 100
USERS = "Users"  # the target of Owner and user lookups (FieldInfo.reference_to)
LIST_FIELDS_MAX = 50  # §4.1: at most 50 fields when listing
COQL_FIELDS_MAX = 500  # §4.4 (v7): at most 500 SELECT columns
# §4.4: modules COQL cannot read; their children are read through the related-list API.
NON_COQL_MODULES = frozenset({"Notes", "Attachments"})
ACTIVITY_MODULES = frozenset({"Tasks", "Events", "Calls"})
PERSON_MODULES = frozenset({"Contacts", "Leads"})
COPY_KEY_LABEL = "Copy Key"  # Zoho names the field from its label: Copy_Key
COPY_KEY_LENGTH = 100  # the engine's keys are 29 characters (plan.idempotency_key)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


SKIP_CADENCES = {"skip_feature_execution": [{"name": "cadences"}]}


class ZohoConnector(Connector):
    system = "zoho"
    batch_size = WRITE_BATCH
    native_deep_copy = False
    updates_records = True
    max_deep_copy_depth = 2
    system_fields = frozenset(
        {
            "id",
            "Created_By",
            "Modified_By",
            "Created_Time",
            "Modified_Time",
            "Last_Activity_Time",
            "Tag",
            "Record_Image",
            "Unsubscribed_Time",
            "Unsubscribed_Mode",
            "Locked__s",
        }
    )
    subform_row_system_fields = frozenset(
        {"id", "Parent_Id", "Created_By", "Modified_By", "Created_Time", "Modified_Time"}
    )
    name_fields = ("Account_Name", "Deal_Name", "Last_Name", "Subject", "Note_Title", "Full_Name")
    copy_key_fields = ("Copy_Key",)

    def insert_extras(self, source_fields: dict[str, Any]) -> dict[str, Any]:
        # Tasks' What_Id points into the module $se_module names: an insert must say which.
        if source_fields.get("What_Id") and "$se_module" in source_fields:
            return {"$se_module": source_fields["$se_module"]}
        return {}

    # Zoho throttles with 429 (concurrency or credits); back off with jitter, ~1+2+4+8 s at most,
    # then report RateLimited so the engine can pause the job instead of hammering the org.
    max_attempts = 5
    backoff = 1.0
    max_backoff = 20.0
    timeout = (5.0, 60.0)

    # connector_for passes this connector a Redis connection (`redis=`, the django-rq one) for
    # the profile's shared concurrency slots; without one the limit holds per process only.
    shared_slots = True

    def __init__(self, config: ProfileConfig, tokens: TokenStore | None = None, *, redis: Any = None):
        super().__init__(config, tokens)
        loopback = config.allow_loopback
        self.api_domain = check_base_url(config.base_url, "zoho_api", allow_loopback=loopback)
        accounts = config.accounts_url or zoho_accounts_for(self.api_domain)
        self.accounts_url = check_base_url(accounts, "zoho_accounts", allow_loopback=loopback)
        if not (config.username and config.secret and config.refresh_token):
            raise ConfigurationError(
                "A Zoho profile needs a client id, a client secret and a refresh token.",
                error_type="MISSING_CREDENTIALS",
            )
        self.api_version = config.api_version or DEFAULT_API_VERSION
        zp.check_name(self.api_version)
        self.http = HttpClient(
            self.api_domain,
            other_origins=(self.accounts_url,),
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
            pool_size=max(10, config.concurrency),
        )
        key = (self.api_domain, config.username, hashlib.sha256(config.refresh_token.encode()).hexdigest()[:16])
        # A slot's lease: twice the read timeout. A live holder's lease is renewed while its call
        # (retries included) runs; a dead worker's slot is free again after at most this long.
        self._slots = profile_gate(key, config.concurrency, redis, lease=2 * self.timeout[1])
        self._meta_lock = threading.Lock()
        self._fields: dict[str, list[FieldInfo]] = {}
        self._modules: list[dict[str, Any]] | None = None
        self._module_of: dict[str, str] = {}  # record id -> module, learned from reads and writes
        self._api_user = ""

    def __repr__(self) -> str:
        return f"ZohoConnector(api_domain={self.api_domain!r}, name={self.config.name!r})"

    # -- OAuth (§1) ----------------------------------------------------------------------------
    def _token(self) -> str:
        token, expires = self.tokens.get()
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if token and (expires is None or expires - _utcnow() > REFRESH_MARGIN):
            return token
        return self.tokens.refresh(token, self._mint)

    def _mint(self) -> tuple[str, dt.datetime]:
        # Reference: https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html
        # The credentials go in the form body, never the URL, so no access log or urllib3 debug
        # line can show them.
        response = self.http.request(
            "POST",
            f"{self.accounts_url}/oauth/v2/token",
            safe=True,
            data={
                "grant_type": "refresh_token",
                "client_id": self.config.username,
                "client_secret": self.config.secret,
                "refresh_token": self.config.refresh_token,
            },
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        token, seconds, domain = zp.token_answer(response.status_code, body)
        if domain and domain.rstrip("/").lower() != self.api_domain.lower():
            # Ignored (not followed): the profile's API domain passed the SSRF guard, the token
            # answer's did not; sending our token wherever the answer says would defeat the guard.
            log.warning("Zoho token answer names another API domain; keeping the profile's.")
        return token, _utcnow() + dt.timedelta(seconds=seconds)

    # -- one API call --------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, safe: bool, write: bool = False, results: str = "data", **kwargs: Any
    ) -> tuple[int, Any]:
        """Send one API call; return (status, parsed body or None for 204). Raise typed errors.

        An answer carrying a `results` array (a batch write's per-record results, `data`; the
        settings writes' `fields`) is returned even when its status is 400: per-item codes are
        the truth (§3.1).
        """
        url = f"/crm/{self.api_version}/{path.lstrip('/')}"
        token = self._token()
        for attempt in (1, 2):
            headers = {"Authorization": f"Zoho-oauthtoken {token}", "Accept": "application/json"}
            with self._slots:
                response = self.http.request(method, url, safe=safe, headers=headers, **kwargs)
            status = response.status_code
            if status == 204:
                return status, None
            try:
                body = response.json() if response.content else None
            except ValueError:
                body = None
            code, _, _ = zp.envelope(body)
            if status == 401 and code in ("INVALID_TOKEN", "INVALID_OAUTHTOKEN") and attempt == 1:
                # §1.4: expired or revoked token. Refresh once (the store mints only if nobody
                # else has already replaced this token) and retry once; 401 means not processed.
                token = self.tokens.refresh(token, self._mint)
                continue
            break
        if 200 <= status < 300:
            if body is None:
                if write:
                    raise OutcomeUnknown(
                        "Zoho's answer could not be read; the write may have been applied.",
                        error_type="UNREADABLE_ANSWER",
                    )
                raise Unavailable("Zoho's answer could not be read.", error_type="UNREADABLE_ANSWER")
            return status, body
        if status in (400, 207, 202) and isinstance(body, dict) and isinstance(body.get(results), list):
            return status, body
        raise zp.error_for(status, body, write=write)

    def _module_path(self, module: str, *parts: str) -> str:
        return "/".join([quote(zp.check_name(module), safe="")] + [quote(str(p), safe="") for p in parts])

    # -- reading -------------------------------------------------------------------------------
    def test_connection(self) -> str:
        modules = self._module_list()
        host = urlsplit(self.api_domain).netloc
        return f"Zoho CRM at {host} (API {self.api_version}): {len(modules)} modules available."

    def _module_list(self) -> list[dict[str, Any]]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/modules-api.html
        if self._modules is None:
            _, body = self._call("GET", "settings/modules", safe=True)
            modules = body.get("modules") if isinstance(body, dict) else None
            if not isinstance(modules, list):
                raise Unavailable("Zoho returned an unexpected module list.", error_type="UNEXPECTED_ANSWER")
            self._modules = [m for m in modules if isinstance(m, dict) and isinstance(m.get("api_name"), str)]
        return self._modules

    def list_objects(self) -> list[ObjectInfo]:
        out = []
        for m in self._module_list():
            # §5.1: only api_supported modules work; subform/linking modules aren't copied alone.
            if not m.get("api_supported") or not m.get("creatable"):
                continue
            if m.get("generated_type") in ("subform", "linking") or m.get("status") not in (None, "visible"):
                continue
            out.append(
                ObjectInfo(
                    name=m["api_name"],
                    label=str(m.get("singular_label") or m["api_name"]),
                    label_plural=str(m.get("plural_label") or m["api_name"]),
                )
            )
        return out

    def describe(self, object_name: str) -> list[FieldInfo]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/field-meta.html
        module = zp.check_name(object_name)
        with self._meta_lock:
            cached = self._fields.get(module)
        if cached is not None:
            return cached
        status, body = self._call("GET", "settings/fields", safe=True, params={"module": module})
        raw = body.get("fields") if isinstance(body, dict) else None
        if status == 204 or not isinstance(raw, list):
            raise NotFound(f"Zoho has no field metadata for {module}.", error_type="INVALID_MODULE")
        fields = [f for f in (zp.field_info(r, module) for r in raw if isinstance(r, dict)) if f]
        with self._meta_lock:
            self._fields[module] = fields
        return fields

    def related_lists(self, object_name: str) -> list[RelatedList]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/related-list-meta.html
        module = zp.check_name(object_name)
        status, body = self._call("GET", "settings/related_lists", safe=True, params={"module": module})
        raw = body.get("related_lists") if isinstance(body, dict) else None
        out = []
        for entry in raw if isinstance(raw, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("api_name"), str):
                continue
            child = (entry.get("module") or {}).get("api_name") if isinstance(entry.get("module"), dict) else None
            if not isinstance(child, str) or entry.get("status") not in (None, "visible"):
                continue  # grouped views (Activities_Chronological_View) have no module
            parent_field = ""
            if entry.get("type") in (None, "default"):
                parent_field = self._parent_field(module, child)
            out.append(
                RelatedList(
                    name=entry["api_name"],
                    label=str(entry.get("display_label") or entry.get("name") or entry["api_name"]),
                    child_object=child,
                    parent_field=parent_field,
                    # Only lists whose records point back through a lookup can be re-pointed at a copy.
                    deep_copy=bool(parent_field),
                    parent_object=module,
                )
            )
        return out

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

    def _list_fields(self, module: str, limit: int) -> list[str]:
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

    def _record(self, module: str, raw: dict[str, Any]) -> Record:
        rid = str(raw.get("id") or "")
        if rid:
            self._module_of[rid] = module
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

    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        module = zp.check_name(object_name)
        per_page = max(1, min(per_page, READ_PAGE))
        page = max(1, page)
        text = (text or "").strip()
        fields = ",".join(self._list_fields(module, LIST_FIELDS_MAX))
        params: dict[str, Any] = {"fields": fields, "page": page, "per_page": per_page}
        if not text:
            # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
            status, body = self._call("GET", self._module_path(module), safe=True, params=params)
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
            params["criteria"] = f"({name_field}:starts_with:{_criteria_value(text)})"
        status, body = self._call("GET", self._module_path(module, "search"), safe=True, params=params)
        return self._page(module, status, body, page)

    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        """§4.1 Get Records with `ids` (GET_IDS_MAX a call) and only the name fields in `fields`."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
        module = zp.check_name(object_name)
        if module == USERS:
            return super().names(module, ids)  # one user a call: the Users API takes no list of ids
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if zp.looks_like_id(i)]
        known = {f.name for f in self.describe(module)}
        fields = ",".join(n for n in zp.name_columns(module) if n in known) or "id"
        out: dict[str, str] = {}
        for start in range(0, len(wanted), GET_IDS_MAX):
            chunk = wanted[start : start + GET_IDS_MAX]
            params = {"ids": ",".join(chunk), "fields": fields, "per_page": READ_PAGE}
            status, body = self._call("GET", self._module_path(module), safe=True, params=params)
            out.update({r.id: r.name for r in self._page(module, status, body, 1).records if r.id in chunk})
        return out

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """§4.1 Get Records with `ids` (GET_IDS_MAX a call) and the named fields (at most
        LIST_FIELDS_MAX: more, or the Users module, are read one record a call)."""
        module = zp.check_name(object_name)
        known = {f.name for f in self.describe(module)} if module != USERS else set()
        columns = [f for f in dict.fromkeys(fields) if f in known]
        if module == USERS or len(columns) > LIST_FIELDS_MAX:
            return super().field_values(module, ids, columns or fields)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if zp.looks_like_id(i)]
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), GET_IDS_MAX):
            chunk = wanted[start : start + GET_IDS_MAX]
            params = {"ids": ",".join(chunk), "fields": ",".join(columns) or "id", "per_page": READ_PAGE}
            status, body = self._call("GET", self._module_path(module), safe=True, params=params)
            for r in self._page(module, status, body, 1).records:
                if r.id in chunk:
                    out[r.id] = {f: r.fields.get(f) for f in columns}
        return out

    def get(self, object_name: str, record_id: str) -> Record:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html (specific record)
        module = zp.check_name(object_name)
        if module == USERS:
            return self._user(record_id)
        try:
            status, body = self._call("GET", self._module_path(module, record_id), safe=True)
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
            status, body = self._call("GET", f"users/{quote(str(user_id), safe='')}", safe=True)
        except Rejected as exc:
            if exc.error_type == "INVALID_DATA":
                raise NotFound("No user with that id.", error_type="INVALID_DATA") from None
            raise
        user = zp.user(body) if status != 204 else None
        if user is None:
            raise NotFound("No user with that id.", error_type="NO_CONTENT")
        return Record(id=str(user["id"]), object_name=USERS, fields=user, name=zp.user_name(user))

    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        child = zp.check_name(related.child_object)
        parent_field = zp.check_name(related.parent_field)
        ids = [str(p) for p in dict.fromkeys(parent_ids) if str(p)]
        if not ids:
            return
        if child in NON_COQL_MODULES:
            yield from self._children_by_related_list(related, ids)
            return
        has_subforms = any(f.type == FieldType.SUBFORM for f in self.describe(child))
        columns = self._list_fields(child, COQL_FIELDS_MAX)
        if parent_field not in columns:
            columns.append(parent_field)
        for start in range(0, len(ids), COQL_IN_MAX):
            chunk = ids[start : start + COQL_IN_MAX]
            condition = f"{parent_field} in ({', '.join(zp.coql_literal(i) for i in chunk)})"
            for raw in self._coql(child, columns, condition):
                if related.parent_object and parent_field == "What_Id" and not raw.get("$se_module"):
                    raw["$se_module"] = related.parent_object  # we asked for What_Id in this module's ids
                if has_subforms:
                    # §4.1: subform rows come only with a single-record GET.
                    yield self.get(child, str(raw.get("id")))
                else:
                    yield self._record(child, raw)

    def _coql(self, module: str, columns: list[str], where: str) -> Iterator[dict[str, Any]]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/Get-Records-through-COQL-Query.html
        select = ", ".join(zp.check_name(c) if c != "id" else c for c in columns)
        offset = 0
        while offset < COQL_MAX_OFFSET:
            query = f"select {select} from {module} where {where} limit {COQL_LIMIT} offset {offset}"
            status, body = self._call("POST", "coql", safe=True, json={"select_query": query})
            if status == 204 or not isinstance(body, dict):
                return
            data = zp.list_in(body, "data")
            for raw in data:
                if isinstance(raw, dict):
                    yield raw
            info = zp.dict_in(body, "info")
            if not info.get("more_records") or not data:
                return
            offset += len(data)

    def _children_by_related_list(self, related: RelatedList, parent_ids: list[str]) -> Iterator[Record]:
        # Notes can't be read with COQL (§4.4), so one paged call per parent (the api-notes recipe).
        # Those calls are independent: up to the profile's concurrency run at once (the semaphore
        # in _call still bounds what is in flight), each parent's records yielded in parent order.
        fields = ",".join(self._list_fields(related.child_object, LIST_FIELDS_MAX))
        workers = min(self.config.concurrency, len(parent_ids))
        if workers <= 1:
            for parent_id in parent_ids:
                yield from self._related_records(related, parent_id, fields)
            return
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            pages = pool.map(lambda p: list(self._related_records(related, p, fields)), parent_ids)
            for records in pages:
                yield from records
        finally:
            # A reader that stops early (a tree too large) must not wait for every other parent.
            pool.shutdown(wait=True, cancel_futures=True)

    def _related_records(self, related: RelatedList, parent_id: str, fields: str) -> Iterator[Record]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-related-records.html
        child = related.child_object
        parent_module = related.parent_object or self._find_module_of(parent_id)
        if not parent_module:
            return
        path = self._module_path(parent_module, parent_id, related.name)
        page, token = 1, ""
        while True:
            params: dict[str, Any] = {"fields": fields, "per_page": READ_PAGE}
            if token:
                params["page_token"] = token  # §4.1: beyond 2,000 records only by page token
            else:
                params["page"] = page
            status, body = self._call("GET", path, safe=True, params=params)
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

    def find(
        self,
        object_name: str,
        equals: dict[str, str],
        *,
        created_since: dt.datetime | None = None,
        created_by: str = "",
    ) -> list[Record]:
        module = zp.check_name(object_name)
        if not (equals or created_since or created_by):
            return []
        known = {f.name for f in self.describe(module)} | {"id"}
        for name in equals:
            if zp.check_name(name) not in known:
                raise Rejected(f"{module} has no field {name}.", error_type="INVALID_FIELD", field=name)
        if module in NON_COQL_MODULES:
            return self._find_without_coql(module, equals, created_since=created_since, created_by=created_by)
        columns = self._list_fields(module, COQL_FIELDS_MAX)
        conditions = [f"{name} = {zp.coql_literal(_ref(value))}" for name, value in equals.items()]
        if created_since is not None:
            conditions.append(f"{zp.CREATED_FIELD} >= {zp.coql_datetime(created_since)}")
        if created_by:
            # A lookup compares with the record's id as a quoted string (§4.4's Account_Name = '<id>').
            conditions.append(f"{zp.CREATED_BY_FIELD} = {zp.coql_literal(created_by)}")
        condition = zp.coql_where(conditions)
        return [self._record(module, raw) for raw in self._coql(module, columns, condition)]

    def _find_without_coql(
        self, module: str, equals: dict[str, str], *, created_since: dt.datetime | None, created_by: str
    ) -> list[Record]:
        """Notes: read the parent's notes and compare (the same conditions COQL would apply);
        without a parent there is no documented filter."""
        parent = _ref(equals.get("Parent_Id")) if "Parent_Id" in equals else ""
        if not parent:
            raise Rejected(f"{module} can only be looked up by their parent record.", error_type="NOT_SUPPORTED")
        related = RelatedList(
            name=module,
            label=module,
            child_object=module,
            parent_field="Parent_Id",
            parent_object=self._find_module_of(parent),
        )
        if not related.parent_object:
            return []
        out = []
        for record in self._children_by_related_list(related, [parent]):
            if not all(_ref(record.fields.get(k)) == _ref(v) for k, v in equals.items()):
                continue
            if created_since is not None and (record.created is None or record.created < _floor_second(created_since)):
                continue
            if created_by and record.created_by != str(created_by):
                continue
            out.append(record)
        return out

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        """§4.1 Get Records with `ids` (GET_IDS_MAX a call) and `fields` = the name and
        Created_Time, Modified_Time, Created_By (as names()); Notes are read the same way."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
        module = zp.check_name(object_name)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if zp.looks_like_id(i)]
        known = {f.name for f in self.describe(module)}
        name = zp.MODULE_NAME_FIELD.get(module)
        fields = ",".join(n for n in (name, *zp.STAMP_FIELDS) if n and n in known) or "id"
        out: dict[str, Record] = {}
        for start in range(0, len(wanted), GET_IDS_MAX):
            chunk = wanted[start : start + GET_IDS_MAX]
            params = {"ids": ",".join(chunk), "fields": fields, "per_page": READ_PAGE}
            status, body = self._call("GET", self._module_path(module), safe=True, params=params)
            out.update({r.id: r for r in self._page(module, status, body, 1).records if r.id in chunk})
        return out

    def api_user_id(self) -> str:
        """The id of the user the refresh token acts for, read once per connector: records this
        profile creates carry it in Created_By."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-users.html (type=CurrentUser;
        # scope ZohoCRM.users.READ)
        if not self._api_user:
            status, body = self._call("GET", "users", safe=True, params={"type": "CurrentUser"})
            found = zp.current_user_id(body) if status != 204 else ""
            if not found:
                raise Unavailable("Zoho did not say which user this profile acts as.", error_type="UNEXPECTED_ANSWER")
            self._api_user = found
        return self._api_user

    def clock_offset(self) -> dt.timedelta:
        return self.http.clock_offset()

    def _find_module_of(self, record_id: str) -> str:
        """The module a record id belongs to: learned from earlier calls, else by asking each module."""
        if record_id in self._module_of:
            return self._module_of[record_id]
        for m in self.list_objects():
            try:
                self.get(m.name, record_id)
            except (NotFound, Rejected):
                continue
            return m.name
        return ""

    # -- writing -------------------------------------------------------------------------------
    def clone(self, object_name: str, requests: Sequence[CloneRequest]) -> list[WriteResult]:
        module = zp.check_name(object_name)
        if not requests:
            return []
        workers = max(1, min(self.config.concurrency, len(requests)))
        if workers == 1:
            outcomes = [self._clone_one(module, r) for r in requests]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(lambda r: self._clone_one(module, r), requests))
        return _settle(outcomes)

    def _clone_one(self, module: str, request: CloneRequest) -> WriteResult | ConnectorError:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/record-clone.html
        # No body when there are no overrides (what Zoho's own SDK sends); else {"data": [overrides]}.
        kwargs: dict[str, Any] = {"json": {"data": [dict(request.overrides)]}} if request.overrides else {}
        if self.automation.skip_cadences:
            # The one documented input key besides `data`, beside it (api-notes zoho.md, Record Clone).
            kwargs = {"json": {"data": [dict(request.overrides)], **SKIP_CADENCES}}
        path = self._module_path(module, request.source_id, "actions", "clone")
        try:
            _, body = self._call("POST", path, safe=False, write=True, **kwargs)
        except Rejected as exc:
            # A record-level refusal without a data array (e.g. unknown source id) is this row's result.
            api_name = exc.details.get("api_name")
            field = api_name if isinstance(api_name, str) else ""
            return WriteResult(
                ok=False,
                error_type=exc.error_type,
                error_message=exc.message,
                field=field,
                existing_id=str(exc.details.get("id") or "") if exc.error_type == "DUPLICATE_DATA" else "",
            )
        except ConnectorError as exc:
            return exc
        data = body.get("data") if isinstance(body, dict) else None
        result = zp.write_result(data[0] if isinstance(data, list) and data else None)
        if result.ok:
            self._module_of[result.new_id] = module
        return result

    def duplicate_field(self, outcome: WriteResult) -> str:
        # §3.1: DUPLICATE_DATA names the clashing field in details.api_name.
        return outcome.field if outcome.error_type == "DUPLICATE_DATA" else ""

    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/insert-records.html
        module = zp.check_name(object_name)
        if module == "Notes":
            rows = [self._note_row(r) for r in rows]
        return self._batched(module, rows, path=self._module_path(module))

    def update(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """§3.3 Update Records: `PUT /{module}`, at most 100 rows a call, each with its `id`; a
        partial update (only the fields given change). Results in input order.

        Callers send plain fields and lookups only: a subform row without `id` is appended (§7), so
        an update carrying subform rows would not repeat harmlessly after a lost answer."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/update-records.html
        module = zp.check_name(object_name)
        if not all(str(r.get("id") or "") for r in rows):
            raise ValueError("Every row of an update needs the id of the record it changes.")
        return self._batched(module, rows, path=self._module_path(module), method="PUT")

    def reference_value(self, record_id: str) -> Any:
        return {"id": record_id}  # §3.1: a lookup is written as {"id": ...}

    def _batched(
        self, module: str, rows: Sequence[dict[str, Any]], *, path: str, method: str = "POST"
    ) -> list[WriteResult]:
        outcomes: list[WriteResult | ConnectorError] = []
        for start in range(0, len(rows), WRITE_BATCH):
            batch = [dict(r) for r in rows[start : start + WRITE_BATCH]]
            # "trigger": [] — no workflows, approvals or blueprints fire on copies (§3.1; updates
            # take the same body, §3.3), unless the user lets them (omitted: they run).
            body = {"data": batch, **({} if self.automation.run_workflows else {"trigger": []})}
            if self.automation.skip_cadences:
                # Inserts (§3.1) and, as §3.2 lists the key for updates too, the second pass's updates.
                body.update(SKIP_CADENCES)
            try:
                _, answer = self._call(method, path, safe=False, write=True, json=body)
            except ConnectorError as exc:
                outcomes.extend([exc] * len(batch))
                break  # later batches aren't sent; _settle decides what the caller hears
            data = answer.get("data") if isinstance(answer, dict) else None
            data = data if isinstance(data, list) else []
            for index in range(len(batch)):
                entry = data[index] if index < len(data) else None
                if method == "PUT":
                    result = zp.update_result(entry, str(batch[index]["id"]))
                else:
                    result = zp.write_result(entry)
                if result.ok:
                    self._module_of[result.new_id] = module
                outcomes.append(result)
        outcomes.extend([Unavailable("Not sent.", error_type="NOT_SENT")] * (len(rows) - len(outcomes)))
        return _settle(outcomes)

    def _note_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """§3.4 (v7): Parent_Id is {module:{api_name}, id}; fill the module when only the id is known."""
        row = dict(row)
        parent = row.get("Parent_Id")
        se_module = row.pop("$se_module", "")
        parent_id = _ref(parent)
        module = ""
        if isinstance(parent, dict) and isinstance(parent.get("module"), dict):
            module = str(parent["module"].get("api_name") or "")
        module = (
            module
            or (se_module if isinstance(se_module, str) else "")
            or (self._find_module_of(parent_id) if parent_id else "")
        )
        if parent_id and module:
            row["Parent_Id"] = {"module": {"api_name": zp.check_name(module)}, "id": parent_id}
        return row

    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/delete-records.html
        module = zp.check_name(object_name)
        outcomes: list[WriteResult | ConnectorError] = []
        for start in range(0, len(ids), WRITE_BATCH):
            chunk = [str(i) for i in ids[start : start + WRITE_BATCH]]
            # Not safe to repeat: a repeated delete answers "record not deleted" for rows the lost
            # first attempt already deleted, so a lost answer is OutcomeUnknown and gets reconciled.
            try:
                _, answer = self._call(
                    "DELETE",
                    self._module_path(module),
                    safe=False,
                    write=True,
                    params={"ids": ",".join(chunk), "wf_trigger": "false"},
                )
            except ConnectorError as exc:
                outcomes.extend([exc] * len(chunk))
                break
            data = zp.list_in(answer, "data")
            by_id = {}
            for entry in data:
                _, _, details = zp.envelope(entry)
                if details.get("id") is not None:
                    by_id[str(details["id"])] = entry
            for index, rid in enumerate(chunk):
                entry = by_id.get(rid, data[index] if index < len(data) and not by_id else None)
                result = zp.write_result(entry)
                if result.ok:
                    result.new_id = ""
                outcomes.append(result)
        outcomes.extend([Unavailable("Not sent.", error_type="NOT_SENT")] * (len(ids) - len(outcomes)))
        return _settle(outcomes)

    def record_url(self, object_name: str, record_id: str) -> str:
        parts = urlsplit(self.api_domain)
        host = parts.hostname or ""
        path = f"/crm/tab/{quote(object_name, safe='')}/{quote(str(record_id), safe='')}"
        if ".zohoapis." not in host:
            return f"{self.api_domain}{path}"  # the loopback sandbox
        prefix, _, tld = host.partition(".zohoapis.")
        if tld == "ca":
            base = "https://crm.zohocloud.ca"
        else:
            base = f"https://{'crmsandbox' if prefix == 'sandbox' else 'crm'}.zoho.{tld}"
        return f"{base}{path}"

    # -- the copy-key field (Create Custom Fields) ----------------------------------------------
    def copy_key_definition(self, object_name: str) -> CopyKeyField:
        module = zp.check_name(object_name)
        name = self.copy_key_fields[0]
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
            call=f"POST /crm/{self.api_version}/settings/fields?module={module}\n{json.dumps(body)}",
            note="Zoho names it from its label; unique: “Do not allow duplicate values”.",
        )

    def add_copy_key(self, object_name: str) -> str:
        """Create Custom Fields, then read the module's fields again for the api_name Zoho gave
        it. Needs an administrator's profile and a token with ZohoCRM.settings.fields.CREATE."""
        # Reference: https://www.zoho.com/crm/developer/docs/api/v7/create-custom-field.html
        definition = self.copy_key_definition(object_name)
        module = definition.object_name
        body = zp.custom_text_field(COPY_KEY_LABEL, COPY_KEY_LENGTH)
        try:
            _, answer = self._call(
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
        with self._meta_lock:
            self._fields.pop(module, None)
        _, raw = self._call("GET", "settings/fields", safe=True, params={"module": module})
        created = [f for f in zp.list_in(raw, "fields") if isinstance(f, dict) and str(f.get("id")) == field_id]
        return str(created[0].get("api_name") or definition.name) if created else definition.name

    def _after_refused_field(self, module: str, definition: CopyKeyField, exc: ConnectorError) -> str:
        """A refused or lost Create Custom Fields: the field if it is there now, else why not."""
        with self._meta_lock:
            self._fields.pop(module, None)
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


def _settle(outcomes: list[WriteResult | ConnectorError]) -> list[WriteResult]:
    """Turn per-row outcomes into results, or raise when the batch as a whole is uncertain.

    Rows that raised: if any write may have been applied (OutcomeUnknown, or an error after other
    rows succeeded), the engine must reconcile the batch → OutcomeUnknown. If nothing was applied,
    re-raise the first error so the engine can retry (RateLimited/Unavailable) or fail the rows.
    """
    errors = [o for o in outcomes if isinstance(o, ConnectorError)]
    if not errors:
        return outcomes  # type: ignore[return-value]
    applied = any(isinstance(o, WriteResult) and o.ok for o in outcomes)
    unknown = next((e for e in errors if isinstance(e, OutcomeUnknown)), None)
    if unknown is not None:
        raise unknown
    if applied:
        raise OutcomeUnknown(
            "Part of the batch was written before an error; the rest may or may not have been applied.",
            error_type="PARTIAL_BATCH",
        )
    raise errors[0]


def _floor_second(value: dt.datetime) -> dt.datetime:
    """The bound as COQL would apply it: UTC, whole seconds (zp.coql_datetime)."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=0)


def _ref(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def _criteria_value(text: str) -> str:
    """§4.3: escape ( ) , and backslash in a search criteria value (requests URL-encodes it)."""
    out = []
    for c in text:
        out.append("\\" + c if c in "(),\\" else c)
    return "".join(out)
