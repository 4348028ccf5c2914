"""Veeva Vault: session auth, metadata, VQL reads, create / clone / delete, native deep copy.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it). Vault answers
HTTP 200 for every processed request, so decisions are made on `responseStatus` and the error
`type`, never on the HTTP status (§6). Headers are read case-insensitively (`requests` does).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

from records.connectors import vault_parse as vp
from records.connectors.base import (
    AuthFailed,
    CloneRequest,
    ConfigurationError,
    Connector,
    ConnectorError,
    CopyKeyField,
    DeepCopyRow,
    FieldInfo,
    NotFound,
    ObjectInfo,
    Page,
    ProfileConfig,
    RateLimited,
    Record,
    Rejected,
    RelatedList,
    RemoteJob,
    TokenStore,
    Unavailable,
    WriteResult,
)
from records.connectors.http import DEFAULT_TIMEOUT, HttpClient, Response
from records.connectors.urls import check_base_url

log = logging.getLogger(__name__)

# The newest Vault API release this app supports: what a new profile is given unless told
# otherwise, and what a profile without a version speaks.
LATEST_API_VERSION = "v26.3"
DEFAULT_API_VERSION = LATEST_API_VERSION
DEFAULT_CLIENT_ID = "recordcopier-app-server-copier"
DEFAULT_POLL_INTERVAL = 10.0  # §5.2: at most one job-status call per 10 s per job
MAX_QUERY_CHARS = 50_000  # §3.3
SESSION_LIFETIME = dt.timedelta(hours=47)  # §1.3: hard cap 48 h; re-authenticate a little early
# Ids per `id IN (...)` of a names read: ~19 characters an id keeps 1,000 far below 50,000, and
# 1,000 rows is VQL's default page (§3.3), so a chunk is usually one call.
NAMES_CHUNK = 1000
CHILD_CHUNK = 200  # parent ids per `IN (...)`; keeps each VQL statement far below 50,000 chars
COPY_KEY_LABEL = "Copy Key"
COPY_KEY_LENGTH = 100  # the engine's keys are 29 characters (plan.idempotency_key)

_RECORD_ID_RE = re.compile(r"\A[A-Za-z0-9]{1,64}\Z")
_VERSION_RE = re.compile(r"\Av\d{1,2}\.\d{1,2}\Z")
_CLIENT_ID_BAD = re.compile(r"[^A-Za-z0-9._-]")  # §7.3 allowed characters


class PollTimes:
    """When each Vault job was last polled, keyed by (Vault, job id) (§5.2). One per process by
    default (`POLL_TIMES`), passed to every connector, so a connector built for a resumed run does
    not poll sooner than the last one did."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}

    def reserve(self, key: tuple[str, str], interval: float) -> float:
        """Reserve the next poll of `key`; return how long to wait for it. The slot is taken
        before the caller sleeps, so concurrent pollers queue behind each other."""
        with self._lock:
            last = self._last.get(key)
            now = self.clock()
            wait = 0.0 if last is None else last + interval - now
            self._last[key] = max(now, now + wait)
        return wait

    def clear(self) -> None:
        with self._lock:
            self._last.clear()


POLL_TIMES = PollTimes()


_DUPLICATE_RE = re.compile(r"already exists with \[(\w+)=")


