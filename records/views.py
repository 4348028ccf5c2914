from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "records/home.html")


@login_not_required
def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})
