"""The preview page in a real browser: unticking a branch recounts at once (rows, totals, write
calls, the limit verdict), and those numbers are the server's once "Update the preview" has read
the tree again without it; the open choices pass axe. With the plan read on a real RQ worker, the
page shows the records read so far, then the plan, and a double-click on Confirm makes one job
that reads no tree again."""

import re

import pytest
from playwright.sync_api import expect

from records.models import CopyJob, CopyPlan
from tests.e2e.helpers import open_record, ready, start_copy, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
UPDATE = "button:has-text('Update the preview')"  # the notes say "update the preview" too


def _numbers(page):
    rows = page.locator("#plan-objects tbody tr")
    per_row = {
        (rows.nth(i).get_attribute("data-object"), rows.nth(i).get_attribute("data-depth")): rows.nth(i)
        .locator("[data-role=count]")
        .inner_text()
        for i in range(rows.count())
        if "left-out" not in (rows.nth(i).get_attribute("class") or "")
    }
    return {
        "total": page.locator("#plan-total").inner_text(),
        "related": page.locator("#plan-related").inner_text(),
        "calls": page.locator("#plan-calls").inner_text(),
        "verdict": page.locator("#plan-verdict").inner_text(),
        "rows": per_row,
    }


def _int(text):
    return int(text.replace(",", ""))  # the numbers read "10,202"


def _open_choices(page):
    ready(page, "#plan-objects")  # preview_tree.js recounts on a click
    ready(page, "#choice-changes")  # choice_rows.js adds rows
    if page.locator("#copy-choices[open]").count() == 0:
        page.click("#copy-choices summary")


def _untick_and_update(page, leave_out, greyed):
    before = _numbers(page)
    _open_choices(page)
    page.uncheck(f"input[name=include][value={leave_out}]")
    for name in greyed:  # the left-out object and everything only below it, at once
        expect(page.locator(f"#plan-objects tr[data-object={name}]").first).to_have_class("left-out")
    expect(page.locator("#plan-total")).not_to_have_text(before["total"])
    live = _numbers(page)
    page.click(UPDATE)
    expect(page.locator(f"input[name=include][value={leave_out}]")).not_to_be_checked()
    return before, live, _numbers(page)


def test_zoho_untick_deals_recounts_as_the_server_does(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, parts["zoho_profile"], "Accounts", "Globex", "deep_copy", {"Account_Name": "G2"})
    before, live, server = _untick_and_update(page, "Deals", ["Deals"])
    assert live == server, (live, server)
    assert _int(server["related"]) < _int(before["related"])
    assert _int(server["calls"]) <= _int(before["calls"])
    assert server["verdict"] == f"{server['related']} related records: within Record Copier's 10,000 limit."
    # Ticked again: Deals was not read, so its records are counted by the next update.
    _open_choices(page)
    page.check("input[name=include][value=Deals]")
    expect(page.locator("#plan-unread")).to_have_text("Plus the records of Deals: counted when you update the preview.")
    expect(page.locator("#include-note-Deals")).to_be_visible()


def test_vault_untick_formulations_greys_packagings_and_costs_the_engine_way(
    parts,
    new_page,
    login,
    live_server,
):
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(
        page, live_server, parts["vault_profile"], "product__v", "Cardiostat", "deep_copy", {"name__v": "Cardio T"}
    )
    assert _numbers(page)["calls"] == "1"  # Vault's own deep copy: one call for the top record
    _open_choices(page)
    # Packagings left out: the engine builds it, the top record then the formulations (one batch).
    page.uncheck("input[name=include][value=packaging__c]")
    expect(page.locator("#plan-objects tr[data-object=packaging__c]")).to_have_class("left-out")
    expect(page.locator("#plan-calls")).to_have_text("2")
    # Ticked again: it was read, so its count is back at once, with Vault's own deep copy.
    page.check("input[name=include][value=packaging__c]")
    expect(page.locator("#plan-objects tr[data-object=packaging__c]")).not_to_have_class("left-out")
    expect(page.locator("#plan-calls")).to_have_text("1")
    expect(page.locator("#plan-unread")).to_be_hidden()
    # Formulations left out: the packagings below them go too.
    before, live, server = _untick_and_update(page, "formulation__c", ["formulation__c", "packaging__c"])
    assert live["related"] == "0" and live == server, (live, server)
    # Left out, a branch has Record Copier build the copy: its limit, as the locked box says.
    assert server["verdict"] == "0 related records: within Record Copier's 100,000 limit."


