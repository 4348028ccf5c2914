"""The profile form in a real browser (Debian's chromium, the live server): it speaks the chosen
system's words."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _label(page, field):
    return page.locator(f"label[for=id_{field}]")


def test_the_add_profile_form_speaks_the_chosen_systems_words(new_page, login, live_server, owner):
    """With Vault chosen the form still asked for "Username / client id" and "Password / client
    secret" under a note on both systems, and the base URL's help named both."""
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/profiles/add/")
    ready(page, "#profile-form")
    page.select_option("#id_system", "vault")
    expect(_label(page, "username")).to_have_text("User name *")
    expect(_label(page, "secret")).to_have_text("Password")
    # Required for Vault, and filled with the newest version the app speaks.
    expect(_label(page, "api_version")).to_have_text("API version *")
    expect(page.locator("#id_api_version")).to_have_value("v26.3")
    expect(page.locator("#id_base_url_helptext")).to_have_text("e.g. https://yourvault.veevavault.com")
    expect(page.locator("#profile-form fieldset").nth(1)).not_to_contain_text("Zoho", use_inner_text=True)
    page.select_option("#id_system", "zoho")
    expect(_label(page, "username")).to_have_text("Client id *")
    expect(_label(page, "secret")).to_have_text("Client secret")
    expect(page.locator("#id_base_url_helptext")).to_have_text("The API domain, e.g. https://www.zohoapis.eu")
    expect(page.locator("#profile-form fieldset").nth(1)).not_to_contain_text("Vault", use_inner_text=True)


def test_lineage_defaults_are_chosen_on_the_profile_page(parts, new_page, login, live_server):
    profile = parts["vault_profile"]
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/profiles/{profile.code}/edit/")
    page.fill("#id_lineage_lines", "Products: Price")
    page.click("text=Save lineage fields")
    expect(page.locator("#id_lineage_lines_error")).to_have_text(
        "Line 1: Product’s “Price” is no editable text field; the lineage stamp needs one."
    )
    page.fill("#id_lineage_lines", "Products: Description")
    page.click("text=Save lineage fields")
    expect(page.locator(".msg-success")).to_contain_text("Default lineage fields of “Sandbox Vault” saved.")
    expect(page.locator("#id_lineage_lines")).to_have_value("product__v: description__c")
    profile.refresh_from_db()
    assert profile.lineage_fields == {"product__v": "description__c"}
