"""A Zoho copy by query into another org through the search page, in a real browser against two
sandbox orgs and a real RQ worker: the filter form with "Copy into", the preview's count and first
rows, the references table with a match key changed, Confirm, and the job finished with its rows."""

import pytest
from playwright.sync_api import expect

from records.models import CopyJob
from tests.e2e.helpers import wait_finished
from tests.fixtures.sandbox import find_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
RETAIL = "(Industry:equals:Retail)"


def test_zoho_copy_by_query_into_another_org_with_a_match_key_changed(
    cross_zoho, new_page, login, live_server, rq_worker
):
    source, target = cross_zoho
    globex = find_record(source.connector, "Accounts", "Globex")  # in the target org under its name
    newest = source.connector.query_ids("Accounts", RETAIL, limit=3)
    source.connector.update("Accounts", [{"id": r.id, "Parent_Account": {"id": globex}} for r in newest[:2]])
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/copy/{source.profile.code}/Accounts/")
    expect(page.locator("#copy-query")).to_contain_text("Zoho search criteria")
    page.fill("#id_where", RETAIL)
    page.fill("#id_limit", "2")
    page.check("#copy-query input[name=mode][value=clone]")
    page.select_option("#id_query_target", str(target.profile.code))
    page.click("#copy-query button[type=submit]")
    match = page.locator("#query-match")
    expect(match).to_contain_text("2 records match")
    expect(match).to_contain_text("the newest 2 are copied")
    expect(page.locator("#query-first li")).to_have_count(2)
    expect(page.locator("#query-first")).to_contain_text(newest[0].name)
    expect(page.locator("#id_target")).to_have_value(str(target.profile.code))
    # Globex is matched by its name; by its number (another in the target org) it is not.
    key = page.locator("select[name='match-Accounts']")
    expect(key).to_have_value("")
    expect(page.locator("#cross-references tbody tr", has_text="Accounts").locator("td").nth(4)).to_have_text("0")
    key.select_option("Account_Number")
    page.click("#cross-choices button[type=submit]")
    expect(page.locator("select[name='match-Accounts']")).to_have_value("Account_Number")
    expect(page.locator(".msg-error", has_text="can't be queued")).to_have_count(1)
    page.select_option("select[name='unmatched-Accounts']", "blank")
    page.click("#cross-choices button[type=submit]")
    expect(page.locator(".msg-error", has_text="can't be queued")).to_have_count(0)
    page.click("#mask-choices button[type=submit]")  # the masking's suggestions, confirmed as shown
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    job = CopyJob.objects.get()
    assert job.target_profile == target.profile and job.options["match"] == {"Accounts": "Account_Number"}
    assert sorted(job.results.values_list("source_id", flat=True)) == sorted(r.id for r in newest[:2])
    page.reload()
    expect(page.locator(".row-action").first).to_be_visible()
    for row in job.results.filter(status="succeeded").exclude(new_id=""):
        made = target.connector.get("Accounts", row.new_id)
        assert not made.fields.get("Parent_Account")  # unmatched by the number chosen: left empty
