"""Clone (both systems; many source records in one job): the system's own copy action."""

from __future__ import annotations

from records.connectors.base import CloneRequest, WriteResult
from records.copying.reads_together import Overlap
from records.copying.reconcile import Sent
from records.copying.run_context import RunContext
from records.copying.unique import MakeUnique
from records.copying.write import BatchWriter
from records.models import RecordResult

S = RecordResult.Status


class CloneRun:
    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.writer = BatchWriter(context, renumber=MakeUnique(context).renumber)

    def run(self) -> None:
        context, conn = self.context, self.context.connector
        # The object's describe (a remote call or two) while the rows are read from the database.
        with Overlap(conn, 1) as reads:
            described = reads.start(context.describe, context.job.object_name)
            rows = context.rows(status__in=[S.PENDING, S.SENDING])
            described.result()
        # A clone inherits what it isn't sent: a masked field's stand-in is sent, from its source value.
        sources = context.clone_sources(context.job.object_name, [r.source_id for r in rows])
        requests = {
            row.pk: CloneRequest(row.source_id, context.top_overrides(row, sources.get(row.source_id))) for row in rows
        }
        # The same dicts: "make unique" changes a value in the payload and the clone sends it. A
        # clone sends only what changes: its copy inherits the rest (its name too) from its source.
        sent = Sent(payloads={pk: req.overrides for pk, req in requests.items()}, inherits=True)
        self.writer.reconcile_leftovers(rows, sent)
        rows = [r for r in rows if r.status == S.PENDING]

        def clone(batch: list[RecordResult]) -> list[WriteResult]:
            return conn.clone(context.job.object_name, [requests[r.pk] for r in batch])

        size = conn.batch_size
        batches = [(rows[i : i + size], clone, sent) for i in range(0, len(rows), size)]
        self.writer.send_all(batches, context.heartbeat)  # independent batches overlap
        context.heartbeat()
