"""The new-copy wizard's own state in the session: the steps as links, the objects' labels, and
what was typed on the fields step (kept when a person jumps to another step and comes back)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from records.connectors.base import Connector, ObjectInfo
from records.models import ConnectionProfile

LABELS_KEY = "copy_object_labels"
TYPED_KEY = "copy_typed"
MAX_TYPED = 10
STEP_NAMES = ("Connection", "Object", "Record", "Fields & mode", "Preview & confirm")


class Step(TypedDict):
    """One step as the wizard's template shows it: `url` is "" where it can't be reached from here."""

    number: int
    name: str
    url: str
    state: str  # "current", "done" or ""


def steps(
    *,
    current: int,
    profile: ConnectionProfile | None = None,
    object_name: str = "",
    record_id: str = "",
    draft_id: str = "",
) -> list[Step]:
    """The five steps, each with a link when it can be reached from here (earlier steps, or the
    fields step from the preview)."""
    urls = {1: reverse("copy_start")}
    if profile is not None:
        urls[2] = reverse("copy_objects", args=[profile.code])
        if object_name:
            urls[3] = reverse("copy_search", args=[profile.code, object_name])
            if record_id:
                urls[4] = reverse("copy_record", args=[profile.code, object_name, record_id])
    if draft_id:
        urls[5] = reverse("copy_preview", args=[draft_id])
    return [
        Step(
            number=n,
            name=name,
            url=urls.get(n, "") if n != current else "",
            state="current" if n == current else ("done" if n < current else ""),
        )
        for n, name in enumerate(STEP_NAMES, start=1)
    ]


def remember_labels(request: HttpRequest, profile: ConnectionProfile, objects: Iterable[ObjectInfo]) -> None:
    labels = request.session.get(LABELS_KEY, {})
    labels[str(profile.code)] = {o.name: o.label for o in objects}
    request.session[LABELS_KEY] = labels


def known_labels(request: HttpRequest, profile: ConnectionProfile) -> dict[str, str]:
    """{object: label} of the profile's objects as the object step (or bulk page) listed them."""
    return dict(request.session.get(LABELS_KEY, {}).get(str(profile.code), {}))


def object_label(
    request: HttpRequest, profile: ConnectionProfile, object_name: str, connector: Connector | None = None
) -> str:
    """The object's label as listed on the object step; read once (list_objects) if not kept."""
    known = request.session.get(LABELS_KEY, {}).get(str(profile.code), {})
    if object_name not in known and connector is not None:
        try:
            remember_labels(request, profile, connector.list_objects())
        except Exception:  # noqa: BLE001 - a missing label falls back to the API name
            return object_name
        known = request.session.get(LABELS_KEY, {}).get(str(profile.code), {})
    return str(known.get(object_name) or object_name)


def _typed_key(profile: ConnectionProfile, object_name: str, record_id: str) -> str:
    return f"{profile.code}/{object_name}/{record_id}"


def keep_typed(
    request: HttpRequest, profile: ConnectionProfile, object_name: str, record_id: str, data: QueryDict
) -> None:
    """Keep the fields step's posted values (a plain dict of lists) for when the person comes back."""
    typed = request.session.get(TYPED_KEY, {})
    key = _typed_key(profile, object_name, record_id)
    typed.pop(key, None)
    while len(typed) >= MAX_TYPED:
        typed.pop(next(iter(typed)))
    typed[key] = {k: data.getlist(k) for k in data if k not in ("csrfmiddlewaretoken", "goto")}
    request.session[TYPED_KEY] = typed


def typed(request: HttpRequest, profile: ConnectionProfile, object_name: str, record_id: str) -> QueryDict | None:
    """The kept values as a QueryDict (to bind the form with), or None."""
    saved = request.session.get(TYPED_KEY, {}).get(_typed_key(profile, object_name, record_id))
    if saved is None:
        return None
    data = QueryDict(mutable=True)
    for key, values in saved.items():
        data.setlist(key, values)
    return data


def forget_typed(request: HttpRequest, profile: ConnectionProfile, object_name: str, record_id: str) -> None:
    """Once the copy is queued, a new copy of the record starts from its own values again."""
    typed_values = request.session.get(TYPED_KEY, {})
    if typed_values.pop(_typed_key(profile, object_name, record_id), None) is not None:
        request.session[TYPED_KEY] = typed_values
