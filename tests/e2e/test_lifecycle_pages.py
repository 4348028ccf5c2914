"""Issue 13 in a real browser: Confirm disables itself and a double click makes one job; the job
page says why an action is absent."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from records.connectors import connector_for
from records.models import CopyJob
from tests.fixtures.sandbox import small_account

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


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
    # No Undo button (nothing was created), and the page says why instead of hiding it silently.
    status = page.inner_text("#job-status")
    assert "Undo copy: This job created nothing to undo." in status and "Resume" in status
