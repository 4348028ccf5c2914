"""A copy's choices kept in the session between the wizard's steps (or a bulk upload) and Confirm:
the pages share them through here, not through each other."""

from __future__ import annotations

import uuid

from django.http import Http404

from records.copying.options import CopyOptions
from records.copying.request import CopyRequest

DRAFTS_KEY = "copy_drafts"
MAX_DRAFTS = 10


def save_draft(request, *, copy_request: CopyRequest, label="", origin="bulk", field_labels=None) -> str:
    """Keep what the user chose in the session until they confirm the preview."""
    drafts = request.session.get(DRAFTS_KEY, {})
    # Keep only the most recent few; an abandoned wizard must not grow the session forever.
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    draft_id = uuid.uuid4().hex
    # The preview's choices (copy_choices) add the options; a new draft without any has none.
    chosen = {"options": copy_request.options.as_dict()} if copy_request.options != CopyOptions() else {}
    drafts[draft_id] = {
        **_request_fields(copy_request),
        **chosen,
        "label": label,
        "origin": origin,  # "wizard" (one record, its fields step) or "bulk" (a CSV file): where Back goes
        # The changed fields' labels as described on the fields step or upload: the preview names
        # them before its plan is read (it reads nothing remote itself).
        "field_labels": field_labels or {},
    }
    request.session[DRAFTS_KEY] = drafts
    return draft_id


def get_draft(request, draft_id: str) -> dict:
    draft = request.session.get(DRAFTS_KEY, {}).get(draft_id)
    if draft is None:
        raise Http404("This copy was already started or has expired; start again.")
    return draft


def keep_draft(request, draft_id: str, draft: dict) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts[draft_id] = draft
    request.session[DRAFTS_KEY] = drafts


def drop_draft(request, draft_id: str) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts.pop(draft_id, None)
    request.session[DRAFTS_KEY] = drafts


def copy_request_of(draft: dict, profile) -> CopyRequest:
    """The copy a draft asks for; `profile`: the draft's profile, as the view got it for the user."""
    return CopyRequest(
        profile=profile,
        object_name=draft["object_name"],
        source_ids=draft["source_ids"],
        mode=draft["mode"],
        overrides=draft["overrides"],
        row_overrides=draft.get("row_overrides") or {},
        options=CopyOptions.from_dict(draft.get("options")),
    )


def with_request(draft: dict, copy_request: CopyRequest) -> dict:
    """`draft` asking for `copy_request` instead (the preview's choices changed it)."""
    return {**draft, **_request_fields(copy_request), "options": copy_request.options.as_dict()}


def _request_fields(copy_request: CopyRequest) -> dict:
    # A session is JSON: the profile by its code, the ids as a list.
    return {
        "profile": str(copy_request.profile.code),
        "object_name": copy_request.object_name,
        "source_ids": list(copy_request.source_ids),
        "mode": copy_request.mode,
        "overrides": copy_request.overrides,
        "row_overrides": copy_request.row_overrides,
    }
