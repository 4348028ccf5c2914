"""The schedules on a template's page: add one, turn it on or off, remove it. Thin: the services
decide; every answer goes back to the template's page with a message."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from records.connectors.errors import ConnectorError
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import CopyTemplate
from records.schedules import services
from records.schedules.forms import ScheduleForm
from records.schedules.models import CopySchedule
from records.schedules.shown import schedule_as_dict


def schedules_context(request: SignedInRequest, template: CopyTemplate) -> dict[str, object]:
    """What the template page shows of schedules: the form and each with its next times and runs."""
    shown = [schedule_as_dict(s) for s in services.schedules_of(template=template, user=request.user)]
    return {"schedules": shown, "schedule_form": ScheduleForm()}


@require_POST
def schedule_add(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    template = _template(request, code)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Check the schedule: " + "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()),
        )
        return redirect("template_detail", code=code)
    try:
        schedule = services.schedule_add(template=template, user=request.user, **form.schedule_values())
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    except ConnectorError as exc:
        messages.error(request, friendly_error(exc))
    else:
        messages.success(request, f"Scheduled {template.name} {schedule.cadence}.")
    return redirect("template_detail", code=code)


@require_POST
def schedule_switch(request: SignedInRequest, code: uuid.UUID, pk: int) -> HttpResponse:
    schedule = _schedule(request, code, pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        services.schedule_switch(schedule=schedule, user=request.user, enabled=enabled)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    else:
        messages.success(request, f"The schedule {schedule.cadence} is {'on' if enabled else 'off'}.")
    return redirect("template_detail", code=code)


@require_POST
def schedule_remove(request: SignedInRequest, code: uuid.UUID, pk: int) -> HttpResponse:
    schedule = _schedule(request, code, pk)
    try:
        services.schedule_remove(schedule=schedule, user=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    else:
        messages.success(request, "Schedule removed.")
    return redirect("template_detail", code=code)


def _template(request: SignedInRequest, code: uuid.UUID) -> CopyTemplate:
    template = CopyTemplate.objects.for_user(request.user).filter(code=code).first()
    if template is None:
        raise Http404("No such template")
    return template


def _schedule(request: SignedInRequest, code: uuid.UUID, pk: int) -> CopySchedule:
    template = _template(request, code)
    found = [s for s in services.schedules_of(template=template, user=request.user) if s.pk == pk]
    if not found:
        raise Http404("No such schedule")
    return found[0]
