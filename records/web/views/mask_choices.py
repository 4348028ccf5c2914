"""The preview's masking table (copying/mask_choices.py): what it shows, its POST (the rules chosen
per field, stored on the draft as CopyOptions.mask; the preview then reads the plan again, as the
cross choices do) and the refusal of Confirm while suggestions on a copy into another profile are
unconfirmed. The fields come from the plan row (read by the worker): no remote call here."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from records.connectors import connector_class
from records.connectors.base import FieldInfo
from records.connectors.errors import ConnectorError
from records.copying import mask_choices, stored_plans
from records.copying.request import CopyRequest
from records.copying.tree import Plan, copy_key_field
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.masking import keys as masking_keys
from records.masking import rules as masking_rules
from records.models import ConnectionProfile, CopyPlan
from records.profiles.access import get_profile_for_user
from records.web import drafts
from records.web.views.choices import stored_or_remote


@require_POST
def copy_mask_choices(request: SignedInRequest, draft_id: str) -> HttpResponse:
    """Every row's rule (suggestions included: applying the table confirms them) and the added ones."""
    draft = drafts.get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    asked = drafts.copy_request_of(draft, profile)
    code = _code(request.POST.get("plan", ""))
    row = CopyPlan.objects.filter(code=code, requested_by_id=request.user.pk).first() if code else None
    try:
        rules = mask_choices.chosen_rules(
            rows=_posted_rows(request.POST),
            describe=stored_or_remote(profile, stored_plans.described(row)),
            key_field=_key_field(profile),
            policy=masking_keys.policy_of(asked.write_profile),
        )
        chosen = replace(asked, options=replace(asked.options, mask=rules, mask_suggested=False))
        chosen.check_choices()
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    except ConnectorError as exc:
        messages.error(request, friendly_error(exc, profile))
        return redirect("copy_preview", draft_id=draft_id)
    drafts.keep_draft(request, draft_id, drafts.with_request(draft, chosen))
    return redirect("copy_preview", draft_id=draft_id)


def _posted_rows(post: Any) -> list[tuple[str, str, str]]:
    """(object, field, rule): each row's select (`mask_row` "OBJECT:FIELD", `mask-OBJECT:FIELD`), then
    each object's added rule (`mask_add_object`, `mask-add-field-OBJECT`, `mask-add-rule-OBJECT`)."""
    rows = []
    for key in post.getlist("mask_row"):
        obj, _, name = key.partition(":")
        rows.append((obj, name, post.get(f"mask-{key}", "").strip()))
    for obj in post.getlist("mask_add_object"):
        name, rule = post.get(f"mask-add-field-{obj}", "").strip(), post.get(f"mask-add-rule-{obj}", "").strip()
        if name or rule:
            if not (name and rule):
                raise ValidationError(f"{obj}: to add a masking rule, choose both a field and a rule.")
            rows.append((obj, name, rule))
    return rows


def _code(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _key_field(profile: ConnectionProfile) -> mask_choices.KeyField:
    names = connector_class(profile.system).copy_key_fields

    def key_field(fields: list[FieldInfo]) -> str:
        return copy_key_field(fields, names)

    return key_field


def mask_table(copy_request: CopyRequest, plan: Plan | None, row: CopyPlan | None) -> list[mask_choices.MaskObject]:
    """The table of a ready plan (none for a refused one: nothing would be copied)."""
    if plan is None or row is None or plan.refused_reason:
        return []
    objects = [(o.object_name, o.label or o.object_name) for o in plan.objects] or [(plan.object_name, "")]
    return mask_choices.mask_table(
        objects=dict(objects).items(),
        describe=stored_or_remote(copy_request.profile, stored_plans.described(row)),
        options=copy_request.options,
        policy=masking_keys.policy_of(copy_request.write_profile),
        key_field=_key_field(copy_request.profile),
        planned=plan.masking,
    )


def mask_context(copy_request: CopyRequest, plan: Plan | None, row: CopyPlan | None) -> dict[str, Any]:
    """What the preview's masking section renders (see _mask_table.html)."""
    try:
        table = mask_table(copy_request, plan, row)
    except ConnectorError:  # an object the worker could not describe: the table is left out
        table = []
    target = copy_request.target
    return {
        "masking": table,
        "mask_rules": masking_rules.RULES,
        "mask_policy_owner": copy_request.write_profile.name,
        "mask_unconfirmed": (
            mask_choices.unconfirmed_words(table, copy_request.options, target_name=target.name) if target else ""
        ),
    }


def confirm_refusal(copy_request: CopyRequest, row: CopyPlan) -> str:
    """Why Confirm is refused by the masking ("" when it isn't): see copying/mask_choices.py."""
    if copy_request.target is None or row.status != CopyPlan.Status.READY:
        return ""
    return str(mask_context(copy_request, stored_plans.shown_plan(row), row)["mask_unconfirmed"])
