"""Job list, job page, its progress endpoint, the results CSV and the job actions."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from records.copying import lifecycle, review
from records.lib.error_words import friendly_error, service_error_message
from records.models import ConnectionProfile, CopyJob, RecordResult, System
from records.web import job_progress as live
from records.web.forms import JobFilterForm, ResultFilterForm

log = logging.getLogger(__name__)
QUEUE_DOWN = "The job is queued; it starts when the queue is back."
RESULTS_PER_PAGE = 50
JOBS_PER_PAGE = 25


def _get_job_for_user(
    request: HttpRequest, code, only: tuple[str, ...] = (), related: tuple[str, ...] = ("profile", "parent_job")
) -> CopyJob:
    """Return the job `code` if this user requested it; 404 for anyone else's (even staff:
    they audit jobs in the admin). `only`: load just these columns (pages that only show);
    `related`: the relations joined in (none for the endpoints polled while a job runs)."""
    jobs = CopyJob.objects.for_user(request.user)
    if related:
        jobs = jobs.select_related(*related)
    if only:
        jobs = jobs.only(*only)
    try:
        return jobs.get(code=code)
    except (CopyJob.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such job") from None


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
    "undo_job",
    "resume_at",
    "profile__name",
    "profile__system",
    "parent_job__code",
    "parent_job__requested_by",
)


def job_list(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    form = JobFilterForm(request.GET or None, profiles=profiles)
    jobs = CopyJob.objects.for_user(request.user).select_related("profile")
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


# The job's columns the progress JSON needs: not the JSON columns (source ids, plan, overrides,
# row overrides, engine state), which can be large for a bulk clone and are parsed on load.
# mode, resume_at and undo_job feed status_words(), sent with each answer so that the words under
# the badge follow the job as it runs (they said "Queued" next to a Running badge).
PROGRESS_FIELDS = (
    "status",
    "cancel_requested",
    "planned_count",
    "succeeded_count",
    "failed_count",
    "error_summary",
    "mode",
    "resume_at",
    "undo_job",
)


def _progress(job: CopyJob) -> dict:
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.is_finished,
        "cancel_requested": job.cancel_requested,
        "percent": job.progress_percent,
        "planned": job.planned_count,
        "done": job.done_count,
        "succeeded": job.succeeded_count,
        "failed": job.failed_count,
        "error_summary": job.error_summary,
        "words": job.status_words,
    }


# -- the job page's results table -------------------------------------------------------------
# Keyset pagination: ?after=<id> (the next page), ?before=<id> (the previous one), ?last=1. Each
# page reads one index range from a cursor, so the last page of 10,000 results costs what the
# first does (an OFFSET reads and throws away every row before the page). Totals come from one
# grouped COUNT per (object, outcome), which also fills the outcome badges and the object filter.
# The job's own counters are not used for these: the engine refreshes them only now and then
# during a run, and they have no pending/sending/skipped numbers.

RESULT_FIELDS = (
    "id",
    "job",
    "object_name",
    "source_id",
    "source_name",
    "new_id",
    "parent_source_id",
    "status",
    "error_type",
    "error_message",
    "link",
    "values",
    "candidates",
)


@dataclass
class ResultsPage:
    rows: list[RecordResult]
    total: int
    start: int  # 1-based position of the first row (0 when there are no rows)
    has_previous: bool
    has_next: bool
    query: str  # the filters, url-encoded, without the cursor
    end: int = field(init=False)

    def __post_init__(self):
        self.end = self.start + len(self.rows) - 1 if self.rows else 0

    def _link(self, cursor: str) -> str:
        return "?" + "&".join(part for part in (self.query, cursor) if part)

    @property
    def first_url(self) -> str:
        return self._link("")

    @property
    def previous_url(self) -> str:
        return self._link(f"before={self.rows[0].pk}") if self.rows else self.first_url

    @property
    def next_url(self) -> str:
        return self._link(f"after={self.rows[-1].pk}") if self.rows else self.first_url

    @property
    def last_url(self) -> str:
        return self._link("last=1")


def _cursor(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _results_page(request: HttpRequest, results, total: int, query: str) -> ResultsPage:
    """One page of `results` (already filtered) at the cursor in the request: 1–2 queries."""
    rows_qs = results.only(*RESULT_FIELDS)
    after, before = _cursor(request, "after"), _cursor(request, "before")
    size = RESULTS_PER_PAGE
    if request.GET.get("last"):
        rows = list(rows_qs.order_by("-id")[: size + 1])
        has_previous, rows = len(rows) > size, rows[:size][::-1]
        return ResultsPage(rows, total, total - len(rows) + 1 if rows else 0, has_previous, False, query)
    if before is not None:
        rows = list(rows_qs.filter(id__lt=before).order_by("-id")[: size + 1])
        has_previous, rows = len(rows) > size, rows[:size][::-1]
        # A `before` cursor is the first row of a page the user saw, so there is a next page.
        has_next = True
    else:
        qs = rows_qs.filter(id__gt=after) if after is not None else rows_qs
        rows = list(qs.order_by("id")[: size + 1])
        has_next, rows = len(rows) > size, rows[:size]
        has_previous = after is not None
    if not rows:
        return ResultsPage([], total, 0, has_previous, has_next, query)
    # Position of the first row: nothing to count on the first page; else an index-range count.
    before_first = results.filter(id__lt=rows[0].pk).count() if has_previous else 0
    return ResultsPage(rows, total, before_first + 1, has_previous, has_next, query)


STATUS_LABELS = dict(RecordResult.Status.choices)


def _result_row_html(r: RecordResult, labels: dict[str, str] | None = None, deleted: bool = False) -> str:
    """One row of the results table. Built here rather than in the template: rendering 50 rows
    through the template engine took about half of the page's server time. `deleted`: the job
    was undone, so its copies are gone: no link, the id struck through."""
    if r.new_id and deleted:
        new_id = format_html("<del>{}</del> (deleted)", r.new_id)
    elif r.new_id and r.link:
        new_id = format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}<span class="sr-only">'
            " (opens the new record)</span></a>",
            r.link,
            r.new_id,
        )
    else:
        new_id = escape(r.new_id or "—")
    error = ""
    if r.error_type or r.error_message:
        sep = ": " if r.error_type and r.error_message else ""
        error = format_html('<span class="err"><strong>{}</strong>{}{}</span>', r.error_type, sep, r.error_message)
    if r.status == RecordResult.Status.REVIEW:
        error = format_html('{} <a href="#review-h">Candidates: {}</a>', error, _candidate_ids(r.candidates))
    return format_html(
        '<tr><td>{}</td><td class="mono">{}</td><td class="mono">{}</td><td>{}</td><td class="mono">{}</td>'
        '<td><span class="badge badge-{}">{}</span></td><td>{}</td><td>{}</td></tr>\n',
        r.source_name or "—",
        r.source_id,
        new_id,
        (labels or {}).get(r.object_name) or r.object_name,
        r.parent_source_id or "—",
        r.status,
        STATUS_LABELS.get(r.status, r.status),
        error,
        values_text(r.values),
    )


def _candidate_ids(candidates) -> str:
    return ", ".join(str(c.get("id")) for c in candidates or [] if isinstance(c, dict))


def values_text(values) -> str:
    """The values overrides, templates, lineage and "make unique" gave a copy: "F = v; G = (cleared)",
    and the numbered tries when there were any. Internal keys (leading "_") are not shown."""
    if not values:
        return ""
    parts = [f"{k} = {'(cleared)' if v is None else v}" for k, v in values.items() if not k.startswith("_")]
    tries = values.get("_unique_tries")
    if tries:
        parts.append(f"made unique after {len(tries)} tr{'y' if len(tries) == 1 else 'ies'}: {', '.join(tries)}")
    return "; ".join(parts)


def _filtered_results(request: HttpRequest, job: CopyJob, objects: list[str]):
    """(the job's results under the page's filters, outcome, object, id searched)."""
    form = ResultFilterForm(request.GET or None, objects=objects)
    results = job.results.all()
    outcome = obj = q = ""
    if form.is_valid():
        outcome, obj, q = form.cleaned_data["outcome"], form.cleaned_data["object"], form.cleaned_data["q"].strip()
    if outcome:
        results = results.filter(status=outcome)
    if obj:
        results = results.filter(object_name=obj)
    if q:
        results = results.filter(Q(source_id__icontains=q) | Q(new_id__icontains=q) | Q(source_name__icontains=q))
    return form, results, outcome, obj, q


def job_detail(request: HttpRequest, code) -> HttpResponse:
    # Query budget, whatever the number of results: session, user, job, result groups, page
    # rows, and on a middle page its position; a search by id adds one count.
    job = _get_job_for_user(request, code, only=DETAIL_FIELDS)
    groups = live.groups(job)
    objects = sorted({obj for obj, _ in groups})
    form, results, outcome, obj, q = _filtered_results(request, job, objects)
    if q:
        total = results.count()
    else:
        total = sum(n for (o, s), n in groups.items() if (not obj or o == obj) and (not outcome or s == outcome))
    query = request.GET.copy()
    for name in ("page", "after", "before", "last"):
        query.pop(name, None)
    page = _results_page(request, results, total, query.urlencode())
    deleted = job.status == CopyJob.Status.UNDONE
    by_status: dict[str, int] = {}
    for (_, status), n in groups.items():
        by_status[status] = by_status.get(status, 0) + n
    outcome_counts = [(label, value, by_status.get(value, 0)) for value, label in RecordResult.Status.choices]
    labels, order = live.plan_labels((job.plan or {}).get("objects"))
    in_review = by_status.get(RecordResult.Status.REVIEW, 0)
    job.__dict__["_review_count"] = in_review  # the status words need it: known from the groups
    return render(
        request,
        "records/job_detail.html",
        {
            "job": job,
            "form": form,
            "page": page,
            "rows_html": mark_safe("".join(_result_row_html(r, labels, deleted) for r in page.rows)),  # noqa: S308 - escaped above
            "actions": job_actions(job, request.user),
            "filtered": bool(outcome or obj or q),
            "selected": {"outcome": outcome, "object": obj, "q": q},
            "objects": [(o, labels.get(o) or o) for o in objects],
            "outcome_choices": RecordResult.Status.choices,
            "outcome_counts": outcome_counts,
            "total_results": sum(groups.values()),
            "progress": _progress(job),
            "per_object": live.per_object(groups, labels, order),
            "phase": _phase(job, groups),
            "phased": _has_phases(job),
            **_review_context(job, request.user, in_review, labels),
        },
    )


def _review_context(job: CopyJob, user, count: int, labels: dict[str, str]) -> dict:
    """The rows that need review, with their candidates and whether this user may pick (no query
    when there are none)."""
    if not count:
        return {"review_count": 0}
    allowed, reason = lifecycle.can_resolve(job, user)
    rows = [{"row": r, "label": labels.get(r.object_name) or r.object_name} for r in review.review_rows(job)]
    return {"review_count": count, "review_rows": rows, "review_allowed": allowed, "review_reason": reason}


def _has_phases(job: CopyJob) -> bool:
    """Vault's own deep copy and cascade delete report phases while no record is done yet."""
    return job.mode != CopyJob.Mode.CLONE and job.profile.system == System.VAULT


