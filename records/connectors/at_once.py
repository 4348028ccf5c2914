"""Independent calls of one connector made at once, up to the profile's concurrency.

The statements of a batched read (ids or values chunked into several VQL queries, a picklist per
field of a describe) don't depend on each other: a real remote's latency, not the work, sets their
time, so they overlap. The answers come back in the order of the items, so callers see the same
result as read one after another. A failure of any call is raised once all calls have ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_at_once(call: Callable[[T], R], items: Sequence[T], *, workers: int) -> list[R]:
    """`call(item)` for each item, at most `workers` at once; the answers in the order of `items`."""
    workers = min(max(1, workers), len(items))
    if workers <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, items))
