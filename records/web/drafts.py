"""A copy's choices kept in the session between the wizard's steps (or a bulk upload) and Confirm:
the pages share them through here, not through each other."""

from __future__ import annotations

import uuid

from django.http import Http404

from records.copying.options import CopyOptions

DRAFTS_KEY = "copy_drafts"
MAX_DRAFTS = 10


def save_draft(
    request,
    *,
    profile,
    object_name,
    source_ids,
    mode,
    overrides,
    row_overrides=None,
    label="",
    origin="bulk",
    field_labels=None,
) -> str:
    """Keep what the user chose in the session until they confirm the preview."""
    drafts = request.session.get(DRAFTS_KEY, {})
    # Keep only the most recent few; an abandoned wizard must not grow the session forever.
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    draft_id = uuid.uuid4().hex
    drafts[draft_id] = {
        "profile": str(profile.code),
        "object_name": object_name,
        "source_ids": source_ids,
        "mode": mode,
        "overrides": overrides,
        "row_overrides": row_overrides or {},
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


def draft_options(draft: dict) -> CopyOptions:
    return CopyOptions.from_dict(draft.get("options"))
