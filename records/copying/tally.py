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
CHUNK = 2000  # rows a fetch while the tally is read: a chunk's tuples are all it holds at once


class Tally:
    """The statuses of one job's rows, and how many are in each: a byte a row (its status's code),
    by its id's offset from the job's first, not a dict of 100,000 entries held for the whole run
    (~10 MB at 100,000 rows). A job's rows are inserted together, so their ids are close: should
    they be spread over more than SPREAD times their number, a dict holds them instead."""

    SPREAD = 4
    # While the rows are read (in id order) the bytes may reach SPREAD times this many before the
    # rows read so far must justify them: a gap of a few deleted rows early on keeps the bytes.
    FEW = 1024

    def __init__(self, job_id: int, rows: Iterable[tuple[int, str]]) -> None:
        """`rows`: the job's (id, status) pairs in ascending id order, read once as they come (a
        query's iterator), so that no dict of every row exists even for a moment."""
        self.job_id = job_id
        self._codes: dict[str, int] = {s: i + 1 for i, s in enumerate(S.values)}  # 0: not the job's
        self._names = {i: s for s, i in self._codes.items()}
        self._base = 0
        self._bytes: bytearray | None = bytearray()
        self._dict: dict[int, str] | None = None
        self._total = self._read(rows)
        if self._bytes is not None and len(self._bytes) > self.SPREAD * max(self._total, 1):
            self._as_dict()
        self._count = self._counted()

    @classmethod
    def of(cls, job: CopyJob) -> Tally:
        rows = job.results.order_by("pk").values_list("pk", "status")  # (job, id) index: no sort
        return cls(job.pk, rows.iterator(chunk_size=CHUNK))

    def status(self, pk: int) -> str | None:
        """The status of row `pk` as last seen, None for a row not of this job."""
        return self._status(pk)

    def _read(self, rows: Iterable[tuple[int, str]]) -> int:
        """Every row in its place; how many there were."""
        total, codes = 0, self._codes
        for pk, status in rows:
            if total == 0:
                self._base = pk
            total += 1
            held = self._bytes
            if held is not None and pk - self._base == len(held) and status in codes:
                held.append(codes[status])  # the next id: nearly every row (inline: 100,000 of them)
            else:
                self._place(pk, status, total)
        return total

    def _place(self, pk: int, status: str, total: int) -> None:
        """A row after a gap in the ids (rows deleted, or another job's), or one for the dict."""
        at, held = pk - self._base, self._bytes
        if held is not None and 0 <= at < self.SPREAD * max(total, self.FEW) and status in self._codes:
            if at > len(held):
                held.extend(bytes(at - len(held)))
            if at == len(held):
                held.append(self._codes[status])
            else:
                held[at] = self._codes[status]
        else:
            self._as_dict()[pk] = status

    def _as_dict(self) -> dict[int, str]:
        """The rows so far as a dict, once their ids are too spread out (or a status has no code)."""
        if self._dict is None:
            held = self._bytes or bytearray()
            self._dict = {self._base + at: self._names[code] for at, code in enumerate(held) if code}
            self._bytes = None
        return self._dict

    def _counted(self) -> Counter[str]:
        if self._dict is not None:
            return Counter(self._dict.values())
        held = self._bytes or bytearray()
        return Counter({name: n for code, name in self._names.items() if (n := held.count(code))})

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
