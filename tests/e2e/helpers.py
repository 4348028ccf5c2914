"""What several browser tests do on the app's pages: open a record in the wizard, start a copy,
wait for a job to finish, check the finished job page, run axe-core on a page."""

import re
from pathlib import Path

from playwright.sync_api import expect

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PRODUCT = "00P000000000001"  # Cardiostat


def wait_finished(page, timeout=120_000):
    # A locator, not wait_for_function: that evaluates a string in the page, which the CSP refuses.
    finished = re.compile(r"^(Succeeded|Partly failed|Failed|Cancelled)")
    expect(page.locator("#job-status-badge .badge")).to_have_text(finished, timeout=timeout)


def open_record(page, live_server, profile, object_name, query):
    page.goto(f"{live_server.url}/copy/{profile.code}/")
    page.click(f"a[href$='/{object_name}/']")
    page.fill("#record-q", query)
    page.click("form[role=search] button[type=submit]")
    page.locator("table tbody tr a").first.click()
    page.wait_for_selector("#overrides-form")


def start_copy(page, live_server, profile, object_name, query, mode, fill=None, clear=()):
    page.goto(f"{live_server.url}/copy/{profile.code}/")
    page.click(f"a[href$='/{object_name}/']")
    page.fill("#record-q", query)
    page.click("form[role=search] button[type=submit]")
    page.locator("table tbody tr a").first.click()
    page.check(f"input[name=mode][value={mode}]")
    for name, value in (fill or {}).items():
        page.fill(f"[name=f_{name}]", value)
    for name in clear:
        page.check(f"[name=clear_{name}]")
    page.click("text=Preview the copy")
    page.wait_for_selector("h1:has-text('Preview')")


def assert_live_end(page, *, status="succeeded"):
    """The finished job page as it stands, without a reload: nothing stale left."""
    wait_finished(page)
    page.wait_for_selector(f".progress.done.status-{status}")
    expect(page.locator("#outcome-counts [data-outcome=pending]:not([hidden])")).to_have_count(0)
    expect(page.locator("#job-actions:not([hidden])")).to_have_count(1)
    assert page.locator("#job-actions", has_text="Cancel job").count() == 0
    for row in page.locator("#object-progress tbody tr").all():
        done, total = row.locator("[data-part=done]").inner_text().split("/")
        assert done == total, row.inner_text()


def axe(page) -> list[dict]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]
