"""New copy, step by step (profile → object → record → overrides → preview → confirm); the preview
and confirm of bulk clones too (records.web.views.bulk makes their drafts). The engine
(records.copying: preview, job_create) does the copying."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from records.connectors import connector_for
from records.connectors.base import Connector, FieldInfo, FieldType, Record
from records.copy_templates import runs as template_runs
from records.copying import guards, stored_plans
from records.copying.choices import offered
from records.copying.job_create import copy_job_create
from records.copying.job_queue import Enqueued, copy_job_enqueue
from records.copying.lookup import lookup_matches
from records.copying.options import CopyOptions
from records.copying.remote_checks import remote_errors
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile, CopyJob, CopyPlan
from records.profiles.access import get_profile_for_user
from records.web import drafts, wizard
from records.web.drafts import Draft
from records.web.forms import OverridesForm
from records.web.job_actions import UNTIL_ENDED
from records.web.views.choices import choice_objects, engine_needed, widgets
from records.web.views.cross_choices import checked_target, cross_context, target_choices, target_of
from records.web.views.mask_choices import confirm_refusal, mask_context

LOOKUP_PER_PAGE = 10
# The preview's way back, by where its draft came from (drafts.Draft.origin).
BACK_LABELS = {
    "wizard": "Change the fields",
    "query": "Change the filter",
    "bulk": "Upload another file",
    "template": "The template",
}


def copy_start(request: SignedInRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    return render(request, "records/copy_profile.html", {"profiles": profiles, "wizard": wizard.steps(current=1)})


def copy_objects(request: SignedInRequest, profile_code: uuid.UUID) -> HttpResponse:
    profile = get_profile_for_user(request, profile_code)
    q = request.GET.get("q", "").strip()
    objects, error = [], ""
    try:
        objects = connector_for(profile).list_objects()
    except Exception as exc:  # noqa: BLE001 - shown to the user in plain words
        error = friendly_error(exc, profile)
    else:
        wizard.remember_labels(request, profile, objects)
    if q:
        needle = q.lower()
        objects = [o for o in objects if needle in o.name.lower() or needle in o.label.lower()]
    return render(
        request,
        "records/copy_objects.html",
        {
            "profile": profile,
            "objects": objects,
            "q": q,
            "error": error,
            "wizard": wizard.steps(current=2, profile=profile),
        },
    )


def record_lookup(request: SignedInRequest, profile_code: uuid.UUID, object_name: str) -> JsonResponse:
    """Records of `object_name` (or users, for a user reference) whose name matches `q` (the
    reference fields' search-as-you-type): {"results": [{"id", "name"}]} or {"error": "..."}."""
    profile = get_profile_for_user(request, profile_code)
    q = request.GET.get("q", "").strip()[:200]
    try:
        found = lookup_matches(
            connector=connector_for(profile), object_name=object_name, query=q, limit=LOOKUP_PER_PAGE
        )
    except Exception as exc:  # noqa: BLE001 - shown beside the box in plain words
        return JsonResponse({"results": [], "error": friendly_error(exc, profile)}, status=200)
    return JsonResponse({"results": [{"id": found_id, "name": name} for found_id, name in found]})


def copy_record(request: SignedInRequest, profile_code: uuid.UUID, object_name: str, record_id: str) -> HttpResponse:
    profile = get_profile_for_user(request, profile_code)
    steps = wizard.steps(current=4, profile=profile, object_name=object_name, record_id=record_id)
    if request.method == "POST" and request.POST.get("goto"):
        # A step of the wizard was clicked: keep what was typed for when the person comes back.
        wizard.keep_typed(request, profile, object_name, record_id, request.POST)
        target = next((s["url"] for s in steps if str(s["number"]) == request.POST["goto"] and s["url"]), "")
        return redirect(target or request.path)
    context = {
        "profile": profile,
        "object_name": object_name,
        "record_id": record_id,
        "wizard": steps,
        "wizard_form": "overrides-form",
    }
    try:
        # Inside the try: a refused URL or a profile missing a setting is explained, not a 500.
        connector = connector_for(profile)
        fields = connector.describe(object_name)
        record = connector.get(object_name, record_id)
    except Exception as exc:  # noqa: BLE001
        context.pop("wizard_form")
        return render(request, "records/copy_record.html", {**context, "error": friendly_error(exc, profile)})
    kept = wizard.typed(request, profile, object_name, record_id) if request.method == "GET" else None
    form = OverridesForm(
        request.POST or kept,
        fields=offered(fields, connector.copy_key_fields),  # never the copy key: the tool's own
        record_values=record.fields,
        taken=_copies_names(connector, object_name, record, fields),
        name_fields=connector.name_fields,
    )
    if request.method == "POST" and form.is_valid() and _remote_checks_pass(connector, object_name, form):
        wizard.keep_typed(request, profile, object_name, record_id, request.POST)
        draft_id = _record_draft(request, profile, record, form, fields)
        if draft_id:
            return redirect("copy_preview", draft_id=draft_id)
    shown = [(f, shown_value(f, record.fields.get(f.name))) for f in fields]
    form.ref_names = _reference_names(connector, fields, record.fields)
    _name_reference_boxes(form)
    return render(
        request,
        "records/copy_record.html",
        {
            **context,
            "object_label": wizard.object_label(request, profile, object_name, connector),
            "record": record,
            "shown": shown,
            "form": form,
            "link": _safe(connector.record_url, object_name, record.id),
            "targets": target_choices(request.user, profile),
            "chosen_target": (request.POST if request.method == "POST" else kept or QueryDict()).get("target", ""),
        },
    )


def _record_draft(
    request: SignedInRequest, profile: ConnectionProfile, record: Record, form: OverridesForm, fields: list[FieldInfo]
) -> str:
    """The fields step's draft (its id), "Copy into" checked by the services; "" with the refusal on the form."""
    overrides = form.overrides()
    numbered = tuple(form.made_unique())
    try:
        copy_request = CopyRequest(
            profile=profile,
            object_name=record.object_name,
            source_ids=(record.id,),
            mode=form.cleaned_data["mode"],
            overrides=overrides,
            options=CopyOptions(unique={record.object_name: numbered}) if numbered else CopyOptions(),
            target=target_of(request.POST.get("target", ""), profile),
        )
        checked_target(copy_request, request.user)
    except ValidationError as exc:
        form.add_error(None, service_error_message(exc))
        return ""
    return drafts.save_draft(
        request,
        copy_request=copy_request,
        label=record.name or record.id,
        origin="wizard",
        field_labels={f.name: f.label for f in fields if f.name in overrides},
    )


def _name_reference_boxes(form: OverridesForm) -> None:
    """A reference box still holding the source's id shows its record's name (lookup.js)."""
    for name, ref_name in form.ref_names.items():
        box = f"f_{name}"
        if box in form.fields and str(form[box].value() or "") == str(form.sources.get(name) or ""):
            form.fields[box].widget.attrs["data-ref-name"] = ref_name


def _reference_names(connector: Connector, fields: list[FieldInfo], values: dict[str, Any]) -> dict[str, str]:
    """{field: name of the record it references}, so a reference box says which record its id is:
    Zoho's lookups carry the name; Vault's ids are named with one batched read per object."""
    out: dict[str, str] = {}
    wanted: dict[str, dict[str, str]] = {}  # target object -> {id: field}
    for f in fields:
        value = values.get(f.name)
        if f.type != FieldType.REFERENCE or not value:
            continue
        if isinstance(value, dict):
            if value.get("name"):
                out[f.name] = str(value["name"])
        elif isinstance(value, str) and f.reference_to:
            wanted.setdefault(f.reference_to, {})[value] = f.name
    for target, ids in wanted.items():
        try:
            names = connector.names(target, list(ids))
        except Exception:  # noqa: BLE001, S112 - only the hint is lost; the box keeps its id
            continue
        out.update({field: names[rid] for rid, field in ids.items() if names.get(rid)})
    return out


def _copies_names(connector: Connector, object_name: str, record: Record, fields: list[FieldInfo]) -> frozenset[str]:
    """Names earlier copies of this record hold ("Acme (copy)", "Acme (copy 2)" …), so that the
    suggested unique name is a free one: one search by name. A failed search suggests as before
    (the uniqueness check on submit still catches a taken one)."""
    named = set(connector.name_fields)
    if not record.name or not any((f.unique and f.required) or f.name in named for f in fields):
        return frozenset()  # nothing is suggested: no call
    try:
        found = connector.search(object_name, f"{record.name} (copy", page=1, per_page=50).records
    except Exception:  # noqa: BLE001 - only the suggestion is at stake
        return frozenset()
    return frozenset(r.name for r in found if r.name)


def shown_value(field: FieldInfo, value: Any) -> Any:
    """A source value as people read it: picklist values by label, several values joined (the
    "All fields" table showed Vault's picklist as "['active__v']")."""
    labels = dict(zip(field.picklist_values, field.picklist_labels, strict=False))
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ", ".join(labels.get(v) or v for v in value) or None  # a subform's rows stay as they are
    if isinstance(value, str) and value in labels:
        return labels[value]
    return value


def _remote_checks_pass(connector: Connector, object_name: str, form: OverridesForm) -> bool:
    """References exist and unique values are free (remote calls), shown on the form otherwise."""
    # A value to be made unique may be taken: the run numbers it (the preview says how).
    numbered = set(form.made_unique())
    overrides = {k: v for k, v in form.overrides().items() if k not in numbered}
    errors = remote_errors(connector=connector, object_name=object_name, infos=form.infos, overrides=overrides)
    for name, message in errors.items():
        form.add_error(f"f_{name}", message)
    return not errors


def _safe(fn: Callable[..., str], *args: str) -> str:
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - a missing link is not worth an error page
        return ""


def copy_preview(request: SignedInRequest, draft_id: str) -> HttpResponse:
    """The preview: its plan is read on a worker (records/copying/stored_plans.py); until it is ready the
    page shows the records read so far and polls copy_plan_status. No remote call."""
    if request.method == "POST":
        # Confirm's older URL (a preview opened before it had its own): a 308 keeps the POST.
        return redirect("copy_confirm", draft_id=draft_id, permanent=True, preserve_request=True)
    # The browser's Back after Confirm, or a second tab of the same preview: the job the first
    # Confirm created, not "expired".
    done = _confirmed_job(request, draft_id)
    if done:
        return redirect("job_detail", code=done.code)
    draft = drafts.get_draft(request, draft_id)
    # The profile is checked again: access may have been withdrawn since the draft was made.
    profile = get_profile_for_user(request, draft["profile"])
    copy_request = drafts.copy_request_of(draft, profile)
    options = copy_request.options
    again = request.GET.get("again") == "1"
    row, error = _plan_row(request, copy_request, again=again)
    if again and not error:
        return redirect("copy_preview", draft_id=draft_id)  # a reload must not read it once more
    plan = stored_plans.shown_plan(row) if row and row.status == CopyPlan.Status.READY else None
    if row and row.status == CopyPlan.Status.FAILED:
        error = row.error
    row_overrides = list(draft["row_overrides"].items())
    back = _back_url(profile, draft)
    reading = bool(row and row.status == CopyPlan.Status.READING)
    return render(
        request,
        "records/copy_preview.html",
        {
            "back_url": back,
            "back_label": BACK_LABELS.get(draft.get("origin", ""), "Upload another file"),
            "nav": "bulk" if draft.get("origin") == "bulk" else "copy",  # the menu item it came from
            "object_label": wizard.object_label(request, profile, draft["object_name"]),
            "wizard": _preview_steps(profile, draft, draft_id),
            "draft": draft,
            "draft_id": draft_id,
            "profile": profile,
            "mode_label": CopyJob.Mode(draft["mode"]).label,
            "plan": plan,
            "plan_row": row,
            "reading": reading,
            "plan_notice": stored_plans.progress_words(row) if row else "",
            "error": error,
            "overrides": _labelled(draft["overrides"], plan, draft),
            "row_overrides": [(sid, _labelled(ov, plan, draft)) for sid, ov in row_overrides[:200]],
            "row_overrides_more": max(0, len(row_overrides) - 200),
            "choices": draft.get("choices", {}),
            "options": options,
            "query_default_limit": settings.COPY_QUERY_DEFAULT_LIMIT,  # a copy by query without a limit
            "choice_objects": choice_objects(plan, options, wizard.known_labels(request, profile)),
            "engine_needed": engine_needed(options, draft["object_name"]),
            # Needed even with every branch ticked again (preview_tree.js unlocks the box otherwise).
            "engine_needed_besides": engine_needed(replace(options, exclude=()), draft["object_name"]),
            "widgets": (
                widgets(profile, draft, plan, options, row, wizard.known_labels(request, profile))
                if not reading
                else None
            ),
            **_guards(row, profile, plan),
            **cross_context(request, copy_request, plan),
            **mask_context(copy_request, plan, row),
        },
    )


@require_POST
def copy_confirm(request: SignedInRequest, draft_id: str) -> HttpResponse:
    """Confirm: the job is made from the stored plan the preview showed (no remote call), then its page."""
    # A repeated Confirm (double click, resubmit) or one from a second tab: the job the first
    # Confirm created, not "expired".
    done = _confirmed_job(request, draft_id)
    if done:
        return redirect("job_detail", code=done.code)
    draft = drafts.get_draft(request, draft_id)
    # The profile is checked again: access may have been withdrawn since the draft was made.
    profile = get_profile_for_user(request, draft["profile"])
    return _confirm(request, draft_id, draft, drafts.copy_request_of(draft, profile))


def _guards(row: CopyPlan | None, profile: ConnectionProfile, plan: Plan | None) -> dict[str, Any]:
    """Per object of a ready plan, what finds a copy whose answer was lost (no remote call)."""
    shown = guards.plan_guards(row=row, system=profile.system) if plan and row else []
    return {"guards": shown, "guards_without_key": any(g.kind == guards.VALUES for g in shown)}


def copy_plan_status(request: SignedInRequest, draft_id: str) -> JsonResponse:
    """What the preview page polls while its plan is read: {"status", "read"}. A plan whose worker
    stopped writing progress is queued again here (stored_plans.plan_request revives it)."""
    quick = _reading_progress(request)
    if quick is not None:
        return JsonResponse(quick)
    done = _confirmed_job(request, draft_id)
    if done:  # confirmed in another tab: the page reloads and lands on the job
        return JsonResponse({"status": "confirmed", "job_url": reverse("job_detail", args=[done.code])})
    draft = drafts.get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    row, error = _plan_row(request, drafts.copy_request_of(draft, profile))
    if row is None:
        return JsonResponse({"status": CopyPlan.Status.FAILED, "read": 0, "error": error})
    return JsonResponse({"status": row.status, "read": row.read_count, "notice": stored_plans.progress_words(row)})


def _reading_progress(request: SignedInRequest) -> dict[str, Any] | None:
    """The progress of the plan the page names (`?plan=<code>`, the row it showed) while a worker
    reads it and writes progress: one query on that row, no draft, profile or plan key worked
    out. None when it is not so (ready, failed, used by a Confirm, or its worker silent for
    PLAN_STALE_SECONDS): then the full answer, which revives a stalled plan. Polled by every
    open preview; what it tells is this user's own plan's count."""
    code = _uuid(request.GET.get("plan"))
    if code is None:
        return None
    row = (
        CopyPlan.objects.filter(code=code, requested_by_id=request.user.pk, status=CopyPlan.Status.READING)
        .only("status", "read_count", "heartbeat", "started_at", "notice", "created_at")
        .first()
    )
    fresh = timezone.now() - timedelta(seconds=settings.PLAN_STALE_SECONDS)
    if row is None or row.heartbeat is None or row.heartbeat < fresh:
        return None
    return {"status": row.status, "read": row.read_count, "notice": stored_plans.progress_words(row)}


def _confirmed_job(request: HttpRequest, draft_id: str) -> CopyJob | None:
    """The job this user's Confirm of `draft_id` created, if any (the draft left the session then)."""
    return CopyJob.objects.filter(confirmation=draft_id, requested_by_id=request.user.pk).only("code").first()


def _plan_row(
    request: SignedInRequest, copy_request: CopyRequest, *, again: bool = False
) -> tuple[CopyPlan | None, str]:
    """The draft's plan row (its current one, or a new one queued); local checks only."""
    try:
        row = stored_plans.plan_request(request=copy_request, user=request.user, again=again)
    except (ValidationError, ValueError) as exc:
        return None, service_error_message(exc)
    return row, ""


def _confirm(request: SignedInRequest, draft_id: str, draft: Draft, copy_request: CopyRequest) -> HttpResponse:
    # The plan the page showed (its code in the form); without one, the draft's current plan.
    code = _uuid(request.POST.get("plan"))
    row = CopyPlan.objects.filter(code=code, requested_by_id=request.user.pk).first() if code else None
    if row is None:
        row, error = _plan_row(request, copy_request)
        if row is None:
            messages.error(request, error)
            return redirect("copy_preview", draft_id=draft_id)
    if row.status == CopyPlan.Status.READING:
        messages.info(request, "The records to copy are still being read; confirm when the preview shows them.")
        return redirect("copy_preview", draft_id=draft_id)
    refused = confirm_refusal(copy_request, row)
    if refused:
        messages.error(request, refused)
        return redirect("copy_preview", draft_id=draft_id)
    try:
        job = copy_job_create(
            request=copy_request,
            user=request.user,
            confirmation=draft_id,  # one job per confirmed preview
            plan=row,
            enqueue=False,  # queued below, to say whether the queue took it
            template_version=template_runs.confirmed_version(draft.get("template_version"), user=request.user),
        )
        template_runs.audit_run(job=job, user=request.user)
    except stored_plans.PlanUsed as exc:
        if exc.job is None or exc.job.requested_by_id != request.user.pk:
            messages.error(request, service_error_message(exc))
            return redirect("copy_preview", draft_id=draft_id)
        # Another tab confirmed the same preview first: its job, not a second copy.
        job = exc.job
        messages.info(request, f"This preview was already confirmed (in another tab): it made job {job.pk}, below.")
    except (ValidationError, ValueError) as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    else:
        _queued_words(request, copy_job_enqueue(job=job))
    drafts.drop_draft(request, draft_id)
    if draft.get("origin") == "wizard":
        wizard.forget_typed(request, copy_request.profile, draft["object_name"], draft["source_ids"][0])
    return redirect("job_detail", code=job.code)


def _queued_words(request: HttpRequest, queued: Enqueued) -> None:
    if queued.job.status == CopyJob.Status.AWAITING_APPROVAL:
        # Nothing is queued (approval.needs_approval): the job page's approval box says who decides.
        messages.info(request, f"Waiting for approval: {queued.job.write_profile.name} is protected.")
    elif queued.queue_down:
        messages.warning(request, "The copy is queued; it starts when the queue is back.", extra_tags=UNTIL_ENDED)
    else:
        messages.success(request, "The copy is queued. This page follows its progress.", extra_tags=UNTIL_ENDED)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _labelled(overrides: dict[str, Any], plan: Plan | None, draft: Draft) -> list[tuple[str, str, object, str]]:
    """(API name, label, value, shown) of each override, labels as the plan read them (labels
    first), or before it is read as the fields step or upload described them; `shown` is a
    reference's record name (the plan's, for the top record's values), else ""."""
    changes = plan.changes if plan else []
    labels = {**draft.get("field_labels", {}), **{c.field: c.label for c in changes}}
    shown = {c.field: c.new_name for c in changes if c.new_name and c.new == overrides.get(c.field)}
    return [(name, labels.get(name) or name, value, shown.get(name, "")) for name, value in sorted(overrides.items())]


def _back_url(profile: ConnectionProfile, draft: Draft) -> str:
    """The step that changes what this preview shows: the record's fields step, the search page
    with the filter kept (a copy by query), or the upload."""
    if draft.get("origin") == "wizard":
        return reverse("copy_record", args=[profile.code, draft["object_name"], draft["source_ids"][0]])
    if draft.get("origin") == "query":
        return reverse("copy_search", args=[profile.code, draft["object_name"]]) + "?" + _query_typed(draft)
    if draft.get("template"):
        return reverse("template_detail", args=[draft["template"]])
    return reverse("bulk_upload")


def _query_typed(draft: Draft) -> str:
    """The search page's query form as this draft fills it (copy_search reads it from the URL)."""
    options = CopyOptions.from_dict(draft.get("options"))
    typed = {"where": options.source_filter, "limit": options.source_limit or "", "mode": draft["mode"]}
    return urlencode({**typed, "target": draft.get("target", "")})


def _preview_steps(profile: ConnectionProfile, draft: Draft, draft_id: str) -> list[wizard.Step]:
    if draft.get("origin") not in ("wizard", "query"):
        return []  # a bulk clone has no wizard steps
    return wizard.steps(
        current=5,
        profile=profile,
        object_name=draft["object_name"],
        record_id=draft["source_ids"][0] if draft["source_ids"] else "",  # a copy by query has none yet
        draft_id=draft_id,
    )
