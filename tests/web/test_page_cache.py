"""The job page's rendering kept for a few seconds (records/web/page_cache.py): many people opening
the same job's page in the same second cost one render, each with its own CSRF token; a change
of the job or its results renders it anew; filtered pages and PAGE_CACHE_SECONDS=0 are not kept."""

import hashlib
import re
import threading

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.models import CopyJob, RecordResult
from records.web.page_cache import CSRF_SLOT

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _get(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_same_job_page_opened_again_costs_only_the_jobs_version(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)
    url = reverse("job_detail", args=[job.code])
    first, rendered = _get(owner_client, url)
    again, kept = _get(owner_client, url)
    assert kept == 3, "session, user, the job's version (its row and result counts in one query)"
    assert kept < rendered
    assert TOKEN.sub("", again) == TOKEN.sub("", first)
    assert CSRF_SLOT not in again


def test_a_kept_page_carries_a_working_csrf_token_of_its_own(owner, make_job):
    job = make_job(results=3)
    url = reverse("job_detail", args=[job.code])
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(owner)
    second.force_login(owner)
    first.get(url)
    body = second.get(url).content.decode()  # the kept rendering
    token = TOKEN.search(body).group(1)
    assert CSRF_SLOT not in body and token != CSRF_SLOT
    response = second.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302, "the kept page's token is accepted"


def test_a_job_whose_results_moved_is_rendered_anew(owner_client, make_job):
    job = make_job(results=10, status=CopyJob.Status.RUNNING)
    url = reverse("job_detail", args=[job.code])
    _get(owner_client, url)
    RecordResult.objects.filter(job=job, status=RecordResult.Status.FAILED).update(status=RecordResult.Status.SUCCEEDED)
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.SUCCEEDED)
    body, rendered = _get(owner_client, url)
    assert rendered > 3
    assert 'data-finished="true"' in body


def test_a_filtered_page_is_rendered_each_time(owner_client, make_job):
    job = make_job(results=20)
    url = reverse("job_detail", args=[job.code])
    _, first = _get(owner_client, url, {"outcome": "failed"})
    _, again = _get(owner_client, url, {"outcome": "failed"})
    assert again == first > 3


def test_no_page_is_kept_when_the_setting_is_zero(owner_client, make_job, settings):
    settings.PAGE_CACHE_SECONDS = 0
    job = make_job(results=20)
    url = reverse("job_detail", args=[job.code])
    _, first = _get(owner_client, url)
    _, again = _get(owner_client, url)
    assert again == first > 3


def test_the_live_part_polled_again_costs_only_the_jobs_version(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)
    url = reverse("job_live", args=[job.code])
    _, rendered = _get(owner_client, url)
    _, kept = _get(owner_client, url)
    assert kept == 3 < rendered


def test_the_live_part_has_one_etag_whatever_the_session(owner, make_job):
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    url = reverse("job_live", args=[job.code])
    first, second = Client(), Client()
    first.force_login(owner)
    second.force_login(owner)
    etag = first.get(url)["ETag"]
    assert second.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_the_tables_first_rows_fetched_again_cost_no_rows_query(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)
    url = reverse("job_rows", args=[job.code])
    first, rendered = _get(owner_client, url)
    again, kept = _get(owner_client, url)
    assert kept == 3 < rendered and again == first
    RecordResult.objects.filter(job=job, source_id="S00000").update(new_id="", status=RecordResult.Status.PENDING)
    moved, _ = _get(owner_client, url)
    assert moved != first, "a row whose outcome moved is shown"


def test_the_rows_the_live_part_digested_are_fetched_without_a_rows_query(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)
    owner_client.get(reverse("job_live", args=[job.code]))
    rows, queries = _get(owner_client, reverse("job_rows", args=[job.code]))
    assert queries == 3, "session, user, the job's version: the rows were rendered with the live part"
    assert rows.count("<tr") == 50


def test_the_rows_kept_by_one_users_live_part_are_not_another_users(owner, make_job, django_user_model):
    job = make_job(results=20, status=CopyJob.Status.RUNNING)
    owner_session, stranger_session = Client(), Client()
    owner_session.force_login(owner)
    stranger_session.force_login(django_user_model.objects.create_user("stranger", password="x"))
    assert owner_session.get(reverse("job_live", args=[job.code])).status_code == 200
    assert stranger_session.get(reverse("job_rows", args=[job.code])).status_code == 404


def _digest(body):
    return re.search(r'data-rows-version="([^"]+)"', body).group(1)


def test_the_rows_of_the_digest_asked_are_those_the_live_part_gave_though_the_job_moved(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)
    digest = _digest(owner_client.get(reverse("job_live", args=[job.code])).content.decode())
    CopyJob.objects.filter(pk=job.pk).update(succeeded_count=F("succeeded_count") + 1)  # a new version
    url = reverse("job_rows", args=[job.code])
    with CaptureQueriesContext(connection) as queries:
        rows = owner_client.get(url, headers={"X-Rows-Digest": digest}).content.decode()
    assert len(queries) == 3, "session, user, the job's version: no rows read"
    assert hashlib.blake2b(rows.encode(), digest_size=8).hexdigest() == digest
    _, rendered = _get(owner_client, url)
    assert rendered > 3, "without the digest: the rows of the job's version now"


def test_a_digest_never_brings_another_users_rows(owner, make_job, django_user_model):
    job = make_job(results=20, status=CopyJob.Status.RUNNING)
    stranger = django_user_model.objects.create_user("stranger", password="x")
    theirs = make_job(user=stranger, results=3, status=CopyJob.Status.RUNNING)
    mine, their_client = Client(), Client()
    mine.force_login(owner)
    their_client.force_login(stranger)
    digest = _digest(mine.get(reverse("job_live", args=[job.code])).content.decode())
    asked = {"X-Rows-Digest": digest}
    assert their_client.get(reverse("job_rows", args=[job.code]), headers=asked).status_code == 404
    body = their_client.get(reverse("job_rows", args=[theirs.code]), headers=asked).content.decode()
    assert body.count("<tr") == 3


def test_while_a_new_state_renders_a_client_with_the_previous_one_is_given_it(owner, rf):
    from records.web import page_cache

    def ask(state, render, has=""):
        made = rf.get("/jobs/x/live/")
        made.user, made.session = owner, {}
        return page_cache.kept_or_previous(made, state=state, render=render, take=lambda s: s == has)

    assert ask("v1", lambda _: "one") == ("v1", "one")
    started, finish = threading.Event(), threading.Event()

    def slow(_):
        started.set()
        finish.wait(5)
        return "two"

    rendering = threading.Thread(target=ask, args=("v2", slow))
    rendering.start()
    assert started.wait(5)
    try:
        assert ask("v2", lambda _: "never", has="v1") == ("v1", "one"), "the client's own: not kept waiting"
        waited = []
        other = threading.Thread(target=lambda: waited.append(ask("v2", lambda _: "never", has="v0")))
        other.start()
        other.join(0.3)
        assert other.is_alive() and not waited, "a client without it waits for the new one"
    finally:
        finish.set()
        rendering.join(5)
    other.join(5)
    assert waited == [("v2", "two")]
