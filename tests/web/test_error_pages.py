"""Profiles and the site's own pages (issue 15): names unique per owner, the API version checked
on save, our own 404/403/500 pages, a favicon, "just now"."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from records.models import ConnectionProfile
from tests.fixtures.web import vault_form_data

pytestmark = pytest.mark.django_db


def test_profile_names_are_unique_per_owner_only(owner_client, other_user, make_profile):
    make_profile(name="Shared name", user=other_user)
    assert owner_client.post(reverse("profile_add"), vault_form_data(name="Shared name")).status_code == 302
    again = owner_client.post(reverse("profile_add"), vault_form_data(name="shared NAME"))
    assert again.status_code == 200 and "You already have a profile with this name" in again.content.decode()
    assert ConnectionProfile.objects.filter(name__iexact="shared name").count() == 2


def test_editing_keeps_its_own_name(owner_client, make_profile):
    profile = make_profile(name="Keep me")
    response = owner_client.post(
        reverse("profile_edit", args=[profile.code]),
        vault_form_data(name="Keep me", secret="", base_url=profile.base_url),
    )
    assert response.status_code == 302


@pytest.mark.parametrize("version", ["banana", "25.2", "v25", "v25.2.1", ""])
def test_a_vault_api_version_is_checked_on_save(owner_client, version):
    response = owner_client.post(reverse("profile_add"), vault_form_data(api_version=version))
    assert response.status_code == 200 and "e.g. v25.2" in response.content.decode()
    assert not ConnectionProfile.objects.exists()


def test_the_form_marks_each_systems_fields(owner_client):
    body = owner_client.get(reverse("profile_add")).content.decode()
    # Zoho: accounts URL, concurrency, refresh token, its credentials note; Vault: API version, its note.
    assert body.count('data-for-system="zoho"') == 4 and body.count('data-for-system="vault"') == 2
    assert 'data-label-vault="User name"' in body and 'data-label-zoho="Client secret"' in body
    assert "records/profile_form.js" in body and "<script>" not in body


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


def test_just_now_instead_of_zero_minutes_ago(owner_client, make_profile):
    profile = make_profile(name="Tested")
    ConnectionProfile.objects.filter(pk=profile.pk).update(last_tested_at=timezone.now(), last_test_ok=True)
    body = owner_client.get(reverse("profile_list")).content.decode()
    assert "just now" in body and "0\xa0minutes ago" not in body and "0 minutes ago" not in body
    ConnectionProfile.objects.filter(pk=profile.pk).update(last_tested_at=timezone.now() - dt.timedelta(minutes=5))
    assert "5\xa0minutes ago" in owner_client.get(reverse("profile_list")).content.decode()
