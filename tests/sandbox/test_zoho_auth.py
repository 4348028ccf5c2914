"""Zoho emulator: OAuth refresh and API auth (api-notes zoho.md §1)."""

import requests

from tests.fixtures.sandbox import TOKEN_PARAMS


def test_1_1_token_refresh_with_query_params(zoho_api):
    body = requests.post(f"{zoho_api.url}/oauth/v2/token", params=TOKEN_PARAMS, timeout=5)
    assert body.status_code == 200
    data = body.json()
    assert data["access_token"].startswith("1000.")
    assert data["expires_in"] == 3600 and data["token_type"] == "Bearer"
    assert data["api_domain"] == zoho_api.url  # derived from the Host header
    assert "refresh_token" not in data


def test_1_1_token_refresh_with_form_body(zoho_api):
    data = requests.post(f"{zoho_api.url}/oauth/v2/token", data=TOKEN_PARAMS, timeout=5).json()
    assert (
        requests.get(
            f"{zoho_api.base}/settings/modules",
            timeout=5,
            headers={"Authorization": f"Zoho-oauthtoken {data['access_token']}"},
        ).status_code
        == 200
    )


def test_1_1_bad_client_is_200_invalid_client(zoho_api):
    r = requests.post(f"{zoho_api.url}/oauth/v2/token", params={**TOKEN_PARAMS, "client_secret": "nope"}, timeout=5)
    assert r.status_code == 200 and r.json() == {"error": "invalid_client"}


def test_1_1_bad_refresh_token_is_200_invalid_code(zoho_api):
    r = requests.post(f"{zoho_api.url}/oauth/v2/token", params={**TOKEN_PARAMS, "refresh_token": "1000.x"}, timeout=5)
    assert r.status_code == 200 and r.json() == {"error": "invalid_code"}


def test_1_2_mint_throttle_setting(zoho_api):
    zoho_api.settings(mint_throttle=3)
    answers = [zoho_api.mint() for _ in range(4)]
    assert all("access_token" in a for a in answers[:3])
    assert answers[3]["error"] == "Access Denied" and "access_token" not in answers[3]


def test_1_2_sixteenth_token_invalidates_the_oldest(zoho_api):
    first = zoho_api.token
    for _ in range(15):
        zoho_api.mint()
    r = zoho_api.get("settings/modules")
    assert r.status_code == 401 and r.json()["code"] == "INVALID_TOKEN"
    assert first not in zoho_api.sb.zoho.tokens


def test_1_4_missing_header_is_authentication_failure(zoho_api):
    r = requests.get(f"{zoho_api.base}/Accounts", params={"fields": "Account_Name"}, timeout=5)
    assert r.status_code == 401
    assert r.json()["code"] == "AUTHENTICATION_FAILURE" and r.json()["status"] == "error"


def test_1_4_unknown_token_is_exact_invalid_token_body(zoho_api):
    r = requests.get(
        f"{zoho_api.base}/Accounts",
        params={"fields": "Account_Name"},
        timeout=5,
        headers={"Authorization": "Zoho-oauthtoken 1000.garbage"},
    )
    assert r.status_code == 401
    assert r.json() == {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}


def test_1_4_expire_hook_and_control_endpoint(zoho_api):
    assert zoho_api.get("settings/modules").status_code == 200
    zoho_api.sb.zoho.expire_tokens()
    assert zoho_api.get("settings/modules").json()["code"] == "INVALID_TOKEN"
    zoho_api.http.headers["Authorization"] = f"Zoho-oauthtoken {zoho_api.mint()['access_token']}"
    assert zoho_api.get("settings/modules").status_code == 200
    requests.post(f"{zoho_api.url}/_sandbox/expire_sessions", timeout=5)
    assert zoho_api.get("settings/modules").status_code == 401


def test_1_2_token_lifetime_setting(zoho_api):
    zoho_api.settings(token_lifetime=0.2)
    data = zoho_api.mint()
    assert data["expires_in"] == 0  # whole seconds, as Zoho sends them
    import time

    time.sleep(0.3)
    r = requests.get(
        f"{zoho_api.base}/settings/modules",
        timeout=5,
        headers={"Authorization": f"Zoho-oauthtoken {data['access_token']}"},
    )
    assert r.status_code == 401 and r.json()["code"] == "INVALID_TOKEN"
