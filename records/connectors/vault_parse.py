"""Veeva Vault payloads parsed at the boundary: VQL literals, the session as cached, error
envelopes (§6), per-record results, object metadata and the deep-copy result files. No HTTP here;
`vault.py` does the calls.

Facts and sources: ../shared/api-notes/vault.md (section numbers below refer to it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from records.connectors.base import (
    AuthFailed,
    ConnectorError,
    DeepCopyRow,
    FieldInfo,
    FieldType,
    LimitExceeded,
    NotFound,
    ObjectInfo,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RelatedList,
    RemoteJob,
    Unavailable,
    WriteResult,
)
from records.connectors.http import Response
from records.connectors.urls import same_host

# Vault names are lower-case words with a __v/__c/__sys suffix, or plain `id`; a strict pattern
# means a name can never carry a quote, a space or a keyword into a statement.
_NAME_RE = re.compile(r"\A[A-Za-z][A-Za-z0-9_]{0,99}\Z")

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

TYPE_MAP = {
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


def follows_in_deep_copy(relationship: dict[str, Any]) -> bool:
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


def field_info(f: dict[str, Any]) -> FieldInfo:
    remote = str(f.get("type") or "")
    if remote == "Number":
        # Without a scale of 0 the field may hold decimals; a decimal widget accepts both.
        kind = FieldType.NUMBER if f.get("scale") == 0 else FieldType.DECIMAL
    elif remote == "Picklist":
        kind = FieldType.MULTI_PICKLIST if f.get("multi_value") else FieldType.PICKLIST
    else:
        kind = TYPE_MAP.get(remote, FieldType.OTHER)
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
        max_length=to_int(f.get("max_length")),
        system_managed_name=bool(f.get("system_managed_name")),
        # Vault's write format for several values is a comma-separated string, and its value names
        # hold neither `;` nor `,`, so both split a Vault value (Zoho's display values may hold commas).
        multi_separators=";,",
        # Number field attributes (api-notes vault.md §2.3: scale, min_value, max_value).
        decimal_places=to_int(f.get("scale")) if remote == "Number" else None,
        min_value=_number(f.get("min_value")) if remote == "Number" else None,
        max_value=_number(f.get("max_value")) if remote == "Number" else None,
    )


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


# UNCONFIRMED (§5.3, §11.1): the success file's columns are not documented. Accept the likely
# names for each value; a file without a new-id column leaves new_id empty so the engine falls
# back to querying the new hierarchy.
_OBJECT_COLUMNS = ("vobject", "object", "objectname", "sourceobject", "objecttype")
_SOURCE_COLUMNS = ("sourcerecordid", "sourceid", "source", "originalrecordid", "sourcerecord")
_NEW_COLUMNS = (
    "targetrecordid",
    "newrecordid",
    "targetid",
    "newid",
    "copyrecordid",
    "copiedrecordid",
    "recordid",
    "id",
)


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


def success_rows(text: str) -> list[DeepCopyRow]:
    out = []
    for row in _csv_rows(text):
        source = _pick(row, _SOURCE_COLUMNS)
        if source:
            out.append(DeepCopyRow(_pick(row, _OBJECT_COLUMNS), source, True, new_id=_pick(row, _NEW_COLUMNS)))
    return out


def failure_rows(text: str) -> list[DeepCopyRow]:
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


# -- metadata (§2) --------------------------------------------------------------------------------
def objects(body: dict[str, Any]) -> list[ObjectInfo]:
    out = [
        ObjectInfo(str(item["name"]), str(item.get("label") or item["name"]), str(item.get("label_plural") or ""))
        for item in body.get("objects") or []
        if isinstance(item, dict) and item.get("name")
    ]
    return sorted(out, key=lambda o: o.label.lower())


def object_metadata(body: dict[str, Any]) -> dict[str, Any]:
    obj = body.get("object")
    if not isinstance(obj, dict):
        raise Unavailable("Vault's object metadata has an unexpected shape.", error_type="BAD_RESPONSE")
    return obj


def raw_fields(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in obj.get("fields") or [] if isinstance(f, dict) and f.get("name")]


def picklist_values(body: dict[str, Any]) -> tuple[str, ...]:
    """Retrieve Picklist Values: `picklistValues: [{name, label}]`, active values only."""
    items = body.get("picklistValues")
    if not isinstance(items, list):
        return ()
    return tuple(str(v["name"]) for v in items if isinstance(v, dict) and isinstance(v.get("name"), str) and v["name"])


def picklist_labels(body: dict[str, Any], values: tuple[str, ...]) -> tuple[str, ...]:
    """The labels of `values`, in their order (a value without a label stands for itself)."""
    items = body.get("picklistValues")
    labels = {
        str(v["name"]): str(v.get("label") or v["name"])
        for v in (items if isinstance(items, list) else ())
        if isinstance(v, dict) and isinstance(v.get("name"), str)
    }
    return tuple(labels.get(v, v) for v in values)


def lists_relationships(obj: dict[str, Any]) -> bool:
    """Whether the metadata lists inbound relationships at all (else they are read from fields)."""
    return any(
        isinstance(r, dict) and r.get("relationship_type") in ("child", "reference_inbound")
        for r in obj.get("relationships") or []
    )


def child_lists(obj: dict[str, Any], object_name: str) -> list[RelatedList]:
    """The parent-child relationships in an object's `relationships[]` (§2.2-2.4)."""
    out = []
    for rel in obj.get("relationships") or []:
        if not isinstance(rel, dict) or rel.get("relationship_type") != "child":
            continue
        target = rel.get("object") or {}
        child = target.get("name") if isinstance(target, dict) else str(target)
        if child and rel.get("field") and rel.get("relationship_name"):
            out.append(
                RelatedList(
                    name=rel["relationship_name"],
                    label=str(rel.get("relationship_label") or rel["relationship_name"]),
                    child_object=child,
                    parent_field=rel["field"],
                    deep_copy=follows_in_deep_copy(rel),
                    parent_object=object_name,
                )
            )
    return out


