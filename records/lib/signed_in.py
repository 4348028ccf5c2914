"""The user of a request that passed the login check, typed as such.

Every page needs a signed-in user (LoginRequiredMiddleware; the open ones say login_not_required)
and the admin needs staff, so there request.user is a User, never AnonymousUser. Views say so
with SignedInRequest (django-stubs' "authenticated request"); the admin's methods, whose
signatures are Django's, with signed_in_user."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class SignedInRequest(HttpRequest):
    user: User


def signed_in_user(request: HttpRequest) -> User:
    return cast("User", request.user)
