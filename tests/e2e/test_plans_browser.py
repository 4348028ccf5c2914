"""Issue 15's plans on the worker in a real browser: Debian's chromium, the sandbox with latency,
a real RQ worker process. The preview shows the records read so far while the worker reads Big
Account's tree, then the plan; a double-click on Confirm makes one job and reads no tree again."""

import re

import pytest
from playwright.sync_api import expect

from records.models import CopyJob, CopyPlan
from tests.e2e.test_new_copy import _open_record, _wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.plans_on_worker, pytest.mark.django_db(transaction=True)]


def test_preview_shows_live_progress_then_the_plan_and_confirm_reads_no_tree(
    fresh_sandbox, zoho_profile, new_page, login, live_server, rq_worker, screenshot
):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, zoho_profile, "Accounts", "Big Account")
    page.check("input[name=mode][value=deep_copy]")
    fresh_sandbox.faults("zoho").set(latency=0.1)  # ~70 reads: several seconds of visible progress
    try:
        page.click("text=Preview the copy")
        expect(page.locator("[data-plan-poll]")).to_contain_text("Reading the records to copy")
        # The count follows the worker without a reload (the poll), before the plan is there.
        expect(page.locator("[data-plan-read]")).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=60_000)
        screenshot(page, "copy-preview-reading")
        expect(page.get_by_role("heading", name="What will be copied")).to_be_visible(timeout=90_000)
    finally:
        fresh_sandbox.faults("zoho").clear()
    expect(page.locator("tfoot")).to_contain_text("1021")
    fresh_sandbox.clear_log()
    page.dblclick("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    _wait_finished(page)
    # "The copy is queued" goes once the job has ended (the walk found it left on a finished job).
    expect(page.get_by_text("The copy is queued")).to_have_count(0)
    page.reload()
    expect(page.locator("#job-status-badge")).to_contain_text("Succeeded")
    assert CopyJob.objects.count() == 1
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED and job.planned_count == 1021
    # The tree is read with COQL queries; after Confirm none was made: the job came from the plan.
    assert not [e for e in fresh_sandbox.log("zoho") if e.path.endswith("/coql")]
    assert CopyPlan.objects.get().status == CopyPlan.Status.USED
