"""A job's results as CSV (records/web/views/job_csv.py): streamed in pieces of many rows, the job
read without its JSON columns or its profile, and only by someone who may see the job."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.web.views import job_csv

pytestmark = pytest.mark.django_db


def test_the_csv_comes_in_a_few_pieces_from_a_few_reads(owner_client, make_job):
    total = job_csv.READ_ROWS + 20
    job = make_job(results=total)
    with CaptureQueriesContext(connection) as queries:
        pieces = list(owner_client.get(reverse("job_results_csv", args=[job.code])).streaming_content)
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == [f"S{i:05d}" for i in range(total)], "each once, in order"
    assert len(pieces) == -(-total // job_csv.CHUNK_ROWS), "a piece of CHUNK_ROWS lines, not one a row"
    reads = [q["sql"] for q in queries if 'FROM "records_recordresult"' in q["sql"]]
    assert len(reads) == 2, "READ_ROWS a query"


def test_the_csv_reads_the_job_without_its_state_or_profile(owner_client, make_job):
    job = make_job(results=3)
    with CaptureQueriesContext(connection) as queries:
        b"".join(owner_client.get(reverse("job_results_csv", args=[job.code])).streaming_content)
    job_reads = [q["sql"] for q in queries if 'FROM "records_copyjob"' in q["sql"]]
    assert job_reads and all('"state"' not in sql and "connectionprofile" not in sql for sql in job_reads)


def test_another_users_job_has_no_csv(make_job, django_user_model):
    job = make_job(results=3)
    stranger = Client()
    stranger.force_login(django_user_model.objects.create_user("stranger", password="x"))
    assert stranger.get(reverse("job_results_csv", args=[job.code])).status_code == 404
