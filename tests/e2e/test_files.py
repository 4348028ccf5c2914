"""The preview's files choice in a real browser against the sandbox and a real RQ worker: "Not
counted" until the box is ticked, the counts and sizes after the update, Confirm, the job page's
Files section with a row per file; a profile that forbids files shows the box disabled with why."""

import pytest
from playwright.sync_api import expect

from records.connectors import connector_for
from records.models import ConnectionProfile, CopyJob, FileResult
from tests.e2e.helpers import start_copy, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FILES_BOX = "#choice-files input[name=files]"


def test_files_ticked_on_the_preview_are_counted_then_copied(parts, new_page, login, live_server, rq_worker):
    profile = parts["zoho_profile"]
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, profile, "Accounts", "Acme Corp", "clone", {"Account_Name": "Acme Files"})
    page.click("#copy-choices summary")
    counts = page.locator("#files-counts")
    expect(counts).to_contain_text("Not counted for 1 records")  # left out by default: no call spent
    expect(page.locator(FILES_BOX)).not_to_be_checked()

    page.check(FILES_BOX)
    page.click("button:has-text('Update the preview')")
    page.wait_for_selector("h1:has-text('Preview')")
    expect(page.locator(FILES_BOX)).to_be_checked()
    expect(counts).to_have_text("1 attachment, 700\xa0bytes: Accounts 1 (700\xa0bytes).")

    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    file = FileResult.objects.get(job=job)
    page.reload()
    rows = page.locator("#job-files #files-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("notes.txt")
    expect(rows.first).to_contain_text(file.new_file_id)
    expect(rows.first.locator("td").last).to_have_text("Copied")
    copy = job.results.get().new_id
    assert [a.name for a in connector_for(profile).attachments("Accounts", copy)] == ["notes.txt"]


def test_a_profile_that_forbids_files_shows_the_box_disabled_with_the_reason(parts, new_page, login, live_server):
    profile = parts["zoho_profile"]
    ConnectionProfile.objects.filter(pk=profile.pk).update(files_forbidden=True)
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, profile, "Accounts", "Acme Corp", "clone", {"Account_Name": "Acme No Files"})
    page.click("#copy-choices summary")

    expect(page.locator(FILES_BOX)).to_be_disabled()
    expect(page.locator("#files-counts")).to_have_text("The target profile does not accept files.")
