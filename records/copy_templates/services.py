"""Saving, editing, sharing and running copy templates. Keyword-only: the `template` and `copy`
commands, the pages (views.py) and later the schedules and the API call these, never the models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from records.connectors import connector_for
from records.connectors.base import Connector
from records.copy_templates.definition import check_fields, definition_of, for_run, saved_request
from records.copy_templates.labels import read_object_label
from records.copy_templates.notifications import TemplateNotifications, apply_notifications, checked_notifications
from records.copy_templates.runs import audit_run
from records.copying import source_query
from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.lib.audit import audit_log
from records.models import (
    AnyUser,
    ConnectionProfile,
    CopyJob,
    CopyTemplate,
    CopyTemplateVersion,
    manages_all_profiles,
)


def save_from_job(*, job: CopyJob, name: str, description: str = "", user: User) -> CopyTemplate:
    """A template of the copy `job` made (its choices as asked; the ids it copied kept too)."""
    if not CopyJob.objects.for_user(user).filter(pk=job.pk).exists():
        raise ValidationError("You may not use this job.")
    if job.mode == CopyJob.Mode.UNDO:
        raise ValidationError("An undo is not a copy: save the job it undid instead.")
    request = CopyRequest.of_row(job)
    request.check_access(user)
    _check_profile(request.profile, user)
    # The job's plan names its object already: no remote read for the label.
    label = job.object_label if job.object_label != job.object_name else None
    return save_from_request(
        request=request, name=name, description=description, user=user, job=job, object_label=label
    )


def save_from_request(
    *,
    request: CopyRequest,
    name: str,
    description: str = "",
    user: User,
    job: CopyJob | None = None,
    object_label: str | None = None,
) -> CopyTemplate:
    """A new template (version 1) defining `request`, owned by `user`. `object_label`: the object's
    label if the caller has it (a plan's), else read once here."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the template a name.")
    if CopyTemplate.objects.filter(owner=user, name=name).exists():
        raise ValidationError(f"You already have a template named {name}: choose another name.")
    try:
        with transaction.atomic():
            template = CopyTemplate.objects.create(name=name, description=description.strip(), owner=user)
            label = object_label if object_label is not None else _label_of(request)
            version = _add_version(template, definition_of(request), user, label)
            audit_log(
                actor=user, action="template.create", profile=request.profile, job=job, **_about(template, version)
            )
    except IntegrityError:  # the same name saved at the same moment
        raise ValidationError(f"You already have a template named {name}: choose another name.") from None
    return template


def edit(
    *,
    template: CopyTemplate,
    user: User,
    name: str | None = None,
    description: str | None = None,
    request: CopyRequest | None = None,
    notifications: TemplateNotifications | None = None,
) -> CopyTemplateVersion:
    """A new version defining `request` (None: the latest's copy again), and the name, description
    or who its runs notify changed if given. Only the owner (or who manages all profiles) edits."""
    _check_owner(template, user)
    notifications = checked_notifications(notifications) if notifications is not None else None
    with transaction.atomic():
        locked = CopyTemplate.objects.select_for_update().get(pk=template.pk)  # one new number at a time
        if name is not None and name.strip() and name.strip() != locked.name:
            if CopyTemplate.objects.filter(owner=locked.owner, name=name.strip()).exists():
                raise ValidationError(f"A template named {name.strip()} exists already.")
            locked.name = name.strip()
        if description is not None:
            locked.description = description.strip()
        told = apply_notifications(template=locked, notifications=notifications) if notifications else []
        locked.save()
        latest = latest_version(locked)
        definition = definition_of(request) if request is not None else dict(latest.definition)
        # An edit keeps the object: its label too, read once only for a version saved without one.
        label = latest.object_label or (_label_of(request) if request is not None else "")
        version = _add_version(locked, definition, user, label)
        # Which notification fields changed, never their values (the secret above all).
        about = {**_about(locked, version), **({"notify": told} if told else {})}
        audit_log(actor=user, action="template.edit", **about)
    template.refresh_from_db()
    return version


def share(*, template: CopyTemplate, by: User, user: User | None = None, group: Group | None = None) -> None:
    """Share `template` with a user or a group (they may see and run it, with profiles they may use)."""
    _check_owner(template, by)
    if (user is None) == (group is None):
        raise ValidationError("Share with one user or one group.")
    if user is not None:
        template.shared_with_users.add(user)
    if group is not None:
        template.shared_with_groups.add(group)
    with_whom = f"user {user.username}" if user is not None else f"group {group.name if group else ''}"
    audit_log(actor=by, action="template.share", shared_with=with_whom, **_about(template, None))


def find_template(*, name: str, user: AnyUser) -> CopyTemplate:
    """The template `name` that `user` may see: their own first, then one shared with them;
    OWNER/NAME picks among shared ones of the same name."""
    visible = CopyTemplate.objects.for_user(user)
    owner, sep, short = name.partition("/")
    found = list(visible.filter(owner__username=owner, name=short) if sep else visible.filter(name=name))
    own = [t for t in found if t.owner_id == user.pk]
    if own or len(found) == 1:
        return (own or found)[0]
    if found:
        owners = ", ".join(sorted(f"{t.owner.username}/{t.name}" for t in found))
        raise ValidationError(f"More than one template named {name} is shared with you: name one of {owners}.")
    raise ValidationError(f"No template named {name} that you may use.")


def latest_version(template: CopyTemplate) -> CopyTemplateVersion:
    version = template.latest
    if version is None:  # every template is made with version 1
        raise ValidationError(f"The template {template.name} has no version.")
    return version


def run_request(
    *,
    template: CopyTemplate,
    user: AnyUser,
    source_ids: Sequence[str] = (),
    target: ConnectionProfile | None = None,
    mode: str = "",
    overrides: dict[str, Any] | None = None,
    options: CopyOptions | None = None,
    version: CopyTemplateVersion | None = None,
    connector: Connector | None = None,
) -> CopyRequest:
    """The CopyRequest running `template` (its latest version unless `version`) makes, checked:
    the user may use it and its profiles, its fields still exist (a describe per object)."""
    if not CopyTemplate.objects.for_user(user).filter(pk=template.pk).exists():
        raise ValidationError(f"No template named {template.name} that you may use.")
    version = version or latest_version(template)
    saved = saved_request(version.definition, user=user, name=template.name)
    request = for_run(saved, source_ids=source_ids, target=target, mode=mode, overrides=overrides, options=options)
    request.check_access(user)
    conn = connector or connector_for(request.profile)
    check_fields(request, describe=conn.describe, name=template.name)
    return request


def run(
    *,
    template: CopyTemplate,
    version: CopyTemplateVersion,
    request: CopyRequest,
    user: User,
    enqueue: bool = True,
    connector: Connector | None = None,
    confirmation: str | None = None,
    linked: Callable[[CopyJob], object] | None = None,
) -> CopyJob:
    """The job of one run (copy_job_create), recording the version it ran, and its audit.
    `confirmation`, `linked`: as copy_job_create's (a repeated run with a confirmation answers with
    the first job; `linked` is saved in the job's transaction)."""
    job = copy_job_create(
        request=request,
        user=user,
        enqueue=enqueue,
        connector=connector,
        template_version=version,
        confirmation=confirmation,
        linked=linked,
    )
    audit_run(job=job, user=user)
    return job


def _add_version(
    template: CopyTemplate, definition: dict[str, Any], user: User, object_label: str
) -> CopyTemplateVersion:
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return CopyTemplateVersion.objects.create(
        template=template, number=last + 1, created_by=user, definition=definition, object_label=object_label
    )


def _label_of(request: CopyRequest) -> str:
    return read_object_label(profile=request.profile, object_name=request.object_name)


def _about(template: CopyTemplate, version: CopyTemplateVersion | None) -> dict[str, Any]:
    about: dict[str, Any] = {"template": template.name, "template_code": str(template.code)}
    if version is not None:
        about["version"] = version.number
    return about


def _check_owner(template: CopyTemplate, user: User) -> None:
    if not (template.owner_id == user.pk or manages_all_profiles(user)):
        raise ValidationError(f"Only the owner of the template {template.name} may change or share it.")


def _check_profile(profile: ConnectionProfile, user: User) -> None:
    if not ConnectionProfile.objects.for_user(user).filter(pk=profile.pk).exists():
        raise ValidationError(f"You may not use the profile {profile.name}.")


def refuse_more_than_the_limit(*, request: CopyRequest, connector: Connector | None = None) -> None:
    """A run on the template's saved filter that nobody previews (a schedule, the API's confirm,
    `copy --template` without --preview) is refused when more records match than its limit: a
    person's preview takes the newest `limit` and says so, a pipeline would copy them unseen.
    (One query more than the run's own: the filter is read again when the job is planned.)"""
    if not request.options.source_filter:
        return
    _, found = source_query.resolve(request=request, connector=connector or connector_for(request.profile))
    if found.get("more"):
        raise ValidationError(
            f"More {request.object_name} records match the filter {found['filter']!r} than its limit of "
            f"{found['limit']:,}: narrow the filter or raise the limit."
        )
