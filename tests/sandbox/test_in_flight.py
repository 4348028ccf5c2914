"""The sandbox's count of calls in flight per server (org) and their peak (sandbox/in_flight.py)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def get_accounts(zoho_api):
    headers = {"Authorization": f"Zoho-oauthtoken {zoho_api.token}"}
    return requests.get(
        f"{zoho_api.base}/Accounts", params={"fields": "Account_Name", "per_page": 2}, headers=headers, timeout=10
    ).status_code


def settled(counter):
    """The counts once the server thread that hung up on a dropped call has left the count."""
    deadline = time.monotonic() + 2
    while counter.now and time.monotonic() < deadline:
        time.sleep(0.01)
    return counter.as_dict()


def test_overlapping_calls_raise_the_peak_to_how_many_overlapped(zoho_api):
    sb = zoho_api.sb
    sb.faults("zoho").set(latency=0.3)
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: get_accounts(zoho_api), range(4)))
    assert statuses == [200] * 4
    assert sb.in_flight("zoho").as_dict() == {"now": 0, "peak": 4}


def test_calls_one_after_another_peak_at_one(zoho_api):
    for _ in range(3):
        assert get_accounts(zoho_api) == 200
    assert zoho_api.sb.in_flight("zoho").peak == 1


def test_a_held_answer_is_in_flight_until_it_is_sent(zoho_api):
    sb = zoho_api.sb
    hold = sb.hooks("zoho").hold("GET", r"/Accounts$")
    caller = threading.Thread(target=get_accounts, args=(zoho_api,))
    caller.start()
    assert hold.wait(5)
    assert sb.in_flight("zoho").now == 1
    hold.release()
    caller.join(5)
    assert sb.in_flight("zoho").as_dict() == {"now": 0, "peak": 1}


def test_token_calls_to_the_accounts_server_are_not_counted(zoho_api):
    zoho_api.mint()
    zoho_api.mint()
    assert zoho_api.sb.in_flight("zoho").peak == 0


def test_a_dropped_answer_leaves_the_count(zoho_api):
    sb = zoho_api.sb
    sb.hooks("zoho").lose("POST", r"/Accounts$", applied=False)
    try:
        zoho_api.post("Accounts", {"data": [{"Account_Name": "Lost"}]})
    except requests.exceptions.ConnectionError:
        pass
    assert settled(sb.in_flight("zoho")) == {"now": 0, "peak": 1}


def test_the_peak_restarts_on_the_control_endpoint_and_on_reset(zoho_api):
    sb = zoho_api.sb
    get_accounts(zoho_api)
    url = f"{sb.zoho_url}/_sandbox/in_flight"
    assert requests.get(url, timeout=5).json() == {"now": 0, "peak": 1}
    assert requests.delete(url, timeout=5).json() == {"now": 0, "peak": 0}
    get_accounts(zoho_api)
    sb.reset()
    assert sb.in_flight("zoho").peak == 0


def test_each_org_counts_its_own_calls(zoho_api):
    get_accounts(zoho_api)
    assert zoho_api.sb.in_flight("vault").peak == 0
