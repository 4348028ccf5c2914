"""The preview's choices: which related objects to copy, fields on every level, make
unique, lineage, automation. One POST that stores them on the draft; the preview shows their effect.
Parsed by the same rule as the CLI (web/choice_post.py, options.parse_cli)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from records.connectors import connector_class, connector_for
from records.connectors.base import Connector, FieldInfo
from records.connectors.errors import ConnectorError
from records.copying import choices, stored_plans
from records.copying.options import CopyOptions
from records.copying.tree import Plan
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile, CopyPlan
from records.profiles.access import get_profile_for_user
from records.profiles.services import profile_remember_files
from records.web import choice_post, choice_rows, drafts
from records.web.choice_rows import ChangeRow, LineageRow
from records.web.drafts import Draft

Describe = Callable[[str], list[FieldInfo]]


@require_POST
def copy_choices(request: SignedInRequest, draft_id: str) -> HttpResponse:
    draft = drafts.get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    asked = drafts.copy_request_of(draft, profile)
    try:
        parsed = choice_post.parsed_choices(
            request.POST,
            top_object=asked.object_name,
            describe=_describe(request, profile),
            exclude=choice_post.left_out(request.POST),
            lineage_defaults=profile.lineage_fields or {},
        )
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    except ConnectorError as exc:
        messages.error(request, friendly_error(exc, profile))
        return redirect("copy_preview", draft_id=draft_id)
    top, texts, rows = parsed.top, parsed.texts, parsed.rows
    options = _with_cross(parsed.options, asked.options)
    profile_remember_files(profile=profile, copy=options.files)  # the next preview's default
    # The overrides typed before the choices, then the choices' own for the top record.
    base = draft.get("base_overrides", draft["overrides"])
    chosen = replace(asked, overrides={**base, **top}, options=options)
    # Stored as "<name>_lines": a template's choices.clear would call dict.clear.
    drafts.keep_draft(
        request,
        draft_id,
        {
            **drafts.with_request(draft, chosen),
            "choices": {f"{k}_lines": v for k, v in texts.items()},
            "choice_rows": rows,
            "choice_overrides": top,
            "base_overrides": base,
        },
    )
    return redirect("copy_preview", draft_id=draft_id)


def _with_cross(options: CopyOptions, asked: CopyOptions) -> CopyOptions:
    """These choices leave a copy into another profile's own (cross_choices.py) as they were."""
    return replace(
        options,
        match=asked.match,
        unmatched=asked.unmatched,
        existing=asked.existing,
        user_map=asked.user_map,
        source_filter=asked.source_filter,
        source_limit=asked.source_limit,
        mask=asked.mask,  # the masking table's own (mask_choices.py)
        mask_suggested=asked.mask_suggested,
    )


def engine_needed(options: CopyOptions, object_name: str) -> str:
    """Why the copy is built level by level whatever the person ticks (the box is shown ticked and
    locked), or ""."""
    if options.changes_below(object_name):
        return (
            f"{LOCKED}a branch is left out or records below the top are changed, which Vault's own deep copy can't do."
        )
    if options.migration_mode or options.no_triggers:
        return f"{LOCKED}migration mode and no triggers are headers Vault's own deep copy doesn't take."
    return ""


LOCKED = "Ticked and locked: "


def choice_objects(
    plan: Plan | None, options: CopyOptions, labels: dict[str, str] | None = None
) -> list[tuple[str, str, bool]]:
    """(object, label, included) for each object reached through a relationship: the plan's, then
    those left out (no longer in the plan, still offered, unticked), named by `labels` (the
    objects the object step listed: the plan no longer reads them)."""
    if plan is None or plan.mode != "deep_copy":
        return []
    labels = labels or {}
    out = {o.object_name: (o.object_name, o.label or o.object_name, True) for o in plan.objects if o.depth > 0}
    for name in options.exclude:
        out.setdefault(name, (name, labels.get(name) or name, False))
    return list(out.values())


