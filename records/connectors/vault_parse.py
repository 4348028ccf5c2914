"""Veeva Vault answers parsed at the boundary: VQL literals, the session as cached, error
envelopes (§6), records, per-record results and job answers, and who made a record and when.
Object metadata is parsed in `vault_metadata_parse.py`, the deep-copy result files in
`vault_result_files.py`. No HTTP here: `vault_api.py` sends the calls.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from records.connectors.base import RemoteJob, WriteResult
from records.connectors.errors import (
    AuthFailed,
    ConnectorError,
    LimitExceeded,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Unavailable,
)
from records.connectors.http import Response
from records.connectors.urls import same_host

# Vault names are lower-case words with a __v/__c/__sys suffix, or plain `id`; a strict pattern
# means a name can never carry a quote, a space or a keyword into a statement.
_NAME_RE = re.compile(r"\A[A-Za-z][A-Za-z0-9_]{0,99}\Z")
_RECORD_ID_RE = re.compile(r"\A[A-Za-z0-9]{1,64}\Z")

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


def vql_string(value: Any) -> str:
    """Return `value` as a VQL string literal: single-quoted, backslash-escaping \\ and '."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def vql_name(name: str) -> str:
    """Return `name` if it is a plain Vault identifier; refuse anything else."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise Rejected("Not a valid Vault object or field name.", error_type="INVALID_NAME")
    return name


def is_record_id(value: str) -> bool:
    """Whether `value` can be a record id: letters and digits only, so it is safe in a path or
    an `id IN (...)` list (anything else cannot name a record, so it is not asked for)."""
    return bool(_RECORD_ID_RE.match(value))


@dataclass(frozen=True)
class Session:
    """A session as cached in the TokenStore: the id plus the Vault check made when it was minted."""

    id: str
    vault_id: str = ""
    vault_ok: bool | None = None  # None: not known (a token cached in another format)

    def encode(self) -> str:
        return f"vault1 {self.vault_id or '-'} {int(bool(self.vault_ok))} {self.id}"

    @classmethod
    def decode(cls, raw: str) -> Session:
        parts = raw.split(" ", 3)
        if len(parts) == 4 and parts[0] == "vault1":
            return cls(parts[3], "" if parts[1] == "-" else parts[1], parts[2] == "1")
        return cls(raw)

    def __repr__(self) -> str:  # never show the session id
        return f"Session(vault_id={self.vault_id!r}, vault_ok={self.vault_ok!r})"


def json_body(response: Response) -> dict[str, Any] | None:
    if "json" not in response.headers.get("Content-Type", "").lower():
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def first_error(body: dict[str, Any]) -> tuple[str, str]:
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("type") or ""), str(errors[0].get("message") or "")
    return "", ""


def lost(write: bool, message: str) -> ConnectorError:
    if write:
        return OutcomeUnknown(message + " The write may have been applied.", error_type="OUTCOME_UNKNOWN")
    return Unavailable(message, error_type="UNAVAILABLE")


def check(body: dict[str, Any], *, write: bool) -> dict[str, Any]:
    status = body.get("responseStatus")
    if status in ("SUCCESS", "WARNING"):
        return body
    etype, message = first_error(body)
    raise error(etype, message, write=write, exception=status == "EXCEPTION" or status is None)


def error(etype: str, message: str, *, write: bool, exception: bool = False) -> ConnectorError:
    """Map a Vault error type (§6) to a typed error."""
    message = message or "Vault refused the request."
    if exception or etype in ("UNEXPECTED_ERROR", "EXCEPTION", ""):
        # A system error: a write may have got part way, so only a read counts as "not applied".
        return (
            lost(write, f"Vault had an internal error: {message}")
            if write
            else Unavailable(message, error_type=etype or "EXCEPTION")
        )
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


def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    if not isinstance(data, list):
        raise Unavailable("Vault's query answer has an unexpected shape.", error_type="BAD_RESPONSE")
    return [r for r in data if isinstance(r, dict)]


def write_result(item: Any) -> WriteResult:
    if not isinstance(item, dict):
        return WriteResult(ok=False, error_type="BAD_RESPONSE", error_message="Vault sent no result for this record.")
    if item.get("responseStatus") in ("SUCCESS", "WARNING"):
        data = item.get("data") or {}
        return WriteResult(ok=True, new_id=str(data.get("id") or ""))
    etype, message = first_error(item)
    return WriteResult(ok=False, error_type=etype or "FAILURE", error_message=message or "Vault refused this record.")


def to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


# -- login (§1.1) ---------------------------------------------------------------------------------
def login_session(body: dict[str, Any] | None, base: str) -> Session:
    """The session of a login answer, with the check that it is for the Vault at `base`."""
    if body is None:
        raise Unavailable("Vault gave an unexpected answer to the login.", error_type="BAD_RESPONSE")
    if body.get("responseStatus") != "SUCCESS" or not body.get("sessionId"):
        etype, message = first_error(body)
        if etype == "API_LIMIT_EXCEEDED":
            raise RateLimited(message or "Too many logins.", error_type=etype)
        if etype in AUTH_ERRORS or body.get("errorType") == "AUTHENTICATION_FAILED":
            raise AuthFailed(message or "Vault refused the user name or password.", error_type=etype)
        raise error(etype, message, write=False, exception=body.get("responseStatus") == "EXCEPTION")
    vault_id = str(body.get("vaultId") or "")
    # §1.1: Vault may silently log in to the user's "most relevant" Vault instead of the one
    # asked for; the entry for the session's vaultId must point at the profile's host.
    urls = [str(v.get("url") or "") for v in body.get("vaultIds") or [] if str(v.get("id")) == vault_id]
    ok = bool(vault_id) and any(same_host(u, base) for u in urls)
    return Session(str(body["sessionId"]), vault_id, ok)


def user_name(body: dict[str, Any]) -> str:
    users = body.get("users") or [{}]
    user = (users[0] or {}).get("user") or {}
    return str(user.get("user_name__v") or "")


def users(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Retrieve All Users (legacy, `users: [{user: {...}}]`) as {id, email, name, active} per user."""
    found = body.get("users")
    out: list[dict[str, Any]] = []
    for item in found if isinstance(found, list) else []:
        user = item.get("user") if isinstance(item, dict) and isinstance(item.get("user"), dict) else item
        if not isinstance(user, dict) or not user_ref(user.get("id")):
            continue
        full = " ".join(str(user.get(k) or "") for k in ("user_first_name__v", "user_last_name__v")).strip()
        out.append(
            {
                "id": user_ref(user.get("id")),
                "email": str(user.get("user_email__v") or ""),
                "name": full or str(user.get("user_name__v") or ""),
                "active": user.get("active__v") is not False,
            }
        )
    return out


