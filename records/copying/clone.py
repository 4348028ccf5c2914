"""Clone (both systems; many source records in one job): the system's own copy action."""

from __future__ import annotations

from records.connectors.base import CloneRequest
from records.copying.reconcile import Sent
from records.models import RecordResult

S = RecordResult.Status


class Clone:
    def run_clone(self) -> None:
        rows = self.rows(status__in=[S.PENDING, S.SENDING])
        requests = {row.pk: CloneRequest(row.source_id, self.top_overrides(row)) for row in rows}
        # The same dicts: "make unique" changes a value in the payload and the clone sends it. A
        # clone sends only what changes: its copy inherits the rest (its name too) from its source.
        sent = Sent(payloads={pk: req.overrides for pk, req in requests.items()}, inherits=True)
        self.reconcile_leftovers(rows, sent)
        rows = [r for r in rows if r.status == S.PENDING]
        size = self.connector.batch_size
        for start in range(0, len(rows), size):
            self.heartbeat()
            batch = rows[start : start + size]
            self.send(
                batch,
                lambda b: self.connector.clone(self.job.object_name, [requests[r.pk] for r in b]),
                sent,
            )
        self.heartbeat()
