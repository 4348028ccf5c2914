"""The masking confirmation of a copy into another profile asked outside the web (the command, the
API): the web's rule (mask_choices.unconfirmed_rows) over the plan's objects, described through the
source's connector. A suggestion is confirmed by a rule of the user's for the field (`keep`
included) or by `mask_suggested`; within one profile nothing has to be confirmed."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import Connector, FieldInfo
from records.copying import mask_choices
from records.copying.preview import copy_preview
from records.copying.request import CopyRequest
from records.copying.tree import Plan, copy_key_field
from records.masking import keys as masking_keys


def suggestion_table(*, request: CopyRequest, plan: Plan, connector: Connector) -> list[mask_choices.MaskObject]:
    """The preview's masking table of `plan` (the web's, with the source's describes)."""
    objects = [(o.object_name, o.label or o.object_name) for o in plan.objects] or [(plan.object_name, "")]

    def key_field(fields: list[FieldInfo]) -> str:
        return copy_key_field(fields, connector.copy_key_fields)

    return mask_choices.mask_table(
        objects=dict(objects).items(),
        describe=connector.describe,
        options=request.options,
        policy=masking_keys.policy_of(request.write_profile),
        key_field=key_field,
        planned=plan.masking,
    )


# The API's way to confirm: its input, or the template's saved rules.
HOW_API = (
    "Send mask_suggested: true to apply every suggested rule, or save a rule for each in the template "
    "(keep copies it as it is)."
)


def refusal(*, request: CopyRequest, plan: Plan, connector: Connector, how: str = mask_choices.HOW_FLAGS) -> str:
    """Why this copy can't be queued yet ("" when it can): suggestions left on a copy into another profile."""
    if request.target is None or request.options.mask_suggested or plan.refused_reason:
        return ""
    table = suggestion_table(request=request, plan=plan, connector=connector)
    return mask_choices.unconfirmed_words(table, request.options, target_name=request.target.name, how=how, names=True)


def require_confirmed(
    *, request: CopyRequest, connector: Connector, user: Any, how: str = mask_choices.HOW_FLAGS
) -> None:
    """Raise the refusal before anything is queued. The plan is read here for its objects: one more
    read of the source, paid only by a copy into another profile whose suggestions aren't all taken.
    The access is checked first: the plan reads the target too, and a user who may not use it is
    told that, not what it would mask."""
    if request.target is None or request.options.mask_suggested:
        return
    request.check_access(user)
    plan = copy_preview(request=request, connector=connector)
    words = refusal(request=request, plan=plan, connector=connector, how=how)
    if words:
        raise ValidationError(words)
