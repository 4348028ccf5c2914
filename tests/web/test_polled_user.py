"""The polled pages' signed-in user kept a few seconds per process (records/web/polled_user.py):
a poll costs the session and the job's version, never another user's answer; a logout ends the
next poll; a user made inactive is refused once the seconds are over, and at once on every page
that is not polled and on a user saved in this process."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.models import CopyJob
from records.web import polled_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept(settings):
    settings.POLLED_USER_SECONDS = 5  # production's default (the test settings turn it off)
    polled_user.forget()
    yield
    polled_user.forget()


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_second_poll_costs_the_session_and_the_jobs_version(owner_client, make_job):
    job = make_job(results=20, status=CopyJob.Status.RUNNING)
    url = reverse("job_live", args=[job.code])
    owner_client.get(url)
    response, queries = _queries(owner_client, url)
    assert response.status_code == 200 and queries == 2, "no query for the user"


def test_another_users_poll_is_answered_as_that_user(owner, make_job, django_user_model):
    job = make_job(results=20, status=CopyJob.Status.RUNNING)
    stranger = django_user_model.objects.create_user("stranger", password="x")
    theirs = make_job(user=stranger, results=3, status=CopyJob.Status.RUNNING)
    mine, their_client = _signed_in(owner), _signed_in(stranger)
    for url in (reverse("job_live", args=[job.code]), reverse("job_rows", args=[job.code])):
        assert mine.get(url).status_code == 200
        assert mine.get(url).status_code == 200  # kept now
        assert their_client.get(url).status_code == 404
    body = their_client.get(reverse("job_rows", args=[theirs.code])).content.decode()
    assert body.count("<tr") == 3, "their own job's rows, not the kept ones of the owner's"


def test_a_logout_ends_the_next_poll(owner_client, make_job):
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    url = reverse("job_live", args=[job.code])
    assert owner_client.get(url).status_code == 200
    owner_client.logout()
    assert owner_client.get(url).status_code == 302, "to the login page"


def test_a_user_made_inactive_elsewhere_is_refused_once_the_seconds_are_over(owner, make_job, settings):
    settings.POLLED_USER_SECONDS = 0.3
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    client, url = _signed_in(owner), reverse("job_live", args=[job.code])
    assert client.get(url).status_code == 200
    type(owner).objects.filter(pk=owner.pk).update(is_active=False)  # another process: no signal here
    assert client.get(url).status_code == 200, "the documented lag: kept for the seconds"
    assert client.get(reverse("job_list")).status_code == 302, "a page that is not polled reads the user"
    time.sleep(0.4)
    assert client.get(url).status_code == 302


def test_a_user_saved_in_this_process_is_read_again_at_once(owner, make_job):
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    client, url = _signed_in(owner), reverse("job_live", args=[job.code])
    assert client.get(url).status_code == 200
    owner.is_active = False
    owner.save()
    assert client.get(url).status_code == 302


def test_nothing_is_kept_when_the_setting_is_zero(owner_client, make_job, settings):
    settings.POLLED_USER_SECONDS = 0
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    url = reverse("job_live", args=[job.code])
    owner_client.get(url)
    _, queries = _queries(owner_client, url)
    assert queries == 3, "session, user, the job's version"
