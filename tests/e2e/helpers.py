"""What several browser tests do on the app's pages: open a record in the wizard, start a copy,
wait for a job to finish, check the finished job page, run axe-core on a page."""

import re
from pathlib import Path

from playwright.sync_api import expect

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PRODUCT = "00P000000000001"  # Cardiostat


def wait_finished(page, timeout=120_000):
    """Until the job page's own signal that it is done changing: job.js sets <body data-settled>
    once the job has ended and its last rows are in. A locator, not wait_for_function: that
    evaluates a string in the page, which the CSP refuses."""
    expect(page.locator("body[data-settled]")).to_have_count(1, timeout=timeout)
    finished = re.compile(r"^(Succeeded|Partly failed|Failed|Cancelled|Undone)")
    expect(page.locator("#job-status-badge .badge")).to_have_text(finished)


# The page's live part as it stands and as a fresh load of the same page renders it (DOMParser
# both: the same serialisation). Run by Playwright outside the page's CSP.
LIVE_AND_RELOAD = """async () => {
  const here = document.getElementById("job-live").outerHTML;
  const html = await (await fetch(location.href, {credentials: "same-origin"})).text();
  const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("job-live");
  return [here, fresh ? fresh.outerHTML : ""];
}"""
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def live_and_reload(page) -> tuple[str, str]:
    """The live part now and after a reload, without the review forms' tokens (masked anew each time)."""
    here, fresh = page.evaluate(LIVE_AND_RELOAD)
    return CSRF.sub("", here), CSRF.sub("", fresh)


def open_record(page, live_server, profile, object_name, query):
    page.goto(f"{live_server.url}/copy/{profile.code}/")
    page.click(f"a[href$='/{object_name}/']")
    page.fill("#record-q", query)
    page.click("form[role=search] button[type=submit]")
    page.locator("table tbody tr a").first.click()
    ready(page, "#overrides-form")  # lookup.js and fields.js have bound the boxes


def start_copy(page, live_server, profile, object_name, query, mode, fill=None, clear=()):
    page.goto(f"{live_server.url}/copy/{profile.code}/")
    page.click(f"a[href$='/{object_name}/']")
    page.fill("#record-q", query)
    page.click("form[role=search] button[type=submit]")
    page.locator("table tbody tr a").first.click()
    ready(page, "#overrides-form")
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
    expect(page.locator("#outcome-counts [data-outcome=pending]")).to_have_count(0)
    assert page.locator("#job-actions", has_text="Cancel job").count() == 0
    if status == "succeeded":
        for row in page.locator("#object-progress tbody tr").all():
            done, total = row.locator("[data-part=done]").inner_text().split(" of ")
            assert done == total, row.inner_text()
    here, fresh = live_and_reload(page)
    assert here == fresh


def axe(page) -> list[dict]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def ready(page, selector: str, timeout: int = 20_000) -> None:
    """Wait until the script driving `selector` has bound it (it sets data-ready), never for a time."""
    page.wait_for_selector(f"{selector}[data-ready]", state="attached", timeout=timeout)
