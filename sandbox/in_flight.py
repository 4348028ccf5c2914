"""The calls in flight at one server (one org): how many now, and the most at once since the last
reset. Zoho limits the calls in flight per org and app (api-notes zoho.md §9); this counter is
what a test or the benchmark reads to check that the app's workers together never exceed a
profile's concurrency, measured where Zoho measures it, not in the client.

A call counts from the moment the server starts handling it (before the added latency, so a slow
remote's wait is in flight, as it is for the client) until its answer is sent or its connection
dropped: a streamed download is in flight until its last chunk. Calls to the accounts server
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

    def until_closed(self, result: Iterable[bytes]) -> Iterable[bytes]:
        """The WSGI answer, which leaves the count when the server closes it (after its last byte
        went out, or the client went away)."""
        return _Closing(result, self.leave)


class _Closing:
    """A WSGI answer that calls `done` once, when closed (PEP 3333: the server always closes it)."""

    def __init__(self, result: Iterable[bytes], done: Callable[[], None]) -> None:
        self._result = result
        self._done = done
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done()
