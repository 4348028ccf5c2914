"""The preview's choices in a real browser: untick a branch, set a field on every child with a
template, a lineage stamp, then confirm; a real RQ worker runs it."""

import pytest
from playwright.sync_api import expect

from records.connectors import connector_for
from records.models import CopyJob
from tests.e2e.helpers import ready, start_copy, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_choices_on_the_preview_then_copy(parts, new_page, login, live_server, rq_worker):
    profile = parts["zoho_profile"]
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, profile, "Accounts", "Globex", "deep_copy", {"Account_Name": "Globex C"})
    page.click("#copy-choices summary")
    ready(page, "#plan-objects")
    page.uncheck("input[name=include][value=Deals]")
    page.click("#choice-lines summary")  # the typed lines are the advanced way beside the widgets
    page.fill("#choice-set", "Contacts:Last_Name={Last_Name} (e2e)")
    page.fill("#choice-lineage", "Contacts:Description")
    page.check("input[name=skip_cadences]")
    page.click("button:has-text('Update the preview')")
    page.wait_for_selector("h1:has-text('Preview')")
    assert page.locator(".msg-error").count() == 0, page.locator(".msg-error").all_inner_texts()
    page.wait_for_selector("#copy-samples")
    assert page.locator("input[name=include][value=Deals]").is_checked() is False
    assert page.locator("#copy-samples td", has_text="(e2e)").count() == 1
    assert page.locator("table tbody tr", has_text="Deals").count() == 0  # left out of the counts
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert not job.results.filter(object_name="Deals").exists()
    conn = connector_for(profile)
    for row in job.results.filter(object_name="Contacts"):
        copy = conn.get("Contacts", row.new_id).fields
        assert copy["Last_Name"].endswith(" (e2e)")
        assert copy["Description"] == f"Copied from {row.source_id} by Record Copier job {job.pk}"
    page.reload()
    assert page.locator("table tbody tr", has_text="by Record Copier job").count() >= 1


def _change(page, n, object_name, field, value=None, *, clear=False, unique=False):
    """Fill change row n (adding it with "Add a change" when it isn't there yet)."""
    ready(page, "#choice-changes")
    if page.locator(f"#ch-{n}-object").count() == 0:
        page.click("text=Add a change")
    page.select_option(f"#ch-{n}-object", object_name)
    page.select_option(f"#ch-{n}-field", field)  # waits for the fields the object's JSON gives
    if value is not None:
        page.fill(f"#ch-{n}-value", value)
    if clear:
        page.check(f"[name=ch-{n}-clear]")
    if unique:
        page.check(f"[name=ch-{n}-unique]")


def test_every_choice_at_once_with_the_widgets(parts, new_page, login, live_server, rq_worker, screenshot):
    from tests.copying.test_every_option_at_once import _check_zoho

    profile = parts["zoho_profile"]
    conn = connector_for(profile)
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, profile, "Accounts", "Globex", "deep_copy")
    page.click("#copy-choices summary")
    ready(page, "#plan-objects")
    page.uncheck("input[name=include][value=Deals]")
    _change(page, 0, "Accounts", "Account_Name", "{Account_Name} {today} #{job} {{c}}")
    _change(page, 1, "Contacts", "Last_Name", "{Last_Name} (all)")
    _change(page, 2, "Contacts", "First_Name", clear=True)
    _change(page, 3, "Accounts", "Website", clear=True)
    _change(page, 4, "Accounts", "Account_Number", unique=True)
    page.select_option("#lin-0-object", "Contacts")
    page.select_option("#lin-0-field", "Description")  # text fields only
    page.check("input[name=skip_cadences]")
    page.check("input[name=run_workflows]")
    page.click("button:has-text('Update the preview')")
    expect(page.locator("#ch-5-field")).to_be_attached()  # the reloaded page: 5 rows kept, a blank one
    assert page.locator(".msg-error").count() == 0, page.locator(".msg-error").all_inner_texts()
    expect(page.locator("#ch-4-field")).to_have_value("Account_Number")
    expect(page.locator("#ch-1-value")).to_have_value("{Last_Name} (all)")
    expect(page.locator("[name=ch-2-clear]")).to_be_checked()
    expect(page.locator("#lin-0-field")).to_have_value("Description")
    expect(page.locator("#copy-samples")).to_contain_text("(all)")
    screenshot(page, "copy-preview-choices")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    source = conn.get("Accounts", job.results.get(depth=0).source_id)
    _check_zoho(parts["fresh_sandbox"], conn, job, source)


def test_a_stamp_without_a_default_asks_for_a_field_in_the_pages_words(parts, new_page, login, live_server):
    """The demo profile has no default lineage fields: none is offered, and a stamp sent without a
    field is refused as the page would say it, not in the copy command's OBJECT:FIELD."""
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, parts["zoho_profile"], "Accounts", "Globex", "deep_copy", {"Account_Name": "G L"})
    page.click("#copy-choices summary")
    ready(page, "#choice-changes")
    page.select_option("#lin-0-object", "Contacts")
    expect(page.locator("#lin-0-field option").first).to_have_text("— choose a text field —")
    expect(page.locator("#lin-0-field")).to_have_value("")
    expect(page.locator("#lin-0-field")).not_to_contain_text("the profile's default")
    page.click("button:has-text('Update the preview')")
    refusal = page.locator(".msg-error")
    expect(refusal).to_contain_text("choose the text field to stamp on Contacts")
    expect(refusal).not_to_contain_text("name the field (OBJECT:FIELD)")
