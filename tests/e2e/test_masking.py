"""Masking through the preview in a real browser against the sandbox and a real RQ worker: the
masking table's suggestions, a rule changed, applied, Confirm, the job page naming the rule
("masked (email)") and no value, and the copy holding a stand-in; axe stays clean on the table."""

import re

import pytest
from playwright.sync_api import expect

from records.models import CopyJob
from tests.e2e.helpers import axe, start_copy, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def axe_of(browser, page) -> list[dict]:
    """axe on the page as the user sees it, in a context of the same session that lets the test
    inject axe (bypass_csp: the app's own pages stay under the CSP the test watches)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    try:
        context.add_cookies(page.context.cookies())
        other = context.new_page()
        other.goto(page.url)
        return axe(other)
    finally:
        context.close()


def test_an_account_deep_copied_with_its_contacts_emails_masked_and_phones_blanked(
    zoho, browser, new_page, login, live_server, rq_worker
):
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, zoho.profile, "Accounts", "Globex", "deep_copy", {"Account_Name": "Globex Masked"})
    table = page.locator("#mask-Contacts")
    expect(table).to_be_visible()
    email = page.locator("select[name='mask-Contacts:Email']")
    expect(email).to_have_value("email")  # suggested, pre-selected
    expect(table.locator("tr", has=email)).to_contain_text("suggested")
    assert axe_of(browser, page) == []
    page.select_option("select[name='mask-Contacts:Phone']", "blank")  # a rule changed
    page.click("#mask-choices button[type=submit]")
    row = page.locator("#mask-Contacts tr", has=page.locator("select[name='mask-Contacts:Email']"))
    expect(row).not_to_contain_text("suggested")
    expect(row).to_contain_text("@example.")  # its sample: source → stand-in
    expect(page.locator("select[name='mask-Contacts:Phone']")).to_have_value("blank")
    assert axe_of(browser, page) == []
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    job = CopyJob.objects.get()
    contact = job.results.filter(object_name="Contacts", status="succeeded").exclude(new_id="").first()
    source = zoho.connector.get("Contacts", contact.source_id)
    made = zoho.connector.get("Contacts", contact.new_id)
    page.reload()
    masked = page.locator("#job-masking")
    expect(masked).to_contain_text("masked (email)")
    expect(masked).to_contain_text("masked (blank)")
    text = page.content()
    assert source.fields["Email"] not in text and made.fields["Email"] not in text
    assert made.fields["Email"] != source.fields["Email"]
    assert re.fullmatch(r"[a-z.]+\d*@example\.\w+", made.fields["Email"])
    assert not made.fields.get("Phone")
