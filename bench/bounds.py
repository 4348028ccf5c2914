"""The lower bound on a copy's wall time at a given latency, computed from its plan.

A copy is a chain of dependent steps: a child level needs its parent level's ids (to read) or new
ids (to create), and the next page of a query needs the previous page's cursor, unless the API lets
later pages be asked for by offset once the first page has told the total (Vault's VQL: PAGESIZE /
PAGEOFFSET, documented; then they overlap each other, after the first). The calls inside
one step are independent and may overlap up to the profile's concurrency. So

    bound = Σ over steps of ⌈calls in step / concurrency⌉ × latency

The functions here are pure: the scenarios give them the tree's shape (who has how many children
through which related list) and the API's limits, and get the steps back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def lower_bound(steps: Iterable[int], *, concurrency: int, latency: float) -> float:
    """Σ ⌈calls / concurrency⌉ × latency over the dependent steps (empty steps cost nothing)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    return sum(math.ceil(n / concurrency) for n in steps if n > 0) * latency


def page_steps(pages_per_query: Sequence[int], *, by_offset: Sequence[bool] = ()) -> list[int]:
    """Independent queries of one level as dependent steps: every query's first page can overlap
    with the others', its second page must wait for its first (the cursor), and so on. Step k
    holds the queries with at least k pages. A query read `by_offset` (one flag per query, default
    none) has all its later pages in step 2: each needs only the first page's total."""
    flags = list(by_offset) + [False] * (len(pages_per_query) - len(by_offset))
    cursor = [p for p, o in zip(pages_per_query, flags, strict=True) if not o]
    offset = [p for p, o in zip(pages_per_query, flags, strict=True) if o]
    steps = [sum(1 for p in cursor if p >= k) for k in range(1, max(cursor, default=0) + 1)]
    for k, calls in enumerate([len(offset), sum(p - 1 for p in offset)]):
        if calls:
            steps += [0] * (k + 1 - len(steps))
            steps[k] += calls
    return steps


@dataclass(frozen=True)
class ReadLimits:
    """How a system reads a related list: one query per `ids_per_query` parents (0: one per
    parent, the per-parent related-list call), `rows_per_page` rows a page, and whether the pages
    after the first may be asked for at once (`by_offset`) or each needs the one before (a cursor)."""

    ids_per_query: int
    rows_per_page: int
    by_offset: bool = False


def level_queries(per_parent: Sequence[int], limits: ReadLimits) -> list[int]:
    """The pages of each query that reads one related list for one level's parents
    (`per_parent`: children of each parent; every query reads at least one page)."""
    if not per_parent:
        return []
    size = limits.ids_per_query or 1
    groups = [sum(per_parent[i : i + size]) for i in range(0, len(per_parent), size)]
    return [max(1, math.ceil(n / limits.rows_per_page)) for n in groups]


def read_steps(levels: Sequence[Sequence[tuple[Sequence[int], ReadLimits]]], *, first_described: int = 0) -> list[int]:
    """The planner's reads as steps: the root's read, then per level every related list's
    queries overlapping (each level waits for the one above: it needs its ids).

    `first_described`: how many objects the first level reads whose metadata its queries need
    (a query names the object's fields). Those objects are named by the root object's metadata,
    read beside the root's record, so their metadata is a step of its own before the first level.
    A deeper level's metadata is read beside the level above's queries and adds no step (nor is
    it counted in theirs: leaving calls out keeps the bound a lower bound)."""
    steps = [1] + ([first_described] if first_described and levels else [])
    for level in levels:
        pages: list[int] = []
        by_offset: list[bool] = []
        for per_parent, limits in level:
            queries = level_queries(per_parent, limits)
            pages += queries
            by_offset += [limits.by_offset] * len(queries)
        steps += page_steps(pages, by_offset=by_offset)
    return steps


def write_steps(per_wave: Sequence[dict[str, int]], *, batch_size: int, roots: int = 1, updates: int = 0) -> list[int]:
    """The run's writes as steps: the top records' clones (`roots`, one call each, overlapping),
    then each wave's inserts, every module's batches overlapping, then the second pass's
    `updates` (records, one update per batch)."""
    steps = [roots]
    for wave in per_wave:
        steps.append(sum(math.ceil(n / batch_size) for n in wave.values()))
    steps.append(math.ceil(updates / batch_size))
    return steps
