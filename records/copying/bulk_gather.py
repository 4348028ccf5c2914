"""A bulk level sent a piece at a time (a tree too large for the pipeline) gathered into jobs of
up to the connector's bulk_batch_size rows (Zoho: 25,000), not one job a piece: the run makes as
many jobs, and spends as many credits, as the preview counted (level_paths.bulk_spend). Only the
pieces' rows and their compact create payloads wait here (a job's worth at most per object, the
snapshots already dropped), so memory stays bounded. A row waiting here is still PENDING: a crash
before its job is sent leaves it to be sent by the next run, never half-sent; each job is sent by
the write protocol (SENDING before the upload, the job's id stored before it is polled)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from records.copying.bulk_writes import JobBulkLedger, bulk_call
from records.copying.reconcile import Sent
from records.copying.run_context import RunContext
from records.copying.write import Batch
from records.models import RecordResult


@dataclass
class Gathered:
    """One object's rows waiting for their job, with what the job sends of them."""

    rows: list[RecordResult] = field(default_factory=list)
    payloads: dict[int, dict[str, Any]] = field(default_factory=dict)
    sources: dict[int, dict[str, Any]] = field(default_factory=dict)
    parent_field: str = ""
    inherits: bool = False


class BulkGather:
    """Pieces of bulk levels gathered per object; `send` sends the full jobs (BatchWriter.send_all's
    shape), `flush()` the rest at the end of a wave (its copies are the next wave's parents)."""

    def __init__(
        self, context: RunContext, ledger: JobBulkLedger, send: Callable[[Sequence[Batch]], None], job_size: int
    ) -> None:
        self.context, self.ledger, self.send = context, ledger, send
        self.job_size = max(job_size, 1)
        self.waiting: dict[str, Gathered] = {}

    def add(self, object_name: str, rows: list[RecordResult], sent: Sent) -> None:
        """A piece's rows of a bulk level (settled and reconciled, still PENDING); every full job sent."""
        gathered = self.waiting.setdefault(object_name, Gathered(parent_field=sent.parent_field))
        gathered.inherits = gathered.inherits or sent.inherits
        for row in rows:
            gathered.rows.append(row)
            gathered.payloads[row.pk] = sent.payloads[row.pk]
            if sent.inherits and row.pk in sent.sources:  # only a create that inherits compares them
                gathered.sources[row.pk] = sent.sources[row.pk]
        jobs = []
        while len(gathered.rows) >= self.job_size:
            jobs.append(self._job(object_name, gathered, self.job_size))
        if jobs:
            self.send(jobs)

    def flush(self) -> None:
        """Every object's rows still waiting, each object's as one last job."""
        jobs = [self._job(name, g, len(g.rows)) for name, g in self.waiting.items() if g.rows]
        self.waiting.clear()
        if jobs:
            self.send(jobs)

    def _job(self, object_name: str, gathered: Gathered, size: int) -> Batch:
        """The first `size` waiting rows of `object_name` as one bulk job, taken off the waiting list."""
        rows, gathered.rows = gathered.rows[:size], gathered.rows[size:]
        payloads = {r.pk: gathered.payloads.pop(r.pk) for r in rows}
        sources = {r.pk: gathered.sources.pop(r.pk) for r in rows if r.pk in gathered.sources}
        sent = Sent(payloads=payloads, parent_field=gathered.parent_field, inherits=gathered.inherits, sources=sources)
        return rows, bulk_call(self.context, self.ledger, object_name, payloads), sent
