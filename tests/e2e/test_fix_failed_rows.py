"""Fix failed rows in a real browser (chromium, the sandbox, a real RQ worker): a clone refused on
a duplicate name, its name changed on the "Fix failed rows" page, Save and resume, and the job
succeeds with the fixed name; the fix is listed with who, when, before and after."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PRODUCT, axe, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_duplicate_name_fixed_and_resumed(parts, browser, new_page, login, live_server, owner, rq_worker):
    from records.connectors import connector_for
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create
    from records.models import AuditEvent, CopyJob
    from tests.fixtures.engine import copy_request

    profile = parts["vault_profile"]
    request = copy_request(profile, "product__v", [PRODUCT], "clone", overrides={"name__v": "Fix Me"})
    job = copy_job_create(request=request, user=owner, enqueue=False)
    conn = connector_for(profile)
    assert all(r.ok for r in conn.create("product__v", [{"name__v": "Fix Me", "status__v": "active__v"}]))
    assert copy_job_run(job_id=job.pk, worker_id="test").status == CopyJob.Status.FAILED
    row = job.results.get()

    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    page.click("#job-actions >> text=Fix failed rows")
    page.wait_for_selector("h1:has-text('Fix failed rows')")
    assert_passes_axe(browser, login, page.url)
    expect(page.locator(f"#fix-field-{row.pk}")).to_have_value("name__v")  # the name field first
    page.fill(f"#fix-value-{row.pk}", "Fix Me 2")
    page.click(f"#fix-row-{row.pk} button[value=resume]")
    page.wait_for_url(f"**/jobs/{job.code}/")
    wait_finished(page)
    expect(page.locator("#job-status-badge .badge")).to_have_text(re.compile("^Succeeded"))

    row.refresh_from_db()
    assert conn.get("product__v", row.new_id).fields["name__v"] == "Fix Me 2"
    page.goto(f"{live_server.url}/jobs/{job.code}/fix/")
    expect(page.locator("#fix-history li")).to_have_text(
        re.compile(r"^alice · \d{4}-\d\d-\d\d \d\d:\d\d \S+ · Cardiostat: Product Name “Fix Me” → “Fix Me 2”$")
    )
    assert AuditEvent.objects.filter(action="job.fix", actor=owner, job=job).count() == 1


def test_all_failed_names_made_unique_at_once_then_resumed(parts, new_page, login, live_server, owner, rq_worker):
    """One fix for the whole column: each failed row gets the first free "(2)", "(3)" …; each row
    says its fix by the field's label; the job page's Resume sends them again."""
    from records.connectors import connector_for
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create
    from records.models import CopyJob
    from tests.fixtures.engine import copy_request

    profile = parts["vault_profile"]
    sources = [PRODUCT, "00P000000000003"]
    request = copy_request(profile, "product__v", sources, "clone", overrides={"name__v": "Fix All"})
    job = copy_job_create(request=request, user=owner, enqueue=False)
    conn = connector_for(profile)
    assert all(r.ok for r in conn.create("product__v", [{"name__v": "Fix All", "status__v": "active__v"}]))
    assert copy_job_run(job_id=job.pk, worker_id="test").status == CopyJob.Status.FAILED

    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/fix/")
    expect(page.locator("#fix-all-h")).to_have_text("All 2 failed records at once")
    page.select_option("#fix-all-field", "name__v")
    page.check("#fix-all input[name=how][value=make_unique]")
    page.click("#fix-all button:not([name])")  # Save, not yet resume
    expect(page.locator(".msg-success")).to_contain_text("Saved the fix of 2 records.")
    fixed = page.locator("#fix-rows tbody p").all_inner_texts()
    assert sorted(fixed) == ["Fixed: Product Name = “Fix All (2)”", "Fixed: Product Name = “Fix All (3)”"], fixed
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    page.click("#job-actions >> text=Resume")
    page.click("text=Yes, resume the job")
    page.wait_for_url(f"**/jobs/{job.code}/")
    wait_finished(page)
    expect(page.locator("#job-status-badge .badge")).to_have_text(re.compile("^Succeeded"))
    names = {conn.get("product__v", r.new_id).fields["name__v"] for r in CopyJob.objects.get(pk=job.pk).results.all()}
    assert names == {"Fix All (2)", "Fix All (3)"}


def assert_passes_axe(browser, login, url):
    # bypass_csp: axe is injected by the test, not served by the app.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    try:
        page = login(context.new_page(), "alice", "alice-pass-123")
        page.goto(url)
        assert axe(page) == []
    finally:
        context.close()
