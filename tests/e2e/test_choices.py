"""Issue 16 in a real browser: untick a branch, set a field on every child with a template, a
lineage stamp, then confirm; a real RQ worker runs it."""

import pytest

from records.connectors import connector_for
from records.models import CopyJob
from tests.e2e.test_flows import _start_copy, _wait_finished, parts  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_choices_on_the_preview_then_copy(parts, new_page, login, live_server, rq_worker):  # noqa: F811
    profile = parts["zoho_profile"]
    page = login(new_page(), "alice", "alice-pass-123")
    _start_copy(page, live_server, profile, "Accounts", "Globex", "deep_copy", {"Account_Name": "Globex C"})
    page.click("#copy-choices summary")
    page.uncheck("input[name=include][value=Deals]")
    page.click("#choice-lines summary")  # the typed lines are the advanced way beside the widgets
    page.fill("#choice-set", "Contacts:Last_Name={Last_Name} (e2e)")
    page.fill("#choice-lineage", "Contacts:Description")
    page.check("input[name=skip_cadences]")
    page.click("text=Update the preview")
    page.wait_for_selector("h1:has-text('Preview')")
    assert page.locator(".msg-error").count() == 0, page.locator(".msg-error").all_inner_texts()
    page.wait_for_selector("#copy-samples")
    assert page.locator("input[name=include][value=Deals]").is_checked() is False
    assert page.locator("#copy-samples td", has_text="(e2e)").count() == 1
    assert page.locator("table tbody tr", has_text="Deals").count() == 0  # left out of the counts
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    _wait_finished(page)
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
