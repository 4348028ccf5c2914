"""An API token in a real browser: made on My settings, shown once, used by a pipeline over real
HTTP (requests against the live server), revoked with its button, then refused."""

import re

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_make_a_token_use_it_over_http_and_revoke_it(new_page, login, live_server, owner):
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/settings/")
    page.fill("#id_name", "nightly build")
    page.check("input[name=scope][value=run]")
    page.click("text=Make the token")
    secret = page.locator("#new-token-secret").inner_text().strip()
    expect(page.locator("#new-token")).to_contain_text("it is not shown again")

    api = f"{live_server.url}/api/v1/templates/"
    headers = {"Authorization": f"Bearer {secret}"}
    assert requests.get(api, headers=headers, timeout=10).json() == []

    page.goto(f"{live_server.url}/settings/")
    expect(page.locator("#api-tokens")).not_to_contain_text(secret)
    page.click("button[aria-label='Revoke the token nightly build']")
    expect(page.locator("#api-tokens")).to_contain_text("revoked")
    refused = requests.get(api, headers=headers, timeout=10)
    assert (refused.status_code, refused.json()["detail"]) == (401, "This API token was revoked.")


def test_a_tokens_times_carry_their_zone(new_page, login, live_server, owner):
    from records.api.tokens import create_token

    create_token(user=owner, name="zoned", scope="read")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/settings/")
    made = page.locator("#api-tokens tbody tr", has_text="zoned").locator("td").nth(3)
    expect(made).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))  # not read as the reader's own time
