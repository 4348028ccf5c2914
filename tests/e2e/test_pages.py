"""Pages that read only the database: rendered in a real browser, checked, and photographed."""

import re

import pytest
from playwright.sync_api import expect

from records.models import CopyJob, RecordResult
from tests.e2e.helpers import ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_job_pages_in_the_browser(new_page, login, live_server, owner, other_user, make_job, make_profile, screenshot):
    make_profile(
        name="Demo Zoho", system="zoho", base_url="https://www.zohoapis.eu", accounts_url="https://accounts.zoho.eu"
    )
    job = make_job(results=180, status=CopyJob.Status.PARTIAL, mode=CopyJob.Mode.DEEP_COPY)
    CopyJob.objects.filter(pk=job.pk).update(
        succeeded_count=162, failed_count=18, overrides={"name__v": "Aspirin (copy)", "external_id__v": None}
    )
    RecordResult.objects.filter(job=job, status="succeeded").update(parent_source_id="S00000")
    running = make_job(profile=job.profile, results=0, status=CopyJob.Status.RUNNING)
    CopyJob.objects.filter(pk=running.pk).update(planned_count=2000, succeeded_count=740, failed_count=3)

    page = login(new_page(), "alice", "alice-pass-123")
    screenshot(page, "home")
    page.click("text=Jobs")
    expect(page.locator("table tbody tr")).to_have_count(2)  # the click returns once the page starts
    screenshot(page, "job-list")

    page.goto(f"{live_server.url}/jobs/{job.code}/")
    assert page.locator("#job-status-badge").inner_text().startswith("Partly failed")
    screenshot(page, "job-page")
    page.select_option("#id_outcome", "failed")
    page.click("form[aria-label='Filter results'] button[type=submit]")
    expect(page.locator("#results-table tbody tr")).to_have_count(18)
    assert "INVALID_DATA" in page.locator("#results-table tbody").inner_text()

    with page.expect_download() as info:
        page.click("text=Download results (CSV)")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("object,source_id,new_id")
    assert len(text.splitlines()) == 181

    page.goto(f"{live_server.url}/jobs/{running.code}/")
    page.click("text=Cancel job")
    screenshot(page, "job-cancel-confirm")

    page.goto(f"{live_server.url}/profiles/")
    screenshot(page, "profiles")
    page.goto(f"{live_server.url}/bulk/")
    screenshot(page, "bulk-clone")

    other = new_page()
    login(other, "bob", "bob-pass-123")
    response = other.goto(f"{live_server.url}/jobs/{job.code}/")
    assert response.status == 404


def test_progress_updates_without_reload(new_page, login, live_server, owner, make_job):
    job = make_job(results=10, status=CopyJob.Status.RUNNING)
    job.results.exclude(source_id="S00001").update(status="pending")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    assert page.inner_text("#job-percent") == "10%"
    page.evaluate("window.__marker = 1")
    job.results.filter(source_id__in=["S00002", "S00003", "S00004", "S00005", "S00006"]).update(status="succeeded")
    expect(page.locator("#job-percent")).to_have_text("60%")  # a locator: wait_for_function would eval
    assert page.evaluate("window.__marker") == 1  # the same document: no reload
    job.results.update(status="succeeded")
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.SUCCEEDED)
    expect(page.locator("#job-status-badge .badge")).to_have_text(re.compile(r"^Succeeded"))


def test_results_rows_update_without_reload(new_page, login, live_server, owner, make_job):
    job = make_job(results=3, status=CopyJob.Status.RUNNING)
    job.results.update(status="pending", new_id="", link="", error_type="", error_message="")
    CopyJob.objects.filter(pk=job.pk).update(planned_count=3, succeeded_count=0, failed_count=0)
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    assert page.locator("#results-table tbody .badge-pending").count() == 3
    page.evaluate("window.__marker = 1")
    # The worker copies one record: its row shows the new id, with no reload of the page.
    job.results.filter(source_id="S00001").update(
        status="succeeded", new_id="LIVE-NEW-1", link="https://example.veevavault.com/ui/#object/product__v/LIVE-NEW-1"
    )
    CopyJob.objects.filter(pk=job.pk).update(succeeded_count=1)
    page.wait_for_selector("#results-table tbody a:has-text('LIVE-NEW-1')", timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    assert page.locator("#results-table tbody .badge-pending").count() == 2


def test_copy_wizard_pages_in_the_browser(
    new_page, login, live_server, owner, fresh_sandbox, vault_profile, screenshot
):
    """The wizard's pages against the Vault sandbox over HTTP (not a stand-in connector)."""
    page = login(new_page(), "alice", "alice-pass-123")
    page.click("text=New copy")
    page.click(f"text={vault_profile.name} →")
    ready(page, "#object-filter")  # the filter's script is listening
    page.fill("#object-filter", "product__v")  # not product_contact__c
    expect(page.locator("#object-list tr:visible")).to_have_count(1)  # filtered as you type
    screenshot(page, "copy-objects")
    page.click("#object-list a[href$='/product__v/']")
    page.fill("#record-q", "cardio")
    page.press("#record-q", "Enter")
    expect(page.locator("table tbody tr a").first).to_contain_text("Cardiostat")
    screenshot(page, "copy-search")
    page.locator("table tbody tr a").first.click()
    page.fill("[name=f_name__v]", "Cardiostat (copy)")
    expect(page.locator("[name=f_external_id__v]")).to_have_value("")  # never copied: starts empty
    screenshot(page, "copy-fields")
    page.click("text=Preview the copy")
    expect(page.locator("h1")).to_contain_text("Preview")
    assert page.url.startswith(f"{live_server.url}/copy/preview/")


def test_bulk_errors_in_the_browser(
    new_page, login, live_server, owner, fresh_sandbox, vault_profile, screenshot, tmp_path
):
    """Row errors of a bulk-clone file, named by line, before anything is queued (Vault sandbox)."""
    from records.connectors import connector_for

    source = next(r.id for r in connector_for(vault_profile).search("product__v", "Cardiostat").records)
    path = tmp_path / "ids.csv"
    path.write_text(f"id,name__v,launch_date__c\n{source},Copy 1,2025-01-31\n{source},Copy 2,2025-02-30\n,Copy 3,\n")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/bulk/")
    ready(page, "#bulk-choose")
    page.select_option("#bulk-object", "product__v")  # the only profile is chosen; the list sends itself
    page.wait_for_selector("#id_file")
    page.set_input_files("#id_file", str(path))
    page.click("text=Check the file")
    problems = page.locator("#bulk-errors-h")
    expect(problems).to_be_visible()
    # Above the form, where the person looks first, not below it.
    assert problems.bounding_box()["y"] < page.locator("#id_file").bounding_box()["y"]
    assert CopyJob.objects.count() == 0
    screenshot(page, "bulk-clone-errors")


def test_health_answers_at_the_readmes_url_and_the_favicon_is_found(new_page, live_server):
    page = new_page()
    health = page.goto(f"{live_server.url}/health/live")
    assert health.status == 200 and health.request.redirected_from is None  # not a 301 to /health/live/
    assert health.json() == {"status": "ok"}
    icon = page.goto(f"{live_server.url}/favicon.ico")  # asked for by every page, whatever its <link>
    assert icon.ok and icon.headers["content-type"].startswith("image/svg")
