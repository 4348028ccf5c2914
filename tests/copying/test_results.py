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


@pytest.mark.django_db
def test_a_batch_of_answers_is_one_statement_storing_each_rows_outcome_and_values(make_job, vault_profile):
    job = make_job(results=6, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, attempts=0, new_id="", candidates=[{"id": "old"}])
    rows = list(job.results.order_by("pk"))
    res.mark_sending(rows)
    for n, row in enumerate(rows):
        row.values = {"name__v": f"Copy {n}", "_unique_tries": [f"Copy {n}"]} if n % 2 else None
        row.candidates = None
        if n < 4:
            res.succeed(row, f"V{n}", f"https://vault.example/ui/#object/product__v/V{n}")
        else:
            res.fail(row, "INVALID_DATA", f"refused {n}")
    with CaptureQueriesContext(connection) as queries:
        res.save(rows)
    # One statement: run for six parameter sets on SQLite (logged "6 times: UPDATE …"), one array a
    # column on PostgreSQL.
    assert len([q for q in queries.captured_queries if "UPDATE" in q["sql"]]) == 1
    stored = {r.pk: r for r in job.results.all()}
    for n, row in enumerate(rows):
        got = stored[row.pk]
        assert (got.status, got.new_id, got.link, got.error_message) == (
            row.status,
            row.new_id,
            row.link,
            row.error_message,
        )
        assert got.values == row.values and got.candidates is None and got.attempts == 1
        assert (got.written_at is not None) == (n < 4)
    assert [stored[r.pk].status for r in rows] == [S.SUCCEEDED] * 4 + [S.FAILED] * 2


@pytest.mark.django_db
def test_a_worker_fenced_out_mid_run_has_both_its_mark_and_its_answers_refused(make_job, vault_profile):
    """The run's fence (set in its thread, not passed) guards the SENDING mark and the answers
    alike: once another worker holds the job, neither lands."""
    job = make_job(results=4, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, attempts=0, new_id="")
    first = lifecycle.claim(job_id=job.pk, worker_id="w1", lease_seconds=0)
    assert first is not None
    token = lifecycle.current_fence.set(first)
    try:
        rows = list(job.results.order_by("pk"))
        res.mark_sending(rows[:2])  # still the job's holder: marked
        assert lifecycle.claim(job_id=job.pk, worker_id="w2", lease_seconds=60)  # the lease ran out
        with pytest.raises(lifecycle.LeaseLost):
            res.mark_sending(rows[2:])
        for n, row in enumerate(rows[:2]):
            res.succeed(row, f"V{n}")
        with pytest.raises(lifecycle.LeaseLost):
            res.save(rows[:2])
    finally:
        lifecycle.current_fence.reset(token)
    stored = dict(job.results.order_by("pk").values_list("pk", "status"))
    assert list(stored.values()) == [S.SENDING, S.SENDING, S.PENDING, S.PENDING]
    assert set(job.results.values_list("new_id", flat=True)) == {""}
