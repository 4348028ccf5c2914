"""Bulk clone from a CSV file: choose the profile and object from lists, download a template,
upload; every row is checked before the preview (records.web.views.new_copy shows it)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from records.connectors import connector_for
from records.connectors.base import ObjectInfo
from records.copying import choices
from records.copying.request import CopyRequest
from records.lib.error_words import friendly_error
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile, CopyJob
from records.profiles.access import get_profile_for_user
from records.web import drafts, wizard
from records.web.bulk_csv import parse_bulk_csv
from records.web.csv_cells import FORMULA_PREFIXES
from records.web.forms import BulkUploadForm, overridable_fields, suggested_value


@dataclass
class BulkChoice:
    """The profile and object a bulk clone is for, as chosen so far, and the profile's objects."""

    profile: ConnectionProfile | None = None
    objects: list[ObjectInfo] = field(default_factory=list)
    object: ObjectInfo | None = None
    error: str = ""  # why the objects could not be listed


def _bulk_choice(request: SignedInRequest, profiles: Sequence[ConnectionProfile]) -> BulkChoice:
    """The profile and object a bulk clone is for, chosen from lists (GET, or the POST's hidden
    fields); the chosen profile's objects are listed with one call."""
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("profile", "") or (str(profiles[0].code) if len(profiles) == 1 else "")
    if not code or not _is_mine(profiles, code):
        return BulkChoice()
    profile = get_profile_for_user(request, code)
    choice = BulkChoice(profile=profile)
    try:
        choice.objects = connector_for(profile).list_objects()
        # Kept as the wizard keeps them: the preview (no remote call) names the object by them.
        wizard.remember_labels(request, profile, choice.objects)
    except Exception as exc:  # noqa: BLE001
        choice.error = friendly_error(exc, profile)
    wanted = source.get("object_name", "") or source.get("object", "")
    choice.object = next((o for o in choice.objects if o.name == wanted), None)
    return choice


def _is_mine(profiles: Sequence[ConnectionProfile], code: str) -> bool:
    return any(str(p.code) == code for p in profiles)


def bulk_template(request: SignedInRequest) -> HttpResponse:
    """A CSV file to fill in: the id column and the object's editable fields, and two of its records
    as examples (their unique required name already given a new value, so the file previews as is)."""
    profile = get_profile_for_user(request, request.GET.get("profile", ""))
    object_name = request.GET.get("object", "")
    try:
        connector = connector_for(profile)
        fields = overridable_fields(choices.offered(connector.describe(object_name), connector.copy_key_fields))
        examples = connector.search(object_name, "", page=1, per_page=2).records
    except Exception as exc:  # noqa: BLE001
        messages.error(request, friendly_error(exc, profile))
        return redirect(f"{reverse('bulk_upload')}?profile={profile.code}")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")  # for Excel, as the results CSV; the upload reads past it (bulk_csv)
    response["Content-Disposition"] = f'attachment; filename="{_safe_name(object_name)}-bulk-clone.csv"'
    writer = csv.writer(response)
    writer.writerow(["id", *(f.name for f in fields)])
    for record in examples:
        names = frozenset(connector.name_fields)
        writer.writerow(
            [
                record.id,
                *(_cell(suggested_value(f, record.fields.get(f.name), name_field=f.name in names)) for f in fields),
            ]
        )
    return response


def _cell(value: str) -> str:
    """A value a spreadsheet would run as a formula (CSV injection) is left out, not altered: the
    file is uploaded again, and a changed value would be copied."""
    return "" if value.startswith(FORMULA_PREFIXES) else value


def _safe_name(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "_-") or "records"


def bulk_upload(request: SignedInRequest) -> HttpResponse:
    profiles = list(ConnectionProfile.objects.for_user(request.user))
    choice = _bulk_choice(request, profiles)
    initial = None
    if choice.profile is not None and choice.object is not None:
        initial = {"profile": str(choice.profile.code), "object_name": choice.object.name}
    chosen = initial is not None
    form = BulkUploadForm(
        request.POST or None, request.FILES or None, profiles=profiles, chosen=chosen, initial=initial
    )
    parsed = None
    if request.method == "POST" and form.is_valid():
        profile = get_profile_for_user(request, form.cleaned_data["profile"])
        object_name = form.cleaned_data["object_name"].strip()
        try:
            connector = connector_for(profile)
            fields = connector.describe(object_name)
        except Exception as exc:  # noqa: BLE001
            form.add_error("object_name", friendly_error(exc, profile))
        else:
            copy_key = choices.copy_key_of(fields, connector.copy_key_fields)
            parsed = parse_bulk_csv(form.cleaned_data["file"], fields, copy_key=copy_key)
            if parsed.ok:
                copy_request = CopyRequest(
                    profile=profile,
                    object_name=object_name,
                    source_ids=tuple(r.source_id for r in parsed.rows),
                    mode=CopyJob.Mode.CLONE,
                    row_overrides={r.source_id: r.overrides for r in parsed.rows if r.overrides},
                )
                draft_id = drafts.save_draft(
                    request,
                    copy_request=copy_request,
                    label=f"{len(parsed.rows)} records from {getattr(request.FILES.get('file'), 'name', 'a file')}",
                    field_labels={f.name: f.label for f in fields if any(f.name in r.overrides for r in parsed.rows)},
                )
                return redirect("copy_preview", draft_id=draft_id)
    return render(
        request,
        "records/bulk_upload.html",
        {"form": form, "parsed": parsed, "choice": choice, "profiles": profiles, "chosen": chosen},
    )
