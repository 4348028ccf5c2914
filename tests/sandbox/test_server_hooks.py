"""Sandbox hooks (sandbox/hooks.py): a callback after matching requests, a held answer, and a
metadata variant, so the app's tests make events happen in the server instead of patching the app."""

import threading

META = r"/metadata/vobjects/product__v$"
PRODUCTS = r"/vobjects/product__v$"


def test_after_runs_once_per_matching_processed_request(vault_api):
    seen = []
    vault_api.sb.hooks("vault").after("GET", META, lambda: seen.append(1), times=2)
    for _ in range(3):
        assert vault_api.get("metadata/vobjects/product__v")["responseStatus"] == "SUCCESS"
    vault_api.query("SELECT id FROM product__v")  # another path: not counted
    assert seen == [1, 1]


def test_after_expiring_sessions_fails_the_next_call_not_this_one(vault_api):
    vault_api.sb.hooks("vault").after("GET", META, vault_api.sb.vault.expire_sessions)
    assert vault_api.get("metadata/vobjects/product__v")["responseStatus"] == "SUCCESS"
    body = vault_api.get("metadata/vobjects/product__v")
    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "INVALID_SESSION_ID"


def test_hold_answers_only_after_release_with_the_work_done(vault_api):
    sb = vault_api.sb
    hold = sb.hooks("vault").hold("POST", PRODUCTS)
    before = len(sb.vault.state.records["product__v"])
    answer = {}
    client = threading.Thread(
        target=lambda: answer.update(
            vault_api.post("vobjects/product__v", json=[{"name__v": "Held Co", "status__v": "active__v"}])
        )
    )
    client.start()
    assert hold.wait(10)
    try:
        assert len(sb.vault.state.records["product__v"]) == before + 1  # written, not yet answered
        client.join(0.3)
        assert client.is_alive() and not answer
    finally:
        hold.release()
    client.join(10)
    assert answer["data"][0]["responseStatus"] == "SUCCESS"
    # Only the next one was held.
    assert vault_api.get("metadata/vobjects/product__v")["responseStatus"] == "SUCCESS"


def test_reset_clears_hooks_and_releases_holds(sandbox):
    hold = sandbox.hooks("zoho").hold("GET", r".*")
    sandbox.hooks("zoho").after("GET", r".*", lambda: 1 / 0)
    sandbox.reset()
    assert hold._go.is_set()
    import requests

    assert requests.get(f"{sandbox.zoho_url}/crm/v8/settings/modules", timeout=5).status_code == 401


def test_metadata_without_the_hierarchical_copy_key(vault_api):
    def relationships():
        return vault_api.get("metadata/vobjects/product__v")["object"]["relationships"]

    assert any("hierarchical_copy" in r for r in relationships())
    vault_api.sb.vault.configure(relationship_hierarchical_flag=False)
    assert all("hierarchical_copy" not in r for r in relationships())


def test_answer_replaces_the_emulators_answer_for_matching_requests(vault_api):
    sb = vault_api.sb
    sb.hooks("vault").answer("GET", META, {"responseStatus": "FAILURE", "errors": [{"type": "X"}]}, times=1)
    sb.clear_log("vault")
    assert vault_api.get("metadata/vobjects/product__v")["errors"] == [{"type": "X"}]
    assert vault_api.get("metadata/vobjects/product__v")["responseStatus"] == "SUCCESS"  # once only
    assert [e.status for e in sb.log("vault")] == [200, 200]
