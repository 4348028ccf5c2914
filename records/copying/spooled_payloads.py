"""The create payloads of a gathered bulk job kept in a temporary file, not in memory: a job of
25,000 rows would otherwise hold 25,000 payload dicts from its first piece until its answer. A
payload is read back when it is asked for: the job's call streams them one at a time (`stream`),
while one asked for by key (reconciling a lost answer, "make unique" numbering a value in place)
is held from then on, so a change to it is what a later call sends."""

from __future__ import annotations

import pickle
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from typing import Any, NamedTuple, overload

Payload = dict[str, Any]


class Spooled(NamedTuple):
    """Where a payload's pickle lies in the spool's file."""

    offset: int
    length: int


class SpooledPayloads(MutableMapping[int, Payload]):
    """{row pk: payload}, each payload pickled into a temporary file as it is put (pickle, not
    JSON: a value keeps its type, a date stays a date). A row's entry is one of two states: its
    place in the file (Spooled), or its payload held in memory (a dict: asked for by key, or set
    by key, and then it has no place of its own in the file)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._rows: dict[int, Spooled | Payload] = {}
        self._lock = threading.Lock()  # a job's call reads in a worker thread
        # Closed when let go, should a run stop before its gather closes it (a cancel, a pause).
        self._closed = weakref.finalize(self, self._file.close)

    def put(self, pk: int, payload: Payload) -> None:
        """Spool `payload` (a held one of `pk` is let go: the file's is the one read from now)."""
        data = pickle.dumps(payload, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            offset = self._file.seek(0, 2)
            self._file.write(data)
        self._rows[pk] = Spooled(offset, len(data))

    def stream(self, pks: Sequence[int]) -> PayloadRows:
        """The payloads of `pks` in order, read as they are iterated, none of them kept."""
        return PayloadRows(self, pks)

    def peek(self, pk: int) -> Payload:
        """The payload of `pk`, read without keeping it (the held one when it was asked for)."""
        entry = self._rows[pk]
        if not isinstance(entry, Spooled):
            return entry
        with self._lock:
            self._file.seek(entry.offset)
            data = self._file.read(entry.length)
        payload: Payload = pickle.loads(data)  # noqa: S301 - our own file, written above
        return payload

    def close(self) -> None:
        self._closed()

    def __getitem__(self, pk: int) -> Payload:
        payload = self.peek(pk)
        self._rows[pk] = payload  # held from now on, so a change to it is what a later call sends
        return payload

    def __setitem__(self, pk: int, payload: Payload) -> None:
        self._rows[pk] = payload

    def __delitem__(self, pk: int) -> None:
        del self._rows[pk]

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class PayloadRows(Sequence[Payload]):
    """A job's payloads as the connector's bulk call takes them (a sequence it may read more than
    once: the columns, then the file), each read from the spool when it is reached."""

    def __init__(self, spool: SpooledPayloads, pks: Sequence[int]) -> None:
        self.spool, self.pks = spool, pks

    @overload
    def __getitem__(self, index: int) -> Payload: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Payload]: ...
    def __getitem__(self, index: int | slice) -> Payload | Sequence[Payload]:
        if isinstance(index, slice):
            return PayloadRows(self.spool, self.pks[index])
        return self.spool.peek(self.pks[index])

    def __iter__(self) -> Iterator[Payload]:
        return (self.spool.peek(pk) for pk in self.pks)

    def __len__(self) -> int:
        return len(self.pks)


def spooled(payloads: Iterable[tuple[int, Payload]]) -> SpooledPayloads:
    out = SpooledPayloads()
    for pk, payload in payloads:
        out.put(pk, payload)
    return out
