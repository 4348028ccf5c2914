"""New copy, step by step (profile → object → record → overrides → preview → confirm), and bulk
clone from a CSV file. The engine (records.copying.services) does the copying."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from records.connectors import connector_for
from records.connectors.base import ConnectorError
from records.forms import BulkUploadForm, OverridesForm, parse_bulk_csv
from records.models import ConnectionProfile, CopyJob
from records.copying.options import CopyOptions
from records.views import friendly_error, get_profile_for_user, service_error_message

SEARCH_PER_PAGE = 20
DRAFTS_KEY = "copy_drafts"
MAX_DRAFTS = 10


def _services():
    # Imported when used: the engine module is large and loads the connectors.
    from records.copying import services

    return services


def copy_start(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    return render(request, "records/copy_profile.html", {"profiles": profiles})


def copy_objects(request: HttpRequest, profile_code) -> HttpResponse:
    profile = get_profile_for_user(request, profile_code)
    q = request.GET.get("q", "").strip()
    objects, error = [], ""
    try:
        objects = connector_for(profile).list_objects()
    except Exception as exc:  # noqa: BLE001 - shown to the user in plain words
        error = friendly_error(exc, profile)
    if q:
        needle = q.lower()
        objects = [o for o in objects if needle in o.name.lower() or needle in o.label.lower()]
    return render(
        request, "records/copy_objects.html", {"profile": profile, "objects": objects, "q": q, "error": error}
    )


def copy_search(request: HttpRequest, profile_code, object_name: str) -> HttpResponse:
    profile = get_profile_for_user(request, profile_code)
    q = request.GET.get("q", "").strip()[:200]
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    page, error = None, ""
    try:
        page = connector_for(profile).search(object_name, q, page=page_number, per_page=SEARCH_PER_PAGE)
    except Exception as exc:  # noqa: BLE001
        error = friendly_error(exc, profile)
    return render(
        request,
        "records/copy_search.html",
        {"profile": profile, "object_name": object_name, "q": q, "page": page, "error": error},
    )


def copy_record(request: HttpRequest, profile_code, object_name: str, record_id: str) -> HttpResponse:
    profile = get_profile_for_user(request, profile_code)
    connector = connector_for(profile)
    try:
        fields = connector.describe(object_name)
        record = connector.get(object_name, record_id)
    except Exception as exc:  # noqa: BLE001
        return render(
            request,
            "records/copy_record.html",
            {"profile": profile, "object_name": object_name, "record_id": record_id, "error": friendly_error(exc, profile)},
        )
    form = OverridesForm(request.POST or None, fields=fields, record_values=record.fields)
    if request.method == "POST" and form.is_valid():
        overrides = form.overrides()
        draft_id = _save_draft(
            request,
            profile=profile,
            object_name=object_name,
            source_ids=[record.id],
            mode=form.cleaned_data["mode"],
            overrides=overrides,
            label=record.name or record.id,
        )
        return redirect("copy_preview", draft_id=draft_id)
    shown = [(f, record.fields.get(f.name)) for f in fields]
    return render(
        request,
        "records/copy_record.html",
        {
            "profile": profile,
            "object_name": object_name,
            "record_id": record_id,
            "record": record,
            "shown": shown,
            "form": form,
            "link": _safe(connector.record_url, object_name, record.id),
        },
    )


def _safe(fn, *args) -> str:
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - a missing link is not worth an error page
        return ""


def _save_draft(request, *, profile, object_name, source_ids, mode, overrides, row_overrides=None, label="") -> str:
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
    }
    request.session[DRAFTS_KEY] = drafts
    return draft_id


def _get_draft(request, draft_id: str) -> dict:
    draft = request.session.get(DRAFTS_KEY, {}).get(draft_id)
    if draft is None:
        raise Http404("This copy was already started or has expired; start again.")
    return draft


def copy_preview(request: HttpRequest, draft_id: str) -> HttpResponse:
    if request.method == "POST":
        # A repeated Confirm (double click, resubmit) answers with the job the first one created.
        done = CopyJob.objects.filter(confirmation=draft_id, requested_by=request.user).only("code").first()
        if done:
            return redirect("job_detail", code=done.code)
    draft = _get_draft(request, draft_id)
    # The profile is checked again: access may have been withdrawn since the draft was made.
    profile = get_profile_for_user(request, draft["profile"])
    args = {
        "profile": profile,
        "object_name": draft["object_name"],
        "source_ids": draft["source_ids"],
        "mode": draft["mode"],
    }
    if request.method == "POST":
        try:
            job = _services().copy_job_create(
                **args,
                user=request.user,
                overrides=draft["overrides"],
                row_overrides=draft["row_overrides"] or None,
                confirmation=draft_id,  # one job per confirmed preview
                options=CopyOptions.from_dict(draft.get("options")),
            )
        except (ValidationError, ValueError) as exc:
            messages.error(request, service_error_message(exc))
            return redirect("copy_preview", draft_id=draft_id)
        except ConnectorError as exc:
            messages.error(request, friendly_error(exc, profile))
            return redirect("copy_preview", draft_id=draft_id)
        drafts = request.session.get(DRAFTS_KEY, {})
        drafts.pop(draft_id, None)
        request.session[DRAFTS_KEY] = drafts
        if getattr(job, "queue_down", False):
            messages.warning(request, "The copy is queued; it starts when the queue is back.")
        else:
            messages.success(request, "The copy is queued. This page follows its progress.")
        return redirect("job_detail", code=job.code)
    plan, error = None, ""
    try:
        plan = _services().copy_preview(**args, overrides=draft["overrides"],
                                        options=CopyOptions.from_dict(draft.get("options")))
    except (ValidationError, ValueError) as exc:
        error = service_error_message(exc)
    except Exception as exc:  # noqa: BLE001
        error = friendly_error(exc, profile)
    row_overrides = list(draft["row_overrides"].items())
    return render(
        request,
        "records/copy_preview.html",
        {
            "draft": draft,
            "draft_id": draft_id,
            "profile": profile,
            "mode_label": CopyJob.Mode(draft["mode"]).label,
            "plan": plan,
            "error": error,
            "overrides": sorted(draft["overrides"].items()),
            "row_overrides": row_overrides[:200],
            "row_overrides_more": max(0, len(row_overrides) - 200),
            "choices": draft.get("choices", {}),
            "options": CopyOptions.from_dict(draft.get("options")),
            "choice_objects": _choice_objects(plan, CopyOptions.from_dict(draft.get("options"))),
        },
    )


def _choice_objects(plan, options):
    from records.views_choices import choice_objects  # it imports this module

    return choice_objects(plan, options)


def bulk_upload(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    form = BulkUploadForm(request.POST or None, request.FILES or None, profiles=profiles)
    parsed = None
    if request.method == "POST" and form.is_valid():
        profile = get_profile_for_user(request, form.cleaned_data["profile"])
        object_name = form.cleaned_data["object_name"].strip()
        try:
            fields = connector_for(profile).describe(object_name)
        except Exception as exc:  # noqa: BLE001
            form.add_error("object_name", friendly_error(exc, profile))
        else:
            parsed = parse_bulk_csv(form.cleaned_data["file"], fields)
            if parsed.ok:
                draft_id = _save_draft(
                    request,
                    profile=profile,
                    object_name=object_name,
                    source_ids=[r.source_id for r in parsed.rows],
                    mode=CopyJob.Mode.CLONE,
                    overrides={},
                    row_overrides={r.source_id: r.overrides for r in parsed.rows if r.overrides},
                    label=f"{len(parsed.rows)} records from {request.FILES['file'].name}",
                )
                return redirect("copy_preview", draft_id=draft_id)
    return render(request, "records/bulk_upload.html", {"form": form, "parsed": parsed})