def _phase(job: CopyJob, groups: dict[tuple[str, str], int]) -> str:
    if job.mode == CopyJob.Mode.CLONE:
        return ""  # only Vault's deep copy and cascade delete have phases
    roots = CopyJob.objects.filter(pk=job.pk).values_list("state__roots", flat=True).first()
    return live.phase_text(roots, groups)


@require_GET
def job_objects(request: HttpRequest, code) -> JsonResponse:
    """Per-object progress, the per-outcome numbers and Vault's phase (records.web.job_progress)."""
    job = _get_job_for_user(request, code, only=("id",), related=())
    return JsonResponse(live.live_parts(job), headers={"Cache-Control": "private, no-cache"})


@require_GET
def job_rows(request: HttpRequest, code) -> HttpResponse:
    """The rows of the results table for the page the query string names (same filters and
    cursor as the job page), as HTML: job.js swaps them in while the job runs, so outcomes and
    new ids appear without a reload. Session, user, job and the page's rows: 4 queries."""
    job = _get_job_for_user(request, code, only=("id", "code", "plan", "status"), related=())
    # Any object name is a valid filter here: it only narrows this user's own job's results.
    _, results, *_ = _filtered_results(request, job, [request.GET.get("object", "")])
    page = _results_page(request, results, 0, "")
    labels, _ = live.plan_labels((job.plan or {}).get("objects"))
    deleted = job.status == CopyJob.Status.UNDONE
    html = "".join(_result_row_html(r, labels, deleted) for r in page.rows)
    return HttpResponse(html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "private, no-cache"})


