"""Zoho emulator: concurrency and credit limits, the error envelope on faults (api-notes zoho.md §9, §10)."""

import threading

import requests

from tests.fixtures.sandbox import ZohoApi

TOO_MANY = "TOO_MANY_REQUESTS"


def parallel(zoho_api, n, call):
    results = [None] * n

    def run(i):
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_9_concurrency_limit_is_429_too_many_requests(zoho_api):
    zoho_api.settings(concurrency_limit=3, processing_delay=0.3)
    responses = parallel(
        zoho_api,
        6,
        lambda: requests.get(f"{zoho_api.base}/settings/modules", headers=zoho_api.http.headers, timeout=10),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 3 and statuses.count(429) == 3
    body = next(r.json() for r in responses if r.status_code == 429)
    assert body["code"] == TOO_MANY and body["details"] == {} and body["status"] == "error" and body["message"]
    assert zoho_api.sb.zoho.in_flight == 0
    assert zoho_api.get("settings/modules").status_code == 200


def test_9_sub_concurrency_for_bulk_writes(zoho_api):
    zoho_api.settings(sub_concurrency_limit=2, processing_delay=0.3)
    body = {"data": [{"Deal_Name": f"Bulk {i}", "Stage": "Proposal"} for i in range(11)], "trigger": []}
    responses = parallel(
        zoho_api,
        4,
        lambda: requests.post(f"{zoho_api.base}/Deals", json=body, headers=zoho_api.http.headers, timeout=10),
    )
    assert sorted(r.status_code for r in responses) == [201, 201, 429, 429]
    small = parallel(
        zoho_api,
        4,
        lambda: requests.post(
            f"{zoho_api.base}/Deals", json={"data": body["data"][:10]}, headers=zoho_api.http.headers, timeout=10
        ),
    )
    assert all(r.status_code == 201 for r in small)


def test_9_credit_budget_header_and_exhaustion(zoho_api):
    zoho_api.settings(daily_credits=10)
    assert "X-API-CREDITS-REMAINING" not in zoho_api.get("settings/modules").headers  # 1 of 10 used
    r = zoho_api.post("Deals", {"data": [{"Deal_Name": f"C{i}", "Stage": "Proposal"} for i in range(40)]})  # 4 credits
    assert r.headers["X-API-CREDITS-REMAINING"] == "5"  # half used: the header appears
    r = zoho_api.get("settings/modules")
    assert r.headers["X-API-CREDITS-REMAINING"] == "4"
    for _ in range(4):
        zoho_api.get("settings/modules")
    r = zoho_api.get("settings/modules")
    assert r.status_code == 429 and r.json()["code"] == TOO_MANY


def test_9_coql_credit_tiers(zoho_api):
    zoho_api.settings(daily_credits=100)
    zoho_api.coql("select Last_Name from Contacts where Last_Name is not null limit 1500")
    assert zoho_api.sb.zoho.credits_used == 3


def test_10_injected_faults_use_the_zoho_envelope(zoho_api):
    zoho_api.sb.faults("zoho").set(p429=1.0, seed=1)
    r = zoho_api.get("settings/modules")
    assert r.status_code == 429 and r.json()["code"] == TOO_MANY and r.json()["status"] == "error"
    zoho_api.sb.faults("zoho").set(p429=0.0, p500=1.0)
    r = zoho_api.get("settings/modules")
    assert r.status_code == 500 and r.json()["code"] == "INTERNAL_ERROR"


def test_10_unknown_path_and_module(zoho_api):
    r = zoho_api.get("Accounts/1/actions/nope")
    assert r.status_code == 404 and r.json()["code"] == "INVALID_URL_PATTERN"
    r = zoho_api.get("Widgets", fields="id")
    assert r.status_code == 400 and set(r.json()) == {"code", "details", "message", "status"}
    assert r.json()["code"] == "INVALID_MODULE"


def test_reset_restores_demo_data_and_settings(zoho_api):
    acc = zoho_api.account_id("Acme Corp")
    zoho_api.request("DELETE", "Accounts", params={"ids": acc})
    zoho_api.settings(concurrency_limit=1)
    zoho_api.sb.reset()
    zoho_api = ZohoApi(zoho_api.sb)
    assert zoho_api.account_id("Acme Corp") == acc
    assert zoho_api.sb.zoho.settings.concurrency_limit == 10
