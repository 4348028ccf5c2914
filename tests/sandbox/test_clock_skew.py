"""The emulators' clock_skew knob: a remote whose clock runs ahead of or behind ours shifts both the
`Date` header of its answers and the created/modified times of what it writes."""

import datetime as dt
import email.utils

import pytest

from tests.fixtures.sandbox import VaultApi, ZohoApi


def header_time(response):
    return email.utils.parsedate_to_datetime(response.headers["Date"])


def near(a, b, seconds=3):
    return abs(a - b) < dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("skew", [0, 3600, -900])
def test_the_date_header_follows_the_skew(fresh_sandbox, skew):
    fresh_sandbox.set_clock_skew(skew)
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=skew)
    vault = VaultApi(fresh_sandbox)
    zoho = ZohoApi(fresh_sandbox)
    assert near(header_time(vault.request("GET", "objects/users/me")), expected)
    assert near(header_time(zoho.get("users", type="CurrentUser")), expected)
    assert near(header_time(zoho.get("Accounts/5725767999999999999")), expected)  # a 204 too


def test_writes_are_stamped_on_the_skewed_clock(fresh_sandbox):
    fresh_sandbox.set_clock_skew(-7200)
    expected = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    vault, zoho = VaultApi(fresh_sandbox), ZohoApi(fresh_sandbox)
    made = vault.request(
        "POST",
        "vobjects/country__v",
        json=[{"name__v": "Skewland", "code__v": "SKW"}],
        headers={"Content-Type": "application/json"},
    ).json()
    country = vault.get(f"vobjects/country__v/{made['data'][0]['data']['id']}")["data"]
    account = zoho.post("Accounts", {"data": [{"Account_Name": "Skewed"}]}).json()["data"][0]["details"]

    assert near(dt.datetime.fromisoformat(country["created_date__v"].replace("Z", "+00:00")), expected)
    assert near(dt.datetime.fromisoformat(account["Created_Time"]), expected)


def test_one_emulator_can_be_skewed_alone_and_a_reset_clears_it(fresh_sandbox):
    fresh_sandbox.set_clock_skew(600, "zoho")
    now = dt.datetime.now(dt.UTC)
    assert near(header_time(VaultApi(fresh_sandbox).request("GET", "objects/users/me")), now)
    assert near(header_time(ZohoApi(fresh_sandbox).get("users")), now + dt.timedelta(minutes=10))
    fresh_sandbox.reset()
    assert near(header_time(ZohoApi(fresh_sandbox).get("users")), dt.datetime.now(dt.UTC))
