"""Zoho CRM payloads parsed at the boundary: error envelopes, per-record results, field metadata,
and COQL literals. No HTTP here: `zoho_api.py` sends the calls.

Facts and sources: ../shared/api-notes/zoho.md (section numbers below refer to it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from records.connectors.base import FieldInfo, FieldType, WriteResult
from records.connectors.errors import (
    AuthFailed,
    ConnectorError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Unavailable,
)

# §10: which envelope codes mean what. Everything else in 4xx is a permanent refusal.
NOT_FOUND_CODES = frozenset({"INVALID_MODULE", "INVALID_URL_PATTERN", "NOT_FOUND", "NO_RECORDS_FOUND"})
AUTH_CODES = frozenset({"INVALID_TOKEN", "AUTHENTICATION_FAILURE", "OAUTH_SCOPE_MISMATCH", "INVALID_OAUTHTOKEN"})

# §5.2: data_type -> normalised kind.
TYPE_MAP = {
    "text": FieldType.TEXT,
    "email": FieldType.TEXT,
    "phone": FieldType.TEXT,
    "website": FieldType.TEXT,
    "autonumber": FieldType.TEXT,
    "textarea": FieldType.LONG_TEXT,
    "mediumtext": FieldType.LONG_TEXT,
    "integer": FieldType.NUMBER,
    "bigint": FieldType.NUMBER,
    "long": FieldType.NUMBER,
    "double": FieldType.DECIMAL,
    "currency": FieldType.DECIMAL,
    "percent": FieldType.DECIMAL,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "picklist": FieldType.PICKLIST,
    "multiselectpicklist": FieldType.MULTI_PICKLIST,
    "lookup": FieldType.REFERENCE,
    "ownerlookup": FieldType.REFERENCE,
    "userlookup": FieldType.REFERENCE,
    "subform": FieldType.SUBFORM,
    "fileupload": FieldType.FILE,
    "imageupload": FieldType.FILE,
}
COMPUTED_TYPES = frozenset({"formula", "autonumber", "rollup_summary"})
FILE_TYPES = frozenset({"fileupload", "imageupload"})
# §2: fields the Record Clone action never copies, besides read-only / external / file fields.
CLONE_EXCLUDED_NAMES = frozenset({"wizard", "data_processing_basis_details"})
CLONE_EXCLUDED_BY_MODULE = {
    "Events": frozenset({"Recurring_Activity", "Remind_At"}),
    "Services": frozenset({"Status", "Unavailable_From", "Unavailable_Till"}),
    "Appointments": frozenset({"Status", "Reschedule_Count", "Job_Sheet_Created__s", "Job_Sheet_Section__s"}),
}
# The field a person reads as a record's name, per module (custom modules use Name).
NAME_FIELDS = (
    "Account_Name",
    "Deal_Name",
    "Full_Name",
    "Last_Name",
    "Subject",
    "Note_Title",
    "Event_Title",
    "Product_Name",
    "Campaign_Name",
    "Vendor_Name",
    "Solution_Title",
    "Price_Book_Name",
    "Name",
)
MODULE_NAME_FIELD = {
    "Accounts": "Account_Name",
    "Contacts": "Full_Name",
    "Leads": "Full_Name",
    "Deals": "Deal_Name",
    "Tasks": "Subject",
    "Calls": "Subject",
    "Events": "Event_Title",
    "Notes": "Note_Title",
    "Products": "Product_Name",
    "Campaigns": "Campaign_Name",
    "Vendors": "Vendor_Name",
    "Cases": "Subject",
    "Solutions": "Solution_Title",
    "Price_Books": "Price_Book_Name",
    "Quotes": "Subject",
    "Sales_Orders": "Subject",
    "Purchase_Orders": "Subject",
    "Invoices": "Subject",
}

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ID_RE = re.compile(r"^\d{5,25}$")


def looks_like_id(text: str) -> bool:
    """Zoho record ids are long digit strings (§3.1)."""
    return bool(_ID_RE.match(text))


def check_name(name: str) -> str:
    """Return an API name safe to put into a COQL query or a URL path; raise otherwise."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise Rejected("Not a valid Zoho API name.", error_type="INVALID_NAME")
    return name


