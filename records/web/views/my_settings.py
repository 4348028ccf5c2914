"""My settings: the signed-in user's own choices (whether they get e-mails) and their API tokens
(records/api/tokens.py), each token made and revoked here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from records.api.models import ApiToken
from records.api.tokens import create_token, revoke_token
from records.lib.error_words import service_error_message
from records.lib.signed_in import SignedInRequest
from records.notify.preferences import emails_on, notification_settings_save


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “nightly build”.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect)
    expires_days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=3650, required=False, help_text="Empty: never."
    )


def my_settings(request: SignedInRequest) -> HttpResponse:
    if request.method == "POST":
        on = request.POST.get("email_on") == "on"
        notification_settings_save(user=request.user, email_on=on)
        messages.success(request, "Saved: " + ("you get e-mails about your copies." if on else "no e-mails."))
        return redirect("my_settings")
    return _page(request, TokenForm())


@require_POST
def api_token_create(request: SignedInRequest) -> HttpResponse:
    """The new token is shown on this answer only (not redirected: it would pass through the
    session or a cookie); a reload refuses the same name again."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    days = form.cleaned_data["expires_days"]
    expires = timezone.now() + timedelta(days=days) if days else None
    try:
        token, secret = create_token(
            user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"], expires=expires
        )
    except ValidationError as exc:
        form.add_error(None, service_error_message(exc))
        return _page(request, form)
    return _page(request, TokenForm(), new_token=token, secret=secret)


@require_POST
def api_token_revoke(request: SignedInRequest, token_id: int) -> HttpResponse:
    try:
        token = revoke_token(token_id=token_id, user=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
    else:
        messages.success(request, f"Revoked the token {token.name}: calls with it are refused from now on.")
    return redirect("my_settings")


def _page(request: SignedInRequest, form: TokenForm, **extra: Any) -> HttpResponse:
    return render(
        request,
        "records/my_settings.html",
        {
            "email_on": emails_on(request.user),
            "email": request.user.email,
            "tokens": ApiToken.objects.filter(user=request.user),
            "token_form": form,
            "now": timezone.now(),
            **extra,
        },
    )
