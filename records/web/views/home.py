"""The home page: the user's profiles and latest jobs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from records.models import ConnectionProfile, CopyJob


def home(request: HttpRequest) -> HttpResponse:
    profiles = ConnectionProfile.objects.for_user(request.user)
    jobs = CopyJob.objects.for_user(request.user).select_related("profile")[:5]
    return render(request, "records/home.html", {"profiles": profiles, "jobs": jobs})
