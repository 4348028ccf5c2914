"""Home page and helpers shared by the page groups (views_profiles, views_jobs,
views_copy)."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from records.connectors import base
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
    except (ConnectionProfile.DoesNotExist, ValueError):
        raise Http404("No such profile") from None


SYSTEM_NAMES = {"vault": "Veeva Vault", "zoho": "Zoho CRM"}


def friendly_error(exc: Exception, profile: ConnectionProfile | None = None) -> str:
    """Say what went wrong in words a business user understands: never a traceback or a secret.

    Connector errors carry the remote error type and message, which are shown as they are; any
    other exception is logged and reported generically.
    """
    system = SYSTEM_NAMES.get(getattr(profile, "system", ""), "The remote system")
    if isinstance(exc, base.ConnectorError):
        remote = f" ({exc.error_type}: {exc.message})" if exc.message else f" ({exc.error_type})"
        if isinstance(exc, base.AuthFailed):
            return f"{system} refused the credentials. Check the user name and secret of the profile{remote}."
        if isinstance(exc, base.ConfigurationError):
            return f"The connection profile can't be used as it is{remote}."
        if isinstance(exc, base.NotFound):
            return f"{system} could not find it, or this profile's user may not see it{remote}."
        if isinstance(exc, base.LimitExceeded):
            return f"This is over a limit of {system}{remote}."
        if isinstance(exc, base.Rejected):
            return f"{system} rejected the request{remote}."
        if isinstance(exc, base.RateLimited):
            return f"{system} is throttling requests right now; try again in a minute{remote}."
        if isinstance(exc, base.Unavailable | base.OutcomeUnknown):
            return f"Couldn't reach {system}. It may be down or the base URL may be wrong{remote}."
        return f"{system} reported an error{remote}."
    log.exception("Unexpected error in a page")
    return "Something unexpected went wrong. The error was logged; please try again or ask an admin."


def service_error_message(exc: Exception) -> str:
    """Messages of ValidationError / ValueError raised by services are written for people."""
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(m) for m in messages)
    return str(exc)
