"""One level of a copy tree read with its related lists overlapping.

The related lists of one level (Contacts, Deals, Notes, Tasks of the same parents) don't depend on
each other: each needs only the parents' ids. So up to the profile's concurrency of them are read
at once (the connector's limiter still bounds the calls in flight), and their records are handed
back in the order the lists were asked for, so the tree comes out the same as read one by one. A
list read ahead hands its records over a piece at a time and waits once it holds
LEVEL_READ_AHEAD_RECORDS (list_feed.py): the level is never in memory whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection

from records.connectors.base import Connector, Record, RelatedList
from records.connectors.errors import ConnectorError
from records.copying.list_feed import ListFeed

T = TypeVar("T")
R = TypeVar("R")
Read = tuple[RelatedList, list[str]]  # a related list and the parents whose children it reads


def read_level(connector: Connector, reads: list[Read]) -> Generator[tuple[RelatedList, Iterable[Record]], None, None]:
    """Each related list with its records, in the order of `reads`. Close it when stopping early
    (contextlib.closing): the lists read ahead then stop waiting to hand their records over."""
    workers = min(parallelism(connector), len(reads))
    if workers <= 1:
        for related, parent_ids in reads:
            yield related, connector.children(related, parent_ids)
        return
    stop = threading.Event()
    feeds = [ListFeed(share=settings.LEVEL_READ_AHEAD_RECORDS, stop=stop) for _ in reads]
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        # Started in order, so the list being handed over always has a thread: those before it ended.
        for feed, (related, parent_ids) in zip(feeds, reads, strict=True):
            pool.submit(_in_thread, feed.fill, partial(connector.children, related, parent_ids))
        for feed, (related, _) in zip(feeds, reads, strict=True):
            yield related, feed.records()
    finally:
        # A reader that stops early (a tree too large): the lists read ahead stop, those not started don't.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def overlapped(connector: Connector, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`call` of each item, up to the profile's concurrency at once (independent metadata reads:
    the describes of a tree's objects, their related lists); the answers in the order of `items`."""
    workers = min(parallelism(connector), len(items))
    if workers <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda item: _in_thread(call, item), items))


class ListsAhead:
    """Each object's related lists, asked for once: `ahead` asks in the background (the next
    level's lists while this level's records are read: they need only the objects' names), and
    describes the objects those lists lead to (the level after next reads them: its queries
    name their fields), `of` hands them over, asking at once for those not asked yet. Without
    threads `ahead` does nothing. `exclude`: objects the copy leaves out (not described)."""

    def __init__(self, connector: Connector, exclude: frozenset[str] = frozenset()) -> None:
        self.connector = connector
        self.exclude = exclude
        workers = parallelism(connector)
        self._pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        self._asked: dict[str, Future[list[RelatedList]]] = {}
        self._known: dict[str, list[RelatedList]] = {}
        self._described: set[str] = set()

    def ahead(self, objects: Iterable[str]) -> None:
        if self._pool is None:
            return
        for name in dict.fromkeys(objects):
            if name not in self._asked and name not in self._known:
                self._asked[name] = self._pool.submit(_in_thread, self._lists_then_describe, name)

    def _lists_then_describe(self, name: str) -> list[RelatedList]:
        lists = self.connector.related_lists(name)
        pool = self._pool
        for child in dict.fromkeys(r.child_object for r in lists if r.deep_copy and r.child_object not in self.exclude):
            if pool is not None and child not in self._described:
                self._described.add(child)
                try:
                    pool.submit(_in_thread, describe_quietly, self.connector, child)
                except RuntimeError:  # the reading is over (closed): nothing is needed ahead
                    break
        return lists

    def of(self, objects: list[str]) -> dict[str, list[RelatedList]]:
        missing = [o for o in objects if o not in self._known and o not in self._asked]
        self._known.update(zip(missing, overlapped(self.connector, self._lists_then_describe, missing), strict=True))
        for name in objects:
            if name not in self._known:
                self._known[name] = self._asked.pop(name).result()
        return {name: self._known[name] for name in objects}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def describe_quietly(connector: Connector, object_name: str) -> None:
    """An object's fields read ahead of need (cached by the connector; their names and labels,
    not the picklists' values); a failure is left for the reader to meet."""
    try:
        connector.describe_listed(object_name)
    except ConnectorError:
        return


def _in_thread(call: Callable[..., R], *items: Any) -> R:
    try:
        return call(*items)
    finally:
        close_old_connections()
        connection.close()


def parallelism(connector: Connector) -> int:
    # Threads only outside a transaction: a thread has its own database connection, which can't
    # see a transaction's rows (tests wrap each test in one; the token store reads the profile).
    if connection.in_atomic_block:
        return 1
    config = getattr(connector, "config", None)
    return max(1, int(getattr(config, "concurrency", 1)))
