"""The main flows in a real browser (add a profile, clone, deep copy, cancel, another user's job),
against the sandbox and a real RQ worker.

They skip only when chromium is absent (tests/e2e/conftest.py); a missing part of the app fails them.
"""

import csv

import pytest
from playwright.sync_api import expect

from records.models import CopyJob
from tests.e2e.helpers import ready, start_copy, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_add_a_profile_and_test_it(parts, new_page, login, live_server, owner, screenshot):
    from sandbox import demo

    sandbox = parts["fresh_sandbox"]
    page = login(new_page(), "alice", "alice-pass-123")
    page.click("text=Connection profiles")
    page.click("text=Add a profile")
    ready(page, "#profile-form")
    page.fill("#id_name", "E2E Vault")
    page.select_option("#id_system", "vault")
    page.fill("#id_base_url", sandbox.vault_url)
    page.fill("#id_api_version", "v25.2")
    page.fill("#id_username", demo.VAULT_USERNAME)
    page.fill("#id_secret", demo.VAULT_PASSWORD)
    screenshot(page, "profile-form")
    page.click("text=Add profile")
    page.wait_for_url(f"{live_server.url}/profiles/")
    row = page.locator("tr", has_text="E2E Vault")
    row.locator("text=Test connection").click()
    assert "works" in page.locator(".msg-success").inner_text()


def test_clone_a_vault_record_with_an_override(parts, new_page, login, live_server, rq_worker, screenshot):
    profile = parts["vault_profile"]
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, profile, "product__v", "", "clone", {"name__v": "E2E clone"}, ("external_id__v",))
    screenshot(page, "copy-preview")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    screenshot(page, "job-page-finished")
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.overrides["name__v"] == "E2E clone"
    page.reload()  # the results table is rendered with the page; the live part is the progress
    assert page.locator("table tbody tr").count() >= 1
    new_id = job.results.get().new_id
    link = page.locator(f"table tbody a[href*='{new_id}']")  # the result links to the new record in Vault
    assert link.count() == 1 and "/ui/#object/product__v/" in link.get_attribute("href")
    with page.expect_download() as info:
        page.click("text=Download results (CSV)")
    rows = list(csv.reader(open(info.value.path(), encoding="utf-8-sig")))
    assert rows[0][:3] == ["object", "source_id", "new_id"] and len(rows) >= 2


def test_deep_copy_a_zoho_account(parts, new_page, login, live_server, rq_worker):
    profile = parts["zoho_profile"]
    page = login(new_page(), "alice", "alice-pass-123")
    # A small account: "Big Account" is the cancel test's, "Huge Account" the worker test's.
    start_copy(page, live_server, profile, "Accounts", "Globex", "deep_copy", {"Account_Name": "Globex E2E"})
    assert page.locator("table tfoot").count() == 1  # counts per object
    assert page.locator("table", has_text="Contacts").count() >= 1
    assert page.locator("td", has_text="Globex E2E").count() == 1  # the changed field, old and new
    assert page.locator(".msg-warning", has_text="Email is unique in Contacts").count() == 1
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    expect(page.locator("#job-percent")).to_have_text("100%")
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.results.count() == job.planned_count > 1
    page.reload()
    rows = page.locator("table tbody tr")
    assert rows.count() >= min(job.planned_count, 20)
    assert page.locator("table tbody tr", has_text="Contacts").count() >= 1
    with page.expect_download() as info:
        page.click("text=Download results (CSV)")
    lines = list(csv.reader(open(info.value.path(), encoding="utf-8-sig")))
    assert lines[0][:3] == ["object", "source_id", "new_id"] and len(lines) == job.planned_count + 1
    new_ids = {line[2] for line in lines[1:]}
    assert "" not in new_ids and len(new_ids) == job.planned_count


def test_cancel_a_long_job(parts, new_page, login, live_server, rq_worker):
    sandbox, profile = parts["fresh_sandbox"], parts["zoho_profile"]
    sandbox.faults("zoho").set(latency=0.05)
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, profile, "Accounts", "Big Account", "deep_copy")
    # The job's first write is held until the cancel is asked: a copy of 1,021 records now runs in
    # about a second, which two clicks could miss.
    first_write = sandbox.hooks("zoho").hold("POST", r"^/crm/v\d+/(?!coql$)\w+")
    try:
        page.click("text=Confirm and queue the copy")
        page.wait_for_url("**/jobs/*/")
        assert first_write.wait(30)
        page.click("text=Cancel job")
        page.click("text=Yes, cancel the job")
        assert "Cancelling" in page.locator(".msg-success").inner_text()
    finally:
        first_write.release()
    wait_finished(page)
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.CANCELLED
    assert job.done_count < job.planned_count


def test_second_user_cannot_open_the_first_users_job(parts, new_page, login, live_server, owner, other_user):
    job = CopyJob.objects.create(
        profile=parts["vault_profile"],
        object_name="product__v",
        source_ids=["x"],
        mode="clone",
        requested_by=owner,
        status=CopyJob.Status.SUCCEEDED,
    )
    page = login(new_page(), "bob", "bob-pass-123")
    assert page.goto(f"{live_server.url}/jobs/{job.code}/").status == 404
    assert page.goto(f"{live_server.url}/jobs/{job.code}/results.csv").status == 404
