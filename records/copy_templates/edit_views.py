"""A template's edit page: name and description, the preview's choice widgets (field values on every
level, make unique, lineage), the system's options, the cross-profile choices and who a run tells.
Saving makes a new version (services.edit) once the wizard's checks pass (editing.py)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.copy_templates import services
from records.copy_templates.definition import saved_request
from records.copy_templates.editing import cross_initial, edited_request, leave_out_boxes, rows_to_show
from records.copy_templates.forms import EditTemplateForm
from records.copy_templates.views import owns, template_for_user
from records.copying.request import CopyRequest
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import CopyTemplate
from records.web import choice_rows
from records.web.choice_post import left_out
from records.web.choice_rows import ChoiceRows
from records.web.drafts import Draft
from records.web.views import choices
from records.web.views.cross_choices import target_choices


def template_edit(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    template = template_for_user(request, code)
    if not owns(request, template):
        raise Http404("No such template")
    version = services.latest_version(template)
    try:
        saved = saved_request(version.definition, user=request.user, name=template.name)
        connector = connector_for(saved.profile)
    except ValidationError as exc:  # its profile gone or unshared: nothing to describe the widgets with
        messages.error(request, service_error_message(exc))
        return redirect("template_detail", code=template.code)
    except ConnectorError as exc:  # a profile whose settings no longer pass the checks
        messages.error(request, friendly_error(exc, saved.profile))
        return redirect("template_detail", code=template.code)
    targets = [(str(p.code), p.name) for p in target_choices(request.user, saved.profile)]
    form = EditTemplateForm(request.POST or None, initial=_initial(template, saved), targets=targets)
    rows = rows_to_show(saved)
    if request.method == "POST":
        rows = choice_rows.rows_from_post(request.POST)
        if form.is_valid():
            try:
                changed = edited_request(
                    saved=saved,
                    post=request.POST,
                    data=form.cleaned_data,
                    connector=connector,
                    user=request.user,
                    name=template.name,
                )
                new = services.edit(
                    template=template,
                    user=request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    request=changed,
                    notifications=form.notifications(),
                )
            except ValidationError as exc:
                form.add_error(None, service_error_message(exc))
            else:
                messages.success(request, f"Saved as version {new.number}.")
                diff = f"?v1={version.number}&v2={new.number}"
                return redirect(reverse("template_detail", args=[template.code]) + diff)
    # The boxes as sent when the page comes back refused, as saved otherwise.
    exclude = tuple(left_out(request.POST)) if request.method == "POST" else saved.options.exclude
    return render(request, "records/template_edit.html", _context(template, form, saved, rows, connector, exclude))


def _context(
    template: CopyTemplate,
    form: EditTemplateForm,
    saved: CopyRequest,
    rows: ChoiceRows,
    connector: Connector,
    exclude: tuple[str, ...],
) -> dict[str, Any]:
    draft = cast(Draft, {"object_name": saved.object_name, "choice_rows": rows})
    related = _related(connector, saved)
    return {
        "template": template,
        "form": form,
        "profile": saved.profile,
        "options": saved.options,
        "widgets": choices.widgets(saved.profile, draft, None, saved.options, related=related),
        "leave_out": leave_out_boxes(related, exclude, saved.object_name),
        "engine_needed": choices.engine_needed(saved.options, saved.object_name),
        "has_secret": bool(template.webhook_secret),
        "nav": "templates",
    }


def _related(connector: Connector, saved: CopyRequest) -> list[tuple[str, str]]:
    """The objects a row may name besides the top one: its related lists (one remote read)."""
    try:
        return [(r.child_object, r.label) for r in connector.related_lists(saved.object_name)]
    except ConnectorError:
        return []  # the rows still offer the top object and those the template names


def _initial(template: CopyTemplate, saved: CopyRequest) -> dict[str, object]:
    options = saved.options
    return {
        "name": template.name,
        "description": template.description,
        "mode": saved.mode,
        "source_filter": options.source_filter,
        "source_limit": options.source_limit,
        **cross_initial(options, saved.target),
        "recipients": "\n".join(template.notify_emails),
        "webhook_url": template.webhook_url,
    }
