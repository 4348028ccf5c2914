"""Sandbox server: the Python API contract of docs/architecture.md ("Sandbox")."""

import pytest
import requests

from sandbox import demo


def test_urls_are_loopback_with_ports(sandbox):
    assert sandbox.vault_url.startswith("http://127.0.0.1:")
    assert sandbox.zoho_url.startswith("http://127.0.0.1:") and sandbox.zoho_url != sandbox.vault_url


def test_emulator_objects_expose_state_and_settings(sandbox):
    assert "product__v" in sandbox.vault.state.records
    assert sandbox.vault.settings.job_poll_interval == 0.1


def test_zoho_server_answers(sandbox):
    # 503 until sandbox/zoho.py exists; then the Zoho emulator itself answers.
    resp = requests.get(f"{sandbox.zoho_url}/crm/v7/settings/modules", timeout=5)
    assert resp.status_code in (200, 401, 503)


@pytest.mark.django_db
def test_profiles_point_at_the_sandbox(vault_profile, zoho_profile, sandbox):
    assert vault_profile.base_url == sandbox.vault_url and vault_profile.username == demo.VAULT_USERNAME
    assert vault_profile.secret == demo.VAULT_PASSWORD and vault_profile.api_version == "v25.2"
    assert zoho_profile.base_url == zoho_profile.accounts_url == sandbox.zoho_url
    assert zoho_profile.refresh_token == demo.ZOHO_REFRESH_TOKEN
