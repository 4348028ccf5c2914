"""A level written by bulk jobs a piece at a time (a tree too large for the pipeline): before each
piece the run settles the level's stored jobs, but never downloads again the results of a job whose
outcomes it already applied, so the downloads stay flat however many pieces the level has. A job
of an earlier run (a crash after it was made) is still settled by its id."""

from __future__ import annotations

import pytest

from records.connectors.values import WriteResult
from records.copying import lifecycle
from records.copying.bulk_writes import JobBulkLedger, bulk_call, settle_stored_jobs
from records.copying.run_context import RunContext
from records.models import ConnectionProfile, CopyJob, RecordResult

pytestmark = pytest.mark.django_db
S = RecordResult.Status
PIECE = 10


class BulkSystem:
    """A remote system's Bulk Write as the copy sees it: each job writes its rows at once; its
    result file is counted every time it is downloaded."""

    def __init__(self) -> None:
        self.outcomes: dict[str, dict[str, WriteResult]] = {}
        self.downloads = 0

    def bulk_create(self, object_name, rows, *, ledger, ledger_key):
        job_id = f"job{len(self.outcomes) + 1}"
        ledger.save(ledger_key, job_id)
        self.outcomes[job_id] = {r["Copy_Key"]: WriteResult(ok=True, new_id=f"new-{r['Copy_Key']}") for r in rows}
        return list(self.outcomes[job_id].values())

    def bulk_results(self, object_name, job_id):
        self.downloads += 1
        return self.outcomes[job_id]

    def record_url(self, object_name, record_id):
        return ""

    def budget(self):
        return None


def level_context(owner, system: BulkSystem, rows: int) -> tuple[RunContext, list[RecordResult]]:
    profile = ConnectionProfile.objects.create(
        name="Bulk", system="zoho", base_url="https://www.zohoapis.eu", username="x", owner=owner
    )
    job = CopyJob.objects.create(
        profile=profile, object_name="Accounts", mode=CopyJob.Mode.DEEP_COPY, requested_by=owner
    )
    made = RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="Contacts", source_id=f"c{i}", depth=1, idempotency_key=f"k{i}")
        for i in range(rows)
    )
    fence = lifecycle.claim(job_id=job.pk, worker_id="test")
    return RunContext(job, system, fence), sorted(made, key=lambda r: r.pk)  # type: ignore[arg-type]


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
