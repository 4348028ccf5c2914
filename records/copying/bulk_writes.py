"""A level's inserts through the system's bulk job, where the plan chose it (Plan.levels, the
connector's rule), with the write protocol kept: the rows are marked SENDING before the job, the
job's id is in job.state (fenced) before it is polled, and a run that finds rows SENDING first
finishes the jobs already stored (by id: never a second job), then reconciles the rest by copy key.
A level takes its bulk job only with a copy key: that key maps the result's rows to them, and finds
them again when the job's create answer is lost (no id to look the job up by)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from records.connectors.base import WriteResult
from records.copying import results as res
from records.copying.run_context import RunContext
from records.copying.spooled_payloads import SpooledPayloads
from records.models import RecordResult

S = RecordResult.Status
STATE_KEY = "bulk_jobs"  # job.state[STATE_KEY] = {ledger key: remote job id}


class JobBulkLedger:
    """The BulkLedger of one run: job ids in job.state, saved under the run's fence."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.lock = threading.Lock()  # a wave's batches may call from threads
        # The keys of the jobs this run made and read the outcomes of (the writer applied them to
        # their rows): settling a later piece need not download their results again. Without this
        # every piece of a level read every job before it: 870,000 result rows read for 100,000.
        self.applied: set[str] = set()
        # The outcomes of a job of an earlier run (a crash inside it), downloaded once for all the
        # pieces its rows come in, each outcome let go once applied (download once per job).
        self.stored: dict[str, dict[str, WriteResult]] = {}

    def job_id(self, key: str) -> str | None:
        found = (self.context.job.state.get(STATE_KEY) or {}).get(key)
        return str(found) if found else None

    def save(self, key: str, job_id: str) -> None:
        with self.lock:
            self.context.job.state.setdefault(STATE_KEY, {})[key] = job_id
            self.context.save_state()

    def answered(self, key: str) -> None:
        """The job of `key` answered with its rows' outcomes in this run: none of them is left to settle."""
        with self.lock:
            self.applied.add(key)

    def jobs_of(self, object_name: str) -> list[str]:
        """The stored jobs of `object_name` whose outcomes this run has not applied yet (a job of an
        earlier run, or of this one whose answer was lost)."""
        stored = self.context.job.state.get(STATE_KEY) or {}
        return [
            job_id for key, job_id in stored.items() if key.startswith(f"{object_name}/") and key not in self.applied
        ]

    def outcomes(self, object_name: str, job_id: str) -> dict[str, WriteResult]:
        """A stored job's outcomes by copy key not applied yet, its result downloaded once a run."""
        if job_id not in self.stored:
            self.stored[job_id] = dict(self.context.connector.bulk_results(object_name, job_id))
        return self.stored[job_id]


def takes_bulk(context: RunContext, object_name: str, depth: int) -> bool:
    """Whether the plan chose the bulk job for this level's writes (and the connector has one)."""
    if not context.connector.bulk_batch_size or not context.key_field(object_name):
        return False
    levels = (context.job.plan or {}).get("levels") or []
    return any(
        lv.get("object") == object_name and lv.get("depth") == depth and (lv.get("write") or {}).get("path") == "bulk"
        for lv in levels
    )


def settle_stored_jobs(context: RunContext, ledger: JobBulkLedger, object_name: str, rows: list[RecordResult]) -> None:
    """Rows not yet written: the outcomes of the level's jobs already made, found by id. PENDING
    rows too: a job made before its poll failed (a wait, Paused) still runs and writes them. A
    job's result is downloaded once however many pieces its rows come in (ledger.outcomes)."""
    sending = {r.idempotency_key: r for r in rows if r.status in (S.SENDING, S.PENDING) and r.idempotency_key}
    for job_id in ledger.jobs_of(object_name) if sending else []:
        outcomes = ledger.outcomes(object_name, job_id)
        found = [key for key in sending if key in outcomes]
        res.save([_apply(context, sending.pop(key), outcomes.pop(key)) for key in found])


def _apply(context: RunContext, row: RecordResult, outcome: WriteResult) -> RecordResult:
    link = context.connector.record_url(row.object_name, outcome.new_id) if outcome.ok else ""
    res.apply_write(row, outcome, link)
    return row


def bulk_call(
    context: RunContext, ledger: JobBulkLedger, object_name: str, payloads: Mapping[int, dict[str, Any]]
) -> Any:
    """The write call of one batch (BatchWriter's Call): one bulk job, keyed by the batch's rows,
    so a resend of what a lost job did not write is a job of its own. Spooled payloads (a gathered
    job's) are read as the connector reaches them, never all held at once."""

    def create(batch: list[RecordResult]) -> list[WriteResult]:
        key = f"{object_name}/{batch[0].pk}-{batch[-1].pk}/{len(batch)}"
        pks = [r.pk for r in batch]
        rows = payloads.stream(pks) if isinstance(payloads, SpooledPayloads) else [payloads[pk] for pk in pks]
        outcomes = context.connector.bulk_create(object_name, rows, ledger=ledger, ledger_key=key)
        ledger.answered(key)
        return outcomes

    return create
