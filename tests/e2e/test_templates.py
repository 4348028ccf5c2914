"""A copy template in a real browser (chromium, the sandbox, a real RQ worker), the whole flow: a
finished Vault clone saved as a template from its job page, a value edited with the widget into
version 2, run from the template's page on another product by its name through the preview and
Confirm (the job page saying which version), then scheduled with its next five times shown."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PRODUCT, assert_live_end

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_job_saved_as_a_template_edited_with_the_widget_run_from_its_page_and_scheduled(
    parts, new_page, login, live_server, owner, rq_worker
):
    from records.connectors import connector_for
    from records.models import CopyJob
    from tests.fixtures.engine import copy_now

    first = copy_now(
        parts["vault_profile"], owner, "product__v", [PRODUCT], "clone", overrides={"name__v": "{name__v} B"}
    )
    assert first.status == CopyJob.Status.SUCCEEDED, first.error_summary
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{first.code}/")
    page.click("#save-template summary")
    page.fill("#tpl-name", "Product B")
    page.fill("#tpl-description", "a B copy of any product")
    page.click("#save-template button[type=submit]")
    page.wait_for_url("**/templates/*/")
    expect(page.locator("h1")).to_have_text("Product B")
    expect(page.locator(".lead")).to_have_text("Clone of Products from Sandbox Vault")

    # Edit: the top record's value in the widget, and one more field, make version 2.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url("**/templates/*/edit/")
    expect(page.locator("#ch-0-field")).to_have_value("name__v")
    page.fill("#ch-0-value", "{name__v} C")
    page.select_option("#ch-1-field", "description__c")
    page.fill("#ch-1-value", "Edited in the browser")
    page.click("text=Save a new version")
    page.wait_for_url("**/templates/*/?v1=1&v2=2")
    expect(page.locator(".lead")).to_have_text("Clone of Products from Sandbox Vault")

    # Run on another product, by its name, through the preview and Confirm.
    page.fill("#id_records", "Neurolax")
    page.click("text=Preview the copy")
    page.wait_for_url("**/copy/preview/*/")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert_live_end(page)
    expect(page.locator("#job-template")).to_have_text("From template Product B v2")
    job = CopyJob.objects.exclude(pk=first.pk).get()
    assert job.status == CopyJob.Status.SUCCEEDED and job.template_version.number == 2
    copied = connector_for(parts["vault_profile"]).get("product__v", job.results.get().new_id).fields
    assert (copied["name__v"], copied["description__c"]) == ("Neurolax C", "Edited in the browser")

    # Back on the template's page, a schedule with its next five times.
    page.click("#job-template a")
    page.wait_for_url("**/templates/*/")
    page.fill("#id_cron", "0 9 * * 1")
    page.fill("#id_ids", PRODUCT)
    page.fill("#id_time_zone", "Asia/Tokyo")
    page.click("text=Add the schedule")
    expect(page.locator("body")).to_contain_text("Scheduled Product B at 0 9 * * 1 (Asia/Tokyo).")
    times = page.locator("#schedules .next-times li")
    expect(times).to_have_count(5)
    for text in times.all_inner_texts():
        assert text.startswith("Mon") and "09:00:00 JST" in text


def test_a_templates_versions_carry_their_zone(parts, new_page, login, live_server, owner):
    import re

    from records.copy_templates.services import save_from_request
    from tests.fixtures.engine import copy_request

    template = save_from_request(
        request=copy_request(parts["vault_profile"], "product__v", [PRODUCT], "clone"), name="Zoned", user=owner
    )
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/templates/{template.code}/")
    saved = page.locator("section[aria-labelledby=versions-h] tbody tr").first.locator("td").nth(1)
    expect(saved).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))  # not read as the reader's own time


def test_unticking_a_related_objects_box_saves_a_version_whose_diff_says_it_is_left_out(
    parts, new_page, login, live_server, owner
):
    from records.copy_templates.services import save_from_request
    from tests.fixtures.engine import copy_request

    template = save_from_request(
        request=copy_request(
            parts["vault_profile"], "product__v", [PRODUCT], "deep_copy", overrides={"name__v": "{name__v} D"}
        ),
        name="Deep product",
        user=owner,
    )
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/templates/{template.code}/edit/")
    box = page.locator("#template-leave-out input[name=include]").first
    expect(box).to_be_checked()
    left_out = box.get_attribute("value")
    box.uncheck()
    page.click("text=Save a new version")
    page.wait_for_url("**/templates/*/?v1=1&v2=2")
    expect(page.locator("#version-diff")).to_contain_text(f"Left out: (none) → {left_out}")
    page.goto(f"{live_server.url}/templates/{template.code}/edit/")
    expect(page.locator(f"#template-leave-out input[name=include][value='{left_out}']")).not_to_be_checked()
