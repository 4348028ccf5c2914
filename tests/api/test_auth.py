"""Who may call the API (records/api/auth.py, tokens.py) with Django's client: a Bearer token
(only its hash stored), refused when unknown, revoked or expired (401); the read scope refused a
run (403); another user's objects 404; CSRF kept for the browser's session and not asked of a
token; one audit event per token per hour; the throttle per token."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from records.api.tokens import PREFIX, token_hash
from records.models import ApiToken, AuditEvent, CopyJob
from tests.fixtures.api import bearer

pytestmark = pytest.mark.django_db
TEMPLATES = "/api/v1/templates/"


def test_a_token_is_stored_only_as_its_hash_and_its_making_audited(make_token, owner):
    token, secret = make_token(scope="read", name="nightly")
    assert secret.startswith(PREFIX) and len(secret) > 40
    stored = ApiToken.objects.get()
    assert stored.secret_hash == token_hash(secret) and secret not in str(ApiToken.objects.values().get())
    assert stored.prefix == secret[: len(stored.prefix)]
    event = AuditEvent.objects.get(action="api.token.create")
    assert (event.actor, event.details["name"], event.details["scope"]) == (owner, "nightly", "read")
    assert secret not in str(event.details)


def test_a_call_with_its_token_answers_as_its_user(client, make_token):
    _, secret = make_token()
    response = client.get(TEMPLATES, **bearer(secret))
    assert response.status_code == 200 and response.json() == []
    assert "no-store" in response["Cache-Control"]  # a user's data: no proxy keeps it


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "Authentication credentials were not provided."),
        (bearer("rcp_not-a-token"), "Unknown API token."),
        ({"HTTP_AUTHORIZATION": "Bearer two words"}, "Send Authorization: Bearer <token>"),
    ],
)
def test_a_call_without_a_known_token_is_refused_401(client, headers, words):
    response = client.get(TEMPLATES, **headers)
    assert response.status_code == 401
    assert words in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_401_from_then_on(client, make_token, owner):
    token, secret = make_token()
    assert client.get(TEMPLATES, **bearer(secret)).status_code == 200
    token.revoked = timezone.now()
    token.save()
    response = client.get(TEMPLATES, **bearer(secret))
    assert (response.status_code, response.json()["detail"]) == (401, "This API token was revoked.")


def test_an_expired_token_is_refused_401_saying_when_it_expired(client, make_token):
    token, secret = make_token(expires=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(minutes=1))
    response = client.get(TEMPLATES, **bearer(secret))
    assert response.status_code == 401 and "This API token expired on" in response.json()["detail"]


def test_the_token_of_a_disabled_account_is_refused(client, make_token, owner):
    _, secret = make_token()
    owner.is_active = False
    owner.save()
    assert client.get(TEMPLATES, **bearer(secret)).status_code == 401


def test_use_is_audited_once_per_token_per_hour_and_last_use_kept(client, make_token, settings):
    token, secret = make_token()
    for _ in range(3):
        assert client.get(TEMPLATES, **bearer(secret)).status_code == 200
    assert AuditEvent.objects.filter(action="api.token.use").count() == 1
    token.refresh_from_db()
    assert token.last_used is not None
    ApiToken.objects.filter(pk=token.pk).update(use_audited=timezone.now() - timedelta(hours=2))
    client.get(TEMPLATES, **bearer(secret))
    assert AuditEvent.objects.filter(action="api.token.use").count() == 2


def test_a_read_token_is_refused_403_the_job_actions(client, make_token, make_job):
    job = make_job(status=CopyJob.Status.RUNNING, results=2)
    _, secret = make_token(scope="read")
    assert client.get(f"/api/v1/jobs/{job.code}/", **bearer(secret)).status_code == 200
    for action in ("cancel", "resume", "undo"):
        response = client.post(f"/api/v1/jobs/{job.code}/{action}/", **bearer(secret))
        assert response.status_code == 403, action
        assert "run scope" in response.json()["detail"]
    job.refresh_from_db()
    assert not job.cancel_requested


def test_another_users_job_is_404_to_a_token(client, make_token, make_job, other_user):
    job = make_job(status=CopyJob.Status.RUNNING, results=2)
    _, secret = make_token(user=other_user)
    for path in (f"/api/v1/jobs/{job.code}/", f"/api/v1/jobs/{job.code}/results/"):
        assert client.get(path, **bearer(secret)).status_code == 404
    assert client.post(f"/api/v1/jobs/{job.code}/cancel/", **bearer(secret)).status_code == 404
    job.refresh_from_db()
    assert not job.cancel_requested and job.status == CopyJob.Status.RUNNING


def test_a_session_call_keeps_csrf_and_a_token_call_needs_none(make_token, make_job, owner):
    job = make_job(status=CopyJob.Status.RUNNING, results=2)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    refused = browser.post(f"/api/v1/jobs/{job.code}/cancel/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    job.refresh_from_db()
    assert not job.cancel_requested

    _, secret = make_token()
    pipeline = Client(enforce_csrf_checks=True)
    assert pipeline.post(f"/api/v1/jobs/{job.code}/cancel/", **bearer(secret)).status_code == 200
    job.refresh_from_db()
    assert job.cancel_requested


def test_calls_are_throttled_per_token(client, make_token, settings):
    settings.API_THROTTLE_RATE = "2/min"
    _, first = make_token()
    _, second = make_token()
    answers = [client.get(TEMPLATES, **bearer(first)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert client.get(TEMPLATES, **bearer(second)).status_code == 200  # its own count
    assert "Retry-After" in client.get(TEMPLATES, **bearer(first))


def test_the_session_page_and_the_api_share_the_job_rules(client, make_token, make_job):
    """A refused action answers 409 with the rule's words, as the job page says them."""
    job = make_job(status=CopyJob.Status.SUCCEEDED, results=0)
    _, secret = make_token()
    response = client.post(f"/api/v1/jobs/{job.code}/cancel/", **bearer(secret))
    assert (response.status_code, response.json()["detail"]) == (409, "This job has already finished.")
    assert reverse("api_job_cancel", args=[job.code]) == f"/api/v1/jobs/{job.code}/cancel/"
