"""The Content-Security-Policy in a real browser: the check in conftest.py catches a violation, the
pages run none (the `new_page` fixture fails a test on any), and data-driven sizes still apply."""

import pytest

from records.models import CopyJob
from tests.e2e.conftest import watch_csp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _wait_for_violations(page, count, timeout_ms=5_000):
    """Wait until the page has reported `count` violations (CSP_REPORTER counts them), not for a time."""
    page.wait_for_function(f"() => (window.__cspViolations || 0) >= {count}", timeout=timeout_ms)


def test_the_watcher_reports_blocked_inline_script_and_style(browser, live_server):
    context = browser.new_context()
    sink: list[str] = []
    watch_csp(context, sink)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.evaluate("""() => {
            const s = document.createElement("script");
            s.textContent = "window.__ran = true";
            document.body.appendChild(s);
            document.body.setAttribute("style", "background: red");
        }""")
        _wait_for_violations(page, 2)
        assert page.evaluate("window.__ran === undefined")
        text = "\n".join(sink)
        assert "script-src" in text and "style-src" in text, sink
    finally:
        context.close()


def test_pages_run_without_violations_and_bars_keep_their_width(
    new_page, login, live_server, owner, make_job, django_user_model
):
    job = make_job(results=8, status=CopyJob.Status.RUNNING)
    job.results.exclude(source_id__in=["S00001", "S00002"]).update(status="pending")  # 2 of 8 copied
    owner.is_staff = owner.is_superuser = True
    owner.save()
    page = login(new_page(), "alice", "alice-pass-123")
    for path in (
        "/",
        "/profiles/",
        "/profiles/add/",
        "/copy/",
        "/bulk/",
        "/jobs/",
        f"/jobs/{job.code}/",
        f"/jobs/{job.code}/cancel/",
        "/admin/",
        "/admin/records/connectionprofile/",
        "/admin/records/copyjob/",
        "/admin/records/auditevent/",
    ):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    ratio = page.evaluate(
        "(() => { const bar = document.querySelector('#job-status .progress > span');"
        " return bar.getBoundingClientRect().width / bar.parentElement.getBoundingClientRect().width; })()"
    )
    assert abs(ratio - 0.25) < 0.02  # the width comes from a stylesheet class, not an inline style
