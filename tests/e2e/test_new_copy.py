"""Issue 15 in a real browser: Debian's chromium, the sandbox, a real RQ worker.

The wizard for both systems with Back and step jumps, bulk clone of Vault products and Zoho
accounts with per-row names, a double-click on Confirm, the live job page from start to end, the
lookup widget, name search, and an accessibility check (axe-core) of every page."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from records.models import CopyJob

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PRODUCT = "00P000000000001"  # Cardiostat


@pytest.fixture
def demo(fresh_sandbox, vault_profile, zoho_profile):
    return {"sandbox": fresh_sandbox, "vault": vault_profile, "zoho": zoho_profile}


def _wait_finished(page, timeout=120_000):
    # Locators, not wait_for_function: that evaluates a string in the page, which the CSP refuses.
    finished = re.compile(r"^(Succeeded|Partly failed|Failed|Cancelled)")
    expect(page.locator("#job-status-badge .badge")).to_have_text(finished, timeout=timeout)


def _open_record(page, live_server, profile, object_name, query):
    page.goto(f"{live_server.url}/copy/{profile.code}/")
    page.click(f"a[href$='/{object_name}/']")
    page.fill("#record-q", query)
    page.click("form[role=search] button[type=submit]")
    page.locator("table tbody tr a").first.click()
    page.wait_for_selector("#overrides-form")


def _assert_live_end(page, *, status="succeeded"):
    """The finished job page as it stands, without a reload: nothing stale left."""
    _wait_finished(page)
    page.wait_for_selector(f".progress.done.status-{status}")
    expect(page.locator("#outcome-counts [data-outcome=pending]:not([hidden])")).to_have_count(0)
    expect(page.locator("#job-actions:not([hidden])")).to_have_count(1)
    assert page.locator("#job-actions", has_text="Cancel job").count() == 0
    for row in page.locator("#object-progress tbody tr").all():
        done, total = row.locator("[data-part=done]").inner_text().split("/")
        assert done == total, row.inner_text()


def test_vault_wizard_with_step_jumps_back_and_a_live_job_page(
    demo, new_page, login, live_server, rq_worker, screenshot
):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["vault"], "product__v", "Cardiostat")
    assert page.input_value("[name=f_name__v]") == "Cardiostat (copy)"  # a suggested new unique name
    assert page.input_value("[name=f_external_id__v]") == ""  # unique + not copied: starts empty
    assert page.locator(".source-value", has_text="Source: EXT-0001").count() == 1
    assert page.locator("#id_f_status__v option:checked").inner_text() == "Active"  # by label
    page.fill("[name=f_description__c]", "Typed before jumping")
    page.click("nav .wizard button:has-text('Record')")  # a step jump keeps what was typed
    page.wait_for_selector("#record-q")
    page.go_back()
    page.reload()
    assert page.input_value("[name=f_description__c]") == "Typed before jumping"
    page.fill("[name=f_price__c]", "")  # an emptied box is refused unless "Clear" is ticked
    page.click("text=Preview the copy")
    assert page.locator(".errorlist", has_text="tick “Clear”").count() == 1
    page.fill("[name=f_price__c]", "13.5")
    page.fill("[name=f_name__v]", "Cardiostat E2E")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")
    screenshot(page, "copy-preview-back")
    page.click("form.actions a:has-text('Back')")
    assert page.input_value("[name=f_name__v]") == "Cardiostat E2E"
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert page.locator("h1").inner_text() == "Clone of Cardiostat (Products)"
    _assert_live_end(page)
    page.wait_for_timeout(600)  # the bar's width transition, for the picture
    screenshot(page, "job-page-live-end")
    job = CopyJob.objects.get()
    assert job.overrides == {"name__v": "Cardiostat E2E", "description__c": "Typed before jumping", "price__c": 13.5}


def test_zoho_deep_copy_wizard_and_the_live_job_page(demo, new_page, login, live_server, rq_worker):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["zoho"], "Accounts", "Globex")
    assert page.input_value("[name=f_Account_Number]") == ""  # unique ACC-0002 starts empty
    page.fill("[name=f_Employees]", "99999999999999999999")  # out of range: refused on the form
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    assert page.locator(".errorlist").count() >= 1 and "/copy/preview/" not in page.url
    page.fill("[name=f_Employees]", "25")
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")
    page.click("nav .wizard a:has-text('Fields')")  # the steps are links on the preview too
    assert page.input_value("[name=f_Employees]") == "25"
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert page.locator("h1").inner_text() == "Deep copy of Globex (Accounts)"
    assert page.locator("#object-progress tr[data-object=Contacts]").count() == 1
    _assert_live_end(page)
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED and job.results.exclude(source_name="").count() == job.planned_count


def test_a_double_click_on_confirm_queues_one_job(demo, new_page, login, live_server, rq_worker):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["vault"], "product__v", "Neurolax")
    page.click("text=Preview the copy")
    page.dblclick("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    _wait_finished(page)
    assert CopyJob.objects.count() == 1


@pytest.mark.parametrize("system", ["vault", "zoho"])
def test_bulk_clone_with_per_row_names(demo, new_page, login, live_server, rq_worker, tmp_path, screenshot, system):
    state = (
        demo["sandbox"].vault.state.records["product__v"]
        if system == "vault"
        else demo["sandbox"].zoho.state.records["Accounts"]
    )
    ids = list(state)[:3]
    column, object_name, label = (
        ("name__v", "product__v", "Product") if system == "vault" else ("Account_Name", "Accounts", "Account")
    )
    path = tmp_path / "rows.csv"
    path.write_text(f"id,{column}\n" + "".join(f"{i},Bulk {system} {n}\n" for n, i in enumerate(ids, 1)))
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/bulk/")
    page.select_option("#bulk-profile", str(demo[system].code))
    page.wait_for_selector("#bulk-object")
    page.select_option("#bulk-object", object_name)
    page.wait_for_selector("#id_file")
    assert page.locator(f"a:has-text('Download a CSV template for {label}')").count() == 1
    page.set_input_files("#id_file", str(path))
    page.click("text=Check the file")
    page.wait_for_selector("h1:has-text('Preview')")
    assert page.locator("td", has_text=f"Bulk {system} 2").count() == 1
    assert "each with its own field changes" in page.inner_text("main")
    if system == "vault":
        screenshot(page, "bulk-clone-preview")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    _assert_live_end(page)
    names = {r.get(column) for r in state.values()}
    assert {f"Bulk {system} {n}" for n in (1, 2, 3)} <= names


def test_the_reference_lookup_widget(demo, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["vault"], "product__v", "Cardiostat")
    countries = demo["sandbox"].vault.state.records["country__v"]
    target_id, target = next((i, r["name__v"]) for i, r in countries.items() if i != "00C000000000002")
    page.fill("[name=f_country__c]", target[:4])
    option = page.locator(".lookup-list button", has_text=target)
    option.first.wait_for()
    option.first.click()
    assert page.input_value("[name=f_country__c]") == target_id
    assert page.locator(".lookup-status", has_text=f"Chosen: {target}").count() == 1


def test_job_list_name_search(demo, new_page, login, live_server, owner):
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    copy_job_create(
        request=copy_request(demo["vault"], "product__v", [PRODUCT], "clone", overrides={"name__v": "Search me"}),
        user=owner,
        enqueue=False,
    )
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/")
    page.fill("#id_q", "cardio")
    page.click("form[aria-label='Filter jobs'] button[type=submit]")
    assert page.locator("table tbody tr", has_text="Clone of Cardiostat (Products)").count() == 1
    page.fill("#id_q", PRODUCT[-4:])
    page.click("form[aria-label='Filter jobs'] button[type=submit]")
    assert page.locator("table tbody tr").count() == 1


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def test_every_page_passes_axe(demo, browser, live_server, owner, screenshot):
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    job = copy_job_create(
        request=copy_request(
            demo["zoho"], "Accounts", [next(iter(demo["sandbox"].zoho.state.records["Accounts"]))], "deep_copy"
        ),
        user=owner,
        enqueue=False,
    )
    # bypass_csp: axe is injected by the test, not served by the app.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        found = {"login": _axe(page)}
        page.fill("#id_username", "alice")
        page.fill("#id_password", "alice-pass-123")
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        vault = demo["vault"].code
        pages = {
            "home": "/",
            "copy-start": "/copy/",
            "objects": f"/copy/{vault}/",
            "search": f"/copy/{vault}/product__v/",
            "record": f"/copy/{vault}/product__v/{PRODUCT}/",
            "jobs": "/jobs/",
            "job": f"/jobs/{job.code}/",
            "bulk": f"/bulk/?profile={vault}&object=product__v",
            "profiles": "/profiles/",
            "profile-add": "/profiles/add/",
            "copy-keys": f"/profiles/{vault}/copy-keys/",
            "not-found": "/no/such/page/",
        }
        for name, path in pages.items():
            page.goto(live_server.url + path)
            found[name] = _axe(page)
        page.goto(live_server.url + f"/copy/{vault}/product__v/{PRODUCT}/")
        page.click("text=Preview the copy")
        page.wait_for_selector("h1:has-text('Preview')")
        found["preview"] = _axe(page)
        bad = {name: v for name, v in found.items() if v}
        assert not bad, json.dumps(bad, indent=1)
        # The check itself can fail: an image without a text alternative is a critical violation.
        page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="x.png"></main></html>')
        assert any(v["id"] == "image-alt" for v in _axe(page))
    finally:
        context.close()


def test_vault_deep_copy_shows_its_phase_to_the_end(demo, new_page, login, live_server, rq_worker):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["vault"], "product__v", "Dermacalm")
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert page.locator("h1").inner_text() == "Deep copy of Dermacalm (Products)"
    _assert_live_end(page)
    expect(page.locator("#job-phase")).to_have_text("Done")
    assert page.locator("#object-progress tbody tr").count() >= 2  # products and their formulations


@pytest.mark.parametrize("typed", ["1e999", "1e"])
def test_a_number_box_the_browser_empties_is_not_sent(demo, new_page, login, live_server, typed):
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["vault"], "product__v", "Cardiostat")
    page.fill("[name=f_price__c]", "")
    page.locator("[name=f_price__c]").press_sequentially(typed)
    page.click("text=Preview the copy")
    # The note is the script's: had the form been sent, the page would have been rendered anew.
    assert page.locator(".bad-number").count() == 1 and "/copy/preview/" not in page.url
    page.fill("[name=f_price__c]", "14")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")


def test_vault_phase_and_status_words_follow_a_running_deep_copy(demo, new_page, login, live_server, rq_worker):
    """Walk-through defect: while Vault's own job ran, no record was done yet, so the page never
    asked for the phase again (it stayed hidden) and the words under the badge kept "Queued"."""
    demo["sandbox"].vault.configure(job_min_run_seconds=8.0)  # Vault's job runs for several polls
    page = login(new_page(), "alice", "alice-pass-123")
    _open_record(page, live_server, demo["vault"], "product__v", "Dermacalm")
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-phase")).to_have_text(
        re.compile(r"^Vault job \S+ running, polled \d+ time"), timeout=15_000
    )
    expect(page.locator("#job-words")).to_have_text("Running")
    assert page.locator("#count-done").inner_text() == "0"  # nothing matched yet: the phase is all there is
    _assert_live_end(page)
    expect(page.locator("#job-words")).to_have_text(re.compile(r"^Succeeded: \d+ copied"))
    expect(page.locator("#job-phase")).to_have_text("Done")
