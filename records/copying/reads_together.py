"""A few independent remote reads started together: the preview's first reads (the object's
describe, the objects' labels, the first record) need nothing from each other, so at a real
remote's latency they cost one round trip instead of three; a clone's describe is read while its
rows come from the database.

Answers are taken in the order the caller asks for them (`Later.result()`), so an error is raised
where the same reads made one after another would raise it. Without threads (inside a transaction,
or a profile of concurrency 1) each read is made when its answer is asked for: the same calls in
the same order as before.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Generic, TypeVar

from django.db import close_old_connections, connection

from records.connectors.base import Connector
from records.copying.level_reads import parallelism

R = TypeVar("R")


class Later(Generic[R]):
    """A read's answer: from its thread, or made on the first `result()` when there is none."""

    def __init__(self, call: Callable[[], R], future: Future[R] | None) -> None:
        self._call, self._future = call, future
        self._done: tuple[R] | None = None

    def done(self) -> bool:
        """Whether `result()` would not wait for a call under way (without a thread: always)."""
        return self._future is None or self._future.done()

    def result(self) -> R:
        if self._future is not None:
            return self._future.result()
        if self._done is None:
            self._done = (self._call(),)
        return self._done[0]


class Overlap:
    """`with Overlap(connector, n) as reads: a = reads.start(f, x) ...`: up to `n` reads at once,
    never more than the profile's concurrency; leaving the block waits for every read started."""

    def __init__(self, connector: Connector, size: int) -> None:
        allowed = parallelism(connector)
        self._pool = ThreadPoolExecutor(max_workers=min(allowed, size)) if allowed > 1 else None

    def start(self, call: Callable[..., R], *args: Any) -> Later[R]:
        def bound() -> R:
            return call(*args)

        if self._pool is None:
            return Later(bound, None)
        return Later(bound, self._pool.submit(_in_thread, bound))

    def __enter__(self) -> Overlap:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _in_thread(call: Callable[[], R]) -> R:
    # The pool's thread may open a database connection (the token store): closed when it is done.
    try:
        return call()
    finally:
        close_old_connections()
        connection.close()
