"""Result rows written by the run's thread (results.py): the SENDING mark before a remote write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import lifecycle
from records.copying import results as res
from records.models import CopyJob, RecordResult

S = RecordResult.Status


def _updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("UPDATE")]


@pytest.mark.django_db
def test_a_batch_is_marked_sending_by_one_statement_per_attempt_count(make_job, vault_profile):
    job = make_job(results=700, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, attempts=0)
    rows = list(job.results.order_by("pk"))
    for row in rows[:50]:
        row.attempts = 2  # sent before (a lost answer, reconciled): its count goes on
    with CaptureQueriesContext(connection) as queries:
        res.mark_sending(rows)
    # 50 rows at their third attempt, 650 at their first: 500 ids a statement.
    assert len(_updates(queries)) == 3
    stored = dict(job.results.values_list("pk", "attempts"))
    assert {stored[r.pk] for r in rows[:50]} == {3} and {stored[r.pk] for r in rows[50:]} == {1}
    assert set(job.results.values_list("status", flat=True)) == {S.SENDING}
    assert job.results.filter(sending_at__isnull=True).count() == 0
    assert all(r.status == S.SENDING and r.sending_at is not None for r in rows)


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_marks_nothing(make_job, vault_profile):
    job = make_job(results=4, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, attempts=0)
    fence = lifecycle.claim(job_id=job.pk, worker_id="w")
    assert fence is not None
    CopyJob.objects.filter(pk=job.pk).update(lease_generation=fence.generation + 1)  # another worker's now
    with pytest.raises(lifecycle.LeaseLost):
        res.mark_sending(list(job.results.all()), fence=fence)
    assert set(job.results.values_list("status", flat=True)) == {S.PENDING}
