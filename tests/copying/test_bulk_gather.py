"""A bulk level sent a piece at a time (a tree too large for the pipeline) is gathered into jobs of
up to the system's job size, not a job a piece: the run makes the jobs the preview counted
(level_paths.bulk_spend) and is charged what the preview showed; every row written once."""

from __future__ import annotations

import gc
import math
import weakref

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


def _payload_of(o, keys):
    """One of this test's payloads (not another test's dict with that field name, nor a dead weak
    proxy another test left in the same worker: type() does not follow it, isinstance would)."""
    return type(o) is dict and isinstance(key := o.get("Copy_Key"), str) and key in keys


def test_rows_waiting_for_their_job_are_held_by_id_and_their_payloads_in_a_file(owner):
    """While a job gathers, neither its rows' model instances nor their payload dicts stay in
    memory (25,000 of each at Zoho's job size); the job sends what the run set on the rows."""
    system = BulkSystem(job_size=25)
    context, rows = level_context(owner, system, 20)
    ledger, writer = JobBulkLedger(context), BatchWriter(context)
    gather = BulkGather(context, ledger, lambda jobs: writer.send_all(jobs, context.heartbeat), 25)
    for row in rows:
        row.values = {"Last_Name": f"name of {row.source_id}"}  # set by the run, saved with the outcome
    alive = [weakref.ref(r) for r in rows]
    pks, keys = [r.pk for r in rows], {r.idempotency_key for r in rows}
    for start in range(0, 20, PIECE):
        piece = rows[start : start + PIECE]
        gather.add("Contacts", piece, Sent(payloads={r.pk: {"Copy_Key": r.idempotency_key} for r in piece}))
    del rows, piece, row
    gc.collect()

    assert system.outcomes == {}  # 20 rows of a job of 25: still waiting
    assert [ref for ref in alive if ref() is not None] == []  # no row instance held
    assert [o for o in gc.get_objects() if _payload_of(o, keys)] == []  # nor a payload dict
    gather.flush()
    saved = RecordResult.objects.filter(pk__in=pks).order_by("pk")
    assert [(r.status, r.new_id, r.values) for r in saved] == [
        (S.SUCCEEDED, f"new-{r.idempotency_key}", {"Last_Name": f"name of {r.source_id}"}) for r in saved
    ]
    assert len(system.outcomes) == 1
