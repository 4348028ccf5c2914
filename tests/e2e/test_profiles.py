"""The profile pages in a real browser (Debian's chromium, the live server): the form speaks the
chosen system's words and names a refusal at its field; a profile with jobs offers no delete."""

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


def test_a_profile_with_jobs_offers_no_delete(new_page, login, live_server, make_job, make_profile):
    used = make_job().profile
    make_profile(name="Unused")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/profiles/")
    expect(page.locator("tr", has_text="Unused").get_by_role("link", name="Delete Unused")).to_have_count(1)
    expect(page.locator("tr", has_text=used.name).get_by_role("link", name=f"Delete {used.name}")).to_have_count(0)
    page.goto(f"{live_server.url}/profiles/{used.code}/delete/")  # an old link: refused before asking
    expect(page.locator("h1")).to_have_text(f"“{used.name}” can't be deleted")
    expect(page.get_by_role("button", name="Yes, delete the profile")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("1 copy job")


def test_a_refused_profile_form_keeps_the_password_and_names_the_url_at_its_field(new_page, login, live_server, owner):
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/profiles/add/")
    ready(page, "#profile-form")
    page.fill("#id_name", "Plain http")
    page.select_option("#id_system", "vault")
    page.fill("#id_base_url", "http://myvault.veevavault.com")
    page.fill("#id_username", "someone@example.com")
    page.fill("#id_secret", "top-secret-pw")
    page.click("text=Add profile")
    expect(page.locator("#id_base_url_error")).to_have_text("Only https:// URLs are allowed.")
    expect(page.locator("#profile-form .msg-error")).to_have_count(0)  # not away from its field
    expect(page.locator("#id_secret")).to_have_value("top-secret-pw")  # not to be typed again
    expect(page.locator("#id_api_version")).to_have_value("v26.3")  # the default, kept
    expect(_label(page, "api_version")).to_have_text("API version *")


def test_when_a_secret_was_set_reads_with_its_zone_and_one_full_stop(new_page, login, live_server, make_profile):
    """Django's "P" format wrote "Set on Jan. 5, 2026, 1:11 a.m.." with no zone."""
    import datetime as dt

    from records.models import ConnectionProfile

    profile = make_profile(name="Set earlier")
    set_at = dt.datetime(2026, 1, 5, 1, 11, tzinfo=dt.UTC)
    ConnectionProfile.objects.filter(pk=profile.pk).update(secret_set_at=set_at)
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/profiles/{profile.code}/edit/")
    expect(page.locator("#id_secret_helptext")).to_have_text("Set on 2026-01-05 01:11 UTC. Leave blank to keep it.")
    main = page.locator("main")
    for words in ("a.m.", "p.m.", ".."):
        expect(main).not_to_contain_text(words, use_inner_text=True)
