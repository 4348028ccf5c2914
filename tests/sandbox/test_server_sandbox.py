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
    assert vault_profile.secret == demo.VAULT_PASSWORD and vault_profile.api_version == "v26.3"
    assert zoho_profile.base_url == zoho_profile.accounts_url == sandbox.zoho_url
    assert zoho_profile.refresh_token == demo.ZOHO_REFRESH_TOKEN


def test_python_m_sandbox_prints_urls_and_saves_state(tmp_path):
    import json
    import signal
    import subprocess
    import sys

    state = tmp_path / "sandbox.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--vault-port", "0", "--zoho-port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Vault sandbox: http://127.0.0.1:")
        url = first.split()[2]
        assert requests.get(f"{url}/api/", timeout=5).json()["responseStatus"] == "SUCCESS"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    saved = json.loads(state.read_text())
    assert "product__v" in saved["vault"]["records"] and "Accounts" in saved["zoho"]["records"]


def test_saved_state_brings_back_both_emulators_records():
    import json

    from sandbox import Sandbox
    from sandbox.__main__ import load_state, save_state

    first = Sandbox.start()
    try:
        zoho = first.zoho.state
        account = next(iter(zoho.records["Accounts"].values()))
        copy = dict(account, id=zoho.new_id(), Account_Name="Saved Copy Co")
        zoho.records["Accounts"][copy["id"]] = copy
        vault_ids = set(first.vault.state.records["product__v"])
        text = save_state(first)
    finally:
        first.stop()
    second = Sandbox.start()
    try:
        load_state(second, json.loads(text))
        assert second.zoho.state.get("Accounts", copy["id"])["Account_Name"] == "Saved Copy Co"
        assert set(second.vault.state.records["product__v"]) == vault_ids
        assert int(second.zoho.state.new_id()) > int(copy["id"])  # no id handed out twice
        unique = second.zoho.state.unique_fields("Accounts")
        for name in unique:  # unique values of restored records are known again
            if account.get(name) not in (None, ""):
                assert second.zoho.state.owner_of("Accounts", name, account[name]) is not None
        # A file saved before Zoho was kept (Vault's records at the top) still loads.
        load_state(second, json.loads(text)["vault"])
        assert set(second.vault.state.records["product__v"]) == vault_ids
    finally:
        second.stop()
