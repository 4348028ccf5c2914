"""A level written by bulk jobs a piece at a time (a tree too large for the pipeline): before each
piece the run settles the level's stored jobs, but never downloads again the results of a job whose
outcomes it already applied, so the downloads stay flat however many pieces the level has. A job
of an earlier run (a crash after it was made) is still settled by its id."""

from __future__ import annotations

import pytest

from records.copying.bulk_writes import JobBulkLedger, bulk_call, settle_stored_jobs
from records.copying.run_context import RunContext
from records.models import RecordResult
from tests.fixtures.bulk_system import BulkSystem, level_context

pytestmark = pytest.mark.django_db
S = RecordResult.Status
PIECE = 10


def send_in_pieces(context: RunContext, ledger: JobBulkLedger, rows: list[RecordResult]) -> None:
    """What the run does per piece of a bulk level: settle the stored jobs, then one job a piece."""
    for start in range(0, len(rows), PIECE):
        piece = rows[start : start + PIECE]
        settle_stored_jobs(context, ledger, "Contacts", piece)
        call = bulk_call(context, ledger, "Contacts", {r.pk: {"Copy_Key": r.idempotency_key} for r in piece})
        for row, outcome in zip(piece, call(piece), strict=True):
            row.status, row.new_id = (S.SUCCEEDED, outcome.new_id)


@pytest.mark.parametrize("pieces", [5, 10])
def test_a_level_sent_in_pieces_downloads_no_result_of_a_job_it_already_applied(owner, pieces):
    system = BulkSystem()
    context, rows = level_context(owner, system, pieces * PIECE)
    send_in_pieces(context, JobBulkLedger(context), rows)
    assert len(system.outcomes) == pieces  # a job a piece, each answered at once
    assert system.downloads == 0  # was one per earlier job a piece: 10 at 5 pieces, 45 at 10


def test_a_job_of_an_earlier_run_is_still_settled_by_its_id(owner):
    system = BulkSystem()
    context, rows = level_context(owner, system, 2 * PIECE)
    first = rows[:PIECE]
    bulk_call(context, JobBulkLedger(context), "Contacts", {r.pk: {"Copy_Key": r.idempotency_key} for r in first})(
        first
    )  # the job was made and answered, then the worker died before saving its rows
    resumed = JobBulkLedger(context)  # the next run's
    settle_stored_jobs(context, resumed, "Contacts", rows)
    assert system.downloads == 1
    settled = dict(RecordResult.objects.filter(pk__in=[r.pk for r in rows]).values_list("source_id", "new_id"))
    assert {s: n for s, n in settled.items() if n} == {r.source_id: f"new-{r.idempotency_key}" for r in first}


def test_a_job_of_an_earlier_run_is_downloaded_once_for_all_the_pieces_its_rows_come_in(owner):
    """A crash inside a job of several pieces' rows: the next run settles its pieces one by one
    from one download of the job's result (was one download a piece)."""
    system = BulkSystem()
    context, rows = level_context(owner, system, 5 * PIECE)
    payloads = {r.pk: {"Copy_Key": r.idempotency_key} for r in rows}
    bulk_call(context, JobBulkLedger(context), "Contacts", payloads)(rows)  # made, answered, then the crash
    resumed = JobBulkLedger(context)
    for start in range(0, len(rows), PIECE):
        settle_stored_jobs(context, resumed, "Contacts", rows[start : start + PIECE])
    assert system.downloads == 1  # was 5: one a piece
    settled = RecordResult.objects.filter(pk__in=[r.pk for r in rows])
    assert sorted(settled.values_list("new_id", flat=True)) == sorted(f"new-{r.idempotency_key}" for r in rows)
    assert {r.status for r in settled} == {S.SUCCEEDED}