# -- records, writes and jobs ---------------------------------------------------------------------
def record(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    if not isinstance(data, dict):
        raise Unavailable("Vault's record has an unexpected shape.", error_type="BAD_RESPONSE")
    return data


def write_results(body: dict[str, Any], count: int) -> list[WriteResult]:
    """One result per record of a batch of `count`; any other shape may hide applied writes."""
    items = body.get("data")
    if not isinstance(items, list) or len(items) != count:
        raise OutcomeUnknown(
            "Vault's answer does not have one result per record; the write may have been applied.",
            error_type="BAD_RESPONSE",
        )
    return [write_result(item) for item in items]


def job_id(body: dict[str, Any]) -> str:
    value = body.get("job_id")
    if value in (None, ""):
        raise OutcomeUnknown("Vault accepted the job but sent no job id.", error_type="BAD_RESPONSE")
    return str(value)


def remote_job(body: dict[str, Any], job_id: str) -> RemoteJob:
    data = body.get("data")
    if not isinstance(data, dict) or not data.get("status"):
        raise Unavailable("Vault's job status has an unexpected shape.", error_type="BAD_RESPONSE")
    return RemoteJob(str(data.get("id") or job_id), str(data["status"]))


def names(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """{id: name__v} of VQL rows (a row without an id is skipped)."""
    return {str(r["id"]): str(r.get("name__v") or "") for r in rows if isinstance(r, dict) and r.get("id")}


# -- who made a record and when -------------------------------------------------------------------
# The system fields every Vault object record carries (the sandbox's and Vault's object metadata).
CREATED_FIELD = "created_date__v"
MODIFIED_FIELD = "modified_date__v"
CREATED_BY_FIELD = "created_by__v"
# Vault's users are records of user__sys: a user field is an Object field pointing at it (§2.3).
USER_OBJECT = "user__sys"
STAMP_FIELDS = (CREATED_FIELD, MODIFIED_FIELD, CREATED_BY_FIELD)


def parse_datetime(value: Any) -> dt.datetime | None:
    """A Vault DateTime (`2026-12-06T02:03:04.000Z`, always UTC) as an aware UTC datetime; None
    for a missing or malformed value."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def user_ref(value: Any) -> str:
    """A user field's value as an id string: Vault answers user fields as integers (§3.2); an
    object-style {"id": ...} is accepted too. "" when there is none."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or isinstance(value, bool) or isinstance(value, list | dict):
        return ""
    return str(value).strip()


def stamps(row: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    """(created, modified, created_by) of a record or VQL row."""
    return (
        parse_datetime(row.get(CREATED_FIELD)),
        parse_datetime(row.get(MODIFIED_FIELD)),
        user_ref(row.get(CREATED_BY_FIELD)),
    )


def vql_datetime(value: dt.datetime) -> str:
    """A VQL DateTime literal, `'YYYY-MM-DDTHH:MM:SS.000Z'`, UTC, single-quoted.
    Reference: https://general.veevavault.dev/vql/references/language-specifications/data-types-formats/
    A naive value is taken as UTC. Floored to the whole second: every DateTime Vault documents
    carries `.000` milliseconds (records keep whole seconds), so a record created in the bound's
    own second reads earlier than a bound with milliseconds; a `>=` bound must never exclude it."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return f"'{value.strftime('%Y-%m-%dT%H:%M:%S')}.000Z'"


def user_id(body: dict[str, Any]) -> str:
    """The id of the user of a Validate Session User answer (`users: [{user: {id, ...}}]`)."""
    users = body.get("users")
    first = users[0] if isinstance(users, list) and users and isinstance(users[0], dict) else {}
    user = first.get("user") if isinstance(first.get("user"), dict) else first
    return user_ref(user.get("id")) if isinstance(user, dict) else ""
