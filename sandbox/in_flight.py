"""The calls in flight at one server (one org): how many now, and the most at once since the last
reset. Zoho limits the calls in flight per org and app (api-notes zoho.md §9); this counter is
what a test or the benchmark reads to check that the app's workers together never exceed a
profile's concurrency, measured where Zoho measures it, not in the client.

A call counts from the moment the server starts handling it (before the added latency, so a slow
remote's wait is in flight, as it is for the client) until its answer's last chunk is handed out
or its connection dropped: a streamed download is in flight until its last chunk. So the count is
never more than the client's own (it sent the call before, and hears the end after). Calls to the accounts server
(Zoho's OAuth token, another host at Zoho, outside the API's limit) are not counted.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator

# Paths of a server that are not API calls of the org, per emulator.
NOT_COUNTED = {"zoho": re.compile(r"^/oauth/")}


class InFlight:
    """Thread-safe counter of one server's calls in flight and their peak."""

    def __init__(self, not_counted: re.Pattern[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._not_counted = not_counted
        self._now = 0
        self._peak = 0

    def counts(self, path: str) -> bool:
        return self._not_counted is None or self._not_counted.search(path) is None

    @property
    def now(self) -> int:
        with self._lock:
            return self._now

    @property
    def peak(self) -> int:
        """The most calls in flight at once since the last reset_peak()."""
        with self._lock:
            return self._peak

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"now": self._now, "peak": self._peak}

    def reset_peak(self) -> None:
        """Start measuring again: the peak becomes the calls in flight now."""
        with self._lock:
            self._peak = self._now

    def enter(self) -> None:
        with self._lock:
            self._now += 1
            self._peak = max(self._peak, self._now)

    def leave(self) -> None:
        with self._lock:
            self._now -= 1

    def until_sent(self, result: Iterable[bytes]) -> Iterable[bytes]:
        """The WSGI answer, which leaves the count as its last chunk goes to the server (or when
        the server closes it unsent: the client went away). Leaving before the last write, not
        after it, keeps the count at or below the client's: a client that got its answer and
        sends its next call at once is never counted twice."""
        return _LastChunk(result, self.leave)


class _LastChunk:
    """A WSGI answer that calls `done` once: before handing out its last chunk, or when closed."""

    def __init__(self, result: Iterable[bytes], done: Callable[[], None]) -> None:
        self._result = result
        self._done: Callable[[], None] | None = done

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._result)
        ahead = next(chunks, None)
        while ahead is not None:
            chunk, ahead = ahead, next(chunks, None)
            if ahead is None:
                self._finish()
            yield chunk
        self._finish()

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()
