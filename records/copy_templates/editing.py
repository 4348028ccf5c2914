"""A template's edit page as a new definition: the preview's choice widgets parsed by their one rule
(web/choice_post.py), the cross-profile choices by the CLI's (options.parse_cross_cli), then the
wizard's checks against the object's metadata (preview_checks.check_request) before a version is
made. Keyword-only; the page (edit_views.py) only shows what is refused."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.copy_templates.definition import check_fields
from records.copying.matching import check_match_options
from records.copying.options import CopyOptions, parse_cross_cli
from records.copying.preview_checks import check_request
from records.copying.request import CopyRequest
from records.lib.error_words import friendly_error
from records.models import AnyUser, ConnectionProfile
from records.web.choice_post import left_out, parsed_choices
from records.web.choice_rows import ChoiceRows, rows_of


def edited_request(
    *, saved: CopyRequest, post: QueryDict, data: dict[str, Any], connector: Connector, user: AnyUser, name: str
) -> CopyRequest:
    """`saved` as the page sends it (`data`: the form's cleaned fields), checked as the wizard checks it."""
    parsed = parsed_choices(
        post,
        top_object=saved.object_name,
        describe=connector.describe,
        exclude=left_out(post),
        lineage_defaults=saved.profile.lineage_fields or {},
    )
    options = parse_cross_cli(
        parsed.options,
        match=_lines(data["match"]),
        unmatched=_lines(data["unmatched"]),
        existing=data["existing"],
        map_user=_lines(data["map_user"]),
        where=data["source_filter"],
        limit=data["source_limit"],
    )
    request = replace(
        saved, mode=data["mode"], target=_target(data["target"], saved), overrides=parsed.top, options=options
    )
    check_edited(request, connector=connector, user=user, name=name)
    return request


def check_edited(request: CopyRequest, *, connector: Connector, user: AnyUser, name: str) -> None:
    """The wizard's checks: mode and target, access, the values, fields and options against the
    object's metadata (one describe per object, cached by the connector), the match keys in the target."""
    request.check_choices()
    request.check_access(user)
    try:
        check_fields(request, describe=connector.describe, name=name)
        check_request(connector, connector.describe(request.object_name), request)
        if request.target is not None and request.options.match:
            check_match_options(target=connector_for(request.target), match=request.options.match)
    except ConnectorError as exc:
        raise ValidationError(friendly_error(exc, request.profile)) from exc


def rows_to_show(request: CopyRequest) -> ChoiceRows:
    """The widgets' rows of a saved definition (the top record's values, each object's, lineage)."""
    return rows_of(top_object=request.object_name, top=request.overrides, options=request.options)


def leave_out_boxes(
    related: list[tuple[str, str]], exclude: tuple[str, ...], top_object: str
) -> list[tuple[str, str, bool, bool]]:
    """(object, label, copied, listed) per related object the page lists, each once (a box,
    ticked unless left out), then each saved left-out object not among them (not listed: a hidden
    value, so that saving keeps it left out)."""
    out = {name: (name, label or name, name not in exclude, True) for name, label in related if name != top_object}
    for name in exclude:
        out.setdefault(name, (name, name, False, False))
    return list(out.values())


def cross_initial(options: CopyOptions, target: ConnectionProfile | None) -> dict[str, Any]:
    """The cross-profile fields as the form shows them: the CLI's items, one a line."""
    return {
        "target": str(target.code) if target else "",
        "match": "\n".join(f"{o}:{f}" for o, f in options.match.items()),
        "unmatched": "\n".join(c if o == "*" else f"{o}:{c}" for o, c in options.unmatched.items()),
        "existing": options.existing,
        "map_user": "\n".join(f"{e}={t}" for e, t in options.user_map.items()),
    }


def _target(code: str, saved: CopyRequest) -> ConnectionProfile | None:
    if not code.strip() or code == str(saved.profile.code):
        return None
    target = ConnectionProfile.objects.filter(code=code).first()
    if target is None:
        raise ValidationError("There is no such profile to copy into; choose one from the list.")
    return target


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
