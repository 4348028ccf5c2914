"""Result rows marked SENDING before a remote write (results.mark_sending): every row committed
with its attempt, in one statement per group, and nothing written once the lease is lost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import lifecycle
from records.copying import results as res
from records.models import CopyJob, RecordResult

S = RecordResult.Status


@pytest.mark.django_db
def test_marking_a_batch_sending_commits_each_rows_attempt_in_one_statement_a_group(make_job, vault_profile):
    job = make_job(results=600, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, attempts=0)
    job.results.filter(pk__in=list(job.results.values_list("pk", flat=True)[:5])).update(attempts=2)
    fence = lifecycle.claim(job_id=job.pk, worker_id="w")
    rows = list(job.results.order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        res.mark_sending(rows, fence=fence)
    updates = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 3  # attempts 3: one group; attempts 1: 595 rows, two of at most 500 ids
    stored = {r.pk: r for r in job.results.all()}
    assert all(stored[r.pk].status == S.SENDING for r in rows)
    assert all(stored[r.pk].attempts == r.attempts for r in rows)
    assert sorted({r.attempts for r in rows}) == [1, 3]
    assert all(stored[r.pk].sending_at is not None for r in rows)


@pytest.mark.django_db
def test_a_lost_lease_marks_nothing_sending(make_job, vault_profile):
    job = make_job(results=3, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING)
    first = lifecycle.claim(job_id=job.pk, worker_id="w1", lease_seconds=0)
    assert lifecycle.claim(job_id=job.pk, worker_id="w2", lease_seconds=60)
    with pytest.raises(lifecycle.LeaseLost):
        res.mark_sending(list(job.results.all()), fence=first)
    assert not job.results.filter(status=S.SENDING).exists()
