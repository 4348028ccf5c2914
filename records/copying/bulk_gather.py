"""A bulk level sent a piece at a time (a tree too large for the pipeline) gathered into jobs of
up to the connector's bulk_batch_size rows (Zoho: 25,000), not one job a piece: the run makes as
many jobs, and spends as many credits, as the preview counted (level_paths.bulk_spend).

What waits here is small however large the job: each row's id, its create payload in a temporary
file (spooled_payloads.py), and only what the run set on the row in memory (its labelled values).
The rows themselves are read again, in one query a piece, when their job is sent, without their
snapshots (the run never writes those). A row waiting here is still PENDING: a crash before its job
is sent leaves it to be sent by the next run, never half-sent; each job is sent by the write
protocol (SENDING before the upload, the job's id stored before it is polled)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from records.copying.bulk_writes import JobBulkLedger, bulk_call
from records.copying.in_flight import Batch
from records.copying.reconcile import Sent
from records.copying.result_rows import reloaded
from records.copying.run_context import RunContext
from records.copying.spooled_payloads import SpooledPayloads, spooled
from records.models import RecordResult


@dataclass
class Gathered:
    """One object's rows waiting for their job (by id), with what the job sends of them."""

    pks: list[int] = field(default_factory=list)
    payloads: SpooledPayloads = field(default_factory=SpooledPayloads)
    values: dict[int, Any] = field(default_factory=dict)  # row.values where the run set one
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
            gathered.pks.append(row.pk)
            gathered.payloads.put(row.pk, sent.payloads[row.pk])
            if row.values is not None:
                gathered.values[row.pk] = row.values
            if sent.inherits and row.pk in sent.sources:  # only a create that inherits compares them
                gathered.sources[row.pk] = sent.sources[row.pk]
        full = len(gathered.pks) // self.job_size * self.job_size
        if full:
            self._send([self._take(object_name, gathered, full)])

    def flush(self) -> None:
        """Every object's rows still waiting, each object's as one last job (sent together)."""
        taken = [self._take(name, g, len(g.pks)) for name, g in self.waiting.items() if g.pks]
        for gathered in self.waiting.values():
            gathered.payloads.close()
        self.waiting.clear()
        self._send(taken)

    def _send(self, taken: list[tuple[list[Batch], SpooledPayloads]]) -> None:
        try:
            self.send([job for jobs, _ in taken for job in jobs])
        finally:
            for _, spool in taken:
                spool.close()

    def _take(self, object_name: str, gathered: Gathered, count: int) -> tuple[list[Batch], SpooledPayloads]:
        """The first `count` waiting rows of `object_name` (whole jobs, or the last one) as a job
        per job_size rows, the waiting list cut once; the rest wait with a spool of their own."""
        taken, spool = gathered.pks[:count], gathered.payloads
        gathered.pks = gathered.pks[count:]
        gathered.payloads = spooled((pk, spool.peek(pk)) for pk in gathered.pks)
        jobs = [
            self._job(object_name, gathered, taken[i : i + self.job_size], spool)
            for i in range(0, count, self.job_size)
        ]
        return jobs, spool

    def _job(self, object_name: str, gathered: Gathered, pks: list[int], spool: SpooledPayloads) -> Batch:
        """One bulk job of the rows `pks`, read again, with what the run had set on them."""
        rows = reloaded(pks)
        for row in rows:
            if row.pk in gathered.values:
                row.values = gathered.values.pop(row.pk)
        sources = {pk: gathered.sources.pop(pk) for pk in pks if pk in gathered.sources}
        sent = Sent(payloads=spool, parent_field=gathered.parent_field, inherits=gathered.inherits, sources=sources)
        return rows, bulk_call(self.context, self.ledger, object_name, spool), sent
