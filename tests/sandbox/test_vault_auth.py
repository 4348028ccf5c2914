"""Vault emulator: versions, auth, sessions, envelope and headers (api-notes vault.md §1, §6, §7, §9)."""

import time

import requests

from sandbox import demo

CREDS = {"username": demo.VAULT_USERNAME, "password": demo.VAULT_PASSWORD}


def test_9_versions_listed_without_session(fresh_sandbox):
    body = requests.get(f"{fresh_sandbox.vault_url}/api/", timeout=5).json()
    assert body["responseStatus"] == "SUCCESS"
    assert body["values"]["v25.2"] == f"{fresh_sandbox.vault_url}/api/v25.2"


def test_1_1_auth_form_encoded_returns_session(fresh_sandbox):
    body = requests.post(f"{fresh_sandbox.vault_url}/api/v25.2/auth", data=CREDS, timeout=5).json()
    assert body["responseStatus"] == "SUCCESS"
    assert len(body["sessionId"]) == 128
    assert body["userId"] == demo.VAULT_USER_ID
    assert body["vaultId"] == body["vaultIds"][0]["id"] == demo.VAULT_ID
    assert body["vaultIds"][0]["url"].endswith("/api")


def test_1_1_auth_multipart(fresh_sandbox):
    files = {k: (None, v) for k, v in CREDS.items()}
    body = requests.post(f"{fresh_sandbox.vault_url}/api/v25.2/auth", files=files, timeout=5).json()
    assert body["responseStatus"] == "SUCCESS"


def test_1_1_no_password_provided(fresh_sandbox):
    body = requests.post(f"{fresh_sandbox.vault_url}/api/v25.2/auth", data={"username": demo.VAULT_USERNAME}, timeout=5)
    assert body.status_code == 200
    body = body.json()
    assert body["responseStatus"] == "FAILURE"
    assert body["errors"][0]["type"] == "NO_PASSWORD_PROVIDED"
    assert body["errorType"] == "AUTHENTICATION_FAILED"


def test_1_1_wrong_password(fresh_sandbox):
    data = {"username": demo.VAULT_USERNAME, "password": "nope"}
    body = requests.post(f"{fresh_sandbox.vault_url}/api/v25.2/auth", data=data, timeout=5).json()
    assert body["errors"][0]["type"] == "USERNAME_OR_PASSWORD_INCORRECT"
    assert body["errorType"] == "AUTHENTICATION_FAILED"


def test_1_2_bearer_header_accepted(vault_api):
    vault_api.http.headers["Authorization"] = f"Bearer {vault_api.session_id}"
    assert vault_api.get("objects/users/me")["responseStatus"] == "SUCCESS"


def test_1_5_missing_session_is_invalid_session_id(fresh_sandbox):
    body = requests.get(f"{fresh_sandbox.vault_url}/api/v25.2/metadata/vobjects", timeout=5).json()
    assert body["responseStatus"] == "FAILURE"
    assert body["errors"][0]["type"] == "INVALID_SESSION_ID"


def test_1_3_idle_timeout_expires_session(vault_api):
    vault_api.sb.vault.configure(idle_timeout=0.2)
    assert vault_api.get("keep-alive")["responseStatus"] == "FAILURE"  # GET is the wrong verb
    time.sleep(0.3)
    assert vault_api.post("keep-alive")["errors"][0]["type"] == "INVALID_SESSION_ID"


def test_1_5_expire_sessions_hook(vault_api):
    vault_api.sb.vault.expire_sessions()
    assert vault_api.get("objects/users/me")["errors"][0]["type"] == "INVALID_SESSION_ID"
    vault_api.login()
    assert vault_api.get("objects/users/me")["responseStatus"] == "SUCCESS"


def test_1_4_keep_alive_and_users_me(vault_api):
    assert vault_api.post("keep-alive") == {"responseStatus": "SUCCESS"}
    user = vault_api.get("objects/users/me")["users"][0]["user"]
    assert user["user_name__v"] == demo.VAULT_USERNAME


def test_1_4_end_session(vault_api):
    assert vault_api.request("DELETE", "session").json()["responseStatus"] == "SUCCESS"
    assert vault_api.get("objects/users/me")["errors"][0]["type"] == "INVALID_SESSION_ID"


def test_7_2_headers_on_every_response(vault_api):
    resp = vault_api.request("GET", "metadata/vobjects", headers={"X-VaultAPI-ReferenceId": "ref-1"})
    for name in ("ExecutionId", "BurstLimit", "BurstLimitRemaining", "VaultId", "UserId", "TruncatedSessionId"):
        assert resp.headers[f"X-VaultAPI-{name}"]
    assert resp.headers["X-VaultAPI-Status"] == "SUCCESS"
    assert resp.headers["X-VaultAPI-ReferenceId"] == "ref-1"
    failed = vault_api.request("GET", "metadata/vobjects/nope__c")
    assert failed.headers["X-VaultAPI-Status"] == "FAILURE"


def test_7_1_burst_limit_delays_instead_of_rejecting(vault_api):
    vault_api.sb.vault.configure(burst_limit=3, burst_sleep=True, burst_delay_ms=50)
    resps = [vault_api.request("POST", "keep-alive") for _ in range(4)]
    assert all(r.json()["responseStatus"] == "SUCCESS" for r in resps)
    assert "X-VaultAPI-ResponseDelay" not in resps[0].headers
    assert resps[-1].headers["X-VaultAPI-ResponseDelay"] == "50"
    assert resps[-1].headers["X-VaultAPI-BurstLimitRemaining"] == "0"
    assert resps[-1].elapsed.total_seconds() >= 0.05


def test_7_1_auth_burst_limit(fresh_sandbox):
    fresh_sandbox.vault.configure(auth_burst_limit=2)
    url = f"{fresh_sandbox.vault_url}/api/v25.2/auth"
    bodies = [requests.post(url, data=CREDS, timeout=5).json() for _ in range(3)]
    assert bodies[1]["responseStatus"] == "SUCCESS"
    assert bodies[2]["errors"][0]["type"] == "API_LIMIT_EXCEEDED"


def test_checklist_1_unknown_path_and_version_are_malformed_url(vault_api):
    assert vault_api.get("no/such/thing")["errors"][0]["type"] == "MALFORMED_URL"
    assert vault_api.get("/api/v99.9/metadata/vobjects")["errors"][0]["type"] == "MALFORMED_URL"


def test_checklist_1_wrong_verb_is_method_not_supported(vault_api):
    assert vault_api.request("DELETE", "metadata/vobjects").json()["errors"][0]["type"] == "METHOD_NOT_SUPPORTED"
