"""Sandbox server: fault injection, request log, control endpoints, env configuration."""

import time

import pytest
import requests

from sandbox import Sandbox, demo

CREDS = {"username": demo.VAULT_USERNAME, "password": demo.VAULT_PASSWORD}


def _versions(sb, **kwargs):
    return requests.get(f"{sb.vault_url}/api/", timeout=kwargs.pop("timeout", 5), **kwargs)


def test_added_latency_per_call(fresh_sandbox):
    fresh_sandbox.faults("vault").set(latency=0.2)
    started = time.monotonic()
    assert _versions(fresh_sandbox).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_a_latency_covering_the_work_serves_the_call_first_and_answers_when_it_has_passed(fresh_sandbox):
    import threading

    served = threading.Event()
    fresh_sandbox.hooks("vault").after("GET", r"^/api/?$", served.set)
    fresh_sandbox.faults("vault").set(latency=1.0, latency_covers_work=True)
    started = time.monotonic()
    answer: list[requests.Response] = []
    call = threading.Thread(target=lambda: answer.append(_versions(fresh_sandbox)))
    call.start()
    assert served.wait(0.6)  # served as it arrived, not after the second's wait
    assert not answer  # ... and not answered yet
    call.join(5)
    assert answer[0].status_code == 200 and time.monotonic() - started >= 1.0


def test_429_and_500_faults(fresh_sandbox):
    fresh_sandbox.faults("vault").set(p429=1.0)
    resp = _versions(fresh_sandbox)
    assert resp.status_code == 429 and resp.json()["errors"][0]["type"] == "API_LIMIT_EXCEEDED"
    fresh_sandbox.faults("vault").set(p429=0.0, p500=1.0)
    assert _versions(fresh_sandbox).status_code == 500
    assert [e.outcome for e in fresh_sandbox.log("vault")] == ["fault_429", "fault_500"]


def test_read_timeout_fault(fresh_sandbox):
    fresh_sandbox.faults("vault").set(p_timeout=1.0, timeout_hold=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _versions(fresh_sandbox, timeout=0.2)
    assert fresh_sandbox.log("vault")[-1].outcome == "fault_timeout"


def test_dropped_connection_after_the_write_was_applied(vault_api):
    sb = vault_api.sb
    sb.faults("vault").set(p_drop_after_write=1.0)
    assert vault_api.request("GET", "metadata/vobjects").status_code == 200  # reads are never dropped
    with pytest.raises(requests.exceptions.ConnectionError):
        vault_api.request("POST", "vobjects/product__v", json=[{"name__v": "Lost answer", "status__v": "active__v"}])
    sb.faults("vault").clear()
    assert len(vault_api.ids("SELECT id FROM product__v WHERE name__v = 'Lost answer'")) == 1
    entry = [e for e in sb.log("vault") if e.method == "POST" and "vobjects" in e.path][-1]
    assert entry.outcome == "dropped_after_write" and entry.status == 200


def test_seed_replays_the_same_fault_sequence(fresh_sandbox):
    def run():
        fresh_sandbox.reset()
        fresh_sandbox.faults("vault").set(p429=0.3, p500=0.2, seed=7)
        return [_versions(fresh_sandbox).status_code for _ in range(15)]

    first = run()
    assert first == run()
    assert {429, 500, 200} <= set(first)


def test_request_log_in_order_with_redacted_body(fresh_sandbox):
    requests.post(f"{fresh_sandbox.vault_url}/api/v25.2/auth", data=CREDS, timeout=5)
    _versions(fresh_sandbox)
    log = fresh_sandbox.log("vault")
    assert [(e.method, e.path, e.status, e.outcome) for e in log] == [
        ("POST", "/api/v25.2/auth", 200, "ok"),
        ("GET", "/api/", 200, "ok"),
    ]
    assert demo.VAULT_PASSWORD not in log[0].body_summary and "username=" in log[0].body_summary


def test_control_endpoints_faults_log_and_reset(fresh_sandbox):
    base = f"{fresh_sandbox.vault_url}/_sandbox"
    settings = requests.post(f"{base}/faults", json={"p500": 1.0, "seed": 3}, timeout=5).json()
    assert settings["p500"] == 1.0 and fresh_sandbox.faults("vault").config.p500 == 1.0
    assert _versions(fresh_sandbox).status_code == 500
    log = requests.get(f"{base}/log", timeout=5).json()
    assert log == [{"method": "GET", "path": "/api/", "body_summary": "", "status": 500, "outcome": "fault_500"}]
    fresh_sandbox.vault.state.records["product__v"].clear()
    assert requests.post(f"{base}/reset", timeout=5).json() == {"reset": True}
    assert fresh_sandbox.faults("vault").config.p500 == 0.0 and fresh_sandbox.log("vault") == []
    assert len(fresh_sandbox.vault.state.records["product__v"]) == 11
    assert requests.post(f"{base}/faults", json={"bogus": 1}, timeout=5).status_code == 400


def test_control_endpoint_expires_sessions(vault_api):
    requests.post(f"{vault_api.sb.vault_url}/_sandbox/expire_sessions", timeout=5)
    assert vault_api.get("objects/users/me")["errors"][0]["type"] == "INVALID_SESSION_ID"


def test_faults_from_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_VAULT_FAULTS", '{"p429": 1.0, "seed": 1}')
    sb = Sandbox.start()
    try:
        assert sb.faults("vault").config.p429 == 1.0
        assert _versions(sb).status_code == 429
        assert sb.faults("zoho").config.p429 == 0.0
    finally:
        sb.stop()


def test_reset_gives_fresh_deterministic_demo_data(fresh_sandbox):
    state = fresh_sandbox.vault.state
    counts = {obj: len(recs) for obj, recs in state.records.items()}
    first_ids = list(state.records["product__v"])
    fresh_sandbox.reset()
    state = fresh_sandbox.vault.state
    assert {obj: len(recs) for obj, recs in state.records.items()} == counts
    assert list(state.records["product__v"]) == first_ids
    assert counts["formulation__c"] + counts["packaging__c"] > 12_000


def test_queries_sent_as_post_are_reads_and_never_dropped_after_write():
    from sandbox.server import is_write

    assert not is_write("POST", "/api/v25.2/query")
    assert not is_write("POST", "/api/v25.2/query/0f1e2d?pagesize=10&pageoffset=10")
    assert not is_write("POST", "/crm/v7/coql")
    assert is_write("POST", "/api/v25.2/vobjects/product__v")
    assert is_write("POST", "/crm/v7/Accounts/1/actions/clone")
    assert is_write("DELETE", "/crm/v7/Accounts")
