"""Job list, job page, its live part and rows, and the job actions (the results CSV: job_csv)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
)
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.copying import approval, job_actions, job_queue, review
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile, CopyJob, RecordResult
from records.web import job_state, job_version, page_cache
from records.web.forms import JobFilterForm
from records.web.job_actions import APPROVE, CANCEL, REJECT, RESUME, UNDO, UNTIL_ENDED, JobAction
from records.web.job_files import files_summary
from records.web.results_table import (
    filtered_results,
    filtered_total,
    filters_query,
    result_row_html,
    results_page,
    row_words,
)

log = logging.getLogger(__name__)
QUEUE_DOWN = "The job is queued; it starts when the queue is back."
JOBS_PER_PAGE = 25


def _get_job_for_user(
    request: HttpRequest,
    code: uuid.UUID | str,
    only: tuple[str, ...] = (),
    related: tuple[str, ...] = ("profile", "parent_job"),
    annotations: dict[str, Any] | None = None,
) -> CopyJob:
    """The job `code` if this user may see it, else 404 (staff audit jobs in the admin). `only`,
    `related`, `annotations`: the columns, joins and DETAIL_ANNOTATIONS read. Asked first as the
    requester (as job_version asks): for_user's approver rules cost PostgreSQL more to plan than
    the read costs to run, so they are asked only when that finds nothing."""
    user = request.user
    own = [partial(CopyJob.objects.filter, requested_by=user.pk)] if user.pk else []
    # Callables: for_user's query is built only when the requester's finds nothing (~3 ms a render).
    for asked in (*own, partial(CopyJob.objects.for_user, user)):
        jobs = asked().annotate(**(annotations or {}))
        jobs = jobs.select_related(*related) if related else jobs  # none given: no join at all
        jobs = jobs.only(*only) if only else jobs
        try:
            return jobs.get(code=code)
        except CopyJob.DoesNotExist:
            continue
        except (ValueError, ValidationError):
            break
    raise Http404("No such job")


# What the job page shows. Not the large JSON columns (engine state, a bulk clone's row overrides)
# nor the profile's encrypted credentials, which would be decrypted on load. The plan is a summary
# (one entry per object, the changed fields, the warnings): its labels name the objects.
DETAIL_FIELDS = (
    "code",
    "object_name",
    "source_name",
    "plan",
    "mode",
    "status",
    "cancel_requested",
    "planned_count",
    "succeeded_count",
    "failed_count",
    "error_summary",
    "source_ids",
    "overrides",
    "created",
    "finished",
    "requested_by",
    "profile_id",
    "target_profile_id",
    "undo_job",
    "resume_at",
    "profile__name",
    "profile__system",
    # A copy into another profile names it, and the page says who asked (an approver reads it too).
    "target_profile__name",
    "requested_by__username",
    "parent_job__code",
    "parent_job__requested_by",
    # "From template X v3": joined in the same query (no secret, no definition loaded).
    "template_version__number",
    "template_version__template__name",
    "template_version__template__code",
    "schedule__cron",
    "schedule__every_seconds",
    "schedule__time_zone",
    "schedule__template__name",
)
# The engine's checkpoint of Vault's own jobs (the phase the page shows), read with the job rather
# than by a query of its own; the rest of the state column stays unread.
# Read with the job, the engine state itself left unread: the Vault phase checkpoint and the run's
# last known API budget.
DETAIL_ANNOTATIONS = {job_state.ROOTS: F("state__roots"), "budget_state": KeyTransform("budget", "state")}
DETAIL_RELATED = (
    "profile",
    "target_profile",
    "requested_by",
    "parent_job",
    "template_version__template",
    "schedule__template",
)


def job_list(request: SignedInRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user).only("code", "name")  # no secret decrypted
    form = JobFilterForm(request.GET or None, profiles=profiles)
    jobs = CopyJob.objects.for_user(request.user).for_table()
    if form.is_valid():
        if form.cleaned_data["status"]:
            jobs = jobs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["profile"]:
            jobs = jobs.filter(profile__code=form.cleaned_data["profile"])
        if form.cleaned_data["q"].strip():
            jobs = jobs.filter(_job_matches(form.cleaned_data["q"].strip()))
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "records/job_list.html", {"form": form, "page": page})


def _job_matches(q: str) -> Q:
    """Jobs whose record name, a source id or a new id contains `q` (any case): partial ids too."""
    rows = RecordResult.objects.filter(
        Q(source_name__icontains=q) | Q(source_id__icontains=q) | Q(new_id__icontains=q)
    ).values("job_id")
    return Q(source_name__icontains=q) | Q(source_ids__icontains=q) | Q(pk__in=rows)


def job_detail(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    # Query budget, whatever the number of results: session, user, job, result groups, page
    # rows, and on a middle page its position; a search by id adds one count; the actions' rules.
    # Rendered once for everyone opening the same state within a few seconds (page_cache): then
    # session, user and the job's version (job_version: one query).
    if not page_cache.keeps(request):  # filtered, a later page, or messages to show once
        return HttpResponse(_detail_html(request, code, get_token(request)))
    version = job_version.job_version(request.user, code)
    if version is None:
        raise Http404("No such job")
    # While another thread renders a newer version, the page of the one before (at most a couple
    # of seconds old): its live part is asked again by job.js within a second, the rows with it.
    # Measured: 40 people opening a job as it starts rendered it 18-24 times, each waited for.
    _, html = page_cache.kept_or_previous(
        request, state=version, render=partial(_detail_html, request, code), take=lambda _: True
    )
    return HttpResponse(page_cache.with_token(request, html))


def _full_job(request: SignedInRequest, code: uuid.UUID) -> tuple[CopyJob, dict[tuple[str, str], int]]:
    """The job as its page shows it and its result groups (read after the version: never older)."""
    job = _get_job_for_user(request, code, only=DETAIL_FIELDS, related=DETAIL_RELATED, annotations=DETAIL_ANNOTATIONS)
    return job, job_state.groups(job)


def _detail_html(request: SignedInRequest, code: uuid.UUID, csrf_token: str) -> str:
    job, groups = _full_job(request, code)
    state = job_state.snapshot(job, request.user, groups)
    objects = sorted({obj for obj, _ in groups})
    labels = {o.object: o.label for o in state.objects}
    chosen = filtered_results(request, job, objects)
    page = results_page(request, chosen.results, filtered_total(chosen, groups), filters_query(request))
    words = row_words(job, page.rows, labels)
    return render_to_string(
        "records/job_detail.html",
        {
            "csrf_token": csrf_token,  # the request's own, or page_cache's slot for it
            "job": job,
            "state": state,
            "form": chosen.form,
            "page": page,
            "rows_html": mark_safe("".join(result_row_html(r, words) for r in page.rows)),  # noqa: S308 - escaped above
            "filtered": bool(chosen.outcome or chosen.object or chosen.q),
            "selected": {"outcome": chosen.outcome, "object": chosen.object, "q": chosen.q},
            "objects": [(o, labels.get(o) or o) for o in objects],
            "outcome_choices": RecordResult.Status.choices,
            "files": files_summary(job),
        },
        request=request,
    )


@require_GET
def job_live(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """The job page's live part, rendered from one snapshot as the page renders it: job.js polls it
    and swaps it whole. An unchanged job is an empty 304 from the session, the user and the job's
    version (job_version, one query), nothing rendered; else rendered once for everyone polling the
    same version within a few seconds (page_cache, as the page)."""
    version = job_version.job_version(request.user, code)
    if version is None:
        raise Http404("No such job")
    # Per user, and always revalidated: job.js asks with If-None-Match.
    headers = {"Cache-Control": "private, no-cache"}
    # The client's own tag back: it ages out after two windows (job_version) however often asked.
    tags = _if_none_match(request)
    tag = job_version.current_tag(version, tags)
    if tag:
        return HttpResponseNotModified(headers={**headers, "ETag": tag})
    # While another thread renders the new version, a client that has the one before is told it
    # still holds (page_cache); it asks again a moment later.
    render, holds = partial(_live_html, request, code, version), partial(job_version.current_tag, tags=tags)
    shown, html = page_cache.kept_or_previous(request, state=version, render=render, take=holds)
    tag = job_version.current_tag(shown, tags)
    if tag:
        return HttpResponseNotModified(headers={**headers, "ETag": tag})
    headers["ETag"] = job_version.etag(shown)
    return HttpResponse(page_cache.with_token(request, html), content_type="text/html; charset=utf-8", headers=headers)


def _live_html(request: SignedInRequest, code: uuid.UUID, version: str, csrf_token: str) -> str:
    job, groups = _full_job(request, code)
    state = job_state.snapshot(job, request.user, groups)
    rows_version = _first_rows_version(request, job, version)
    return render_to_string(
        "records/_job_live.html",
        {"csrf_token": csrf_token, "job": job, "state": state, "rows_version": rows_version},
        request=request,
    )


def _first_rows_version(request: SignedInRequest, job: CopyJob, version: str) -> str:
    """A digest of the table's first rows as job_rows gives them, whatever page the request
    shows: job.js fetches them again only when it moves, not each time a count does (a long
    job's first rows are done early, while its counts move every second). Sent beside the part,
    not in it: the page's own render does not work it out, and a reload shows the same part.
    The rows are kept as job_rows keeps them (same user, address and version), so the fetch
    every watcher makes when the digest moves finds them rendered."""
    first_page, path = HttpRequest(), reverse("job_rows", args=[job.code])  # no filter, no cursor
    rows = page_cache.kept_beside(
        request, path=path, state=("rows", version), render=lambda _: _rows_html(first_page, job)
    )
    digest = hashlib.blake2b(rows.encode(), digest_size=8).hexdigest()
    # Also by their digest: job.js asks for the rows of the digest it was given, and the job's
    # version has often moved on by then (its counts move every second).
    page_cache.keep(request, path=path, state=(ROWS_DIGEST, digest), html=rows)
    return digest


@require_GET
def job_rows(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """The rows of the results table for the page the query string names (same filters and
    cursor as the job page), as HTML: job.js swaps them in while the job runs, so outcomes and
    new ids appear without a reload. Session, user, job and the page's rows: 4 queries. The first
    page, which every watcher fetches when the job moves, is kept as the page is (page_cache,
    by the job's version): then session, user and the version."""
    if request.GET:  # a filter or a later page: rendered each time
        html = _rows_of(request, code)
    else:
        version = job_version.job_version(request.user, code)
        if version is None:
            raise Http404("No such job")
        # The rows whose digest the live part gave (job.js sends it): those the part was rendered
        # with, kept for this user; else those of the job's version now.
        kept = page_cache.peek(request, state=(ROWS_DIGEST, request.headers.get("X-Rows-Digest", "")))
        html = kept or page_cache.kept_render(
            request, state=("rows", version), render=lambda _: _rows_of(request, code)
        )
    return HttpResponse(html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "private, no-cache"})


ROWS_DIGEST = "rows-digest"  # page_cache's state of the first rows kept by their digest
ROWS_FIELDS = (
    "id",
    "code",
    "plan",
    "status",
    "mode",
    "parent_job_id",
    "target_profile_id",
    "profile__system",
    "source_ids",  # the name given to the top copy (undo_checks.copy_name)
)


def _rows_of(request: SignedInRequest, code: uuid.UUID) -> str:
    return _rows_html(request, _get_job_for_user(request, code, only=ROWS_FIELDS, related=("profile",)))


def _rows_html(request: HttpRequest, job: CopyJob) -> str:
    """The rows of the page the query string names; `job` read with ROWS_FIELDS at least."""
    # Any object name is a valid filter here: it only narrows this user's own job's results.
    results = filtered_results(request, job, [request.GET.get("object", "")]).results
    page = results_page(request, results, 0, "")
    labels, _ = job_state.plan_labels((job.plan or {}).get("objects"))
    words = row_words(job, page.rows, labels)
    return "".join(result_row_html(r, words) for r in page.rows)


def _if_none_match(request: HttpRequest) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


# ---------------------------------------------------------------------------------------------
# Actions, one view each (records/web/job_actions.py says what they say). GET shows what will
# happen and asks to confirm (the undo page also lists what it would delete and keep); POST does
# it and goes back to the job page. A refused action shows its rule's reason.


@require_http_methods(["GET", "POST"])
def job_cancel(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    job = _get_job_for_user(request, code)
    if request.method == "GET":
        return _confirm_page(request, job, CANCEL)
    return _act(request, job, CANCEL, partial(job_actions.copy_job_cancel, job=job, user=request.user))


@require_http_methods(["GET", "POST"])
def job_resume(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    job = _get_job_for_user(request, code)
    # Resuming an undo checks its kept records again; the box deletes those changed since the copy.
    undo = job.mode == CopyJob.Mode.UNDO
    if request.method == "GET":
        return _confirm_page(request, job, RESUME, undo_resume=undo)
    include_changed = request.POST.get("include_changed") == "1" if undo else None
    resume = partial(
        job_actions.copy_job_resume, job=job, user=request.user, include_changed=include_changed, enqueue=False
    )
    return _act(request, job, RESUME, resume)


@require_http_methods(["GET", "POST"])
def job_retry_redirect(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """/retry/, Resume's older URL. A 308 keeps a POST a POST (a confirm page opened from it) and
    takes a bookmark to Resume's confirm page."""
    job = _get_job_for_user(request, code, only=("code",), related=())
    return redirect("job_resume", code=job.code, permanent=True, preserve_request=True)


@require_http_methods(["GET", "POST"])
def job_undo(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """The undo page: what will be deleted and what will be kept, and why, read now (up to
    settings.UNDO_PREVIEW_MAX_RECORDS records); POST confirms and queues the undo."""
    job = _get_job_for_user(request, code)
    if request.method == "GET":
        return _undo_page(request, job)
    include_changed = request.POST.get("include_changed") == "1"
    undo = partial(
        job_actions.copy_job_undo, job=job, user=request.user, include_changed=include_changed, enqueue=False
    )
    return _act(request, job, UNDO, undo)


def _confirm_page(
    request: SignedInRequest, job: CopyJob, action: JobAction, *, undo_resume: bool = False
) -> HttpResponse:
    allowed, reason = action.rule(job, request.user)
    return render(
        request,
        "records/job_confirm.html",
        {
            "job": job,
            "action": action.name,
            "spec": action,
            "allowed": allowed,
            "reason": reason,
            "undo_resume": undo_resume,
            "include_changed": bool((job.options or {}).get("include_changed")),
        },
    )


def _undo_page(request: SignedInRequest, job: CopyJob) -> HttpResponse:
    allowed, reason = UNDO.rule(job, request.user)
    preview, error = None, ""
    if allowed:
        try:
            preview = job_actions.undo_preview(job=job, user=request.user)
        except ValidationError as exc:
            allowed, reason = False, service_error_message(exc)
        except Exception as exc:  # noqa: BLE001 - the worker checks every record anyway
            log.warning("Undo preview of job %s failed: %s", job.pk, exc)
            error = friendly_error(exc, job.profile)
    return render(
        request,
        "records/job_undo.html",
        {"job": job, "spec": UNDO, "allowed": allowed, "reason": reason, "preview": preview, "error": error},
    )


def enqueue_and_say(request: HttpRequest, job: CopyJob) -> None:
    """Queue `job` (on commit); when the queue is down, say the job starts once it is back (a
    message about the job under way: dropped once it has ended)."""
    if job_queue.copy_job_enqueue(job=job).queue_down:
        messages.warning(request, QUEUE_DOWN, extra_tags=UNTIL_ENDED)


def _act(request: SignedInRequest, job: CopyJob, action: JobAction, service: Callable[[], CopyJob]) -> HttpResponse:
    """POST of an action: its rule, its service, then the job page (the new job's, for an undo).
    The service leaves the queueing to this view, so that the page can say when the queue is down."""
    allowed, reason = action.rule(job, request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("job_detail", code=job.code)
    try:
        target = service()
    except (ValidationError, ValueError, PermissionError) as exc:
        messages.error(request, service_error_message(exc))
        return redirect("job_detail", code=job.code)
    except Exception as exc:  # noqa: BLE001 - shown as a friendly message, logged
        messages.error(request, friendly_error(exc, job.profile))
        return redirect("job_detail", code=job.code)
    messages.success(request, action.done, extra_tags=UNTIL_ENDED if action.under_way else "")
    if action.queues:
        enqueue_and_say(request, target)
    if not CopyJob.objects.for_user(request.user).filter(pk=target.pk).exists():
        # An approver's decision hands the job back to its requester: their list, not a 404.
        return redirect("job_list")
    return redirect("job_detail", code=target.code)


# ---------------------------------------------------------------------------------------------
# A copy into a protected profile: approved (and queued) or rejected from the job page's approval
# box (templates/records/_job_approval.html), by the services' rules (records/copying/approval.py).


@require_POST
def job_approve(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    job = _get_job_for_user(request, code)
    return _act(request, job, APPROVE, partial(approval.copy_job_approve, job=job, user=request.user, enqueue=False))


@require_POST
def job_reject(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    job = _get_job_for_user(request, code)
    reason = request.POST.get("reason", "")
    return _act(request, job, REJECT, partial(approval.copy_job_reject, job=job, user=request.user, reason=reason))


# ---------------------------------------------------------------------------------------------
# A row that needs review: the person picks its copy among the candidates, or none of them.


@require_POST
def job_row_pick(request: SignedInRequest, code: uuid.UUID, row: int) -> HttpResponse:
    return _resolve(request, code, row, pick=request.POST.get("pick", ""))


@require_POST
def job_row_none(request: SignedInRequest, code: uuid.UUID, row: int) -> HttpResponse:
    return _resolve(request, code, row, pick=None)


def _resolve(request: SignedInRequest, code: uuid.UUID, row_id: int, *, pick: str | None) -> HttpResponse:
    job = _get_job_for_user(request, code)
    row = job.results.defer("source_snapshot").filter(pk=row_id).first()
    if row is None:
        raise Http404("No such record in this job")
    try:
        review.copy_row_resolve(job=job, row=row, pick=pick, user=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    else:
        name = row.source_name or row.source_id
        if pick is None:
            messages.success(request, f"{name}: none of the records is its copy. Resume sends it again.")
        else:
            messages.success(request, f"{name}: {pick} is its copy.")
    return redirect(reverse("job_detail", args=[job.code]) + "#review-h")
