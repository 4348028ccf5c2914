"""A template run asked through the API: its preview, or its job made once per Idempotency-Key.
Keyword-only, over the templates' services (copy_templates/services.py) and copy_job_create's
one-time confirmation, as the web's Confirm is."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from records.connectors import connector_for
from records.connectors.base import Connector
from records.copy_templates import services
from records.copy_templates.definition import saved_request
from records.copying import mask_confirm
from records.copying.preview import copy_preview
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.models import ConnectionProfile, CopyJob, CopyTemplate, CopyTemplateVersion

MAX_KEY = 200


class KeyReused(ValidationError):
    """The Idempotency-Key named another run: answered 409, nothing made."""


def preview_run(
    *, template: CopyTemplate, user: User, ids: Sequence[str], mask_suggested: bool = False
) -> tuple[Plan, CopyTemplateVersion, str]:
    """What running `template` on `ids` (none: its saved filter) would copy, and why a confirm
    would be refused by the masking ("" when it wouldn't); nothing is queued."""
    version = services.latest_version(template)
    connector = connector_for(_profile(version, user, template))
    request = _request(template, version, user, ids, connector, mask_suggested)
    plan = copy_preview(request=request, connector=connector)
    refused = mask_confirm.refusal(request=request, plan=plan, connector=connector, how=mask_confirm.HOW_API)
    return plan, version, refused


def confirm_run(
    *, template: CopyTemplate, user: User, ids: Sequence[str], key: str, mask_suggested: bool = False
) -> tuple[CopyJob, bool]:
    """The job of this run and whether this call made it: a call repeating `key` (a pipeline's
    retry, two at once) answers with the job the first made, with no remote call. A copy into
    another profile is refused while masking suggestions are unconfirmed (mask_confirm.py)."""
    confirmation = confirmation_of(user=user, key=key)
    earlier = CopyJob.objects.filter(confirmation=confirmation, requested_by=user).first()
    if earlier is not None:
        return _same_run(earlier, template, ids), False
    version = services.latest_version(template)
    connector = connector_for(_profile(version, user, template))
    request = _request(template, version, user, ids, connector, mask_suggested)
    mask_confirm.require_confirmed(request=request, connector=connector, user=user, how=mask_confirm.HOW_API)
    services.refuse_more_than_the_limit(request=request, connector=connector)
    job = services.run(
        template=template, version=version, request=request, user=user, connector=connector, confirmation=confirmation
    )
    # Two calls at once with one key: copy_job_create answers the second with the first's job,
    # which both then report as made (201); a later retry finds it above (200).
    return _same_run(job, template, ids), True


def _request(
    template: CopyTemplate,
    version: CopyTemplateVersion,
    user: User,
    ids: Sequence[str],
    connector: Connector,
    mask_suggested: bool,
) -> CopyRequest:
    request = services.run_request(template=template, version=version, user=user, source_ids=ids, connector=connector)
    if mask_suggested:  # this run's input over the template's choices
        request = replace(request, options=replace(request.options, mask_suggested=True))
    return request


def confirmation_of(*, user: User, key: str) -> str:
    """The job's confirmation for this user's key: per user (another's same key is another run),
    hashed to fit the column whatever the key's length."""
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ValidationError(
            f"Send an Idempotency-Key header (1 to {MAX_KEY} characters, e.g. a UUID): a retry with the "
            "same key then answers with the same job instead of making another."
        )
    return f"api:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()}"


def _same_run(job: CopyJob, template: CopyTemplate, ids: Sequence[str]) -> CopyJob:
    """`job`, if it is this run: of this template and, when ids are given, of these ids (a run on
    the saved filter found its own)."""
    version = job.template_version
    asked = [str(i).strip() for i in ids if str(i).strip()]
    if version is None or version.template_id != template.pk or (asked and asked != list(job.source_ids)):
        raise KeyReused("This Idempotency-Key was used for another run: send a new key for a new run.")
    return job


def _profile(version: CopyTemplateVersion, user: User, template: CopyTemplate) -> ConnectionProfile:
    return saved_request(version.definition, user=user, name=template.name).profile
