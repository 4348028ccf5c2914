"""A run's progress counters kept as its rows are written, so that a heartbeat (one per batch)
writes them without recounting every row of the job: an aggregate over 10,000 rows costs ~13 ms,
most of it reading rows that hold their snapshots, and a large run beats ~20 times.

The run's first beat reads each row's status once; every row write of the run (results._write)
then tells the tally its rows' new statuses. A status changed by other means while the run goes
on (a person resolving a review row) shows at the job's end, when the counters are recounted.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Iterable

from records.models import CopyJob, RecordResult

S = RecordResult.Status


class Tally:
    """The statuses of one job's rows, and how many are in each: a byte a row (its status's code),
    by its id's offset from the job's first, not a dict of 100,000 entries held for the whole run
    (~10 MB at 100,000 rows). A job's rows are inserted together, so their ids are close: should
    they be spread over more than SPREAD times their number, a dict holds them instead."""

    SPREAD = 4

    def __init__(self, job_id: int, statuses: dict[int, str]) -> None:
        self.job_id = job_id
        self._count = Counter(statuses.values())
        self._total = len(statuses)
        self._codes: dict[str, int] = {s: i + 1 for i, s in enumerate(S.values)}  # 0: not the job's
        self._names = {i: s for s, i in self._codes.items()}
        self._base = min(statuses, default=0)
        span = max(statuses, default=-1) - self._base + 1
        self._bytes: bytearray | None = None
        self._dict: dict[int, str] | None = None
        if span <= self.SPREAD * max(len(statuses), 1) and all(s in self._codes for s in self._count):
            self._bytes = bytearray(span)
            for pk, status in statuses.items():
                self._bytes[pk - self._base] = self._codes[status]
        else:
            self._dict = statuses

    @classmethod
    def of(cls, job: CopyJob) -> Tally:
        return cls(job.pk, dict(job.results.values_list("pk", "status").iterator(chunk_size=5000)))

    def saw(self, rows: Iterable[RecordResult]) -> None:
        """Rows just written: their statuses as written (rows of another job are not counted)."""
        for row in rows:
            old = self._status(row.id)  # .id, not .pk: the property's lookup is most of a row's time
            if old is None or old == row.status:
                continue
            self._set(row.id, row.status)
            self._count[old] -= 1
            self._count[row.status] += 1

    def counts(self) -> tuple[int, int, int]:
        """(planned, succeeded, failed), as lifecycle.refresh_counts counts them."""
        return self._total, self._count[S.SUCCEEDED], self._count[S.FAILED]

    def _status(self, pk: int) -> str | None:
        if self._dict is not None:
            return self._dict.get(pk)
        at = pk - self._base
        code = self._bytes[at] if self._bytes is not None and 0 <= at < len(self._bytes) else 0
        return self._names.get(code)

    def _set(self, pk: int, status: str) -> None:
        if self._dict is not None:
            self._dict[pk] = status
        elif self._bytes is not None:
            self._bytes[pk - self._base] = self._codes[status]


# The tally of the run in progress in this thread (set by its RunContext's heartbeat).
current_tally: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("current_tally", default=None)


def tell(rows: Iterable[RecordResult]) -> None:
    tally = current_tally.get()
    if tally is not None:
        tally.saw(rows)