def coql_literal(value: Any) -> str:
    """Quote a value for COQL: backslashes and quotes escaped, so a value can't end the string (§4.4)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if any(c in text for c in "\r\n\x00"):
        raise Rejected("A query value may not contain control characters.", error_type="INVALID_QUERY")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def coql_where(conditions: list[str]) -> str:
    """Join conditions with AND; COQL wants explicit parentheses beyond two criteria (§4.4)."""
    if not conditions:
        return ""
    where = conditions[0]
    for index, condition in enumerate(conditions[1:], start=1):
        where = f"({where}) and {condition}" if index >= 2 else f"{where} and {condition}"
    return where


def list_in(body: Any, key: str) -> list[Any]:
    """`body[key]` when body is an object and that is a list; else [] (an unexpected shape)."""
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, list) else []


def dict_in(body: Any, key: str) -> dict[str, Any]:
    """`body[key]` when body is an object and that is an object; else {}."""
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------------------------
# Errors


def envelope(body: Any) -> tuple[str, str, dict[str, Any]]:
    """Return (code, message, details) of an error envelope; ("", "", {}) when it isn't one."""
    if not isinstance(body, dict):
        return "", "", {}
    code = body.get("code")
    details = dict_in(body, "details")
    message = body.get("message")
    return (code if isinstance(code, str) else ""), (message if isinstance(message, str) else ""), details


def error_for(status: int, body: Any, *, write: bool) -> ConnectorError:
    """Map an HTTP status and a §10 envelope to a typed error. Messages carry no request data."""
    code, message, details = envelope(body)
    api_name = details.get("api_name")
    field = api_name if isinstance(api_name, str) else ""
    message = message or f"Zoho answered HTTP {status}."
    safe_details = {
        k: v
        for k, v in details.items()
        if k in ("api_name", "id", "expected_data_type", "maximum_length", "by", "limit", "param")
    }
    kwargs: dict[str, Any] = {"error_type": code or f"HTTP_{status}", "details": safe_details}
    if status == 429 or code == "TOO_MANY_REQUESTS":
        return RateLimited(message, **kwargs)
    if status >= 500:
        # A 5xx on a write may have committed: the engine must reconcile, not resend.
        if write:
            return OutcomeUnknown(f"{message} The write may have been applied.", **kwargs)
        return Unavailable(message, **kwargs)
    if status == 401 or code in AUTH_CODES:
        return AuthFailed(message, **kwargs)
    if code in NOT_FOUND_CODES or (status == 404 and not code):
        return NotFound(message, **kwargs)
    return Rejected(message, field=field, **kwargs)


def write_result(entry: Any) -> WriteResult:
    """One entry of a write answer's `data` (§3.1): success → new id; error → code, message, duplicate."""
    if not isinstance(entry, dict):
        return WriteResult(ok=False, error_type="NO_RESULT", error_message="Zoho returned no result for this row.")
    code, message, details = envelope(entry)
    if entry.get("status") == "success" and str(details.get("id") or ""):
        return WriteResult(ok=True, new_id=str(details["id"]))
    field = details.get("api_name") if isinstance(details.get("api_name"), str) else ""
    text = message or "The record was refused."
    if field:
        text = f"{text} ({field})"
    existing = ""
    if code == "DUPLICATE_DATA":
        # §3.1: v7 nests the existing record under duplicate_record; older versions put id in details.
        dup = details.get("duplicate_record")
        existing = str((dup or {}).get("id") or "") if isinstance(dup, dict) else ""
        existing = existing or str(details.get("id") or "")
    return WriteResult(
        ok=False, error_type=code or "ERROR", error_message=text, existing_id=existing, field=str(field or "")
    )


def update_result(entry: Any, record_id: str) -> WriteResult:
    """One entry of an Update Records answer (§3.3, in input order): success names the record it
    changed (`new_id` = that record); an entry about another record is no answer for this row."""
    result = write_result(entry)
    if not result.ok:
        if isinstance(entry, dict) and entry.get("status") == "success":
            # A success without details.id: the documented sample carries it, but the row's own id
            # is the record the entry is about (results come in input order).
            return WriteResult(ok=True, new_id=record_id)
        return result
    if result.new_id != record_id:
        return WriteResult(
            ok=False, error_type="NO_RESULT", error_message="Zoho's answer for this row names another record."
        )
    return result


# ---------------------------------------------------------------------------------------------
# Metadata


