"""My settings in a real browser: e-mails turned off stay off on a reload, and the change is audited."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_emails_turned_off_stay_off_after_a_reload_and_the_change_is_audited(new_page, login, live_server, owner):
    from records.models import AuditEvent

    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/settings/")
    box = page.locator("#email-on")
    expect(box).to_be_checked()  # e-mails are on by default
    box.uncheck()
    page.locator("form[aria-labelledby=notify-h] button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("Saved: no e-mails.")
    page.reload()
    expect(page.locator("#email-on")).not_to_be_checked()
    audited = AuditEvent.objects.filter(actor=owner, action="notify.preference")
    assert [event.details for event in audited] == [{"email_on": False}]
