"""A run's heartbeat, called after every batch: the progress written from the run's tally, the job's
rows read once (a recount a batch read every row of the job: it grew with the square of the
records), the same from N rows to 2N; a cancel request seen at every call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import lifecycle
from records.copying.lifecycle import Cancelled
from records.copying.run_context import RunContext
from records.models import ConnectionProfile, CopyJob, RecordResult
from tests.fixtures.engine import MemoryConnector

pytestmark = pytest.mark.django_db
BATCHES = 200


def running_job(owner, rows: int) -> RunContext:
    profile = ConnectionProfile.objects.create(
        name="Memory", system="zoho", base_url="https://www.zohoapis.eu", username="x", owner=owner
    )
    job = CopyJob.objects.create(
        profile=profile, object_name="Accounts", mode=CopyJob.Mode.DEEP_COPY, requested_by=owner
    )
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="Contacts", source_id=f"c{i}", depth=1) for i in range(rows)
    )
    fence = lifecycle.claim(job_id=job.pk, worker_id="test")
    return RunContext.for_job(job, MemoryConnector(), fence)


@pytest.mark.parametrize("rows", [10_000, 20_000])
def test_a_heartbeat_a_batch_reads_the_jobs_rows_once_whatever_their_number(owner, rows):
    context = running_job(owner, rows)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(BATCHES):
            context.heartbeat()
    reads = [q["sql"] for q in captured.captured_queries if "records_recordresult" in q["sql"]]
    assert len(reads) == 1, reads[:3]
    assert context.job.planned_count == rows  # the first heartbeat counted


def test_a_cancel_is_seen_at_the_next_heartbeat_between_beats(owner):
    context = running_job(owner, 3)
    context.heartbeat()
    CopyJob.objects.filter(pk=context.job.pk).update(cancel_requested=True)
    with pytest.raises(Cancelled):
        context.heartbeat()
