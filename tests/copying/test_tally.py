"""A run's heartbeat writes the job's progress counters from the rows the run wrote (tally.py),
the same as a recount, without recounting the job's rows at every beat."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.connectors import connector_for
from records.copying import lifecycle
from records.copying import results as res
from records.copying.run_context import RunContext
from records.models import CopyJob, RecordResult

S = RecordResult.Status


@pytest.mark.django_db
def test_the_heartbeat_counts_the_rows_written_since_without_recounting(make_job, vault_profile):
    job = make_job(results=10, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING, new_id="", error_type="", error_message="")
    fence = lifecycle.claim(job_id=job.pk, worker_id="w")
    context = RunContext.for_job(job, connector_for(vault_profile), fence)
    context.heartbeat()
    assert (job.planned_count, job.succeeded_count, job.failed_count) == (10, 0, 0)
    rows = list(job.results.order_by("pk"))
    res.mark_sending(rows[:3])
    res.succeed(rows[0], "N1")
    res.succeed(rows[1], "N2")
    res.fail(rows[2], "INVALID_DATA", "Name must be unique")
    res.save(rows[:3])
    res.fail(rows[1], "INVALID_DATA", "again")  # failed after all (a later answer): counted once
    res.save([rows[1]])
    with CaptureQueriesContext(connection) as queries:
        context.heartbeat()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    job.refresh_from_db()
    assert (job.planned_count, job.succeeded_count, job.failed_count) == (10, 1, 2)
    lifecycle.refresh_counts(job)  # what a recount says
    assert (job.planned_count, job.succeeded_count, job.failed_count) == (10, 1, 2)


@pytest.mark.django_db
def test_rows_of_another_job_written_in_the_run_are_not_counted(make_job, vault_profile):
    job = make_job(results=4, status=CopyJob.Status.QUEUED, profile=vault_profile)
    other = make_job(results=4, status=CopyJob.Status.QUEUED, profile=vault_profile)
    job.results.update(status=S.PENDING)
    context = RunContext.for_job(job, connector_for(vault_profile), lifecycle.claim(job_id=job.pk, worker_id="w"))
    context.heartbeat()
    row = other.results.filter(status=S.SUCCEEDED).first()
    res.fail(row, "X", "y")
    res.save([row], fence=None)
    context.heartbeat()
    job.refresh_from_db()
    assert (job.planned_count, job.succeeded_count, job.failed_count) == (4, 0, 0)


@pytest.mark.django_db
def test_a_runs_tally_ends_with_the_run(zoho, owner):
    """The tally a run sets in its thread (at its first beat) is let go when the run ends: the
    worker's next job in the thread starts without it."""
    from records.copying import tally
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    _sb, profile, conn = zoho
    acme = next(r.id for r in conn.search("Accounts", "Acme Corp").records if r.name == "Acme Corp")
    request = copy_request(profile, "Accounts", [acme], "deep_copy", overrides={"Account_Name": "Tally Co"})
    job = copy_job_create(request=request, user=owner, enqueue=False)
    job = copy_job_run(job_id=job.pk, worker_id="tally")
    assert job.status == "succeeded", job.error_summary
    assert job.planned_count > 0  # the run beat, and so set its tally
    assert tally.current_tally.get() is None  # was the run's tally, kept in the thread


@pytest.mark.parametrize("pks", [[10, 11, 12, 13], [10, 500, 9000, 70000]])
def test_the_tally_counts_rows_with_ids_close_together_or_spread_out(pks):
    """A byte a row by its id's offset when a job's ids are close (as its rows are inserted
    together), a dict when they are spread out: the same counts either way."""
    from types import SimpleNamespace

    from records.copying.tally import Tally

    t = Tally(1, [(pk, S.PENDING) for pk in pks])
    t.saw([SimpleNamespace(id=pks[0], status=S.SUCCEEDED), SimpleNamespace(id=pks[1], status=S.FAILED)])
    t.saw([SimpleNamespace(id=pks[1], status=S.SUCCEEDED), SimpleNamespace(id=99999, status=S.FAILED)])
    assert t.counts() == (4, 2, 0)  # a row of another job (99999) not counted


def _interleaved_jobs(make_job, profile, rows: int) -> tuple[CopyJob, CopyJob]:
    """Two jobs whose rows were inserted in turn, so each job's ids have gaps (the other's rows)."""
    job = make_job(profile=profile)
    other = make_job(profile=profile)
    statuses = [S.PENDING, S.SENDING, S.SUCCEEDED, S.FAILED, S.REVIEW]
    RecordResult.objects.bulk_create(
        RecordResult(job=(job, other)[i % 2], object_name="Accounts", source_id=f"s{i}", status=statuses[i % 5])
        for i in range(rows)
    )
    return job, other


@pytest.mark.django_db
def test_the_tally_read_from_the_database_has_each_rows_status_with_gaps_in_ids(make_job, vault_profile):
    from records.copying.tally import Tally

    job, other = _interleaved_jobs(make_job, vault_profile, 60)
    job.results.filter(pk__in=list(job.results.order_by("pk").values_list("pk", flat=True)[3:9])).delete()
    t = Tally.of(job)
    kept = dict(job.results.values_list("pk", "status"))
    assert {pk: t.status(pk) for pk in kept} == kept
    assert all(t.status(pk) is None for pk in other.results.values_list("pk", flat=True))
    assert t.counts() == (len(kept), list(kept.values()).count(S.SUCCEEDED), list(kept.values()).count(S.FAILED))


@pytest.mark.django_db
def test_reading_the_tally_builds_no_dict_of_every_row(make_job, vault_profile):
    """At a run's first beat the job's statuses go from the query's chunks into a byte a row: a
    dict of 20,000 ids and statuses (~2 MB with its ints and strings) never exists."""
    import tracemalloc

    from records.copying.tally import Tally

    job = make_job(profile=vault_profile)
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="Accounts", source_id=f"s{i}", status=S.PENDING) for i in range(20_000)
    )
    tracemalloc.start()
    try:
        t = Tally.of(job)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert t.counts() == (20_000, 0, 0)
    assert peak < 1_000_000, peak
