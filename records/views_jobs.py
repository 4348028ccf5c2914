"""Job list, job page, its progress endpoint, the results CSV and the job actions."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from records.forms import JobFilterForm, ResultFilterForm
from records.models import ConnectionProfile, CopyJob, RecordResult
from records.views import friendly_error, service_error_message

RESULTS_PER_PAGE = 50
JOBS_PER_PAGE = 25


def _get_job_for_user(request: HttpRequest, code) -> CopyJob:
    """Return the job `code` if this user requested it; 404 for anyone else's (even staff:
    they audit jobs in the admin)."""
    try:
        return CopyJob.objects.for_user(request.user).select_related("profile", "parent_job").get(code=code)
    except (CopyJob.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such job") from None


def job_list(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    form = JobFilterForm(request.GET or None, profiles=profiles)
    jobs = CopyJob.objects.for_user(request.user).select_related("profile")
    if form.is_valid():
        if form.cleaned_data["status"]:
            jobs = jobs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["profile"]:
            jobs = jobs.filter(profile__code=form.cleaned_data["profile"])
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "records/job_list.html", {"form": form, "page": page})


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
    }


def job_detail(request: HttpRequest, code) -> HttpResponse:
    # Query budget, whatever the number of results: session, user, job, outcome counts,
    # object names, page count, page rows.
    job = _get_job_for_user(request, code)
    results = job.results.all()
    counts = dict(results.order_by().values_list("status").annotate(n=Count("id")))
    objects = list(results.order_by("object_name").values_list("object_name", flat=True).distinct())
    form = ResultFilterForm(request.GET or None, objects=objects)
    if form.is_valid():
        if form.cleaned_data["outcome"]:
            results = results.filter(status=form.cleaned_data["outcome"])
        if form.cleaned_data["object"]:
            results = results.filter(object_name=form.cleaned_data["object"])
        if q := form.cleaned_data["q"].strip():
            results = results.filter(source_id=q) | results.filter(new_id=q)
    page = Paginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    outcome_counts = [(label, value, counts.get(value, 0)) for value, label in RecordResult.Status.choices]
    return render(
        request,
        "records/job_detail.html",
        {
            "job": job,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "outcome_counts": outcome_counts,
            "total_results": sum(counts.values()),
            "progress": _progress(job),
        },
    )


@require_GET
def job_progress(request: HttpRequest, code) -> JsonResponse:
    job = _get_job_for_user(request, code)
    return JsonResponse(_progress(job))


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
]


@require_GET
def job_results_csv(request: HttpRequest, code) -> StreamingHttpResponse:
    job = _get_job_for_user(request, code)
    writer = csv.writer(_Echo())
    fields = [f for _, f in CSV_COLUMNS]
    rows = job.results.order_by("id").values_list(*fields).iterator(chunk_size=2000)

    def lines():
        yield writer.writerow([h for h, _ in CSV_COLUMNS])
        for row in rows:
            yield writer.writerow([neutralise(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="copy-job-{job.code}.csv"'
    return response


# ---------------------------------------------------------------------------------------------
# Actions: GET shows what will happen and asks to confirm; POST does it and redirects.

ACTIONS = {
    "cancel": {
        "title": "Cancel this job",
        "explain": "Records already copied stay copied; the rest are not copied. You can undo the copied ones afterwards.",
        "button": "Yes, cancel the job",
        "allowed": lambda job: not job.is_finished and not job.cancel_requested,
        "not_allowed": "This job has already finished or is being cancelled.",
        "service": "copy_job_cancel",
        "done": "Cancelling: the job stops after the records in flight.",
    },
    "retry": {
        "title": "Retry the failed records",
        "explain": "The job is queued again and only its failed records are copied again.",
        "button": "Yes, retry failed records",
        "allowed": lambda job: job.is_finished and job.failed_count > 0 and job.mode != CopyJob.Mode.UNDO,
        "not_allowed": "Only a finished job with failed records can be retried.",
        "service": "copy_job_retry",
        "done": "The failed records were queued again.",
    },
    "undo": {
        "title": "Undo this copy",
        "explain": "Every record this job created is deleted in the remote system. This can't be reversed.",
        "button": "Yes, delete the copies",
        "allowed": lambda job: job.is_finished and job.succeeded_count > 0 and job.mode != CopyJob.Mode.UNDO,
        "not_allowed": "Only a finished job that created records can be undone.",
        "service": "copy_job_undo",
        "done": "Undo queued: the copies are being deleted. Follow it on this page.",
    },
}


def job_action(request: HttpRequest, code, action: str) -> HttpResponse:
    job = _get_job_for_user(request, code)
    spec = ACTIONS[action]
    if request.method == "POST":
        if not spec["allowed"](job):
            messages.error(request, spec["not_allowed"])
            return redirect("job_detail", code=job.code)
        from records.copying import services

        try:
            result = getattr(services, spec["service"])(job=job, user=request.user)
        except (ValidationError, ValueError, PermissionError) as exc:
            messages.error(request, service_error_message(exc))
            return redirect("job_detail", code=job.code)
        except Exception as exc:  # noqa: BLE001 - shown as a friendly message, logged
            messages.error(request, friendly_error(exc, job.profile))
            return redirect("job_detail", code=job.code)
        messages.success(request, spec["done"])
        target = result if isinstance(result, CopyJob) else job
        return redirect("job_detail", code=target.code)
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "records/job_confirm.html",
        {"job": job, "action": action, "spec": spec, "allowed": spec["allowed"](job)},
    )
