"""CSRF: every URL that accepts a POST refuses one without a token (403) and changes nothing.

The URLconf is walked like tests/site/test_access.py does, filled with the logged-in user's own
profile and job so that a missing CSRF check can't hide behind a 404."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from records.models import AuditEvent, ConnectionProfile, CopyJob

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield p.name or "", prefix + str(p.pattern)


def _fill(route: str, values: dict) -> str:
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: values.get(m.group(2), "1"), route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)\??", lambda m: values.get(m.group(1), "1"), route)
    return "/" + route.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")


@pytest.fixture
def world(staff, make_profile, make_job):
    profile = make_profile(name="Mine", user=staff)
    job = make_job(user=staff, profile=profile, results=2, status=CopyJob.Status.RUNNING)
    return {
        "code": str(profile.code),
        "profile_code": str(profile.code),
        "object_name": "product__v",
        "record_id": "P100",
        "draft_id": "x",
        "object_id": str(profile.pk),
        "app_label": "records",
        "content_type_id": "1",
        "_job": job,
        "_profile": profile,
    }


def _urls(world):
    for name, route in sorted(set(_walk(get_resolver().url_patterns))):
        values = dict(world)
        if name.startswith("job_"):
            values["code"] = str(world["_job"].code)
        yield name, _fill(route, values)


def test_every_post_without_a_token_is_refused(staff, world, fake_connector):
    """A superuser so that every admin page is reachable; the CSRF check runs before any view."""
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(staff)
    relaxed = Client()
    relaxed.force_login(staff)
    checked = []
    for name, url in _urls(world):
        if name in ("logout",):
            continue
        response = csrf.post(url, {"name": "changed", "action": "delete_selected", "post": "yes"})
        if response.status_code == 403:
            checked.append(url)
            continue
        # Not refused: only acceptable if the URL doesn't take POSTs at all (or doesn't exist for these ids).
        assert response.status_code in (404, 405), f"POST {url} ({name}) without CSRF answered {response.status_code}"
        assert relaxed.post(url).status_code in (404, 405), f"{url} takes POSTs but was not CSRF-checked"
    # The walk reached the app's actions and the admin.
    assert any("/cancel/" in u for u in checked) and any("/profiles/add/" in u for u in checked)
    assert any(u.startswith("/admin/") for u in checked) and len(checked) > 20, checked
    job, profile = world["_job"], world["_profile"]
    job.refresh_from_db()
    assert job.cancel_requested is False and job.status == CopyJob.Status.RUNNING
    assert ConnectionProfile.objects.filter(pk=profile.pk, name="Mine").exists()
    assert not AuditEvent.objects.exists()


def test_login_and_logout_need_a_token_too(owner):
    csrf = Client(enforce_csrf_checks=True)
    assert csrf.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"}).status_code == 403
    csrf.force_login(owner)
    assert csrf.post("/accounts/logout/").status_code == 403
    assert csrf.get("/jobs/").status_code == 200  # still logged in
