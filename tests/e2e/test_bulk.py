"""The bulk clone page in a real browser (Debian's chromium, the sandbox, a real RQ worker): Vault
products and Zoho accounts with per-row names, from the upload to the finished job, and a row
renamed to a taken unique value refused in the preview."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_live_end, ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("system", ["vault", "zoho"])
def test_bulk_clone_with_per_row_names(parts, new_page, login, live_server, rq_worker, tmp_path, screenshot, system):
    state = (
        parts["fresh_sandbox"].vault.state.records["product__v"]
        if system == "vault"
        else parts["fresh_sandbox"].zoho.state.records["Accounts"]
    )
    ids = list(state)[:3]
    column, object_name, label = (
        ("name__v", "product__v", "Product") if system == "vault" else ("Account_Name", "Accounts", "Account")
    )
    path = tmp_path / "rows.csv"
    path.write_text(f"id,{column}\n" + "".join(f"{i},Bulk {system} {n}\n" for n, i in enumerate(ids, 1)))
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/bulk/")
    ready(page, "#bulk-choose")
    page.select_option("#bulk-profile", str(parts[f"{system}_profile"].code))
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
    assert_live_end(page)
    names = {r.get(column) for r in state.values()}
    assert {f"Bulk {system} {n}" for n in (1, 2, 3)} <= names


def test_bulk_preview_refuses_a_name_another_record_has(
    new_page, login, live_server, owner, fresh_sandbox, vault_profile, tmp_path
):
    """As the single form does: a row renamed to an existing product's name is refused before
    anything is queued, named by its record, not left to fail at run time."""
    path = tmp_path / "rows.csv"
    path.write_text("id,name__v\n00P000000000001,Neurolax\n00P000000000003,Fresh Bulk Name\n")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/bulk/")
    ready(page, "#bulk-choose")
    page.select_option("#bulk-object", "product__v")  # the only Vault profile is chosen
    page.wait_for_selector("#id_file")
    page.set_input_files("#id_file", str(path))
    page.click("text=Check the file")
    refusal = page.locator(".msg-error", has_text="This copy can't be queued.")
    expect(refusal).to_contain_text(
        "Record 00P000000000001: Product Name must be unique and “Neurolax” is already used"
    )
    expect(refusal).not_to_contain_text("Fresh Bulk Name")
    expect(page.get_by_role("button", name="Confirm and queue the copy")).to_have_count(0)
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Bulk clone")  # not "New copy"


def test_bulk_preview_reads_right_and_marks_bulk_clone(
    new_page, login, live_server, owner, fresh_sandbox, vault_profile, tmp_path
):
    """One id of three not found "was", not "were"; "3 records are cloned" is information, not a
    yellow warning; the menu marks Bulk clone, not New copy."""
    path = tmp_path / "rows.csv"
    path.write_text("id,name__v\n00P000000000001,One B\n00P000000099999,Two B\n00P000000000003,Three B\n")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/bulk/")
    ready(page, "#bulk-choose")
    page.select_option("#bulk-object", "product__v")
    page.wait_for_selector("#id_file")
    page.set_input_files("#id_file", str(path))
    page.click("text=Check the file")
    page.wait_for_selector("h1:has-text('Preview')")
    expect(page.locator(".msg-warning", has_text="not found")).to_contain_text("1 of the 3 records was not found")
    expect(page.locator(".msg-info", has_text="records are cloned")).to_contain_text("3 records are cloned")
    expect(page.locator(".msg-warning", has_text="records are cloned")).to_have_count(0)
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Bulk clone")
