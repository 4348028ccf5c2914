"""The templates' pages: the list, a template (versions, diff, run, share; its edit page is
edit_views.py), and
"Save as template" from a job's page and from the preview. Thin: the services decide."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from records.connectors import connector_for
from records.connectors.errors import ConnectorError
from records.copy_templates import services
from records.copy_templates.definition import saved_request
from records.copy_templates.diff import version_diff
from records.copy_templates.finding import record_ids
from records.copy_templates.forms import RunTemplateForm, SaveTemplateForm, ShareTemplateForm
from records.copy_templates.shown import summary
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import CopyJob, CopyTemplate, CopyTemplateVersion, manages_all_profiles
from records.profiles.access import get_profile_for_user
from records.schedules.views import schedules_context
from records.web import drafts


def template_list(request: SignedInRequest) -> HttpResponse:
    templates = CopyTemplate.objects.for_user(request.user).select_related("owner")
    rows = [(t, summary(v) if (v := t.latest) else "") for t in templates]
    return render(request, "records/template_list.html", {"rows": rows, "nav": "templates"})


def template_detail(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    template = template_for_user(request, code)
    versions = list(template.versions.select_related("created_by").order_by("-number"))
    return render(
        request,
        "records/template_detail.html",
        {
            "template": template,
            "summary": summary(versions[0]) if versions else "",
            "versions": [(v, v.jobs.count()) for v in versions],
            "diff": _diff(request, versions),
            "run_form": RunTemplateForm(),
            "share_form": ShareTemplateForm(),
            "owns": owns(request, template),
            "nav": "templates",
            **schedules_context(request, template),
        },
    )


def _diff(request: SignedInRequest, versions: list[CopyTemplateVersion]) -> dict[str, object] | None:
    """The diff asked for with ?v1=&v2= (version numbers), else none."""
    by_number = {v.number: v for v in versions}
    try:
        old, new = (by_number[int(request.GET.get(k, ""))] for k in ("v1", "v2"))
    except (KeyError, ValueError):
        return None
    return {"old": old, "new": new, "lines": version_diff(old, new)}


@require_POST
def template_run(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """Run: the named records (or the saved filter) → the preview, confirmed there as any copy."""
    template = template_for_user(request, code)
    form = RunTemplateForm(request.POST)
    form.is_valid()
    try:
        version = services.latest_version(template)
        saved = saved_request(version.definition, user=request.user, name=template.name)
        connector = connector_for(saved.profile)
        lines = (form.cleaned_data.get("records") or "").splitlines()
        ids = record_ids(connector=connector, object_name=saved.object_name, lines=lines)
        copy_request = services.run_request(
            template=template, version=version, user=request.user, source_ids=ids, connector=connector
        )
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("template_detail", code=template.code)
    except ConnectorError as exc:
        messages.error(request, friendly_error(exc))
        return redirect("template_detail", code=template.code)
    draft_id = drafts.save_draft(request, copy_request=copy_request, label=template.name, origin="template")
    draft = drafts.get_draft(request, draft_id)
    draft["template"], draft["template_version"] = str(template.code), version.pk
    drafts.keep_draft(request, draft_id, draft)
    return redirect("copy_preview", draft_id=draft_id)


@require_POST
def template_share(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    template = template_for_user(request, code)
    form = ShareTemplateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or "Name one user or one group.")
        return redirect("template_detail", code=template.code)
    name, group_name = form.cleaned_data["user"], form.cleaned_data["group"]
    user = get_user_model().objects.filter(username=name).first() if name else None
    group = Group.objects.filter(name=group_name).first() if group_name else None
    try:
        if user is None and group is None:
            raise ValidationError(f"No user or group named {name or group_name}.")
        services.share(template=template, by=request.user, user=user, group=group)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    else:
        messages.success(request, f"Shared with {name or group_name}.")
    return redirect("template_detail", code=template.code)


@require_POST
def job_save_template(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    job = CopyJob.objects.for_user(request.user).filter(code=code).first()
    if job is None:
        raise Http404("No such job")
    form = SaveTemplateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the template a name.")
        return redirect("job_detail", code=job.code)
    try:
        template = services.save_from_job(job=job, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("job_detail", code=job.code)
    messages.success(request, f"Saved the template {template.name}.")
    return redirect("template_detail", code=template.code)


@require_POST
def copy_save_template(request: SignedInRequest, draft_id: str) -> HttpResponse:
    """The preview's "Save as template": the copy as chosen so far, without running it."""
    draft = drafts.get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    form = SaveTemplateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the template a name.")
        return redirect("copy_preview", draft_id=draft_id)
    try:
        copy_request = drafts.copy_request_of(draft, profile)
        copy_request.check_access(request.user)
        template = services.save_from_request(request=copy_request, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    messages.success(request, f"Saved the template {template.name}.")
    return redirect("template_detail", code=template.code)


def template_for_user(request: SignedInRequest, code: uuid.UUID) -> CopyTemplate:
    template = CopyTemplate.objects.for_user(request.user).filter(code=code).first()
    if template is None:
        raise Http404("No such template")
    return template


def owns(request: SignedInRequest, template: CopyTemplate) -> bool:
    return template.owner_id == request.user.pk or manages_all_profiles(request.user)
