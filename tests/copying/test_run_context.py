"""A run's heartbeat, called after every batch: the progress recounted paced by its own cost (a
recount reads every row of the job: one a batch grew with the square of the records), so its share
of the run stays flat from N rows to 2N; a cancel request seen at every call."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import lifecycle
from records.copying.lifecycle import Cancelled
from records.copying.run_context import RECOUNT_SHARE, RunContext
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


def _recount_seconds(queries: list[dict]) -> list[float]:
    return [float(q["time"]) for q in queries if "COUNT(" in q["sql"] and "records_recordresult" in q["sql"]]


@pytest.mark.parametrize("rows", [10_000, 20_000])
def test_a_heartbeat_a_batch_spends_a_flat_share_of_the_run_recounting(owner, rows):
    context = running_job(owner, rows)
    start = time.monotonic()
    with CaptureQueriesContext(connection) as captured:
        for _ in range(BATCHES):
            context.heartbeat()
    elapsed = time.monotonic() - start
    spent = _recount_seconds(captured.captured_queries)
    # Each recount waits for 1 / RECOUNT_SHARE times what the last one took (the last may end the loop).
    assert 1 <= len(spent) < BATCHES
    assert sum(spent) <= RECOUNT_SHARE * elapsed + max(spent) + 0.002, (len(spent), sum(spent), elapsed)
    assert context.job.planned_count == rows  # the first heartbeat counted


def test_a_cancel_is_seen_at_the_next_heartbeat_between_beats(owner):
    context = running_job(owner, 3)
    context.heartbeat()
    CopyJob.objects.filter(pk=context.job.pk).update(cancel_requested=True)
    with pytest.raises(Cancelled):
        context.heartbeat()