@require_GET
def object_fields(request: SignedInRequest, profile_code: uuid.UUID, object_name: str) -> JsonResponse:
    """One object's fields for the choices' field selects: ONE describe through the connector,
    {"fields": [{name, label, text, unique}]} (editable ones, labels first) or {"error": "..."}."""
    profile = get_profile_for_user(request, profile_code)
    try:
        connector = connector_for(profile)
        fields = choices.offered(connector.describe(object_name), connector.copy_key_fields)
    except Exception as exc:  # noqa: BLE001 - shown beside the select in plain words
        return JsonResponse({"fields": [], "error": friendly_error(exc, profile)})
    return JsonResponse({"fields": choice_rows.field_options(fields)})


def _describe(request: SignedInRequest, profile: ConnectionProfile) -> Describe:
    """Fields of an object: from the plan the page showed (read by the worker), else one describe."""
    code = request.POST.get("plan", "")
    row = CopyPlan.objects.filter(code=code, requested_by_id=request.user.pk).first() if _is_uuid(code) else None
    return stored_or_remote(profile, stored_plans.described(row))


def stored_or_remote(profile: ConnectionProfile, stored: Callable[[str], list[FieldInfo] | None]) -> Describe:
    """describe(object): the stored fields, else one describe through a connector made once."""
    conns: list[Connector] = []

    def describe(object_name: str) -> list[FieldInfo]:
        fields = stored(object_name)
        if fields is None:
            conns[:] = conns or [connector_for(profile)]
            fields = conns[0].describe(object_name)
        return fields

    return describe


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def widgets(
    profile: ConnectionProfile,
    draft: Draft,
    plan: Plan | None,
    options: CopyOptions,
    row: CopyPlan | None = None,
    labels: dict[str, str] | None = None,
    related: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """What the choices' rows render: the objects a row can name (the top one, those of the plan,
    those left out), the rows chosen before plus one blank of each kind, each with its object's
    fields (one describe per object named, through one connector: it caches them). `related`:
    (object, label) offered without a plan (a template's edit page reads the related lists)."""
    top = draft["object_name"]
    objects = {top: top}
    for o in plan.objects if plan else []:
        objects[o.object_name] = o.label or o.object_name  # the top one's label too
    for name, label in related:
        objects.setdefault(name, label or name)
    for name in options.exclude:
        objects.setdefault(name, (labels or {}).get(name) or name)
    saved = draft.get("choice_rows") or choice_rows.ChoiceRows(changes=[], lineage=[])
    # The objects the rows chosen before name: after a failed plan (no plan.objects) a row must
    # still show its own object, or sending it again would move the change to another one.
    for r in [*saved["changes"], *saved["lineage"]]:
        if r.get("object"):
            objects.setdefault(r["object"], r["object"])
    describe = stored_or_remote(profile, stored_plans.described(row))
    keys = connector_class(profile.system).copy_key_fields  # the copy key is never offered

    def fields(obj: str, text_only: bool = False) -> list[dict[str, Any]]:
        try:
            return choice_rows.field_options(choices.offered(describe(obj), keys), text_only=text_only) if obj else []
        except Exception:  # noqa: BLE001 - the preview says what failed; the JS asks the endpoint again
            return []

    def _default_label(obj: str) -> str:
        """The profile's default lineage field of `obj` by its label, or "" when it has none."""
        name = (profile.lineage_fields or {}).get(obj, "") if obj else ""
        return next((f["label"] for f in fields(obj, text_only=True) if f["name"] == name), name) if name else ""

    changes = [*saved["changes"], ChangeRow(object=top, field="", value="", clear=False, unique=False)]
    lineage = [*saved["lineage"], LineageRow(object="", field="")]
    return {
        "objects": list(objects.items()),
        "fields_url": reverse("copy_object_fields", args=[profile.code, "__OBJECT__"]),
        "changes": [{**r, "n": n, "fields": fields(r["object"])} for n, r in enumerate(changes)],
        "lineage": [
            {**r, "n": n, "fields": fields(r["object"], text_only=True), "default": _default_label(r["object"])}
            for n, r in enumerate(lineage)
        ],
        # {object: its default lineage field}: choice_rows.js names a row's default as its object changes.
        "lineage_defaults": profile.lineage_fields or {},
        "blank_fields": fields(top),
    }
