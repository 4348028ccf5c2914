"""The new-copy wizard in a real browser: Debian's chromium, the sandbox, a real RQ worker.

The wizard for both systems with Back and step jumps and the live job page from start to end, the
lookup widget, number boxes the browser empties, step links that a bad box does not hold up, and
Confirm: it disables itself, so a double-click makes one job, whose page offers only what applies."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from records.connectors import connector_for
from records.models import CopyJob
from tests.e2e.helpers import assert_live_end, open_record, wait_finished
from tests.fixtures.sandbox import small_account

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_vault_wizard_with_step_jumps_back_and_a_live_job_page(
    parts, new_page, login, live_server, rq_worker, screenshot
):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Cardiostat")
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
    expect(page.locator(".errorlist", has_text="tick “Clear”")).to_have_count(1)
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
    assert page.locator("h1").inner_text().endswith(" · Clone of Cardiostat as “Cardiostat E2E” (Products)")
    assert_live_end(page)  # the bar of the last live part is born at its width: nothing to wait for
    screenshot(page, "job-page-live-end")
    job = CopyJob.objects.get()
    assert job.overrides == {"name__v": "Cardiostat E2E", "description__c": "Typed before jumping", "price__c": 13.5}


def test_zoho_deep_copy_wizard_and_the_live_job_page(parts, new_page, login, live_server, rq_worker):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["zoho_profile"], "Accounts", "Globex")
    assert page.input_value("[name=f_Account_Number]") == ""  # unique ACC-0002 starts empty
    page.fill("[name=f_Employees]", "99999999999999999999")  # out of range: refused on the form
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    expect(page.locator(".errorlist").first).to_be_visible()  # the form again, once it has loaded
    assert "/copy/preview/" not in page.url
    page.fill("[name=f_Employees]", "25")
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")
    page.click("nav .wizard a:has-text('Fields')")  # the steps are links on the preview too
    assert page.input_value("[name=f_Employees]") == "25"
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert (
        page.locator("h1").inner_text().endswith(" · Deep copy of Globex as “Globex (copy)” (Accounts)")
    )  # the name suggested
    assert page.locator("#object-progress tr[data-object=Contacts]").count() == 1
    assert_live_end(page)
    job = CopyJob.objects.get()
    assert job.status == CopyJob.Status.SUCCEEDED and job.results.exclude(source_name="").count() == job.planned_count


def test_a_double_click_on_confirm_queues_one_job(parts, new_page, login, live_server, rq_worker):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Neurolax")
    page.click("text=Preview the copy")
    page.dblclick("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    assert CopyJob.objects.count() == 1


def test_the_reference_lookup_widget(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Cardiostat")
    countries = parts["fresh_sandbox"].vault.state.records["country__v"]
    target_id, target = next((i, r["name__v"]) for i, r in countries.items() if i != "00C000000000002")
    # The box shows the source's country by name, not its id.
    source_country = countries[
        parts["fresh_sandbox"].vault.state.records["product__v"]["00P000000000001"]["country__c"]
    ]
    assert page.input_value("#id_f_country__c") == source_country["name__v"]
    page.fill("#id_f_country__c", target[:4])
    option = page.locator(".lookup-list button", has_text=target)
    option.first.wait_for()
    option.first.click()
    assert page.input_value("[name=f_country__c]") == target_id  # the id is what is sent
    assert page.input_value("#id_f_country__c") == target  # the name is what is shown
    assert page.locator(".lookup-status", has_text=f"Chosen: {target}").count() == 1
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")
    expect(page.locator("dl.facts")).to_contain_text(f"“{target}”")


@pytest.mark.parametrize("typed", ["1e999", "1e"])
def test_a_number_box_the_browser_empties_is_not_sent(parts, new_page, login, live_server, typed):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Cardiostat")
    page.fill("[name=f_price__c]", "")
    page.locator("[name=f_price__c]").press_sequentially(typed)
    page.click("text=Preview the copy")
    # The note is the script's: had the form been sent, the page would have been rendered anew.
    assert page.locator(".bad-number").count() == 1 and "/copy/preview/" not in page.url
    page.fill("[name=f_price__c]", "14")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")


def _session_with_draft(user, profile, source_id):
    from records.web.drafts import DRAFTS_KEY

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DRAFTS_KEY] = {
        "e2e": {
            "profile": str(profile.code),
            "object_name": "Accounts",
            "source_ids": [source_id],
            "mode": "clone",
            "overrides": {"Account_Name": "Double Click Co"},
            "row_overrides": {},
            "label": "",
        }
    }
    session.create()
    return session.session_key


@pytest.mark.redis
def test_double_click_on_confirm_makes_one_job(new_page, live_server, fresh_sandbox, zoho_profile, owner, redis_url):
    conn = connector_for(zoho_profile)
    src = small_account(conn)
    key = _session_with_draft(owner, zoho_profile, src)
    page = new_page()
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": key, "url": live_server.url}])
    page.goto(live_server.url + "/copy/preview/e2e/")
    fresh_sandbox.faults("zoho").set(latency=0.4)  # the Confirm takes a few seconds
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    try:
        page.get_by_role("button", name="Confirm and queue the copy").dblclick()
        page.wait_for_url(f"{live_server.url}/jobs/**", timeout=30_000)
    finally:
        fresh_sandbox.faults("zoho").clear()
    assert len(posts) == 1  # the second click found the button disabled
    assert CopyJob.objects.count() == 1
    job = CopyJob.objects.get()
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.PARTIAL)
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    # No Undo (nothing was created, so there is nothing to undo): no button and no reason to read.
    status = page.inner_text("#job-status")
    assert "Undo copy" not in status and "Resume" in status


def test_a_step_link_is_not_held_up_by_a_bad_number_box(new_page, login, live_server, fresh_sandbox, vault_profile):
    """The check that stops "1e999" being sent also stopped the step links above the form: the
    person who wanted to pick another record was told to fix a number first."""
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/copy/{vault_profile.code}/product__v/00P000000000001/")
    page.fill("[name=f_price__c]", "")
    page.locator("[name=f_price__c]").press_sequentially("1e999")
    page.click("text=Preview the copy")  # the check holds the form itself
    expect(page.locator(".bad-number")).to_have_count(1)
    assert "/copy/preview/" not in page.url
    page.click("ol.wizard button[name=goto][value='3']")
    page.wait_for_url(f"{live_server.url}/copy/{vault_profile.code}/product__v/")


def test_the_owner_box_looks_users_up_by_name(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["zoho_profile"], "Accounts", "Globex")
    page.fill("#id_f_Owner", "rep")
    option = page.locator(".lookup-list button", has_text="Sandbox Rep")
    option.first.click()
    assert page.input_value("[name=f_Owner]") == "5725767000000150002"  # the user's id is sent
    assert page.input_value("#id_f_Owner") == "Sandbox Rep"  # the name is shown


def test_make_unique_on_the_top_name_reaches_the_preview_with_the_number(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Cardiostat")
    page.fill("[name=f_name__v]", "Cardiostat")  # the source's own name: taken
    page.check("[name=unique_name__v]")
    page.click("text=Preview the copy")
    expect(page.locator("h1")).to_contain_text("Preview")  # not refused at the fields step
    expect(page.locator(".msg-info", has_text="is taken")).to_have_text(
        "Product Name “Cardiostat” is taken: the copy is named “Cardiostat (2)”."
    )


@pytest.mark.parametrize(
    "system, object_name, query, name",
    [("vault", "product__v", "Neurolax", "Neurolax"), ("zoho", "Accounts", "Globex", "Globex")],
)
def test_both_systems_suggest_the_copys_name_and_list_records_by_name(
    parts, new_page, login, live_server, system, object_name, query, name
):
    page = login(new_page(), "alice", "alice-pass-123")
    profile = parts[f"{system}_profile"]
    page.goto(f"{live_server.url}/copy/{profile.code}/{object_name}/")
    page.locator("form[role=search] button[type=submit]").click()  # every record, no filter
    page.wait_for_url("**?*q=*")
    listed = page.locator("table tbody tr a").all_inner_texts()
    assert len(listed) > 3 and listed == sorted(listed, key=str.lower), listed
    open_record(page, live_server, profile, object_name, query)
    name_box = "[name=f_name__v]" if system == "vault" else "[name=f_Account_Name]"
    expect(page.locator(name_box)).to_have_value(f"{name} (copy)")  # not the source's own name


def test_vaults_own_deep_copy_makes_the_top_name_unique(parts, new_page, login, live_server, rq_worker):
    """Make unique on the top name of a Vault deep copy: no call to tick level by level; Vault's own
    deep copy is sent the name, numbered when it is taken."""
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Cardiostat")
    page.check("input[name=mode][value=deep_copy]")
    page.fill("[name=f_name__v]", "Cardiostat")  # taken: its own name
    page.check("[name=unique_name__v]")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")
    assert page.locator(".msg-error").count() == 0
    expect(page.locator("#copy-way")).to_contain_text("Vault's own deep copy")
    assert "can't retry a duplicate name" not in page.content()
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert_live_end(page)
    expect(page.locator("#results-table tbody tr", has_text="Cardiostat (2)").first).to_be_visible()


def test_a_changed_parent_account_reads_as_its_name_on_the_preview(parts, new_page, login, live_server):
    """The lookup sends the Parent Account's id; the preview's changed fields say the account's name."""
    accounts = parts["fresh_sandbox"].zoho.state.records["Accounts"]
    acme = next(i for i, r in accounts.items() if r["Account_Name"] == "Acme Corp")
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["zoho_profile"], "Accounts", "Globex")
    page.fill("[name=f_Account_Name]", "Globex P")
    page.fill("#id_f_Parent_Account", "Acme")
    page.locator(".lookup-list button", has_text="Acme Corp").first.click()
    assert page.input_value("[name=f_Parent_Account]") == acme
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")
    changed = page.locator("dl.facts dt:has-text('Changed fields') + dd")
    expect(changed).to_contain_text("Parent Account")
    expect(changed).to_contain_text("“Acme Corp”")
    expect(changed).not_to_contain_text(acme)  # not Parent Account = "5725767000000200001"
