"""API tokens on My settings: made with a name, scope and expiry, shown once, listed by their
first characters, revoked (one's own only), each step audited; the API refuses a revoked token."""

import re

import pytest
from django.urls import reverse

from records.models import ApiToken, AuditEvent
from tests.fixtures.api import bearer

pytestmark = pytest.mark.django_db


def made(owner_client, **data):
    response = owner_client.post(reverse("api_token_create"), {"name": "nightly build", "scope": "run", **data})
    assert response.status_code == 200
    return response.content.decode()


def test_a_token_made_on_the_page_is_shown_once_and_works(owner_client, client, owner):
    page = made(owner_client, expires_days="30")
    secret = re.search(r'id="new-token-secret">([^<]+)<', page).group(1)
    token = ApiToken.objects.get()
    assert (token.name, token.scope, token.user) == ("nightly build", "run", owner)
    assert token.expires is not None
    assert AuditEvent.objects.filter(action="api.token.create", actor=owner).count() == 1

    again = owner_client.get(reverse("my_settings")).content.decode()
    assert secret not in again and token.prefix in again and "nightly build" in again
    assert client.get("/api/v1/templates/", **bearer(secret)).status_code == 200


def test_a_reload_of_the_making_post_makes_no_second_token_of_that_name(owner_client):
    made(owner_client)
    page = made(owner_client)
    assert "You already have a token named nightly build" in page
    assert ApiToken.objects.count() == 1


def test_the_page_refuses_a_token_without_a_name(owner_client):
    page = made(owner_client, name="")
    assert "This field is required." in page and not ApiToken.objects.exists()


def test_revoked_on_the_page_the_token_is_refused_by_the_api(owner_client, client, owner):
    page = made(owner_client, scope="read")
    secret = re.search(r'id="new-token-secret">([^<]+)<', page).group(1)
    token = ApiToken.objects.get()
    response = owner_client.post(reverse("api_token_revoke", args=[token.pk]))
    assert response["Location"] == reverse("my_settings")
    token.refresh_from_db()
    assert token.revoked is not None
    assert AuditEvent.objects.filter(action="api.token.revoke", actor=owner).count() == 1
    assert "revoked" in owner_client.get(reverse("my_settings")).content.decode()
    assert client.get("/api/v1/templates/", **bearer(secret)).status_code == 401


def test_another_users_token_is_not_revoked_from_my_page(client, make_token, other_user, owner):
    token, secret = make_token(user=other_user)
    client.force_login(owner)
    client.post(reverse("api_token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked is None and not AuditEvent.objects.filter(action="api.token.revoke").exists()
    assert token.prefix not in client.get(reverse("my_settings")).content.decode()
