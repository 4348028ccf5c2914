"""A related list read in a thread of its own and handed over a piece at a time through a bounded
queue (level_reads.read_level). A list read ahead of the one being handed over waits once it holds
its share, so a level of 80,000 records never has them all in memory at once: the reader that takes
the pieces keeps what it needs of each record (plan_compact) and lets the record go."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from records.connectors.base import Record

# A list's share is cut in this many pieces: PIECES - 2 waiting in the queue, one its reader has
# filled and waits to put, one being handed over. So a list holds at most its share of records.
PIECES = 4
PUT_WAIT_SECONDS = 0.1  # how often a waiting reader looks whether the level was given up


@dataclass
class _Failed:
    error: Exception


class _End:
    pass


class ListFeed:
    """One list's records: `fill` in the reader's thread, `records` in the taker's."""

    def __init__(self, *, share: int, stop: threading.Event) -> None:
        self.piece_size = max(1, share // PIECES)
        self.pieces: queue.Queue[list[Record] | _Failed | _End] = queue.Queue(maxsize=PIECES - 2)
        self.stop = stop  # set when the level is given up: a waiting reader then ends

    def fill(self, read: Callable[[], Iterable[Record]]) -> None:
        """The list's records put a piece at a time, then its end, or the error that ended it."""
        try:
            piece: list[Record] = []
            for record in read():
                piece.append(record)
                if len(piece) >= self.piece_size:
                    if not self._put(piece):
                        return
                    piece = []
            if piece and not self._put(piece):
                return
            self._put(_End())
        except Exception as exc:  # noqa: BLE001 - raised again where the list is handed over
            self._put(_Failed(exc))

    def records(self) -> Iterator[Record]:
        """The list's records in the order read; each let go once handed over."""
        while not isinstance(piece := self.pieces.get(), _End):
            if isinstance(piece, _Failed):
                raise piece.error
            piece.reverse()
            while piece:
                yield piece.pop()
            del piece  # not held while the next piece is awaited

    def _put(self, item: list[Record] | _Failed | _End) -> bool:
        while not self.stop.is_set():
            try:
                self.pieces.put(item, timeout=PUT_WAIT_SECONDS)
                return True
            except queue.Full:
                continue
        return False
