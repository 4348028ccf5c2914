"""The preview's choices for a copy into another profile: which profile ("Copy into"), and, once its
plan is read, what unmatched references, records already there and unmatched users do. Each POST
stores them on the draft (CopyRequest.target, CopyOptions) and the preview reads the plan again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from records.connectors import connector_for
from records.connectors.errors import ConnectorError
from records.copying import matching
from records.copying.options import CopyOptions, parse_cross_cli
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.copying.users import email_key
from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile
from records.profiles.access import get_profile_for_user
from records.web import drafts


@require_POST
def copy_target(request: SignedInRequest, draft_id: str) -> HttpResponse:
    """ "Copy into": the same profile (an empty value) or another of the same system."""
    draft = drafts.get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    asked = drafts.copy_request_of(draft, profile)
    try:
        chosen = replace(asked, target=target_of(request.POST.get("target", ""), profile))
        checked_target(chosen, request.user)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    drafts.keep_draft(request, draft_id, drafts.with_request(draft, chosen))
    return redirect("copy_preview", draft_id=draft_id)


@require_POST
def copy_cross_choices(request: SignedInRequest, draft_id: str) -> HttpResponse:
    """Per object the unmatched references' choice, the existing records' policy, per user a target."""
    draft = drafts.get_draft(request, draft_id)
    profile = get_profile_for_user(request, draft["profile"])
    asked = drafts.copy_request_of(draft, profile)
    try:
        options = _cross_options(asked.options, request.POST)
        _check_new_keys(asked, options)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return redirect("copy_preview", draft_id=draft_id)
    drafts.keep_draft(request, draft_id, drafts.with_request(draft, replace(asked, options=options)))
    return redirect("copy_preview", draft_id=draft_id)


def _cross_options(options: CopyOptions, post: Any) -> CopyOptions:
    """The form's rows as the CLI's items, parsed by its rule (options.parse_cross_cli)."""
    unmatched = [f"{o}:{post[f'unmatched-{o}']}" for o in post.getlist("ref_object") if post.get(f"unmatched-{o}")]
    # "Forget the user choices": a plan that failed on one (an e-mail unknown in the target) shows no table to change it in.
    kept = {} if post.get("reset_users") else dict(options.user_map)
    for n, typed in enumerate(post.getlist("user_email")):
        # The select's value: "" (the same e-mail), a target user's e-mail, @api or @refuse; the
        # services check it (parse_cross_cli here, the plan against the target's users).
        email, choice = email_key(typed), post.get(f"user-{n}", "").strip()
        if choice:
            kept[email] = choice
        else:
            kept.pop(email, None)  # back to the same e-mail, else refused
    return parse_cross_cli(
        options,
        match=[f"{o}:{f}" for o, f in _match_keys(options, post).items()],
        unmatched=[f"{o}:{c}" for o, c in options.unmatched.items() if o != "*"] + unmatched,
        existing=post.get("existing", options.existing),
        map_user=[f"{e}={t}" for e, t in kept.items()],
        where=options.source_filter,
        limit=options.source_limit,
    )


def _match_keys(options: CopyOptions, post: Any) -> dict[str, str]:
    """The references table's match-key selects: a field, or "" for the object's default key."""
    keys = dict(options.match)
    for object_name in post.getlist("match_object"):
        chosen = post.get(f"match-{object_name}", "").strip()
        if chosen:
            keys[object_name] = chosen
        else:
            keys.pop(object_name, None)
    return keys


def _check_new_keys(asked: CopyRequest, options: CopyOptions) -> None:
    """A match key changed here is checked in the target now (it exists there and is unique), so a
    bad one is refused at the form with the services' words and the draft keeps its plan."""
    changed = {o: f for o, f in options.match.items() if asked.options.match.get(o) != f}
    if changed and asked.target is not None:
        try:
            matching.check_match_options(target=connector_for(asked.target), match=changed)
        except ConnectorError as exc:
            raise ValidationError(friendly_error(exc, asked.target)) from exc


def target_of(code: str, profile: ConnectionProfile) -> ConnectionProfile | None:
    """The profile a "Copy into" select names: None for the source itself (or nothing chosen)."""
    code = code.strip()
    if not code or code == str(profile.code):
        return None
    try:
        target = ConnectionProfile.objects.filter(code=code).first()
    except ValidationError:  # not a profile code at all
        target = None
    if target is None:
        raise ValidationError("There is no such profile to copy into; choose one from the list.")
    return target


def checked_target(copy_request: CopyRequest, user: Any) -> None:
    """The services' checks of a target: the same system, not the source itself, both usable by `user`."""
    copy_request.checked_ids()
    copy_request.check_access(user)


def target_choices(user: Any, profile: ConnectionProfile) -> QuerySet[ConnectionProfile]:
    """What "Copy into" offers: the profiles of the same system `user` may use, the source aside."""
    mine = ConnectionProfile.objects.for_user(user).filter(system=profile.system).exclude(pk=profile.pk)
    return mine.order_by("name")


def cross_context(request: SignedInRequest, copy_request: CopyRequest, plan: Plan | None) -> dict[str, Any]:
    """What the preview shows of "Copy into" and of a plan into another profile (no remote call)."""
    cross = plan.cross if plan else {}
    return {
        "target": copy_request.target,
        "targets": target_choices(request.user, copy_request.profile),
        "cross": cross,
        "cross_users": [
            _user_row(row, copy_request.options, cross.get("target_users", [])) for row in cross.get("users", [])
        ],
    }


def _user_row(row: dict[str, Any], options: CopyOptions, target_users: list[dict[str, str]]) -> dict[str, Any]:
    """A users table row with its select: the choice kept ("" the same e-mail, @api, @refuse or a
    target user's e-mail), whether the target has the same e-mail, and the target's users to pick."""
    email = email_key(row.get("email", ""))
    emails = {email_key(u["email"]) for u in target_users}
    return {
        **row,
        "choice": email_key(options.user_map.get(email, "")) if email else "",
        "matched": bool(email) and email in emails,
        "choices": [{**u, "key": email_key(u["email"])} for u in target_users],
    }
