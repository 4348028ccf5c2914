"""The signed-in user of a polled page read from this process's memory for a few seconds.

job.js asks a job's live part (and its rows) every second and plan-poll.js a preview's plan.json,
for each open page: each answer was the session, the user and the job's version, three round
trips to the database, on a machine where each one waits for a CPU (docs/performance.md). For
those GETs only, the user Django's get_user verified (the session's auth hash included) is kept
POLLED_USER_SECONDS per (backend, user id, session hash) and a copy of it given to the request:
the session is still read every time, so a logout ends the next poll. What may lag by those
seconds, on these read-only answers alone: a user made inactive or a password changed in another
session (the same lag the page cache already allows the pages' content). Every other request,
every POST, reads the user afresh."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user, get_user_model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from records.models import AnyUser

# The URL names job.js and plan-poll.js ask repeatedly (and the job page the watchers of a job
# open together when it starts).
POLLED = frozenset({"job_live", "job_rows", "job_detail", "copy_plan_status"})
MAX_KEPT = 1000  # entries; at most one per signed-in user and password

_kept: dict[tuple[str, str, str], tuple[float, AnyUser]] = {}
_lock = threading.Lock()


class PolledUser:
    """Placed after AuthenticationMiddleware and before LoginRequiredMiddleware: in process_view
    the view is known and request.user not yet read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *_: object) -> None:
        match = request.resolver_match
        if request.method in ("GET", "HEAD") and match and match.url_name in POLLED and seconds() > 0:
            request.user = SimpleLazyObject(lambda: kept_user(request))  # type: ignore[assignment]


def seconds() -> float:
    return float(getattr(settings, "POLLED_USER_SECONDS", 0))


def kept_user(request: HttpRequest) -> AnyUser:
    """The session's user as get_user gives it, from memory when verified within seconds()."""
    session = request.session
    key = (
        str(session.get(BACKEND_SESSION_KEY, "")),
        str(session.get(SESSION_KEY, "")),
        str(session.get(HASH_SESSION_KEY, "")),
    )
    now = time.monotonic()
    entry = _kept.get(key)
    if entry and entry[0] > now and all(key):
        return copy.copy(entry[1])  # its own: a view may set attributes on request.user
    user = get_user(request)
    if user.is_authenticated and all(key):
        _keep(key, now + seconds(), copy.copy(user))
    return user


def _keep(key: tuple[str, str, str], until: float, user: AnyUser) -> None:
    with _lock:
        if len(_kept) >= MAX_KEPT:
            now = time.monotonic()
            for old in [k for k, (t, _) in _kept.items() if t <= now] or list(_kept):
                del _kept[old]
        _kept[key] = (until, user)


def forget(sender: object = None, instance: Any = None, **_: object) -> None:
    """A user saved or deleted in this process: its kept copies go now (another process's at the
    end of their seconds). Without `instance`, every user's."""
    with _lock:
        for key in [k for k in _kept if instance is None or k[1] == str(instance.pk)]:
            del _kept[key]


def connect_signals() -> None:
    model = get_user_model()
    post_save.connect(forget, sender=model, dispatch_uid="polled_user_saved")
    post_delete.connect(forget, sender=model, dispatch_uid="polled_user_deleted")