class VaultConnector(Connector):
    system = "vault"
    batch_size = 500  # §4.1, §8.1
    native_deep_copy = True
    creates_from_source = True
    updates_records = True
    max_deep_copy_depth = 5
    name_fields = ("name__v",)
    copy_key_fields = ("copy_key__c",)

    def __init__(
        self,
        config: ProfileConfig,
        tokens: TokenStore | None = None,
        *,
        client_id: str | None = None,
        poll_interval: float | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff: float = 0.5,
        burst_threshold: int | None = None,
        burst_pause: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        polls: PollTimes = POLL_TIMES,
    ):
        super().__init__(config, tokens)
        self.base = check_base_url(config.base_url, "vault", allow_loopback=config.allow_loopback)
        self.version = config.api_version or DEFAULT_API_VERSION
        if not _VERSION_RE.match(self.version):
            raise ConfigurationError("The API version must look like v25.2.", error_type="INVALID_VERSION")
        if not config.username or not config.secret:
            raise ConfigurationError("The profile needs a user name and a password.", error_type="MISSING_CREDENTIALS")
        cid = client_id or config.client_id or DEFAULT_CLIENT_ID
        self.client_id = _CLIENT_ID_BAD.sub("-", cid)[:100]
        interval = poll_interval if poll_interval is not None else config.job_poll_seconds
        self.poll_interval = float(interval) if interval > 0 else DEFAULT_POLL_INTERVAL
        # Below this many calls left in the 5-minute window, pause before each call (§7.1).
        self.burst_threshold = burst_threshold
        self.burst_pause = burst_pause
        self.sleep = sleep
        self.polls = polls
        self.http = HttpClient(
            self.base,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            sleep=sleep,
            pool_size=max(2, config.concurrency * 2),
            headers={"X-VaultAPI-ClientID": self.client_id, "Accept": "application/json"},
        )
        self._describe: dict[str, tuple[list[FieldInfo], dict[str, Any]]] = {}
        self._picklists: dict[str, tuple[str, ...]] = {}  # picklist name -> active value names
        self._picklist_labels: dict[str, tuple[str, ...]] = {}  # picklist name -> their labels
        self._api_user = ""

    def __repr__(self) -> str:
        return f"VaultConnector(base={self.base!r}, version={self.version!r})"

    # -- session ----------------------------------------------------------------------------------
    def _mint(self) -> tuple[str, dt.datetime]:
        """Log in (§1.1) and check the session belongs to the profile's Vault."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/authentication/user-name-and-password/
        response = self.http.request(
            "POST",
            self._api("auth"),
            safe=True,
            data={"username": self.config.username, "password": self.config.secret},
        )
        self._throttle(response)
        session = vp.login_session(vp.json_body(response), self.base)
        if not session.vault_ok:
            log.warning(
                "Vault session for %s is for Vault %s, not the profile's host", self.base, session.vault_id or "?"
            )
        return session.encode(), dt.datetime.now(dt.UTC) + SESSION_LIFETIME

    def _session(self) -> tuple[str, vp.Session]:
        raw, expires = self.tokens.get()
        if not raw or (expires is not None and expires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)):
            raw = self.tokens.refresh(raw, self._mint)
        return raw, vp.Session.decode(raw)

    def _write_session(self) -> tuple[str, vp.Session]:
        """A session checked to be for the profile's Vault (§1.1); refuse to go on otherwise.
        Every write and the connection test use it."""
        raw, session = self._session()
        if session.vault_ok is None:  # cached without the check: log in again to make it
            raw = self.tokens.refresh(raw, self._mint)
            session = vp.Session.decode(raw)
        if not session.vault_ok:
            raise ConfigurationError(
                "Vault opened a session for a different Vault than this profile's host; nothing was written.",
                error_type="WRONG_VAULT",
            )
        return raw, session

    # -- calls ------------------------------------------------------------------------------------
    def _api(self, path: str) -> str:
        return path if path.startswith("/api/") else f"api/{self.version}/{path}"

    def _send(
        self, method: str, path: str, *, safe: bool, write: bool = False, **kwargs: Any
    ) -> tuple[Response, dict[str, Any] | None]:
        """Send one call with the session; re-authenticate once on INVALID_SESSION_ID (§1.5).

        Return (response, parsed JSON body or None for other content)."""
        headers = kwargs.pop("headers", {})
        for attempt in (1, 2):
            raw, session = self._write_session() if write else self._session()
            response = self.http.request(
                method, self._api(path), safe=safe, headers={**headers, "Authorization": session.id}, **kwargs
            )
            self._throttle(response)
            body = vp.json_body(response)
            if body is not None and vp.first_error(body)[0] == "INVALID_SESSION_ID":
                # Refused unprocessed, so even a write may be sent again with a new session.
                if attempt == 1:
                    log.info("Vault session expired; logging in again")
                    self.tokens.refresh(raw, self._mint)
                    continue
                raise AuthFailed("Vault refused the session again after a new login.", error_type="INVALID_SESSION_ID")
            if body is None and response.status_code >= 500:
                raise vp.lost(write, f"Vault answered HTTP {response.status_code}.")
            return response, body
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, *, safe: bool = True, write: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Send a call that answers JSON and return the body once it says SUCCESS or WARNING."""
        response, body = self._send(method, path, safe=safe, write=write, **kwargs)
        if body is None:
            raise vp.lost(write, "Vault gave an answer that is not JSON.")
        return vp.check(body, write=write)

    def _throttle(self, response: Response) -> None:
        """§7.1: slow down as the burst window runs out instead of letting Vault delay us."""
        remaining = vp.to_int(response.headers.get("X-VaultAPI-BurstLimitRemaining"))
        if remaining is None:
            return
        limit = vp.to_int(response.headers.get("X-VaultAPI-BurstLimit")) or 2000
        threshold = self.burst_threshold if self.burst_threshold is not None else max(20, limit // 10)
        if remaining < threshold:
            # Longer pauses the closer the window is to empty.
            pause = self.burst_pause * (1 + (threshold - remaining) / max(threshold, 1))
            log.info("Vault burst limit: %s calls left; pausing %.2fs", remaining, pause)
            self.sleep(pause)

    # -- VQL ---------------------------------------------------------------------------------------
    def _query(self, q: str) -> Iterator[dict[str, Any]]:
        """Run a VQL statement (§3.3) and yield every row, following next_page."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-query-language-vql/submitting-a-query/
        if len(q) > MAX_QUERY_CHARS:
            raise Rejected("The query is longer than Vault accepts.", error_type="QUERY_TOO_LONG")
        body = self._call("POST", "query", data={"q": q})
        while True:
            yield from vp.rows(body)
            next_page = (body.get("responseDetails") or {}).get("next_page")
            if not next_page:
                return
            # Docs say POST for page calls (VAPIL uses GET); both are reads.
            body = self._call("POST", next_page)

    def _fields(self, object_name: str) -> dict[str, FieldInfo]:
        return {f.name: f for f in self.describe(object_name)}

    def _record(self, object_name: str, row: dict[str, Any]) -> Record:
        created, modified, created_by = vp.stamps(row)
        return Record(
            id=str(row.get("id") or ""),
            object_name=object_name,
            fields=row,
            name=str(row.get("name__v") or ""),
            created=created,
            modified=modified,
            created_by=created_by,
        )

    # -- reading ----------------------------------------------------------------------------------
    def test_connection(self) -> str:
        _, session = self._write_session()
        body = self._users_me()
        name = vp.user_name(body) or self.config.username
        return f"Connected to Vault {session.vault_id} at {urlsplit(self.base).hostname} as {name}."

    def _users_me(self) -> dict[str, Any]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/users/validate-session-user/
        body = self._call("GET", "objects/users/me")
        self._api_user = vp.user_id(body) or self._api_user
        return body

    def api_user_id(self) -> str:
        """The session user's id (Validate Session User, §1.4), read once per connector: records
        this profile creates have it in `created_by__v`."""
        if not self._api_user:
            self._users_me()
            if not self._api_user:
                raise Unavailable("Vault did not say which user this session belongs to.", error_type="BAD_RESPONSE")
        return self._api_user

    def clock_offset(self) -> dt.timedelta:
        return self.http.clock_offset()

    def list_objects(self) -> list[ObjectInfo]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-collection/
        return vp.objects(self._call("GET", "metadata/vobjects"))

    def _metadata(self, object_name: str) -> tuple[list[FieldInfo], dict[str, Any]]:
        if object_name not in self._describe:
            # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-metadata/
            obj = vp.object_metadata(self._call("GET", f"metadata/vobjects/{vp.vql_name(object_name)}"))
            fields = [self._with_picklist_values(vp.field_info(f), f) for f in vp.raw_fields(obj)]
            self._describe[object_name] = (fields, obj)
        return self._describe[object_name]

    def _with_picklist_values(self, info: FieldInfo, raw: dict[str, Any]) -> FieldInfo:
        """Fill a Picklist field's allowed value names from the picklist it names (metadata key
        `picklist`, §2.3), read once per picklist per connector. Object metadata lists no values."""
        name = raw.get("picklist")
        if info.remote_type != "Picklist" or info.picklist_values or not isinstance(name, str) or not name:
            return info
        values = self._picklist_values(name)
        labels = self._picklist_labels.get(name, ())
        return replace(info, picklist_values=values, picklist_labels=labels) if values else info

    def _picklist_values(self, picklist: str) -> tuple[str, ...]:
        """The ACTIVE value names of a picklist, in order; () when they can't be read.

        Retrieve Picklist Values: GET /api/{v}/objects/picklists/{picklist_name} ->
        `picklistValues: [{name, label}]`, active values only. Reference:
        https://limited.veevavault.dev/vault-api/api-reference/25.2/picklists/retrieve-picklist-values/
        A failure here must not fail describe(): the field then has no values and validation of
        its overrides is skipped (Vault itself still refuses a bad value, as a row failure)."""
        if picklist not in self._picklists:
            try:
                body = self._call("GET", f"objects/picklists/{vp.vql_name(picklist)}")
            except ConnectorError as exc:  # not cached: a later describe may try again
                log.warning("Could not read Vault picklist %s (%s); its values are not checked", picklist, exc)
                return ()
            values = vp.picklist_values(body)
            if not values:
                log.warning("Vault picklist %s came back without values; its values are not checked", picklist)
                return ()
            self._picklists[picklist] = values
            # The labels of the same values, for the forms (picklists shown by label).
            self._picklist_labels[picklist] = vp.picklist_labels(body, values)
        return self._picklists[picklist]

    def describe(self, object_name: str) -> list[FieldInfo]:
        return list(self._metadata(object_name)[0])

    def related_lists(self, object_name: str) -> list[RelatedList]:
        """Inbound parent-child relationships: from the object's `relationships[]`, or, when it
        lists none, from the Object fields of the other objects that point here (§2.2-2.4)."""
        _, obj = self._metadata(object_name)
        out = vp.child_lists(obj, object_name)
        if not out and not vp.lists_relationships(obj):
            out = self._inbound_from_fields(object_name)
        return out

    def _inbound_from_fields(self, object_name: str) -> list[RelatedList]:
        out = []
        for other in self.list_objects():
            try:
                _, meta = self._metadata(other.name)
            except ConnectorError:
                continue
            out.extend(vp.inbound_lists(meta, other, object_name))
        return out

    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        self._metadata(object_name)  # the object must exist
        page, per_page = max(1, int(page)), min(max(1, int(per_page)), 1000)
        where = ""
        text = (text or "").strip()
        if text:
            where = f" WHERE id = {vp.vql_string(text)} OR name__v LIKE {vp.vql_string('%' + text + '%')}"
        q = (
            f"SELECT id, name__v FROM {vp.vql_name(object_name)}{where} ORDER BY name__v ASC"
            f" PAGESIZE {per_page} PAGEOFFSET {(page - 1) * per_page}"
        )
        if len(q) > MAX_QUERY_CHARS:
            raise Rejected("The search text is too long.", error_type="QUERY_TOO_LONG")
        body = self._call("POST", "query", data={"q": q})
        rows = vp.rows(body)
        details = body.get("responseDetails") or {}
        total = vp.to_int(details.get("total"))
        more = (page - 1) * per_page + len(rows) < total if total is not None else len(rows) == per_page
        return Page([self._record(object_name, r) for r in rows], page, bool(more))

    def get(self, object_name: str, record_id: str) -> Record:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-record/
        if not _RECORD_ID_RE.match(str(record_id or "")):
            raise NotFound(f"No {object_name} record with that id.", error_type="INVALID_DATA")
        body = self._call("GET", f"vobjects/{vp.vql_name(object_name)}/{quote(record_id, safe='')}")
        return self._record(object_name, vp.record(body))

    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        fields = self._fields(related.child_object)
        if related.parent_field not in fields:
            raise Rejected(f"{related.child_object} has no field {related.parent_field}.", error_type="INVALID_NAME")
        names = ", ".join(vp.vql_name(n) for n in fields)
        ids = list(dict.fromkeys(str(p) for p in parent_ids if p))
        for start in range(0, len(ids), CHILD_CHUNK):
            chunk = ", ".join(vp.vql_string(i) for i in ids[start : start + CHILD_CHUNK])
            q = f"SELECT {names} FROM {vp.vql_name(related.child_object)} WHERE {vp.vql_name(related.parent_field)} IN ({chunk})"
            for row in self._query(q):
                yield self._record(related.child_object, row)

    def names(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        """§3.3: `SELECT id, name__v FROM {object} WHERE id IN (...)`, NAMES_CHUNK ids a statement."""
        self._metadata(object_name)  # the object must exist
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if _RECORD_ID_RE.match(i)]
        out: dict[str, str] = {}
        for start in range(0, len(wanted), NAMES_CHUNK):
            chunk = ", ".join(vp.vql_string(i) for i in wanted[start : start + NAMES_CHUNK])
            q = f"SELECT id, name__v FROM {vp.vql_name(object_name)} WHERE id IN ({chunk})"
            out.update(vp.names(self._query(q)))
        return out

    def field_values(self, object_name: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """§3.3: `SELECT id, <fields> FROM {object} WHERE id IN (...)`, NAMES_CHUNK ids a statement;
        fields the object doesn't have are left out."""
        known = self._fields(object_name)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if _RECORD_ID_RE.match(i)]
        columns = [f for f in dict.fromkeys(fields) if f in known and f != "id"]
        select = ", ".join(["id", *(vp.vql_name(f) for f in columns)])
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), NAMES_CHUNK):
            chunk = ", ".join(vp.vql_string(i) for i in wanted[start : start + NAMES_CHUNK])
            q = f"SELECT {select} FROM {vp.vql_name(object_name)} WHERE id IN ({chunk})"
            for row in self._query(q):
                out[str(row.get("id") or "")] = {f: row.get(f) for f in columns}
        out.pop("", None)
        return out

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
        fields = self._fields(object_name)
        unknown = [k for k in equals if k not in fields]
        if unknown:
            raise Rejected(f"{object_name} has no field {unknown[0]!r}.", error_type="INVALID_NAME")
        stamps = [n for n in vp.STAMP_FIELDS if n in fields]
        select = ", ".join(dict.fromkeys(["id", *(n for n in ("name__v",) if n in fields), *stamps, *equals]))
        conditions = [f"{vp.vql_name(k)} = {vp.vql_string(v)}" for k, v in equals.items()]
        if created_since is not None:
            # Floored to the whole second Vault keeps (vp.vql_datetime): never later than asked.
            conditions.append(f"{vp.CREATED_FIELD} >= {vp.vql_datetime(created_since)}")
        if created_by:
            # UNCONFIRMED: the documented VQL examples compare object references with a quoted id
            # (`product__v = '00P…'`); created_by__v answers as an integer (§3.2) and is compared
            # the same way here, quoted, which the sandbox accepts as a number too.
            conditions.append(f"{vp.CREATED_BY_FIELD} = {vp.vql_string(created_by)}")
        q = f"SELECT {select} FROM {vp.vql_name(object_name)} WHERE {' AND '.join(conditions)}"
        return [self._record(object_name, r) for r in self._query(q)]

    def stamps(self, object_name: str, ids: Sequence[str]) -> dict[str, Record]:
        """§3.3: `SELECT id, name__v, created_date__v, modified_date__v, created_by__v ... WHERE id
        IN (...)`, NAMES_CHUNK ids a statement (as names())."""
        fields = self._fields(object_name)  # the object must exist
        columns = ", ".join(n for n in ("id", "name__v", *vp.STAMP_FIELDS) if n == "id" or n in fields)
        wanted = [i for i in dict.fromkeys(str(i) for i in ids if i) if _RECORD_ID_RE.match(i)]
        out: dict[str, Record] = {}
        for start in range(0, len(wanted), NAMES_CHUNK):
            chunk = ", ".join(vp.vql_string(i) for i in wanted[start : start + NAMES_CHUNK])
            q = f"SELECT {columns} FROM {vp.vql_name(object_name)} WHERE id IN ({chunk})"
            for row in self._query(q):
                record = self._record(object_name, row)
                if record.id:
                    out[record.id] = record
        return out

    # -- writing ----------------------------------------------------------------------------------
    def clone(self, object_name: str, requests: Sequence[CloneRequest]) -> list[WriteResult]:
        """§4.1: create with `source_record_id` (a shallow copy); other values override it."""
        rows = [{"source_record_id": r.source_id, **r.overrides} for r in requests]
        return self._write_rows("POST", object_name, rows)

    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self._write_rows("POST", object_name, [dict(r) for r in rows])

    def update(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        """§4.2 Update Object Records (PUT, `id` per row, each id once a call)."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/update-object-records/
        return self._write_rows("PUT", object_name, [dict(r) for r in rows])

    def duplicate_field(self, outcome: WriteResult) -> str:
        # api-notes vault.md §8: uniqueness is OPERATION_NOT_ALLOWED "Another resource already exists with [f=v]".
        match = (
            _DUPLICATE_RE.search(outcome.error_message or "") if outcome.error_type == "OPERATION_NOT_ALLOWED" else None
        )
        return match.group(1) if match else ""

    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/delete-object-records/
        return self._write_rows("DELETE", object_name, [{"id": str(i)} for i in ids])

    def _write_rows(self, method: str, object_name: str, rows: list[dict[str, Any]]) -> list[WriteResult]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/create-upsert-object-records/
        path = f"vobjects/{vp.vql_name(object_name)}"
        headers = {"Content-Type": "application/json"}
        if method != "DELETE" and self.automation.migration_mode:
            # api-notes vault.md §4.1; refused by Vault (its message on each row) without the permission.
            headers["X-VaultAPI-MigrationMode"] = "true"
            if self.automation.no_triggers:
                headers["X-VaultAPI-NoTriggers"] = "true"
        results: list[WriteResult] = []
        for start in range(0, len(rows), self.batch_size):
            batch = [
                {k: ("" if v is None else v) for k, v in row.items()} for row in rows[start : start + self.batch_size]
            ]
            # Never resent after a lost answer (safe=False): the engine reconciles first.
            body = self._call(
                method,
                path,
                safe=False,
                write=True,
                data=json.dumps(batch, default=vp.json_default).encode(),
                headers=headers,
            )
            results.extend(vp.write_results(body, len(batch)))
        return results

    def record_url(self, object_name: str, record_id: str) -> str:
        return f"{self.base}/ui/#object/{quote(object_name, safe='')}/{quote(str(record_id), safe='')}"

    # -- deep copy and cascade delete -------------------------------------------------------------
    def start_deep_copy(self, object_name: str, record_id: str, overrides: dict[str, Any]) -> str:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/deep-copy-object-record/
        kwargs: dict[str, Any] = {}
        if overrides:
            # Exactly one row of overrides for the top record; "" blanks a field on the copy.
            row = {k: ("" if v is None else v) for k, v in overrides.items()}
            kwargs = {
                "data": json.dumps([row], default=vp.json_default).encode(),
                "headers": {"Content-Type": "application/json"},
            }
        return self._start_job(object_name, record_id, "deepcopy", **kwargs)

    def start_cascade_delete(self, object_name: str, record_id: str) -> str:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/cascade-delete-object-record/
        return self._start_job(object_name, record_id, "cascadedelete")

    def _start_job(self, object_name: str, record_id: str, action: str, **kwargs: Any) -> str:
        if not _RECORD_ID_RE.match(str(record_id or "")):
            raise NotFound(f"No {object_name} record with that id.", error_type="INVALID_DATA")
        path = f"vobjects/{vp.vql_name(object_name)}/{record_id}/actions/{action}"
        body = self._call("POST", path, safe=False, write=True, **kwargs)
        return vp.job_id(body)

    def job_status(self, job_id: str) -> RemoteJob:
        """§5.2: never more than one call per poll interval per job; API_LIMIT_EXCEEDED = wait."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/jobs/retrieve-job-status/
        if not str(job_id).isdigit():
            raise NotFound("No Vault job with that id.", error_type="INVALID_DATA")
        key = (self.base, str(job_id))
        for _ in range(6):
            self._wait_for_poll_slot(key)
            try:
                body = self._call("GET", f"services/jobs/{job_id}")
            except RateLimited:
                continue  # polled too soon for Vault (another worker, clock skew): wait a slot
            return vp.remote_job(body, str(job_id))
        raise RateLimited(
            "Vault kept refusing job status calls.", error_type="API_LIMIT_EXCEEDED", retry_after=self.poll_interval
        )

    def _wait_for_poll_slot(self, key: tuple[str, str]) -> None:
        wait = self.polls.reserve(key, self.poll_interval)
        if wait > 0:
            self.sleep(wait)

    def deep_copy_results(self, object_name: str, job_id: str) -> list[DeepCopyRow]:
        """§5.3: parse the success and failure CSVs of a finished deep-copy job."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-results-of-deep-copy-job/
        if not str(job_id).isdigit():
            raise NotFound("No Vault job with that id.", error_type="INVALID_DATA")
        base = f"vobjects/deepcopy/results/{vp.vql_name(object_name)}"
        files, errors = {}, {}
        for which in ("success", "failure"):
            try:
                files[which] = self._csv(f"{base}/{which}/{job_id}")
            except (NotFound, Rejected) as exc:
                errors[which] = exc
        if not files:
            raise errors["success"]
        # One file missing while the other exists means "no rows of that kind".
        return [*vp.success_rows(files.get("success", "")), *vp.failure_rows(files.get("failure", ""))]

    def _csv(self, path: str) -> str:
        response, body = self._send("GET", path, safe=True, headers={"Accept": "text/csv"})
        if body is not None:  # §5.3: a JSON body means an error, whatever the status
            vp.check(body, write=False)
            raise Unavailable("Vault sent JSON where a CSV file was expected.", error_type="BAD_RESPONSE")
        ctype = response.headers.get("Content-Type", "").lower()
        if response.status_code != 200 or ("csv" not in ctype and "text/plain" not in ctype):
            raise Unavailable(
                f"Vault gave an unexpected answer (HTTP {response.status_code}).", error_type="BAD_RESPONSE"
            )
        return str(response.content.decode("utf-8-sig", "replace"))

    # -- the copy-key field (MDL) -----------------------------------------------------------------
    def copy_key_definition(self, object_name: str) -> CopyKeyField:
        name = self.copy_key_fields[0]
        if name in self._fields(object_name):  # NotFound for an unknown object
            raise Rejected(f"{object_name} already has the field {name}.", error_type="ALREADY_EXISTS", field=name)
        statement = vp.mdl_add_field(object_name, name, label=COPY_KEY_LABEL, max_length=COPY_KEY_LENGTH)
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

    def add_copy_key(self, object_name: str) -> str:
        """Execute MDL Script (POST /api/mdl/execute, synchronous; the asynchronous endpoint is
        required only for objects of 10,000+ high-volume records). Needs an Admin with the
        permission to change object configuration; Vault answers otherwise with a FAILURE."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.1/metadata-definition-language-mdl/execute-mdl-script/
        definition = self.copy_key_definition(object_name)
        statement = definition.call.split("\n", 1)[1]
        try:
            # The documented request: Content-Type application/json, the script as the raw body.
            _, body = self._send(
                "POST",
                "/api/mdl/execute",
                safe=False,
                write=True,
                data=statement.encode(),
                headers={"Content-Type": "application/json"},
            )
            if body is None:
                raise vp.lost(True, "Vault gave an answer to the MDL script that is not JSON.")
            vp.mdl_outcome(body)
        except ConnectorError as exc:
            self._describe.pop(object_name, None)
            if definition.name in self._fields(object_name):
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
            raise
        self._describe.pop(object_name, None)  # describe() reads the new field
        return definition.name