def field_info(raw: dict[str, Any], module: str) -> FieldInfo | None:
    """Map one `GET /settings/fields` entry (§5.2) to a FieldInfo; None for an unusable entry."""
    name = raw.get("api_name")
    if not isinstance(name, str) or not name:
        return None
    data_type = str(raw.get("data_type") or "")
    external = bool(raw.get("external"))
    read_only = bool(raw.get("read_only")) or bool(raw.get("field_read_only"))
    computed = data_type in COMPUTED_TYPES or bool(raw.get("formula") and data_type == "formula")
    editable = not read_only and not external and not computed
    lookup = dict_in(raw, "lookup")
    target = ""
    if data_type in ("lookup", "ownerlookup", "userlookup"):
        module_ref = dict_in(lookup, "module")
        target = str(module_ref.get("api_name") or ("Users" if data_type != "lookup" else ""))
    no_copy = (
        read_only
        or external
        or data_type in FILE_TYPES
        or name in CLONE_EXCLUDED_NAMES
        or name.startswith("$")
        or name in CLONE_EXCLUDED_BY_MODULE.get(module, ())
    )
    values = list_in(raw, "pick_list_values")
    picklist = tuple(
        str(v.get("actual_value") or v.get("display_value"))
        for v in values
        if isinstance(v, dict) and (v.get("actual_value") or v.get("display_value"))
    )
    # The display values, same order, for the forms (picklists shown by label).
    labels = tuple(
        str(v.get("display_value") or v.get("actual_value"))
        for v in values
        if isinstance(v, dict) and (v.get("actual_value") or v.get("display_value"))
    )
    length = raw.get("length")
    return FieldInfo(
        name=name,
        label=str(raw.get("display_label") or raw.get("field_label") or name),
        type=TYPE_MAP.get(data_type, FieldType.OTHER),
        remote_type=data_type,
        required=bool(raw.get("system_mandatory")),
        editable=editable,
        unique=bool(raw.get("unique")),
        no_copy=no_copy,
        reference_to=target,
        picklist_values=picklist,
        picklist_labels=labels,
        max_length=length
        if isinstance(length, int) and data_type in ("text", "textarea", "email", "phone", "website", "mediumtext")
        else None,
        # api-notes zoho.md §3.1/§5.2: a number field's `length` is its digits (integer 9, currency 16) and
        # `decimal_place` the digits after the point.
        max_digits=length if isinstance(length, int) and data_type in NUMBER_TYPES else None,
        decimal_places=(
            raw.get("decimal_place")
            if isinstance(raw.get("decimal_place"), int)
            else 0
            if data_type in ("integer", "bigint", "long")
            else None
        )
        if data_type in NUMBER_TYPES
        else None,
    )


NUMBER_TYPES = ("integer", "bigint", "long", "double", "currency", "percent", "decimal")


def name_columns(module: str) -> list[str]:
    """The fields record_name() reads for a module, its own name field first."""
    preferred = MODULE_NAME_FIELD.get(module)
    names = [preferred] if preferred else []
    names += [n for n in NAME_FIELDS if n != preferred]
    if module in ("Contacts", "Leads"):
        names += ["First_Name", "Last_Name"]
    return list(dict.fromkeys(names))


def record_name(module: str, fields: dict[str, Any]) -> str:
    preferred = MODULE_NAME_FIELD.get(module)
    for name in ((preferred,) if preferred else ()) + NAME_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value
    if module in ("Contacts", "Leads"):
        return " ".join(v for v in (fields.get("First_Name"), fields.get("Last_Name")) if isinstance(v, str))
    return ""


def token_answer(status: int, body: Any) -> tuple[str, float, str]:
    """(access token, seconds it lives, the api_domain it names or "") of the accounts server's
    answer to a refresh (§1.1); failures come back as HTTP 200 with {"error": ...}."""
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raw_error = body.get("error") if isinstance(body, dict) else None
        error = raw_error if isinstance(raw_error, str) else ""
        if status >= 500 and not error:
            raise Unavailable("The Zoho accounts server is unavailable.", error_type="ACCOUNTS_UNAVAILABLE")
        if status == 429 or "denied" in error.lower():
            # §1.2: more than 10 tokens in 10 minutes blocks minting for the rest of the window.
            raise RateLimited(
                "Zoho refused to mint another access token for now.", error_type="TOKEN_LIMIT", retry_after=60.0
            )
        code = error if error.replace("_", "").isalnum() else "NO_ACCESS_TOKEN"
        raise AuthFailed(
            f"Zoho refused the refresh token or client credentials ({code or 'no access token'}).",
            error_type=code or "NO_ACCESS_TOKEN",
        )
    try:
        seconds = float(body.get("expires_in_sec", body.get("expires_in", 3600)))
    except (TypeError, ValueError):
        seconds = 3600.0
    domain = body.get("api_domain")
    return token, seconds, domain if isinstance(domain, str) else ""


def user(body: Any) -> dict[str, Any] | None:
    """The one user of a Get Users answer ({"users": [{...}]}), or None."""
    users = list_in(body, "users") if isinstance(body, dict) else []
    first = users[0] if users else None
    return first if isinstance(first, dict) and first.get("id") else None


def user_name(user: dict[str, Any]) -> str:
    full = user.get("full_name")
    if isinstance(full, str) and full:
        return full
    return " ".join(v for v in (user.get("first_name"), user.get("last_name")) if isinstance(v, str) and v)