def inbound_lists(meta: dict[str, Any], other: ObjectInfo, object_name: str) -> list[RelatedList]:
    """The relationships to `object_name` that the Object fields of `other` (metadata `meta`) make."""
    out = []
    for f in meta.get("fields") or []:
        target = f.get("object") or {}
        target = target.get("name") if isinstance(target, dict) else target
        if f.get("type") == "Object" and target == object_name and f.get("relationship_type") == "parent":
            name = f.get("relationship_inbound_name") or f"{other.name}.{f['name']}"
            out.append(
                RelatedList(
                    name=name,
                    label=str(f.get("relationship_inbound_label") or other.label_plural or other.label),
                    child_object=other.name,
                    parent_field=f["name"],
                    deep_copy=follows_in_deep_copy(f),
                    parent_object=object_name,
                )
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


# ---------------------------------------------------------------------------------------------
# MDL (Metadata Definition Language): the copy-key field. Reference:
# https://general.veevavault.dev/vault-api/api-reference/26.1/metadata-definition-language-mdl/execute-mdl-script/
# (POST /api/mdl/execute, the script as the raw body, answered with script_execution and one
# statement_execution per statement) and the ALTER command, whose ADD adds a subcomponent:
# https://general.veevavault.dev/safety/mdl/documentation/mdl-commands/alter.md


def mdl_string(text: str) -> str:
    """An MDL String attribute value: single-quoted (MDL "Attribute Data Types"); a quote or a
    backslash is refused rather than escaped (the documented syntax shows no escape)."""
    if "'" in text or "\\" in text:
        raise Rejected("A label may not contain a quote or a backslash.", error_type="INVALID_NAME")
    return f"'{text}'"


def mdl_add_field(object_name: str, field: str, *, label: str, max_length: int) -> str:
    """`ALTER Object {object} (ADD Field {field} (...));`: a unique, optional text field that
    Vault's own copies (deep copy, create from source_record_id) leave empty (no_copy).
    [UNCONFIRMED] the Field subcomponent's attribute names (label, type, active, required, unique,
    max_length, no_copy, list_column) are those of an object field's metadata (api-notes vault.md
    §2.3); a Vault that refuses one answers FAILURE naming it, and nothing is created."""
    attributes = [
        f"label({mdl_string(label)})",
        "type('String')",
        "active(true)",
        "required(false)",
        "unique(true)",
        f"max_length({int(max_length)})",
        "no_copy(true)",
        "list_column(false)",
    ]
    inner = ",\n      ".join(attributes)
    return f"ALTER Object {vql_name(object_name)} (\n   ADD Field {vql_name(field)} (\n      {inner}\n   )\n);"


def mdl_outcome(body: dict[str, Any]) -> None:
    """Raise the typed error an Execute MDL Script answer carries, if any. Errors of the request
    (a session, a permission) come as the usual `errors`; those of a statement in its
    statement_execution[].errors ({line, message, context, code}, MDL "Errors")."""
    status = body.get("responseStatus")
    if status in ("SUCCESS", "WARNING"):
        return
    if first_error(body) != ("", ""):
        check(body, write=True)
    statements = body.get("statement_execution")
    for statement in statements if isinstance(statements, list) else []:
        errors = statement.get("errors") if isinstance(statement, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = str(errors[0].get("message") or statement.get("message") or "")
            raise Rejected(
                message or "Vault refused the MDL statement.", error_type=str(errors[0].get("code") or "MDL")
            )
    script = body.get("script_execution")
    message = str(script.get("message") or "") if isinstance(script, dict) else ""
    if status == "EXCEPTION" or status is None:
        raise lost(True, f"Vault had an internal error running the MDL script: {message or 'no details'}.")
    raise Rejected(message or "Vault refused the MDL script.", error_type="MDL")