def _etag(payload: bytes) -> str:
    return f'"{hashlib.blake2b(payload, digest_size=8).hexdigest()}"'


@require_GET
def job_progress(request: HttpRequest, code) -> HttpResponse:
    """Polled every second by every open job page: one small query of its own and a ~250-byte
    answer, or an empty 304 when nothing changed since the browser's copy (its ETag)."""
    job = _get_job_for_user(request, code, only=PROGRESS_FIELDS, related=())
    payload = json.dumps(_progress(job), separators=(",", ":")).encode()
    etag = _etag(payload)
    # Per user, and always revalidated: the browser asks with If-None-Match each second.
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in _if_none_match(request):
        return HttpResponseNotModified(headers=headers)
    return HttpResponse(payload, content_type="application/json", headers=headers)


def _if_none_match(request: HttpRequest) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


CSV_COLUMNS = [
    ("object", "object_name"),
    ("source_id", "source_id"),
    ("new_id", "new_id"),
    ("parent_source_id", "parent_source_id"),
    ("depth", "depth"),
    ("outcome", "status"),
    ("error_type", "error_type"),
    ("error_message", "error_message"),
    ("link", "link"),
    # The record's display name as read for the plan (the job page shows it); after the columns
    # a sheet may read by position, before the free-text values.
    ("name", "source_name"),
    ("values", "values"),
]


