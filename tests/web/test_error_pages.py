"""The site's own error pages: 404 saying why, 403, a 500 page that needs no context; and a favicon
named on every page."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_our_404_says_why(owner_client):
    response = owner_client.get(reverse("copy_preview", args=["gone"]))
    body = response.content.decode()
    assert response.status_code == 404 and "already started or has expired" in body and "Record Copier" in body
    unknown = owner_client.get("/no/such/page/")
    assert unknown.status_code == 404 and "There is no such page" in unknown.content.decode()


def test_our_500_page_needs_no_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html and "favicon.svg" in html


def test_our_403_page(rf, owner):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = rf.get("/")
    request.user = owner
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403 and "Not allowed" in response.content.decode()


def test_a_favicon_on_every_page(owner_client):
    # A page naming its icon is not asked for /favicon.ico (which would 404 on every page).
    assert 'rel="icon" href="/static/records/favicon.svg"' in owner_client.get(reverse("home")).content.decode()
    assert 'rel="icon"' in Client().get(reverse("login")).content.decode()
