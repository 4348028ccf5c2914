"""Veeva Vault: session auth, metadata, VQL reads, create / clone / delete, native deep copy.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it). Vault answers
HTTP 200 for every processed request, so decisions are made on `responseStatus` and the error
`type`, never on the HTTP status (§6). Headers are read case-insensitively (`requests` does).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

from records.connectors.base import (
    AuthFailed,
    CloneRequest,
    ConfigurationError,
    Connector,
    ConnectorError,
    DeepCopyRow,
    FieldInfo,
    FieldType,
    LimitExceeded,
    NotFound,
    ObjectInfo,
    OutcomeUnknown,
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
from records.connectors.http import DEFAULT_TIMEOUT, HttpClient
from records.connectors.urls import check_base_url

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v25.2"
DEFAULT_CLIENT_ID = "recordcopier-app-server-copier"
DEFAULT_POLL_INTERVAL = 10.0  # §5.2: at most one job-status call per 10 s per job
MAX_QUERY_CHARS = 50_000  # §3.3
SESSION_LIFETIME = dt.timedelta(hours=47)  # §1.3: hard cap 48 h; re-authenticate a little early
CHILD_CHUNK = 200  # parent ids per `IN (...)`; keeps each VQL statement far below 50,000 chars

# Vault names are lower-case words with a __v/__c/__sys suffix, or plain `id`; a strict pattern
# means a name can never carry a quote, a space or a keyword into a statement.
_NAME_RE = re.compile(r"\A[A-Za-z][A-Za-z0-9_]{0,99}\Z")
_RECORD_ID_RE = re.compile(r"\A[A-Za-z0-9]{1,64}\Z")
_VERSION_RE = re.compile(r"\Av\d{1,2}\.\d{1,2}\Z")
_CLIENT_ID_BAD = re.compile(r"[^A-Za-z0-9._-]")  # §7.3 allowed characters

AUTH_ERRORS = {
    "INVALID_SESSION_ID",
    "USERNAME_OR_PASSWORD_INCORRECT",
    "NO_PASSWORD_PROVIDED",
    "INACTIVE_USER",
    "USER_LOCKED_OUT",
    "PASSWORD_CHANGE_REQUIRED",
    "AUTHENTICATION_FAILED",
}
# Refused before anything was done, and worth trying again later.
TRANSIENT_ERRORS = {"RACE_CONDITION", "OPERATION_IN_PROGRESS", "CONFIGURATION_MODE_ENABLED"}

_TYPE_MAP = {
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


def vql_string(value: Any) -> str:
    """Return `value` as a VQL string literal: single-quoted, backslash-escaping \\ and '."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def vql_name(name: str) -> str:
    """Return `name` if it is a plain Vault identifier; refuse anything else."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise Rejected("Not a valid Vault object or field name.", error_type="INVALID_NAME")
    return name


def follows_in_deep_copy(relationship: dict) -> bool:
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


@dataclass(frozen=True)
class _Session:
    """A session as cached in the TokenStore: the id plus the Vault check made when it was minted."""

    id: str
    vault_id: str = ""
    vault_ok: bool | None = None  # None: not known (a token cached in another format)

    def encode(self) -> str:
        return f"vault1 {self.vault_id or '-'} {int(bool(self.vault_ok))} {self.id}"

    @classmethod
    def decode(cls, raw: str) -> _Session:
        parts = raw.split(" ", 3)
        if len(parts) == 4 and parts[0] == "vault1":
            return cls(parts[3], "" if parts[1] == "-" else parts[1], parts[2] == "1")
        return cls(raw)

    def __repr__(self):  # never show the session id
        return f"_Session(vault_id={self.vault_id!r}, vault_ok={self.vault_ok!r})"


_DUPLICATE_RE = re.compile(r"already exists with \[(\w+)=")


class VaultConnector(Connector):
    system = "vault"
    batch_size = 500  # §4.1, §8.1
    native_deep_copy = True
    creates_from_source = True
    max_deep_copy_depth = 5
    name_fields = ("name__v",)
    copy_key_fields = ("copy_key__c",)

    # Job poll times shared by every connector in the process, keyed by (Vault, job id), so a
    # connector built for a resumed run does not poll sooner than the last one did.
    _poll_lock = threading.Lock()
    _last_poll: dict[tuple[str, str], float] = {}

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
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(config, tokens)
        self.base = check_base_url(config.base_url, "vault", allow_loopback=config.allow_loopback)
        self.version = config.api_version or DEFAULT_API_VERSION
        if not _VERSION_RE.match(self.version):
            raise ConfigurationError("The API version must look like v25.2.", error_type="INVALID_VERSION")
        if not config.username or not config.secret:
            raise ConfigurationError("The profile needs a user name and a password.", error_type="MISSING_CREDENTIALS")
        cid = client_id or getattr(config, "client_id", "") or DEFAULT_CLIENT_ID
        self.client_id = _CLIENT_ID_BAD.sub("-", cid)[:100]
        interval = poll_interval if poll_interval is not None else getattr(config, "job_poll_seconds", 0) or 0
        self.poll_interval = float(interval) if interval > 0 else DEFAULT_POLL_INTERVAL
        # Below this many calls left in the 5-minute window, pause before each call (§7.1).
        self.burst_threshold = burst_threshold
        self.burst_pause = burst_pause
        self.sleep = sleep
        self.clock = clock
        self.http = HttpClient(
            self.base,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            sleep=sleep,
            pool_size=max(2, config.concurrency * 2),
            headers={"X-VaultAPI-ClientID": self.client_id, "Accept": "application/json"},
        )
        self._describe: dict[str, tuple[list[FieldInfo], dict]] = {}
        self._picklists: dict[str, tuple[str, ...]] = {}  # picklist name -> active value names

    def __repr__(self):
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
        body = _json_body(response)
        if body is None:
            raise Unavailable("Vault gave an unexpected answer to the login.", error_type="BAD_RESPONSE")
        if body.get("responseStatus") != "SUCCESS" or not body.get("sessionId"):
            etype, message = _first_error(body)
            if etype == "API_LIMIT_EXCEEDED":
                raise RateLimited(message or "Too many logins.", error_type=etype)
            if etype in AUTH_ERRORS or body.get("errorType") == "AUTHENTICATION_FAILED":
                raise AuthFailed(message or "Vault refused the user name or password.", error_type=etype)
            raise _error(etype, message, write=False, exception=body.get("responseStatus") == "EXCEPTION")
        vault_id = str(body.get("vaultId") or "")
        # §1.1: Vault may silently log in to the user's "most relevant" Vault instead of the one
        # asked for; the entry for the session's vaultId must point at the profile's host.
        urls = [str(v.get("url") or "") for v in body.get("vaultIds") or [] if str(v.get("id")) == vault_id]
        ok = bool(vault_id) and any(_same_host(u, self.base) for u in urls)
        if not ok:
            log.warning("Vault session for %s is for Vault %s, not the profile's host", self.base, vault_id or "?")
        session = _Session(str(body["sessionId"]), vault_id, ok)
        return session.encode(), dt.datetime.now(dt.UTC) + SESSION_LIFETIME

    def _session(self) -> tuple[str, _Session]:
        raw, expires = self.tokens.get()
        if not raw or (expires is not None and expires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)):
            raw = self.tokens.refresh(raw, self._mint)
        return raw, _Session.decode(raw)

    def _write_session(self) -> tuple[str, _Session]:
        """A session checked to be for the profile's Vault; refuse to write otherwise."""
        raw, session = self._session()
        if session.vault_ok is None:  # cached without the check: log in again to make it
            raw = self.tokens.refresh(raw, self._mint)
            session = _Session.decode(raw)
        if not session.vault_ok:
            raise ConfigurationError(
                "The Vault session is for a different Vault than the profile's; nothing was written.",
                error_type="WRONG_VAULT",
            )
        return raw, session

    # -- calls ------------------------------------------------------------------------------------
    def _api(self, path: str) -> str:
        return path if path.startswith("/api/") else f"api/{self.version}/{path}"

    def _send(self, method: str, path: str, *, safe: bool, write: bool = False, **kwargs):
        """Send one call with the session; re-authenticate once on INVALID_SESSION_ID (§1.5).

        Return (response, parsed JSON body or None for other content)."""
        headers = kwargs.pop("headers", {})
        for attempt in (1, 2):
            raw, session = self._write_session() if write else self._session()
            response = self.http.request(
                method, self._api(path), safe=safe, headers={**headers, "Authorization": session.id}, **kwargs
            )
            self._throttle(response)
            body = _json_body(response)
            if body is not None and _first_error(body)[0] == "INVALID_SESSION_ID":
                # Refused unprocessed, so even a write may be sent again with a new session.
                if attempt == 1:
                    log.info("Vault session expired; logging in again")
                    self.tokens.refresh(raw, self._mint)
                    continue
                raise AuthFailed("Vault refused the session again after a new login.", error_type="INVALID_SESSION_ID")
            if body is None and response.status_code >= 500:
                raise _lost(write, f"Vault answered HTTP {response.status_code}.")
            return response, body
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, *, safe: bool = True, write: bool = False, **kwargs) -> dict:
        """Send a call that answers JSON and return the body once it says SUCCESS or WARNING."""
        response, body = self._send(method, path, safe=safe, write=write, **kwargs)
        if body is None:
            raise _lost(write, "Vault gave an answer that is not JSON.")
        return _check(body, write=write)

    def _throttle(self, response) -> None:
        """§7.1: slow down as the burst window runs out instead of letting Vault delay us."""
        remaining = _int(response.headers.get("X-VaultAPI-BurstLimitRemaining"))
        if remaining is None:
            return
        limit = _int(response.headers.get("X-VaultAPI-BurstLimit")) or 2000
        threshold = self.burst_threshold if self.burst_threshold is not None else max(20, limit // 10)
        if remaining < threshold:
            # Longer pauses the closer the window is to empty.
            pause = self.burst_pause * (1 + (threshold - remaining) / max(threshold, 1))
            log.info("Vault burst limit: %s calls left; pausing %.2fs", remaining, pause)
            self.sleep(pause)

    # -- VQL ---------------------------------------------------------------------------------------
    def _query(self, q: str) -> Iterator[dict]:
        """Run a VQL statement (§3.3) and yield every row, following next_page."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-query-language-vql/submitting-a-query/
        if len(q) > MAX_QUERY_CHARS:
            raise Rejected("The query is longer than Vault accepts.", error_type="QUERY_TOO_LONG")
        body = self._call("POST", "query", data={"q": q})
        while True:
            yield from _rows(body)
            next_page = (body.get("responseDetails") or {}).get("next_page")
            if not next_page:
                return
            # Docs say POST for page calls (VAPIL uses GET); both are reads.
            body = self._call("POST", next_page)

    def _fields(self, object_name: str) -> dict[str, FieldInfo]:
        return {f.name: f for f in self.describe(object_name)}

    def _record(self, object_name: str, row: dict) -> Record:
        return Record(id=str(row.get("id") or ""), object_name=object_name, fields=row, name=str(row.get("name__v") or ""))

    # -- reading ----------------------------------------------------------------------------------
    def test_connection(self) -> str:
        raw, session = self._session()
        if session.vault_ok is None:
            raw = self.tokens.refresh(raw, self._mint)
            session = _Session.decode(raw)
        if not session.vault_ok:
            raise ConfigurationError(
                "Logged in, but Vault opened a session for a different Vault than this profile's host.",
                error_type="WRONG_VAULT",
            )
        body = self._call("GET", "objects/users/me")
        users = body.get("users") or [{}]
        user = (users[0] or {}).get("user") or {}
        name = user.get("user_name__v") or self.config.username
        return f"Connected to Vault {session.vault_id} at {urlsplit(self.base).hostname} as {name}."

    def list_objects(self) -> list[ObjectInfo]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-collection/
        body = self._call("GET", "metadata/vobjects")
        out = []
        for item in body.get("objects") or []:
            if isinstance(item, dict) and item.get("name"):
                out.append(ObjectInfo(str(item["name"]), str(item.get("label") or item["name"]), str(item.get("label_plural") or "")))
        return sorted(out, key=lambda o: o.label.lower())

    def _metadata(self, object_name: str) -> tuple[list[FieldInfo], dict]:
        if object_name not in self._describe:
            # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-metadata/
            body = self._call("GET", f"metadata/vobjects/{vql_name(object_name)}")
            obj = body.get("object")
            if not isinstance(obj, dict):
                raise Unavailable("Vault's object metadata has an unexpected shape.", error_type="BAD_RESPONSE")
            raw = [f for f in obj.get("fields") or [] if isinstance(f, dict) and f.get("name")]
            fields = [self._with_picklist_values(_field_info(f), f) for f in raw]
            self._describe[object_name] = (fields, obj)
        return self._describe[object_name]

    def _with_picklist_values(self, info: FieldInfo, raw: dict) -> FieldInfo:
        """Fill a Picklist field's allowed value names from the picklist it names (metadata key
        `picklist`, §2.3), read once per picklist per connector. Object metadata lists no values."""
        name = raw.get("picklist")
        if info.remote_type != "Picklist" or info.picklist_values or not isinstance(name, str) or not name:
            return info
        values = self._picklist_values(name)
        return replace(info, picklist_values=values) if values else info

    def _picklist_values(self, picklist: str) -> tuple[str, ...]:
        """The ACTIVE value names of a picklist, in order; () when they can't be read.

        Retrieve Picklist Values: GET /api/{v}/objects/picklists/{picklist_name} ->
        `picklistValues: [{name, label}]`, active values only. Reference:
        https://limited.veevavault.dev/vault-api/api-reference/25.2/picklists/retrieve-picklist-values/
        A failure here must not fail describe(): the field then has no values and validation of
        its overrides is skipped (Vault itself still refuses a bad value, as a row failure)."""
        if picklist not in self._picklists:
            try:
                body = self._call("GET", f"objects/picklists/{vql_name(picklist)}")
            except ConnectorError as exc:  # not cached: a later describe may try again
                log.warning("Could not read Vault picklist %s (%s); its values are not checked", picklist, exc)
                return ()
            items = body.get("picklistValues")
            values = tuple(
                str(v["name"]) for v in items if isinstance(v, dict) and isinstance(v.get("name"), str) and v["name"]
            ) if isinstance(items, list) else ()
            if not values:
                log.warning("Vault picklist %s came back without values; its values are not checked", picklist)
                return ()
            self._picklists[picklist] = values
        return self._picklists[picklist]

    def describe(self, object_name: str) -> list[FieldInfo]:
        return list(self._metadata(object_name)[0])

    def related_lists(self, object_name: str) -> list[RelatedList]:
        """Inbound parent-child relationships: from the object's `relationships[]`, or, when it
        lists none, from the Object fields of the other objects that point here (§2.2-2.4)."""
        _, obj = self._metadata(object_name)
        out = []
        for rel in obj.get("relationships") or []:
            if not isinstance(rel, dict) or rel.get("relationship_type") != "child":
                continue
            target = rel.get("object") or {}
            child = target.get("name") if isinstance(target, dict) else str(target)
            if child and rel.get("field") and rel.get("relationship_name"):
                out.append(RelatedList(
                    name=rel["relationship_name"], label=str(rel.get("relationship_label") or rel["relationship_name"]),
                    child_object=child, parent_field=rel["field"], deep_copy=follows_in_deep_copy(rel),
                    parent_object=object_name,
                ))
        if not out and not any(
            isinstance(r, dict) and r.get("relationship_type") in ("child", "reference_inbound")
            for r in obj.get("relationships") or []
        ):
            out = self._inbound_from_fields(object_name)
        return out

    def _inbound_from_fields(self, object_name: str) -> list[RelatedList]:
        out = []
        for other in self.list_objects():
            try:
                _, meta = self._metadata(other.name)
            except ConnectorError:
                continue
            for f in meta.get("fields") or []:
                target = f.get("object") or {}
                target = target.get("name") if isinstance(target, dict) else target
                if f.get("type") == "Object" and target == object_name and f.get("relationship_type") == "parent":
                    name = f.get("relationship_inbound_name") or f"{other.name}.{f['name']}"
                    out.append(RelatedList(
                        name=name, label=str(f.get("relationship_inbound_label") or other.label_plural or other.label),
                        child_object=other.name, parent_field=f["name"], deep_copy=follows_in_deep_copy(f),
                        parent_object=object_name,
                    ))
        return out

    def search(self, object_name: str, text: str = "", *, page: int = 1, per_page: int = 50) -> Page:
        self._metadata(object_name)  # the object must exist
        page, per_page = max(1, int(page)), min(max(1, int(per_page)), 1000)
        where = ""
        text = (text or "").strip()
        if text:
            where = f" WHERE id = {vql_string(text)} OR name__v LIKE {vql_string('%' + text + '%')}"
        q = (
            f"SELECT id, name__v FROM {vql_name(object_name)}{where} ORDER BY name__v ASC"
            f" PAGESIZE {per_page} PAGEOFFSET {(page - 1) * per_page}"
        )
        if len(q) > MAX_QUERY_CHARS:
            raise Rejected("The search text is too long.", error_type="QUERY_TOO_LONG")
        body = self._call("POST", "query", data={"q": q})
        rows = _rows(body)
        details = body.get("responseDetails") or {}
        total = _int(details.get("total"))
        more = (page - 1) * per_page + len(rows) < total if total is not None else len(rows) == per_page
        return Page([self._record(object_name, r) for r in rows], page, bool(more))

    def get(self, object_name: str, record_id: str) -> Record:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-object-record/
        if not _RECORD_ID_RE.match(str(record_id or "")):
            raise NotFound(f"No {object_name} record with that id.", error_type="INVALID_DATA")
        body = self._call("GET", f"vobjects/{vql_name(object_name)}/{quote(record_id, safe='')}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise Unavailable("Vault's record has an unexpected shape.", error_type="BAD_RESPONSE")
        return self._record(object_name, data)

    def children(self, related: RelatedList, parent_ids: Sequence[str]) -> Iterator[Record]:
        fields = self._fields(related.child_object)
        if related.parent_field not in fields:
            raise Rejected(f"{related.child_object} has no field {related.parent_field}.", error_type="INVALID_NAME")
        names = ", ".join(vql_name(n) for n in fields)
        ids = list(dict.fromkeys(str(p) for p in parent_ids if p))
        for start in range(0, len(ids), CHILD_CHUNK):
            chunk = ", ".join(vql_string(i) for i in ids[start : start + CHILD_CHUNK])
            q = f"SELECT {names} FROM {vql_name(related.child_object)} WHERE {vql_name(related.parent_field)} IN ({chunk})"
            for row in self._query(q):
                yield self._record(related.child_object, row)

    def find(self, object_name: str, equals: dict[str, str]) -> list[Record]:
        if not equals:
            return []
        fields = self._fields(object_name)
        unknown = [k for k in equals if k not in fields]
        if unknown:
            raise Rejected(f"{object_name} has no field {unknown[0]!r}.", error_type="INVALID_NAME")
        select = ", ".join(dict.fromkeys(["id", *(n for n in ("name__v",) if n in fields), *equals]))
        where = " AND ".join(f"{vql_name(k)} = {vql_string(v)}" for k, v in equals.items())
        q = f"SELECT {select} FROM {vql_name(object_name)} WHERE {where}"
        return [self._record(object_name, r) for r in self._query(q)]

    # -- writing ----------------------------------------------------------------------------------
    def clone(self, object_name: str, requests: Sequence[CloneRequest]) -> list[WriteResult]:
        """§4.1: create with `source_record_id` (a shallow copy); other values override it."""
        rows = [{"source_record_id": r.source_id, **r.overrides} for r in requests]
        return self._write_rows("POST", object_name, rows)

    def create(self, object_name: str, rows: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self._write_rows("POST", object_name, [dict(r) for r in rows])

    def duplicate_field(self, outcome: WriteResult) -> str:
        # api-notes vault.md §8: uniqueness is OPERATION_NOT_ALLOWED "Another resource already exists with [f=v]".
        match = _DUPLICATE_RE.search(outcome.error_message or "") if outcome.error_type == "OPERATION_NOT_ALLOWED" else None
        return match.group(1) if match else ""

    def delete(self, object_name: str, ids: Sequence[str]) -> list[WriteResult]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/delete-object-records/
        return self._write_rows("DELETE", object_name, [{"id": str(i)} for i in ids])

    def _write_rows(self, method: str, object_name: str, rows: list[dict]) -> list[WriteResult]:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/create-upsert-object-records/
        path = f"vobjects/{vql_name(object_name)}"
        headers = {"Content-Type": "application/json"}
        if method != "DELETE" and self.automation.migration_mode:
            # api-notes vault.md §4.1; refused by Vault (its message on each row) without the permission.
            headers["X-VaultAPI-MigrationMode"] = "true"
            if self.automation.no_triggers:
                headers["X-VaultAPI-NoTriggers"] = "true"
        results: list[WriteResult] = []
        for start in range(0, len(rows), self.batch_size):
            batch = [{k: ("" if v is None else v) for k, v in row.items()} for row in rows[start : start + self.batch_size]]
            # Never resent after a lost answer (safe=False): the engine reconciles first.
            body = self._call(
                method, path, safe=False, write=True,
                data=json.dumps(batch, default=_json_default).encode(),
                headers=headers,
            )
            items = body.get("data")
            if not isinstance(items, list) or len(items) != len(batch):
                raise OutcomeUnknown(
                    "Vault's answer does not have one result per record; the write may have been applied.",
                    error_type="BAD_RESPONSE",
                )
            results.extend(_write_result(item) for item in items)
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
            kwargs = {"data": json.dumps([row], default=_json_default).encode(), "headers": {"Content-Type": "application/json"}}
        return self._start_job(object_name, record_id, "deepcopy", **kwargs)

    def start_cascade_delete(self, object_name: str, record_id: str) -> str:
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/cascade-delete-object-record/
        return self._start_job(object_name, record_id, "cascadedelete")

    def _start_job(self, object_name: str, record_id: str, action: str, **kwargs) -> str:
        if not _RECORD_ID_RE.match(str(record_id or "")):
            raise NotFound(f"No {object_name} record with that id.", error_type="INVALID_DATA")
        path = f"vobjects/{vql_name(object_name)}/{record_id}/actions/{action}"
        body = self._call("POST", path, safe=False, write=True, **kwargs)
        job_id = body.get("job_id")
        if job_id in (None, ""):
            raise OutcomeUnknown("Vault accepted the job but sent no job id.", error_type="BAD_RESPONSE")
        return str(job_id)

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
            data = body.get("data")
            if not isinstance(data, dict) or not data.get("status"):
                raise Unavailable("Vault's job status has an unexpected shape.", error_type="BAD_RESPONSE")
            return RemoteJob(str(data.get("id") or job_id), str(data["status"]))
        raise RateLimited("Vault kept refusing job status calls.", error_type="API_LIMIT_EXCEEDED", retry_after=self.poll_interval)

    def _wait_for_poll_slot(self, key: tuple[str, str]) -> None:
        with self._poll_lock:
            last = self._last_poll.get(key)
            now = self.clock()
            wait = 0.0 if last is None else last + self.poll_interval - now
            # Reserve the slot before sleeping so concurrent pollers queue behind each other.
            self._last_poll[key] = max(now, now + wait)
        if wait > 0:
            self.sleep(wait)

    def deep_copy_results(self, object_name: str, job_id: str) -> list[DeepCopyRow]:
        """§5.3: parse the success and failure CSVs of a finished deep-copy job."""
        # Reference: https://general.veevavault.dev/vault-api/api-reference/26.2/vault-objects/retrieve-results-of-deep-copy-job/
        if not str(job_id).isdigit():
            raise NotFound("No Vault job with that id.", error_type="INVALID_DATA")
        base = f"vobjects/deepcopy/results/{vql_name(object_name)}"
        files, errors = {}, {}
        for which in ("success", "failure"):
            try:
                files[which] = self._csv(f"{base}/{which}/{job_id}")
            except (NotFound, Rejected) as exc:
                errors[which] = exc
        if not files:
            raise errors["success"]
        # One file missing while the other exists means "no rows of that kind".
        return [*_success_rows(files.get("success", "")), *_failure_rows(files.get("failure", ""))]

    def _csv(self, path: str) -> str:
        response, body = self._send("GET", path, safe=True, headers={"Accept": "text/csv"})
        if body is not None:  # §5.3: a JSON body means an error, whatever the status
            _check(body, write=False)
            raise Unavailable("Vault sent JSON where a CSV file was expected.", error_type="BAD_RESPONSE")
        ctype = response.headers.get("Content-Type", "").lower()
        if response.status_code != 200 or ("csv" not in ctype and "text/plain" not in ctype):
            raise Unavailable(f"Vault gave an unexpected answer (HTTP {response.status_code}).", error_type="BAD_RESPONSE")
        return response.content.decode("utf-8-sig", "replace")


# ---------------------------------------------------------------------------------------------
# Parsing at the boundary.


def _json_body(response) -> dict | None:
    if "json" not in response.headers.get("Content-Type", "").lower():
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _first_error(body: dict) -> tuple[str, str]:
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("type") or ""), str(errors[0].get("message") or "")
    return "", ""


def _lost(write: bool, message: str) -> ConnectorError:
    if write:
        return OutcomeUnknown(message + " The write may have been applied.", error_type="OUTCOME_UNKNOWN")
    return Unavailable(message, error_type="UNAVAILABLE")


def _check(body: dict, *, write: bool) -> dict:
    status = body.get("responseStatus")
    if status in ("SUCCESS", "WARNING"):
        return body
    etype, message = _first_error(body)
    raise _error(etype, message, write=write, exception=status == "EXCEPTION" or status is None)


def _error(etype: str, message: str, *, write: bool, exception: bool = False) -> ConnectorError:
    """Map a Vault error type (§6) to a typed error."""
    message = message or "Vault refused the request."
    if exception or etype in ("UNEXPECTED_ERROR", "EXCEPTION", ""):
        # A system error: a write may have got part way, so only a read counts as "not applied".
        return _lost(write, f"Vault had an internal error: {message}") if write else Unavailable(message, error_type=etype or "EXCEPTION")
    if etype in AUTH_ERRORS:
        return AuthFailed(message, error_type=etype)
    if etype == "API_LIMIT_EXCEEDED":
        return RateLimited(message, error_type=etype)
    if etype in TRANSIENT_ERRORS:
        return Unavailable(message, error_type=etype)
    if etype == "MALFORMED_URL" or (etype == "INVALID_DATA" and not write and "does not exist" in message.lower()):
        return NotFound(message, error_type=etype)
    field = _field_in(message)
    if etype == "OPERATION_NOT_ALLOWED" and re.search(r"limit", message, re.I) and re.search(r"related", message, re.I):
        return LimitExceeded(message, error_type=etype, field=field)
    return Rejected(message, error_type=etype, field=field)


def _field_in(message: str) -> str:
    m = re.search(r"\[([A-Za-z][A-Za-z0-9_]*)(?:=[^\]]*)?\]", message)
    return m.group(1) if m and "__" in m.group(1) else ""


def _rows(body: dict) -> list[dict]:
    data = body.get("data")
    if not isinstance(data, list):
        raise Unavailable("Vault's query answer has an unexpected shape.", error_type="BAD_RESPONSE")
    return [r for r in data if isinstance(r, dict)]


def _write_result(item: Any) -> WriteResult:
    if not isinstance(item, dict):
        return WriteResult(ok=False, error_type="BAD_RESPONSE", error_message="Vault sent no result for this record.")
    if item.get("responseStatus") in ("SUCCESS", "WARNING"):
        data = item.get("data") or {}
        return WriteResult(ok=True, new_id=str(data.get("id") or ""))
    etype, message = _first_error(item)
    return WriteResult(ok=False, error_type=etype or "FAILURE", error_message=message or "Vault refused this record.")


def _field_info(f: dict) -> FieldInfo:
    remote = str(f.get("type") or "")
    if remote == "Number":
        # Without a scale of 0 the field may hold decimals; a decimal widget accepts both.
        kind = FieldType.NUMBER if f.get("scale") == 0 else FieldType.DECIMAL
    elif remote == "Picklist":
        kind = FieldType.MULTI_PICKLIST if f.get("multi_value") else FieldType.PICKLIST
    else:
        kind = _TYPE_MAP.get(remote, FieldType.OTHER)
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
        max_length=_int(f.get("max_length")),
        system_managed_name=bool(f.get("system_managed_name")),
    )


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


# UNCONFIRMED (§5.3, §11.1): the success file's columns are not documented. Accept the likely
# names for each value; a file without a new-id column leaves new_id empty so the engine falls
# back to querying the new hierarchy.
_OBJECT_COLUMNS = ("vobject", "object", "objectname", "sourceobject", "objecttype")
_SOURCE_COLUMNS = ("sourcerecordid", "sourceid", "source", "originalrecordid", "sourcerecord")
_NEW_COLUMNS = ("targetrecordid", "newrecordid", "targetid", "newid", "copyrecordid", "copiedrecordid", "recordid", "id")


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if row.get(name):
            return row[name].strip()
    return ""


def _csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return []
    keys = [_norm(h) for h in header]
    return [dict(zip(keys, row, strict=False)) for row in reader if any(c.strip() for c in row)]


def _success_rows(text: str) -> list[DeepCopyRow]:
    out = []
    for row in _csv_rows(text):
        source = _pick(row, _SOURCE_COLUMNS)
        if source:
            out.append(DeepCopyRow(_pick(row, _OBJECT_COLUMNS), source, True, new_id=_pick(row, _NEW_COLUMNS)))
    return out


def _failure_rows(text: str) -> list[DeepCopyRow]:
    """`line number,vobject,sourceRecordId,errors`; errors is a CSV list of "TYPE|message"."""
    out = []
    for row in _csv_rows(text):
        source = _pick(row, _SOURCE_COLUMNS)
        if not source:
            continue
        items = next(csv.reader([row.get("errors", "")]), []) if row.get("errors") else []
        parsed = [item.partition("|") for item in items if item.strip()]
        etype = parsed[0][0].strip() if parsed else "FAILURE"
        message = "; ".join((m or t).strip() for t, _, m in parsed) or "Not copied."
        out.append(DeepCopyRow(_pick(row, _OBJECT_COLUMNS), source, False, error_type=etype, error_message=message))
    return out


def _same_host(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    try:
        pa = a.port or (443 if a.scheme == "https" else 80)
        pb = b.port or (443 if b.scheme == "https" else 80)
    except ValueError:
        return False
    return bool(a.hostname) and a.hostname.lower() == (b.hostname or "").lower() and pa == pb


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