def users_page(body: Any) -> tuple[list[dict[str, Any]], bool]:
    """A Get Users page ({"users": [...], "info": {"more_records"}}) as ({id, email, name, active}
    per user, whether more pages follow). Zoho's user `status` is "active" for an active user."""
    found = list_in(body, "users") if isinstance(body, dict) else []
    users = [
        {
            "id": lookup_id(u.get("id")),
            "email": str(u.get("email") or ""),
            "name": user_name(u),
            "active": u.get("status", "active") == "active",
        }
        for u in found
        if isinstance(u, dict) and u.get("id")
    ]
    info = body.get("info") if isinstance(body, dict) else None
    return users, bool(isinstance(info, dict) and info.get("more_records"))


# ---------------------------------------------------------------------------------------------
# Who made a record and when

CREATED_FIELD = "Created_Time"
MODIFIED_FIELD = "Modified_Time"
CREATED_BY_FIELD = "Created_By"
STAMP_FIELDS = (CREATED_FIELD, MODIFIED_FIELD, CREATED_BY_FIELD)


def parse_datetime(value: Any) -> dt.datetime | None:
    """A Zoho datetime (`2026-12-06T02:03:04+05:30`, §3.1 value formats) as an aware UTC datetime;
    None for a missing or malformed value (a value without an offset is taken as UTC)."""
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


def lookup_id(value: Any) -> str:
    """The id of a lookup value ({"name", "id"}, §4.1) or of a bare id; "" when there is none."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return str(value).strip()


def ref_id(value: Any) -> str:
    """A value as an id to compare or send: the id of a lookup ({"id": ...}), else the value as
    given (unlike lookup_id: not stripped, and any value counts)."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def stamps(raw: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    """(created, modified, created_by) of a record as Zoho answers it."""
    return (
        parse_datetime(raw.get(CREATED_FIELD)),
        parse_datetime(raw.get(MODIFIED_FIELD)),
        lookup_id(raw.get(CREATED_BY_FIELD)),
    )


def coql_datetime(value: dt.datetime) -> str:
    """A COQL datetime literal, `'yyyy-MM-ddTHH:mm:ss+00:00'` (Zoho's datetime format, §3.1; COQL
    compares datetime fields with =, !=, <, <=, >, >=, between:
    https://www.zoho.com/crm/developer/docs/api/v7/COQL-Overview.html). Zoho keeps whole seconds,
    so the bound is floored to the second: a `>=` never moves later than asked."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return "'" + value.replace(microsecond=0).isoformat(timespec="seconds") + "'"


def org_id(body: Any) -> str:
    """The org's id in `GET /org` ({"org": [{"id", "company_name", ...}]}), or ""."""
    orgs = body.get("org") if isinstance(body, dict) else None
    first = orgs[0] if isinstance(orgs, list) and orgs and isinstance(orgs[0], dict) else {}
    return lookup_id(first.get("id"))


def org_zgid(body: Any) -> str:
    """The org's zgid in `GET /org`, or ""."""
    orgs = body.get("org") if isinstance(body, dict) else None
    first = orgs[0] if isinstance(orgs, list) and orgs and isinstance(orgs[0], dict) else {}
    return str(first.get("zgid") or "")


def current_user_id(body: Any) -> str:
    """The id of the one user of `GET /users?type=CurrentUser` ({"users": [{"id", ...}], "info"})."""
    found = user(body)
    return lookup_id(found.get("id")) if found else ""


# Create Custom Fields: the copy-key field. Reference:
# https://www.zoho.com/crm/developer/docs/api/v7/create-custom-field.html
# (POST /settings/fields?module={module}, {"fields": [{field_label, data_type, length, ...}]};
# scope ZohoCRM.settings.fields.CREATE or .ALL)


def custom_text_field(label: str, length: int) -> dict[str, Any]:
    """The body creating a unique single-line text field. [UNCONFIRMED] the `unique` key's shape
    on create: the one GET /settings/fields shows, `{"casesensitive": "false"}` (Zoho's OAS
    fields.json and the v7 SDK's fields.Unique); the engine's keys are lower-case, so case
    doesn't matter to it."""
    return {
        "fields": [
            {"field_label": label, "data_type": "text", "length": int(length), "unique": {"casesensitive": "false"}}
        ]
    }


def created_field_id(body: Any) -> str:
    """The new field's id from a Create Custom Fields answer ({"fields": [{code, details: {id},
    message, status}]}, the envelope of the other settings writes); raise the entry's error."""
    entries = list_in(body, "fields")
    entry = entries[0] if entries and isinstance(entries[0], dict) else body
    code, message, details = envelope(entry)
    if isinstance(entry, dict) and entry.get("status") == "success" and str(details.get("id") or ""):
        return str(details["id"])
    if not code:
        raise OutcomeUnknown("Zoho's answer to the new field could not be read.", error_type="UNREADABLE_ANSWER")
    raise error_for(400, entry, write=True)
