"""The record step of a new copy: find one record, or copy every record matching a filter (a copy
by query, records/copying/source_query.py). The query's POST checks it with the services (the
filter, a match, the limit) before the draft is saved; the preview then reads its plan."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.copying import source_query
from records.copying.options import CopyOptions, parse_cross_cli
from records.copying.request import CopyRequest
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile
from records.profiles.access import get_profile_for_user
from records.web import drafts, wizard
from records.web.query_form import CopyQueryForm
from records.web.views.cross_choices import checked_target, target_choices, target_of

SEARCH_PER_PAGE = 20


def copy_search(request: SignedInRequest, profile_code: uuid.UUID, object_name: str) -> HttpResponse:
    """Find a record; the query form is filled from the URL when the preview's Back comes here."""
    profile = get_profile_for_user(request, profile_code)
    kept = request.GET if request.GET.get("where") else None
    return _search_page(request, profile, object_name, query_data=kept)


@require_POST
def copy_query(request: SignedInRequest, profile_code: uuid.UUID, object_name: str) -> HttpResponse:
    """ "Copy every record matching a filter": checked by the services, then the preview."""
    profile = get_profile_for_user(request, profile_code)
    try:
        connector = connector_for(profile)
    except Exception as exc:  # noqa: BLE001 - a profile missing a setting is explained, not a 500
        return _search_page(request, profile, object_name, query_data=request.POST, error=friendly_error(exc, profile))
    form = _query_form(connector, request.POST)
    if not form.is_valid():
        return _search_page(request, profile, object_name, query_form=form)
    try:
        copy_request = _query_request(request, profile, object_name, form.cleaned_data)
        source_query.resolve(request=copy_request, connector=connector)  # one query; nothing is queued
    except ValidationError as exc:
        form.add_error(None, service_error_message(exc))
        return _search_page(request, profile, object_name, query_form=form)
    except ConnectorError as exc:
        form.add_error(None, friendly_error(exc, profile))
        return _search_page(request, profile, object_name, query_form=form)
    label = wizard.object_label(request, profile, object_name, connector)
    where = form.cleaned_data["where"]
    draft_id = drafts.save_draft(request, copy_request=copy_request, label=f"{label} matching {where}", origin="query")
    return redirect("copy_preview", draft_id=draft_id)


def _query_request(
    request: SignedInRequest, profile: ConnectionProfile, object_name: str, data: dict[str, Any]
) -> CopyRequest:
    """The copy the form asks for, checked as the CLI's `--where/--limit/--to` are."""
    options = parse_cross_cli(CopyOptions(), where=data["where"], limit=data["limit"])
    copy_request = CopyRequest(
        profile=profile,
        object_name=object_name,
        source_ids=(),
        mode=data["mode"],
        options=options,
        target=target_of(data["target"] or "", profile),
    )
    checked_target(copy_request, request.user)
    return copy_request


def _query_form(connector: Connector | None, data: Any = None) -> CopyQueryForm:
    syntax, example = (connector.filter_syntax, connector.filter_example) if connector else ("a filter", "")
    return CopyQueryForm(data, syntax=syntax, example=example)


def _search_page(
    request: SignedInRequest,
    profile: ConnectionProfile,
    object_name: str,
    *,
    query_data: Any = None,
    query_form: CopyQueryForm | None = None,
    error: str = "",
) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    page, label, connector = None, object_name, None
    try:
        connector = connector_for(profile)
        label = wizard.object_label(request, profile, object_name, connector)
        page = connector.search(object_name, q, page=page_number, per_page=SEARCH_PER_PAGE)
    except Exception as exc:  # noqa: BLE001 - shown to the user in plain words
        error = error or friendly_error(exc, profile)
    return render(
        request,
        "records/copy_search.html",
        {
            "profile": profile,
            "object_name": object_name,
            "object_label": label,
            "q": q,
            "page": page,
            "error": error,
            "query_form": query_form or _query_form(connector, query_data),
            "targets": target_choices(request.user, profile),
            "wizard": wizard.steps(current=3, profile=profile, object_name=object_name),
        },
    )
