"""Home page and helpers shared by the page groups (views_profiles, views_jobs,
views_copy)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from records.models import ConnectionProfile, CopyJob

log = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    jobs = CopyJob.objects.for_user(request.user).select_related("profile")[:5]
    return render(request, "records/home.html", {"profiles": profiles, "jobs": jobs})


def get_profile_for_user(request: HttpRequest, code) -> ConnectionProfile:
    """Return the profile `code` if this user may use it; 404 for anyone else's, as if absent."""
    try:
        return ConnectionProfile.objects.for_user(request.user).get(code=code)
    except (ConnectionProfile.DoesNotExist, ValueError, ValidationError):  # a malformed code too
        raise Http404("No such profile") from None


def service_error_message(exc: Exception) -> str:
    """Messages of ValidationError / ValueError raised by services are written for people."""
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(m) for m in messages)
    return str(exc)