def test_vault_level_by_level_box_is_ticked_and_locked_while_a_branch_is_left_out(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    profile = parts["vault_profile"]
    start_copy(page, live_server, profile, "product__v", "Cardiostat", "deep_copy", {"name__v": "Cardio Lock"})
    _open_choices(page)
    box, note = page.locator("input[name=engine]"), page.locator("#engine-needed")
    expect(box).not_to_be_checked()
    expect(box).to_be_enabled()
    page.uncheck("input[name=include][value=packaging__c]")
    expect(box).to_be_checked()
    expect(box).to_be_disabled()
    expect(note).to_be_visible()
    expect(note).to_contain_text("Ticked and locked: a branch is left out")
    expect(page.locator("#plan-verdict")).to_contain_text("within Record Copier's 100,000 limit.")
    page.check("input[name=include][value=packaging__c]")  # the lock goes: the person's own choice
    expect(box).not_to_be_checked()
    expect(box).to_be_enabled()
    expect(note).to_be_hidden()
    # Ticked by the person, then locked and sent: their tick is still theirs when the lock goes.
    page.check("input[name=engine]")
    page.uncheck("input[name=include][value=packaging__c]")
    page.click(UPDATE)
    _open_choices(page)
    expect(box).to_be_checked()
    expect(box).to_be_disabled()
    page.check("input[name=include][value=packaging__c]")
    expect(box).to_be_checked()
    expect(box).to_be_enabled()
    page.click(UPDATE)
    expect(page.locator("#copy-way")).to_contain_text("asked for: “Build the hierarchy level by level” is ticked")


def test_vault_build_level_by_level_box_recounts_as_the_server_does(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    profile = parts["vault_profile"]
    start_copy(page, live_server, profile, "product__v", "Cardiostat", "deep_copy", {"name__v": "Cardio E"})
    _open_choices(page)
    page.check("input[name=engine]")
    expect(page.locator("#plan-calls")).to_have_text("3")  # the top record, formulations, packagings
    live = _numbers(page)
    page.click(UPDATE)
    expect(page.locator("#copy-way")).to_contain_text("asked for: “Build the hierarchy level by level” is ticked")
    assert _numbers(page) == live
    assert live["verdict"].endswith("within Record Copier's 100,000 limit.")

    # Mega Product: refused past Vault's 10,000; with the box ticked it is counted, and unticking
    # it says at once that it is over Vault's limit.
    start_copy(page, live_server, profile, "product__v", "Mega Product", "deep_copy", {"name__v": "Mega E"})
    expect(page.locator(".msg-error")).to_contain_text("more than 10,000 related records")
    expect(page.locator("#plan-cost")).to_contain_text("can't be recomputed here")
    _open_choices(page)
    page.check("input[name=engine]")
    page.click(UPDATE)  # reads the 10,000+ records: give it time
    expect(page.locator("#plan-verdict")).to_contain_text("within Record Copier's 100,000 limit.", timeout=90_000)
    _open_choices(page)
    page.uncheck("input[name=engine]")
    related = page.locator("#plan-related").inner_text()
    expect(page.locator("#plan-verdict")).to_have_text(
        f"{related} related records: over the limit: more than Vault's 10,000. "
        "Leave out a branch, or build it level by level."
    )
    page.check("input[name=engine]")
    expect(page.locator("#plan-verdict")).to_contain_text("within Record Copier's 100,000 limit.")


def test_the_open_choices_with_added_rows_pass_axe(parts, browser, live_server, owner):
    from tests.e2e.helpers import axe

    # bypass_csp: axe is injected by the test, not served by the app.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "alice-pass-123")
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        start_copy(page, live_server, parts["zoho_profile"], "Accounts", "Globex", "deep_copy")
        _open_choices(page)
        page.uncheck("input[name=include][value=Deals]")
        page.click("text=Add a change")
        page.select_option("#ch-1-object", "Contacts")
        page.click("text=Add a stamp")
        page.click("#choice-lines summary")
        expect(page.locator("#ch-1-field option[value=Last_Name]")).to_be_attached()
        assert axe(page) == []
    finally:
        context.close()


def test_zoho_untick_contacts_drops_their_update_call_at_once(parts, new_page, login, live_server):
    """Reporting Lines' contacts point at each other (set by the second pass's update call): the
    page's recount drops that call with the branch, as the server does once updated."""
    page = login(new_page(), "alice", "alice-pass-123")
    profile = parts["zoho_profile"]
    start_copy(page, live_server, profile, "Accounts", "Reporting Lines", "deep_copy", {"Account_Name": "RL2"})
    expect(page.locator("#copy-way")).to_contain_text("then 1 update call re-pointing references")
    before = _numbers(page)
    _open_choices(page)
    page.uncheck("input[name=include][value=Contacts]")
    expect(page.locator("#plan-calls")).not_to_have_text(before["calls"])
    page.check("input[name=include][value=Contacts]")  # back: the recount has the update call again
    expect(page.locator("#plan-calls")).to_have_text(before["calls"])
    before, live, server = _untick_and_update(page, "Contacts", ["Contacts"])
    assert live == server, (live, server)
    assert _int(server["calls"]) < _int(before["calls"])


@pytest.mark.plans_on_worker
def test_preview_shows_live_progress_then_the_plan_and_confirm_reads_no_tree(
    fresh_sandbox, zoho_profile, new_page, login, live_server, rq_worker, screenshot
):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, zoho_profile, "Accounts", "Big Account")
    page.check("input[name=mode][value=deep_copy]")
    fresh_sandbox.faults("zoho").set(latency=0.1)  # ~70 reads: several seconds of visible progress
    try:
        page.click("text=Preview the copy")
        expect(page.locator("[data-plan-poll]")).to_contain_text("Reading the records to copy")
        # The count follows the worker without a reload (the poll), before the plan is there.
        expect(page.locator("[data-plan-read]")).to_have_text(re.compile(r"^[1-9][\d,]*$"), timeout=60_000)
        screenshot(page, "copy-preview-reading")
        expect(page.get_by_role("heading", name="What will be copied")).to_be_visible(timeout=90_000)
    finally:
        fresh_sandbox.faults("zoho").clear()
    expect(page.locator("tfoot")).to_contain_text("1,021")
    fresh_sandbox.clear_log()
    page.dblclick("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
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


def test_a_preview_refused_at_the_limit_shows_at_least_counts(parts, new_page, login, live_server):
    """Mega Product has more related records than Vault copies: the counts read until the stop stay
    on the page, so the person sees which branch to leave out."""
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(
        page, live_server, parts["vault_profile"], "product__v", "Mega Product", "deep_copy", {"name__v": "Mega L"}
    )
    refusal = page.locator(".msg-error")
    expect(refusal).to_contain_text("more than 10,000 related records")
    # The way out in the page's words: the box to tick, not the command's flag.
    expect(refusal).to_contain_text("tick “Build the hierarchy level by level”")
    for words in ("--engine", "command line"):
        expect(page.locator("main")).not_to_contain_text(words)
    expect(page.locator("#plan-total")).to_have_text(re.compile(r"^at least \d{1,3}(,\d{3})*$"))
    counts = page.locator("#plan-objects tbody [data-role=count]").all_inner_texts()
    assert len(counts) >= 2 and all(re.match(r"^at least [1-9]", c) for c in counts), counts


def test_the_zoho_preview_names_its_boxes_by_their_labels(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(page, live_server, parts["zoho_profile"], "Accounts", "Globex", "deep_copy", {"Account_Name": "G W"})
    box = "Let workflows, approvals and blueprints fire on inserted copies"
    expect(page.locator(".msg-warning", has_text="Workflows, approvals and blueprints")).to_contain_text(
        f"tick “{box}”"
    )
    expect(page.locator("label", has_text=box).locator("input[name=run_workflows]")).to_have_count(1)
    expect(page.locator("#copy-choices > summary")).to_have_text(
        "Choose the related records, field values and options of the copy"
    )
    expect(page.locator("#choice-lines > summary")).to_have_text("Or type them as lines of text")
    main = page.locator("main")
    for words in ("run workflows", "sets off", "copy command", "--engine"):
        expect(main).not_to_contain_text(words)


def test_the_plan_names_branches_samples_and_a_left_out_object_by_label(parts, new_page, login, live_server):
    page = login(new_page(), "alice", "alice-pass-123")
    start_copy(
        page, live_server, parts["vault_profile"], "product__v", "Cardiostat", "deep_copy", {"name__v": "Cardio M"}
    )
    _open_choices(page)
    page.uncheck("input[name=include][value=packaging__c]")
    page.click("#choice-lines summary")
    page.fill("#choice-set", "formulation__c:strength__c={strength__c} v2")
    page.click(UPDATE)
    expect(page.locator("#copy-samples")).to_be_visible()
    formulations = page.locator("#plan-objects tr[data-object=formulation__c] td")
    expect(formulations.nth(1)).to_have_text("Products")  # related through, by label
    sample = page.locator("#copy-samples tbody tr", has_text="v2").first.locator("td")
    expect(sample.nth(0)).to_have_text(re.compile(r"^Formulations “FOR-\d+” V2F\d+$"))  # the record by name
    expect(sample.nth(1)).to_have_text("Strength strength__c")
    left_out = page.locator("label", has=page.locator("input[name=include][value=packaging__c]"))
    expect(left_out).to_have_text("Packaging packaging__c")  # not "packaging__c packaging__c"


def test_a_refused_plan_greys_a_left_out_branch(parts, new_page, login, live_server):
    """Refused past Vault's 10,000, the plan's counts can't be recounted, but a branch left out is
    still greyed with everything below it, and the box that lifts the limit is locked ticked."""
    page = login(new_page(), "alice", "alice-pass-123")
    profile = parts["vault_profile"]
    start_copy(page, live_server, profile, "product__v", "Mega Product", "deep_copy", {"name__v": "Mega G"})
    expect(page.locator(".msg-error")).to_contain_text("more than 10,000 related records")
    expect(page.locator("#plan-cost")).to_contain_text("can't be recomputed here")
    _open_choices(page)
    formulations = page.locator("#plan-objects tr[data-object=formulation__c]")
    packagings = page.locator("#plan-objects tr[data-object=packaging__c]")
    counted = packagings.locator("[data-role=count]").inner_text()
    page.uncheck("input[name=include][value=formulation__c]")
    expect(formulations).to_have_class("left-out")
    expect(packagings).to_have_class("left-out")
    expect(packagings.locator("[data-role=count]")).to_have_text("left out")
    expect(page.locator("input[name=engine]")).to_be_checked()
    expect(page.locator("input[name=engine]")).to_be_disabled()
    page.check("input[name=include][value=formulation__c]")
    expect(packagings).not_to_have_class("left-out")
    expect(packagings.locator("[data-role=count]")).to_have_text(counted)
    page.uncheck("input[name=include][value=packaging__c]")
    expect(packagings).to_have_class("left-out")
    expect(formulations).not_to_have_class("left-out")
