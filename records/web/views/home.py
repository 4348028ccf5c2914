"""The home page: the user's profiles and latest jobs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static

from records.models import ConnectionProfile, CopyJob


def home(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    jobs = CopyJob.objects.for_user(request.user).select_related("profile", "schedule__template")[:5]
    return render(request, "records/home.html", {"profiles": profiles, "jobs": jobs})


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page's <link rel=icon> says."""
    return HttpResponseRedirect(static("records/favicon.svg"))
