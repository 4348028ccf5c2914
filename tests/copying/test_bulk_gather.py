"""A bulk level sent a piece at a time (a tree too large for the pipeline) is gathered into jobs of
up to the system's job size, not a job a piece: the run makes the jobs the preview counted
(level_paths.bulk_spend) and is charged what the preview showed; every row written once."""

from __future__ import annotations

import math

import pytest

from records.copying.bulk_gather import BulkGather
from records.copying.bulk_writes import JobBulkLedger, settle_stored_jobs
from records.copying.level_paths import bulk_spend
from records.copying.reconcile import Sent
from records.copying.write import BatchWriter
from records.models import RecordResult
from tests.fixtures.bulk_system import JOB_CREDITS, BulkSystem, level_context

pytestmark = pytest.mark.django_db
S = RecordResult.Status
PIECE = 10


def gather_in_pieces(context, ledger, rows):
    """What the run does per piece of a bulk level: settle the stored jobs, then gather its rows."""
    writer = BatchWriter(context)
    gather = BulkGather(context, ledger, lambda jobs: writer.send_all(jobs, context.heartbeat), 25)
    for start in range(0, len(rows), PIECE):
        piece = rows[start : start + PIECE]
        settle_stored_jobs(context, ledger, "Contacts", piece)
        gather.add("Contacts", piece, Sent(payloads={r.pk: {"Copy_Key": r.idempotency_key} for r in piece}))
    gather.flush()


@pytest.mark.parametrize("pieces", [5, 6])
def test_a_level_sent_in_pieces_makes_a_job_per_job_size_rows_as_the_preview_counted(owner, pieces):
    system = BulkSystem(job_size=25)
    context, rows = level_context(owner, system, pieces * PIECE)
    gather_in_pieces(context, JobBulkLedger(context), rows)

    made = [len(outcomes) for outcomes in system.outcomes.values()]
    assert len(made) == math.ceil(pieces * PIECE / 25)  # 2 at 5 pieces, 3 at 6 (was a job a piece)
    assert max(made) == 25 and sum(made) == pieces * PIECE
    level = {"count": pieces * PIECE, "write": {"path": "bulk", "bulk_credits": len(made) * JOB_CREDITS}}
    spend = bulk_spend([level], batch_size=system.batch_size, job_size=system.bulk_batch_size)
    assert spend.jobs == len(made) and system.credits == spend.cost
    saved = RecordResult.objects.filter(pk__in=[r.pk for r in rows])
    assert {r.status for r in saved} == {S.SUCCEEDED}
    assert sorted(saved.values_list("new_id", flat=True)) == sorted(f"new-{r.idempotency_key}" for r in rows)
    assert len(context.job.state["bulk_jobs"]) == len(made)  # every job's id stored
