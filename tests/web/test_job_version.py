"""A job's version (records/web/job_version.py): the polled live part of an unchanged job is an
empty 304 from one query besides the session and the user; anything the page shows of the job's
row or its results moves it; an ETag ages out after two windows, so what the version leaves out
(a profile's sharing, the clock) is looked at again."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.models import CopyJob, RecordResult
from records.web import job_version

pytestmark = pytest.mark.django_db


def _live(client, job, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("job_live", args=[job.code]), headers=headers)
    return response, len(queries)


def test_an_unchanged_live_part_is_a_304_from_one_query_besides_session_and_user(owner_client, make_job):
    job = make_job(results=300, status=CopyJob.Status.RUNNING)
    first, rendered = _live(owner_client, job)
    again, asked = _live(owner_client, job, first["ETag"])
    assert first.status_code == 200 and again.status_code == 304
    assert asked == 3 < rendered, "session, user, the job's version"
    assert again["ETag"] == first["ETag"] and again.content == b""


@pytest.mark.parametrize(
    "change",
    [
        {"cancel_requested": True},
        {"status": CopyJob.Status.WAITING},
        {"error_summary": "Rate limited; waiting"},
        {"state": {"budget": {"left": 10}}},
        {"state": {"roots": {"P1": {"phase": "polling", "remote_job_id": "7", "polls": 2}}}},
    ],
)
def test_a_change_of_the_jobs_row_is_a_new_live_part(owner_client, make_job, change):
    job = make_job(results=20, status=CopyJob.Status.RUNNING)
    etag = _live(owner_client, job)[0]["ETag"]
    CopyJob.objects.filter(pk=job.pk).update(**change)
    moved, _ = _live(owner_client, job, etag)
    assert moved.status_code == 200 and moved["ETag"] != etag


def test_a_row_whose_outcome_moved_is_a_new_live_part(owner_client, make_job):
    job = make_job(results=20, status=CopyJob.Status.RUNNING)
    etag = _live(owner_client, job)[0]["ETag"]
    row = RecordResult.objects.filter(job=job, status=RecordResult.Status.SUCCEEDED).first()
    RecordResult.objects.filter(pk=row.pk).update(status=RecordResult.Status.FAILED)
    assert _live(owner_client, job, etag)[0].status_code == 200


def test_the_heartbeat_alone_does_not_move_the_version(owner, make_job):
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    before = job_version.job_version(owner, job.code)
    CopyJob.objects.filter(pk=job.pk).update(heartbeat_at="2026-12-06T12:00:00Z", lease_owner="w1")
    assert job_version.job_version(owner, job.code) == before


def test_an_etag_two_windows_old_is_answered_in_full(owner, owner_client, make_job):
    job = make_job(results=5, status=CopyJob.Status.RUNNING)
    version = job_version.job_version(owner, job.code)
    last = f'"{version}.{job_version.window() - 1}"'
    older = f'"{version}.{job_version.window() - 2}"'
    assert _live(owner_client, job, last)[0].status_code == 304
    assert _live(owner_client, job, older)[0].status_code == 200


def test_someone_elses_job_has_no_version(other_user, make_job):
    job = make_job(results=5)
    assert job_version.job_version(other_user, job.code) is None


def test_each_ask_is_answered_for_its_own_job_and_user(owner, other_user, make_job):
    """The requester's query is compiled once per process; each ask still reads its own job."""
    mine = make_job(results=3, status=CopyJob.Status.RUNNING)
    theirs = make_job(user=other_user, results=3, status=CopyJob.Status.RUNNING)
    before_mine, before_theirs = (
        job_version.job_version(owner, mine.code),
        job_version.job_version(other_user, theirs.code),
    )
    assert before_mine and before_theirs and before_mine != before_theirs
    RecordResult.objects.filter(job=theirs).update(status=RecordResult.Status.FAILED)
    with CaptureQueriesContext(connection) as queries:
        assert job_version.job_version(owner, str(mine.code)) == before_mine, "the code as text is the same job"
    assert len(queries) == 1, "the requester's own query found it"
    assert job_version.job_version(other_user, theirs.code) not in (None, before_theirs)
    assert job_version.job_version(owner, theirs.code) is None
    assert job_version.job_version(other_user, mine.code) is None


ROWS_VERSION = re.compile(r'data-rows-version="([0-9a-f]+)"')


def _rows_version(owner_client, job):
    response, _ = _live(owner_client, job)
    assert response.status_code == 200
    return ROWS_VERSION.search(response.content.decode()).group(1)


def test_the_live_parts_rows_digest_moves_with_the_first_rows_only(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)  # 50 rows on the table's first page
    first = _rows_version(owner_client, job)
    pending = {"status": RecordResult.Status.PENDING, "new_id": ""}
    RecordResult.objects.filter(job=job, source_id="S00101").update(**pending)  # a later page's row
    assert _rows_version(owner_client, job) == first, "the counts moved, the first rows did not"
    RecordResult.objects.filter(job=job, source_id="S00001").update(**pending)
    assert _rows_version(owner_client, job) != first
