"""The job page's live part in a real browser (Debian's chromium, the sandbox, a real RQ worker):
each swap is one state that holds together, and when the job has ended the part is what a reload
shows. A MutationObserver, installed before the page loads, records every live part the page
shows; the checks run on each of them."""

import re

import pytest
from playwright.sync_api import expect

from records.copying.job_create import copy_job_create
from records.models import CopyJob
from tests.e2e.helpers import live_and_reload, wait_finished
from tests.fixtures.engine import copy_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each live part the page shows, as numbers read from it (in the page: the observer sees the node
# as it was inserted, before anything else can change it).
RECORD_STATES = """
window.__states = [];
function __num(el) { return el ? Number(el.textContent.replace(/[^0-9]/g, "")) : 0; }
function __state(n) {
  const q = (s) => n.querySelector(s);
  const lines = [...n.querySelectorAll("#object-progress tbody tr")];
  const part = (tr, name) => tr.querySelector('[data-part="' + name + '"]').textContent;
  const bar = q(".progress");
  return {
    finished: n.dataset.finished === "true",
    badge: q("#job-status-badge .badge").className,
    words: q("#job-words").textContent,
    cancel: !!q('#job-actions a[href$="/cancel/"]'),
    total: __num(q("#count-total")), done: __num(q("#count-done")), copied: __num(q("#count-succeeded")),
    lines_total: lines.reduce((s, tr) => s + Number(part(tr, "done").split(" of ")[1].replace(/,/g, "")), 0),
    lines_done: lines.reduce((s, tr) => s + Number(part(tr, "done").split(" of ")[0].replace(/,/g, "")), 0),
    lines_copied: lines.reduce((s, tr) => s + Number(part(tr, "succeeded").replace(/,/g, "")), 0),
    chips: [...n.querySelectorAll("#outcome-counts [data-outcome]")].reduce((s, b) => s + __num(b), 0),
    notice: !!q("#job-error"),
    bar: bar.firstElementChild.className, valuenow: bar.getAttribute("aria-valuenow"),
  };
}
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) if (n.id === "job-live") window.__states.push(__state(n));
}).observe(document, { childList: true, subtree: true });
"""


def _assert_each_state_holds_together(states, swaps=2):
    assert len(states) >= 1 + swaps, states  # the first render and the swaps watched
    for s in states:
        assert not (s["finished"] and s["cancel"]), s  # no Cancel beside a finished badge
        assert s["bar"] == f"w-{s['valuenow']}", s  # the bar at its percent
        if "badge-succeeded" in s["badge"]:
            assert not s["notice"], s  # no rate-limit words on a job that succeeded
        if s["chips"]:  # rows exist: the header, the per-object lines and the chips count the same rows
            assert s["chips"] == s["total"] == s["lines_total"], s
            assert s["done"] == s["lines_done"] and s["copied"] == s["lines_copied"], s


def _acme(sandbox):
    return next(i for i, r in sandbox.zoho.state.records["Accounts"].items() if r["Account_Name"] == "Acme Corp")


def _open_job(parts, new_page, login, live_server, owner, latency):
    page = new_page()
    page.add_init_script(RECORD_STATES)
    login(page, "alice", "alice-pass-123")  # first: the job must not end before its page is open
    parts["fresh_sandbox"].faults("zoho").set(latency=latency)  # several polls while it runs
    job = copy_job_create(
        request=copy_request(parts["zoho_profile"], "Accounts", [_acme(parts["fresh_sandbox"])], "deep_copy"),
        user=owner,
    )
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    return job, page


def test_live_part_holds_together_at_every_poll_of_a_deep_copy(parts, new_page, login, live_server, owner, rq_worker):
    # Slow enough for two swaps: a wave's inserts overlap, so the copy takes few calls' time.
    job, page = _open_job(parts, new_page, login, live_server, owner, latency=0.6)
    wait_finished(page)
    states = page.evaluate("window.__states")
    _assert_each_state_holds_together(states)
    assert states[-1]["finished"] and "badge-succeeded" in states[-1]["badge"]
    assert any(not s["finished"] for s in states)  # it was watched while it ran
    here, fresh = live_and_reload(page)
    assert here == fresh  # a finished job's page is what a reload shows
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.SUCCEEDED


def test_live_part_holds_together_at_every_poll_of_a_clone(parts, new_page, login, live_server, owner, rq_worker):
    """A plain clone of a few Zoho accounts (no related records), slowed so that it is watched running."""
    sandbox = parts["fresh_sandbox"]
    accounts = sorted(sandbox.zoho.state.records["Accounts"])[:3]
    page = new_page()
    page.add_init_script(RECORD_STATES)
    login(page, "alice", "alice-pass-123")  # first: the job must not end before its page is open
    sandbox.faults("zoho").set(latency=0.5)
    job = copy_job_create(request=copy_request(parts["zoho_profile"], "Accounts", accounts, "clone"), user=owner)
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    wait_finished(page)
    states = page.evaluate("window.__states")
    _assert_each_state_holds_together(states, swaps=1)
    assert any(not s["finished"] for s in states)  # it was watched while it ran
    end = states[-1]
    assert "badge-succeeded" in end["badge"] and end["copied"] == end["total"] == 3, end
    here, fresh = live_and_reload(page)
    assert here == fresh
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.SUCCEEDED


def test_live_part_holds_together_at_every_poll_of_a_cancel(parts, new_page, login, live_server, owner, rq_worker):
    job, page = _open_job(
        parts, new_page, login, live_server, owner, latency=1.5
    )  # its batches overlap: slow enough to cancel mid-run
    expect(page.locator("#job-status-badge .badge")).to_have_text("Running", timeout=30_000)
    page.click("#job-actions a:has-text('Cancel job')")
    page.click("text=Yes, cancel the job")
    page.wait_for_url(f"**/jobs/{job.code}/")
    wait_finished(page)
    states = page.evaluate("window.__states")  # since the confirm brought the page back
    # The first render, then a swap at each poll until it has ended; a cancel the worker saw
    # before the page came back (between two calls) is rendered ended at once: no swap to watch.
    _assert_each_state_holds_together(states, swaps=0 if states[0]["finished"] else 1)
    end = states[-1]
    assert "badge-cancelled" in end["badge"] and re.match(r"^Cancelled: \d+ of \d+ copied", end["words"]), end
    assert page.locator("#main > .msg", has_text="Cancelling").count() == 0  # not beside "Cancelled"
    here, fresh = live_and_reload(page)
    assert here == fresh


def test_live_part_holds_together_at_every_poll_of_a_vault_undo(parts, new_page, login, live_server, owner, rq_worker):
    """Vault's deep copy, then its undo (Vault's cascade delete), watched without a reload."""
    from tests.e2e.helpers import PRODUCT

    job = copy_job_create(
        request=copy_request(
            parts["vault_profile"], "product__v", [PRODUCT], "deep_copy", overrides={"name__v": "Cardiostat undo"}
        ),
        user=owner,
    )
    page = new_page()
    page.add_init_script(RECORD_STATES)
    login(page, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    wait_finished(page)
    parts["fresh_sandbox"].faults("vault").set(latency=0.2)
    page.click("#job-actions a:has-text('Undo copy')")
    page.click("text=Yes, delete the copies")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    states = page.evaluate("window.__states")
    _assert_each_state_holds_together(states, swaps=1)
    end = states[-1]
    assert "badge-succeeded" in end["badge"] and end["copied"] == end["total"] == end["lines_copied"], end
    here, fresh = live_and_reload(page)
    assert here == fresh


@pytest.fixture
def short_waits(monkeypatch):
    """The worker (started after this) waits 2 s after a rate limit, not 15 s."""
    monkeypatch.setenv("JOB_WAIT_FIRST_SECONDS", "2")


def test_live_part_holds_together_through_a_rate_limit_wait(
    parts, new_page, login, live_server, owner, short_waits, rq_worker
):
    sandbox = parts["fresh_sandbox"]
    job, page = _open_job(parts, new_page, login, live_server, owner, latency=0.2)
    sandbox.faults("zoho").set(latency=0.2, p429=1.0)  # from now on every call is refused until cleared
    try:
        expect(page.locator("#job-status-badge .badge")).to_have_text("Waiting", timeout=90_000)
        expect(page.locator("#job-words")).to_have_text(re.compile(r"resumes at \d\d:\d\d:\d\d UTC"))
    finally:
        sandbox.faults("zoho").clear()
    wait_finished(page)
    states = page.evaluate("window.__states")
    _assert_each_state_holds_together(states, swaps=2)
    assert any(s["notice"] for s in states if "badge-waiting" in s["badge"])  # the wait is explained
    end = states[-1]
    assert "badge-succeeded" in end["badge"] and not end["notice"], end  # and its words go with it
    here, fresh = live_and_reload(page)
    assert here == fresh


def test_a_queued_job_cancelled_shows_cancelled_without_the_cancelling_message(
    parts, new_page, login, live_server, owner
):
    # No worker: the queued job ends at once, so its page comes back already ended. "Cancelling:
    # the job stops after the records in flight" is stale there, as beside a cancel that ended live.
    page = new_page()
    login(page, "alice", "alice-pass-123")
    job = copy_job_create(
        request=copy_request(parts["zoho_profile"], "Accounts", [_acme(parts["fresh_sandbox"])], "clone"), user=owner
    )
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    page.click("#job-actions a:has-text('Cancel job')")
    page.click("text=Yes, cancel the job")
    page.wait_for_url(f"**/jobs/{job.code}/")
    expect(page.locator("#job-status-badge .badge")).to_have_text("Cancelled")
    expect(page.locator("body")).to_have_attribute("data-settled", "true")
    assert page.locator("#main > .msg", has_text="Cancelling").count() == 0


def test_an_unchanged_live_part_is_answered_304_to_the_etag_job_js_sends(parts, new_page, login, live_server, owner):
    # No worker: the job stays queued, and its live part the same from poll to poll. The pages
    # are sent "no-store", so only job.js itself can ask with the ETag.
    page = new_page()
    login(page, "alice", "alice-pass-123")
    job = copy_job_create(
        request=copy_request(parts["zoho_profile"], "Accounts", [_acme(parts["fresh_sandbox"])], "clone"), user=owner
    )
    answers = []
    page.on(
        "response",
        lambda r: answers.append((r.status, r.request.headers.get("if-none-match"))) if "/live/" in r.url else None,
    )
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    page.wait_for_timeout(3500)
    assert answers and answers[0] == (200, None), answers
    assert len(answers) >= 2 and all(status == 304 and tag for status, tag in answers[1:]), answers
    expect(page.locator("#job-live")).to_have_attribute("data-finished", "false")


def test_job_js_asks_for_the_rows_of_the_digest_the_live_part_gave(parts, new_page, login, live_server, owner):
    # The rows are kept with the live part by their digest (the job's version may have moved on
    # by the time job.js asks): job.js must send the digest it was given.
    page = new_page()
    login(page, "alice", "alice-pass-123")
    job = copy_job_create(
        request=copy_request(parts["zoho_profile"], "Accounts", [_acme(parts["fresh_sandbox"])], "clone"), user=owner
    )
    digests, asked = [], []
    page.on(
        "response",
        lambda r: (
            digests.extend(re.findall(r'data-rows-version="([^"]+)"', r.text()))
            if "/live/" in r.url and r.status == 200
            else None
        ),
    )
    page.on("request", lambda r: asked.append(r.headers.get("x-rows-digest")) if "/rows/" in r.url else None)
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    page.wait_for_timeout(2500)
    assert digests and asked and asked[0] == digests[0], (digests, asked)
