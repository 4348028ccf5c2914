"""Secrets follow their URL: pointing a profile at another address clears its stored secrets and
cached token, so "Test" can't hand the old secrets to a server of the owner's choosing.

A real HTTP server on loopback plays the owner's server and records every request it gets."""

import io
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.urls import reverse

from records.models import AuditEvent, ConnectionProfile
from records.profiles import services as profile_services
from sandbox import demo

pytestmark = pytest.mark.django_db
SECRETS = (demo.VAULT_PASSWORD, demo.ZOHO_CLIENT_SECRET, demo.ZOHO_REFRESH_TOKEN, "SESSION-OLD")


@pytest.fixture
def catcher():
    """An HTTP server that answers 401 to everything and keeps each request's line, headers and body."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            seen.append(f"{self.requestline}\n{self.headers}\n{body}")
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _with_session(profile):
    field = ConnectionProfile._meta.get_field("session_token")
    ConnectionProfile.objects.filter(pk=profile.pk).update(session_token=field.get_prep_value("SESSION-OLD"))
    profile.refresh_from_db()
    return profile


def _leaked(seen):
    return [s for s in SECRETS if any(s in request for request in seen)]


def test_a_vault_profile_pointed_elsewhere_does_not_send_its_password_there(vault_profile, owner, catcher):
    url, seen = catcher
    profile = _with_session(vault_profile)
    profile_services.profile_update(profile=profile, actor=owner, base_url=url)
    ok, message = profile_services.profile_test(profile=profile, actor=owner)
    assert _leaked(seen) == []
    assert ok is False and "enter" in message.lower() and "again" in message.lower(), message
    profile.refresh_from_db()
    assert (profile.secret, profile.secret_set_at, profile.session_token, profile.session_expires_at) == (
        "",
        None,
        "",
        None,
    )


def test_a_zoho_profile_with_a_new_accounts_url_drops_secret_and_refresh_token(zoho_profile, owner, catcher):
    url, seen = catcher
    profile = _with_session(zoho_profile)
    profile_services.profile_update(profile=profile, actor=owner, accounts_url=url)
    profile_services.profile_test(profile=profile, actor=owner)
    assert _leaked(seen) == []
    profile.refresh_from_db()
    assert (profile.secret, profile.refresh_token, profile.session_token) == ("", "", "")
    event = AuditEvent.objects.filter(action="profile.update").latest("pk")
    assert event.details["changed"] == ["accounts_url"]
    assert event.details["secrets_cleared"] == ["secret", "refresh_token"]
    assert not any(s in str(event.details) for s in SECRETS)


def test_new_secrets_given_with_the_new_url_are_kept(zoho_profile, owner, sandbox, catcher):
    # The same call that moves the profile may carry the secrets meant for the new address.
    profile = _with_session(zoho_profile)
    profile_services.profile_update(profile=profile, actor=owner, base_url=sandbox.zoho_url + "/", secret="new-secret")
    profile.refresh_from_db()
    assert profile.base_url == sandbox.zoho_url  # normalised: the same address, nothing cleared
    assert profile.refresh_token == demo.ZOHO_REFRESH_TOKEN
    profile_services.profile_update(
        profile=profile, actor=owner, accounts_url=catcher[0], secret="for-new", refresh_token="token-new"
    )
    profile.refresh_from_db()
    assert (profile.secret, profile.refresh_token) == ("for-new", "token-new")
    event = AuditEvent.objects.filter(action="profile.update").latest("pk")
    assert event.details["secrets_cleared"] == [] and event.details["secrets_replaced"] == ["secret", "refresh_token"]


def test_changing_only_the_name_keeps_the_secrets(vault_profile, owner):
    profile_services.profile_update(profile=vault_profile, actor=owner, name="Renamed Vault")
    vault_profile.refresh_from_db()
    assert vault_profile.secret == demo.VAULT_PASSWORD


def test_changing_the_system_clears_the_secrets(zoho_profile, owner, sandbox):
    profile_services.profile_update(
        profile=zoho_profile, actor=owner, system="vault", accounts_url="", api_version="v25.2"
    )
    zoho_profile.refresh_from_db()
    assert (zoho_profile.secret, zoho_profile.refresh_token) == ("", "")


def test_the_edit_page_asks_for_the_secret_again_when_the_url_changes(owner_client, vault_profile, catcher):
    url, seen = catcher
    edit = reverse("profile_edit", args=[vault_profile.code])
    data = {
        "name": vault_profile.name,
        "system": "vault",
        "base_url": url,
        "accounts_url": "",
        "api_version": "v25.2",
        "username": demo.VAULT_USERNAME,
        "concurrency": 5,
    }
    response = owner_client.post(edit, data)
    assert response.status_code == 200 and "secret" in response.context["form"].errors
    vault_profile.refresh_from_db()
    assert vault_profile.base_url != url and vault_profile.secret == demo.VAULT_PASSWORD
    response = owner_client.post(edit, {**data, "secret": "typed-for-the-new-url"})
    assert response.status_code == 302
    vault_profile.refresh_from_db()
    assert vault_profile.base_url == url and vault_profile.secret == "typed-for-the-new-url"


def test_the_admin_change_clears_the_secrets_and_says_so(client, vault_profile, catcher, django_user_model):
    url, seen = catcher
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    change = reverse("admin:records_connectionprofile_change", args=[vault_profile.pk])
    data = {
        "name": vault_profile.name,
        "system": "vault",
        "base_url": url,
        "accounts_url": "",
        "api_version": "v25.2",
        "username": demo.VAULT_USERNAME,
        "concurrency": 5,
        "owner": vault_profile.owner.pk,
    }
    response = client.post(change, data, follow=True)
    assert response.status_code == 200
    vault_profile.refresh_from_db()
    assert vault_profile.base_url == url and vault_profile.secret == ""
    assert "set them again" in response.content.decode()
    profile_services.profile_test(profile=vault_profile, actor=admin)
    assert _leaked(seen) == []


def test_the_profile_command_updates_the_url_and_clears_the_secrets(vault_profile, catcher, monkeypatch):
    url, seen = catcher
    monkeypatch.delenv("COPIER_SECRET", raising=False)
    out = io.StringIO()
    call_command("profile", "update", vault_profile.name, "--url", url, stdout=out)
    vault_profile.refresh_from_db()
    assert vault_profile.base_url == url and vault_profile.secret == ""
    assert "COPIER_SECRET" in out.getvalue()
    monkeypatch.setenv("COPIER_SECRET", "from-env")
    call_command("profile", "update", vault_profile.name, "--url", url + "/", stdout=io.StringIO())
    vault_profile.refresh_from_db()
    assert vault_profile.secret == "from-env" and "from-env" not in os.environ.get("COPIER_REFRESH_TOKEN", "")