VALUES_COLUMN = [f for _, f in CSV_COLUMNS].index("values")


@require_GET
def job_results_csv(request: HttpRequest, code) -> StreamingHttpResponse:
    job = _get_job_for_user(request, code)
    writer = csv.writer(_Echo())
    fields = [f for _, f in CSV_COLUMNS]
    rows = job.results.order_by("id").values_list(*fields).iterator(chunk_size=2000)

    def lines():
        yield writer.writerow([h for h, _ in CSV_COLUMNS])
        for row in rows:
            yield writer.writerow([neutralise(values_text(v) if i == VALUES_COLUMN else v) for i, v in enumerate(row)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="copy-job-{job.code}.csv"'
    return response


# ---------------------------------------------------------------------------------------------
# Actions: GET shows what will happen and asks to confirm; POST does it and redirects.

# The rules are the model's (lifecycle.can_*), the same for the web, the admin, the CLI and the
# services; a refused action shows the rule's reason.
ACTIONS = {
    "cancel": {
        "title": "Cancel this job",
        "explain": "Records already copied stay copied; the rest are not copied. You can undo the copied ones afterwards.",
        "button": "Yes, cancel the job",
        "label": "Cancel job",
        "rule": "can_cancel",
        "service": "copy_job_cancel",
        "done": "Cancelling: the job stops after the records in flight.",
    },
    "retry": {
        "title": "Resume this job",
        "explain": "The job is queued again; only its unfinished records (not yet copied, failed or skipped) are sent. "
        "Records already copied are not copied twice.",
        "button": "Yes, resume the job",
        "label": "Resume",
        "rule": "can_resume",
        "service": "copy_job_retry",
        "done": "The unfinished records were queued again.",
    },
    "undo": {
        "title": "Undo this copy",
        "explain": "The records this job created are deleted in the remote system, children first, unless "
        "someone changed them since the copy or they were not made by this job. This can't be reversed.",
        "button": "Yes, delete the copies",
        "label": "Undo copy",
        "rule": "can_undo",
        "service": "copy_job_undo",
        "done": "Undo queued: the copies are being deleted. Follow it on this page.",
    },
}
ACTIONS["resume"] = ACTIONS["retry"]


def _rule(job: CopyJob, user, action: str) -> tuple[bool, str]:
    return getattr(job, ACTIONS[action]["rule"])(user)


def job_actions(job: CopyJob, user) -> list[dict]:
    """The job page's buttons: each action, whether it is offered, and why not."""
    out = []
    for name in ("cancel", "retry", "undo"):
        allowed, reason = _rule(job, user, name)
        out.append({"name": name, "label": ACTIONS[name]["label"], "allowed": allowed, "reason": reason})
    return out


def job_action(request: HttpRequest, code, action: str) -> HttpResponse:
    job = _get_job_for_user(request, code)
    spec = ACTIONS[action]
    allowed, reason = _rule(job, request.user, action)
    # Resuming an undo checks its kept records again; the box deletes those changed since the copy.
    undo_resume = action in ("retry", "resume") and job.mode == CopyJob.Mode.UNDO
    if request.method == "POST":
        extra = {"include_changed": request.POST.get("include_changed") == "1"} if undo_resume else {}
        return _act(request, job, action, allowed, reason, **extra)
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "records/job_confirm.html",
        {
            "job": job,
            "action": action,
            "spec": spec,
            "allowed": allowed,
            "reason": reason,
            "undo_resume": undo_resume,
            "include_changed": bool((job.options or {}).get("include_changed")),
        },
    )


def _act(request: HttpRequest, job: CopyJob, action: str, allowed: bool, reason: str, **extra) -> HttpResponse:
    """POST of an action: the service, then the job page (the new job's, for an undo)."""
    spec = ACTIONS[action]
    if not allowed:
        messages.error(request, reason)
        return redirect("job_detail", code=job.code)
    from records.copying import job_actions

    try:
        result = getattr(job_actions, spec["service"])(job=job, user=request.user, **extra)
    except (ValidationError, ValueError, PermissionError) as exc:
        messages.error(request, service_error_message(exc))
        return redirect("job_detail", code=job.code)
    except Exception as exc:  # noqa: BLE001 - shown as a friendly message, logged
        messages.error(request, friendly_error(exc, job.profile))
        return redirect("job_detail", code=job.code)
    messages.success(request, spec["done"])
    if getattr(result, "queue_down", False):
        messages.warning(request, QUEUE_DOWN)
    target = result if isinstance(result, CopyJob) else job
    return redirect("job_detail", code=target.code)


def job_undo(request: HttpRequest, code) -> HttpResponse:
    """The undo page: what will be deleted and what will be kept, and why, read now (up to
    settings.UNDO_PREVIEW_MAX_RECORDS records); POST confirms and queues the undo."""
    job = _get_job_for_user(request, code)
    allowed, reason = _rule(job, request.user, "undo")
    if request.method == "POST":
        return _act(request, job, "undo", allowed, reason, include_changed=request.POST.get("include_changed") == "1")
    if request.method != "GET":
        return HttpResponse(status=405)
    from records.copying import job_actions

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
        {"job": job, "spec": ACTIONS["undo"], "allowed": allowed, "reason": reason, "preview": preview, "error": error},
    )


# ---------------------------------------------------------------------------------------------
# A row that needs review: the person picks its copy among the candidates, or none of them.


@require_POST
def job_row_pick(request: HttpRequest, code, row: int) -> HttpResponse:
    return _resolve(request, code, row, pick=request.POST.get("pick", ""))


@require_POST
def job_row_none(request: HttpRequest, code, row: int) -> HttpResponse:
    return _resolve(request, code, row, pick=None)


def _resolve(request: HttpRequest, code, row_id: int, *, pick: str | None) -> HttpResponse:
    from records.copying.review import copy_row_resolve

    job = _get_job_for_user(request, code)
    row = job.results.defer("source_snapshot").filter(pk=row_id).first()
    if row is None:
        raise Http404("No such record in this job")
    try:
        copy_row_resolve(job=job, row=row, pick=pick, user=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    else:
        name = row.source_name or row.source_id
        if pick is None:
            messages.success(request, f"{name}: none of the records is its copy. Resume sends it again.")
        else:
            messages.success(request, f"{name}: {pick} is its copy.")
    return redirect(reverse("job_detail", args=[job.code]) + "#review-h")
