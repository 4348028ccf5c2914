"""The preview's choices (issue 16): which related objects to copy, fields on every level, make
unique, lineage, automation. One POST that stores them on the draft; the preview shows their effect.
Parsed by the same rule as the CLI (records/copying/options.parse_cli)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from records.connectors import connector_for
from records.connectors.base import ConnectorError
from records.copying.options import CopyOptions, parse_cli
from records.messages import friendly_error
from records.views import get_profile_for_user, service_error_message
from records.views_copy import DRAFTS_KEY, _get_draft

FLAGS = ("skip_cadences", "run_workflows", "engine", "migration_mode", "no_triggers")
TEXTS = ("set", "clear", "unique", "lineage")


def draft_options(draft: dict) -> CopyOptions:
    return CopyOptions.from_dict(draft.get("options"))


@require_POST
def copy_choices(request: HttpRequest, draft_id: str) -> HttpResponse:
    draft = _get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    texts = {k: request.POST.get(k, "")[:20_000] for k in TEXTS}
    shown = request.POST.getlist("object")
    included = set(request.POST.getlist("include"))
    try:
        top, options = parse_cli(
            top_object=draft["object_name"],
            describe=connector_for(profile).describe,
            set_values=_lines(texts["set"]),
            clear=_lines(texts["clear"]),
            unique=_lines(texts["unique"]),
            lineage=_lines(texts["lineage"]),
            exclude=[o for o in shown if o not in included],
            lineage_defaults=profile.lineage_fields or {},
            **{f: f in request.POST for f in FLAGS},
        )
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    except ConnectorError as exc:
        messages.error(request, friendly_error(exc, profile))
        return redirect("copy_preview", draft_id=draft_id)
    drafts = request.session.get(DRAFTS_KEY, {})
    # Stored as "<name>_lines": a template's choices.clear would call dict.clear.
    drafts[draft_id] = {
        **draft,
        "options": options.as_dict(),
        "choices": {f"{k}_lines": v for k, v in texts.items()},
        "choice_overrides": top,
        "overrides": {**draft.get("base_overrides", draft["overrides"]), **top},
        "base_overrides": draft.get("base_overrides", draft["overrides"]),
    }
    request.session[DRAFTS_KEY] = drafts
    return redirect("copy_preview", draft_id=draft_id)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def choice_objects(plan, options: CopyOptions) -> list[tuple[str, str, bool]]:
    """(object, label, included) for each object reached through a relationship: the plan's, then
    those left out (no longer in the plan, still offered, unticked)."""
    if plan is None or plan.mode != "deep_copy":
        return []
    out = {o.object_name: (o.object_name, o.label or o.object_name, True) for o in plan.objects if o.depth > 0}
    for name in options.exclude:
        out.setdefault(name, (name, name, False))
    return list(out.values())
