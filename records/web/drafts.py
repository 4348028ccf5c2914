"""A copy's choices kept in the session between the wizard's steps (or a bulk upload) and Confirm:
the pages share them through here, not through each other."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, NotRequired, TypedDict

from django.http import Http404, HttpRequest

from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.models import ConnectionProfile
from records.web.choice_rows import ChoiceRows

DRAFTS_KEY = "copy_drafts"
MAX_DRAFTS = 10


class RequestFields(TypedDict):
    """A CopyRequest as a session (JSON) keeps it: the profile by its code, the ids as a list."""

    profile: str
    object_name: str
    source_ids: list[str]
    mode: str
    overrides: dict[str, Any]
    row_overrides: dict[str, dict[str, Any]]
    target: NotRequired[str]  # the code of the profile copied into; absent: within `profile`


class Draft(RequestFields):
    """A copy's choices in the session, as save_draft and the preview's choices leave them."""

    options: NotRequired[dict[str, Any]]
    label: str
    # Where Back goes: "wizard" (one record, its fields step), "query" (a filter, the search page) or "bulk" (a CSV file).
    origin: str
    field_labels: dict[str, str]
    # The preview's choices (views/choices.py): the typed lines, the widgets' rows, the top
    # record's overrides they make, and the overrides typed before them.
    choices: NotRequired[dict[str, str]]
    choice_rows: NotRequired[ChoiceRows]
    choice_overrides: NotRequired[dict[str, Any]]
    base_overrides: NotRequired[dict[str, Any]]
    # A run of a saved template (records/copy_templates/): its code (Back goes there) and the
    # version's pk, which Confirm records on the job.
    template: NotRequired[str]
    template_version: NotRequired[int]


def save_draft(
    request: HttpRequest,
    *,
    copy_request: CopyRequest,
    label: str = "",
    origin: str = "bulk",
    field_labels: dict[str, str] | None = None,
) -> str:
    """Keep what the user chose in the session until they confirm the preview."""
    drafts = request.session.get(DRAFTS_KEY, {})
    # Keep only the most recent few; an abandoned wizard must not grow the session forever.
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    draft_id = uuid.uuid4().hex
    draft: Draft = {
        **_request_fields(copy_request),
        "label": label,
        "origin": origin,
        # The changed fields' labels as described on the fields step or upload: the preview names
        # them before its plan is read (it reads nothing remote itself).
        "field_labels": field_labels or {},
    }
    # The preview's choices (copy_choices) add the options; a new draft without any has none but
    # the profile's remembered choice about files (copy them or leave them out).
    options = copy_request.options
    if options == CopyOptions() and copy_request.profile.copy_files:
        options = replace(options, files=True)
    if options != CopyOptions():
        draft["options"] = options.as_dict()
    drafts[draft_id] = draft
    request.session[DRAFTS_KEY] = drafts
    return draft_id


def get_draft(request: HttpRequest, draft_id: str) -> Draft:
    draft: Draft | None = request.session.get(DRAFTS_KEY, {}).get(draft_id)
    if draft is None:
        raise Http404("This copy was already started or has expired; start again.")
    return draft


def keep_draft(request: HttpRequest, draft_id: str, draft: Draft) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts[draft_id] = draft
    request.session[DRAFTS_KEY] = drafts


def drop_draft(request: HttpRequest, draft_id: str) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts.pop(draft_id, None)
    request.session[DRAFTS_KEY] = drafts


def copy_request_of(draft: Draft, profile: ConnectionProfile) -> CopyRequest:
    """The copy a draft asks for; `profile`: the draft's profile, as the view got it for the user."""
    return CopyRequest(
        profile=profile,
        object_name=draft["object_name"],
        source_ids=tuple(draft["source_ids"]),
        mode=draft["mode"],
        overrides=draft["overrides"],
        row_overrides=draft.get("row_overrides") or {},
        options=CopyOptions.from_dict(draft.get("options")),
        target=_target(draft),
    )


def _target(draft: Draft) -> ConnectionProfile | None:
    """The profile a draft copies into; access is the services' check (CopyRequest.check_access)."""
    code = draft.get("target")
    if not code:
        return None
    target = ConnectionProfile.objects.filter(code=code).first()
    if target is None:  # deleted since it was chosen: never fall back to copying within the source
        raise Http404("The profile to copy into no longer exists; choose another.")
    return target


def with_request(draft: Draft, copy_request: CopyRequest) -> Draft:
    """`draft` asking for `copy_request` instead (the preview's choices changed it)."""
    changed: Draft = {**draft, **_request_fields(copy_request), "options": copy_request.options.as_dict()}
    if copy_request.target is None:
        changed.pop("target", None)  # back to a copy within the source profile
    return changed


def _request_fields(copy_request: CopyRequest) -> RequestFields:
    fields: RequestFields = {
        "profile": str(copy_request.profile.code),
        "object_name": copy_request.object_name,
        "source_ids": list(copy_request.source_ids),
        "mode": copy_request.mode,
        "overrides": copy_request.overrides,
        "row_overrides": copy_request.row_overrides,
    }
    if copy_request.target:  # only a copy into another profile names one
        fields["target"] = str(copy_request.target.code)
    return fields
