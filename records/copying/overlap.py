"""Items whose remote part overlaps, up to a width: each started in this thread (its DB writes,
e.g. marked SENDING before the call), its remote part in a worker thread, finished in this thread
as soon as that part ends. A short item never waits behind a long one (a 1 KB file behind a 20 MB
one), and every DB write stays in this thread, as in write.py's batches.

When an item's start or finish raises (the job pauses, is cancelled or lost its lease), nothing
more starts; the items in flight are finished first (their outcomes recorded), then the first
error is raised."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from django.db import close_old_connections, connection

T = TypeVar("T")
R = TypeVar("R")

Start = Callable[[T], bool]  # here: False when the item needs no remote part
Work = Callable[[T], R]  # in a worker thread: remote calls only
Finish = Callable[[T, "Future[R]"], None]  # here: the outcome recorded


def run_overlapped(items: Iterable[T], *, width: int, start: Start[T], work: Work[T, R], finish: Finish[T, R]) -> None:
    if width <= 1:
        for item in items:
            if start(item):
                finish(item, done(work, item))
        return
    with ThreadPoolExecutor(max_workers=width) as pool:
        _Window[T, R](pool, width, start, work, finish).run(iter(items))


def done(work: Work[T, R], item: T) -> Future[R]:
    """`work(item)` run here, as a finished future (its result or its exception)."""
    future: Future[R] = Future()
    try:
        future.set_result(work(item))
    except Exception as exc:  # noqa: BLE001 - handed to `finish`, as a thread's would be
        future.set_exception(exc)
    return future


class _Window(Generic[T, R]):
    def __init__(self, pool: ThreadPoolExecutor, width: int, start: Start[T], work: Work[T, R], finish: Finish[T, R]):
        self.pool, self.width = pool, width
        self.start, self.work, self.finish = start, work, finish
        self.running: dict[Future[R], T] = {}
        self.error: BaseException | None = None

    def run(self, todo: Iterator[T]) -> None:
        self._fill(todo)
        while self.running:
            ended, _ = wait(self.running, return_when=FIRST_COMPLETED)
            for future in ended:
                self._finish(self.running.pop(future), future)
            self._fill(todo)
        if self.error is not None:
            raise self.error

    def _fill(self, todo: Iterator[T]) -> None:
        while self.error is None and len(self.running) < self.width:
            try:
                item = next(todo)
            except StopIteration:
                return
            try:
                started = self.start(item)
            except Exception as exc:  # noqa: BLE001 - as a finish's: raised once those in flight are finished
                self.error = exc
                return
            if started:
                self.running[self.pool.submit(_threaded, self.work, item)] = item

    def _finish(self, item: T, future: Future[R]) -> None:
        try:
            self.finish(item, future)
        except Exception as exc:  # noqa: BLE001 - raised once the items in flight are finished
            self.error = self.error or exc


def _threaded(work: Work[T, R], item: T) -> R:
    try:
        return work(item)
    finally:
        # A connector may read a setting or a token from the DB: this thread's connection goes.
        close_old_connections()
        connection.close()
