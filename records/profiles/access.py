"""The one way a view gets a profile: by its code, only if this user may use it (or change it)."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from records.models import ConnectionProfile, manages_all_profiles


def get_profile_for_user(request: HttpRequest, code: uuid.UUID | str) -> ConnectionProfile:
    """Return the profile `code` if this user may use it; 404 for anyone else's, as if absent."""
    try:
        return ConnectionProfile.objects.for_user(request.user).get(code=code)
    except (ConnectionProfile.DoesNotExist, ValueError, ValidationError):  # a malformed code too
        raise Http404("No such profile") from None


def get_editable_profile(request: HttpRequest, code: uuid.UUID | str) -> ConnectionProfile:
    """Only the owner (or who manages all profiles) changes a profile; users it is shared with
    just use it."""
    profile = get_profile_for_user(request, code)
    if not (manages_all_profiles(request.user) or profile.owner_id == request.user.pk):
        raise Http404("No such profile")
    return profile
