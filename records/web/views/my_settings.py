"""My settings: the signed-in user's own choices (for now, whether they get e-mails)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from records.lib.signed_in import SignedInRequest
from records.notify.preferences import emails_on, notification_settings_save


def my_settings(request: SignedInRequest) -> HttpResponse:
    if request.method == "POST":
        on = request.POST.get("email_on") == "on"
        notification_settings_save(user=request.user, email_on=on)
        messages.success(request, "Saved: " + ("you get e-mails about your copies." if on else "no e-mails."))
        return redirect("my_settings")
    return render(
        request,
        "records/my_settings.html",
        {"email_on": emails_on(request.user), "email": request.user.email},
    )
