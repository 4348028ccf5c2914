"""The "Fix failed rows" page (jobs/<code>/fix/): each failed row's value, or one field of all of
them (a value, a template, or make unique), saved or saved and resumed; the fixes made so far.
One view per action; the rules and the work are copying/row_fixes.py's."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from records.copying.row_fix_choices import fix_choices, shown_value
from records.copying.row_fixes import copy_rows_fix, copy_rows_fix_and_resume
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import CopyJob
from records.web.job_actions import UNTIL_ENDED
from records.web.views.jobs import _get_job_for_user, enqueue_and_say


@require_GET
def job_fix(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    job = _get_job_for_user(request, code)
    choices = fix_choices(job=job, user=request.user)
    history = [
        (fix, fix.label or fix.field, shown_value(fix.before), shown_value(fix.after)) for fix in choices.history
    ]
    rows = [(row, choices.fields_of(row), _fixed(row.fixes, choices.fields_of(row))) for row in choices.rows]
    all_fields = rows[0][1] if rows else []  # the failed rows' object (the service refuses a mix)
    context = {"job": job, "choices": choices, "history": history, "rows": rows, "all_fields": all_fields}
    return render(request, "records/job_fix.html", context)


def _fixed(fixes: dict[str, Any] | None, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A row's saved fixes as (the field's label, the value shown), not by API name."""
    labels = dict(fields)
    return [(labels.get(name, name), shown_value(value)) for name, value in (fixes or {}).items()]


@require_POST
def job_fix_row(request: SignedInRequest, code: uuid.UUID, row: int) -> HttpResponse:
    """One row: its field set to a value."""
    job = _get_job_for_user(request, code)
    values = {request.POST.get("field", ""): request.POST.get("value", "")}
    return _fix(request, job, rows=[row], values=values)


@require_POST
def job_fix_all(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """Every failed row: one field set to a value or a template, or made unique."""
    job = _get_job_for_user(request, code)
    name = request.POST.get("field", "")
    if request.POST.get("how") == "make_unique":
        return _fix(request, job, all_failed=True, make_unique=name)
    return _fix(request, job, all_failed=True, values={name: request.POST.get("value", "")})


def _fix(request: SignedInRequest, job: CopyJob, **fix: Any) -> HttpResponse:
    resume = request.POST.get("then") == "resume"
    try:
        if resume:
            made = copy_rows_fix_and_resume(job=job, user=request.user, enqueue=False, **fix)
        else:
            made = copy_rows_fix(job=job, user=request.user, **fix)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("job_fix", code=job.code)
    except Exception as exc:  # noqa: BLE001 - shown as a friendly message, logged by the connector
        messages.error(request, friendly_error(exc, job.profile))
        return redirect("job_fix", code=job.code)
    rows = len({f.row_id for f in made})
    saved = f"Saved the fix of {rows} record{'s' if rows != 1 else ''}."
    if not resume:
        messages.success(request, f"{saved} Resume the job to send {'them' if rows != 1 else 'it'} again.")
        return redirect("job_fix", code=job.code)
    messages.success(request, f"{saved} The job resumes with the fixed values.", extra_tags=UNTIL_ENDED)
    enqueue_and_say(request, job)
    return redirect(reverse("job_detail", args=[job.code]))
