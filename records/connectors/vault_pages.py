"""A VQL statement's pages read at once: the first page says how many rows there are, the others are
asked for by PAGEOFFSET, up to the profile's concurrency in flight, instead of one `next_page`
cursor after another.

Facts (../shared/api-notes/vault.md §3.3; https://limited.veevavault.dev/safety/vql/clauses/pageoffset):
`PAGESIZE n PAGEOFFSET m` (v20.3+) returns rows m … m+n-1 of the query's result, and every answer
gives `total`. Veeva recommends the `next_page` cursor over manual PAGEOFFSET paging, and may give
a smaller page than asked for when the rows are large. So the statements are ordered by id (each
page is a query of its own: without an order, two queries needn't list the rows alike), each page
is checked against the first (same `total`, a full page), and on any difference the read goes on
by the cursor, leaving out the rows already handed over. UNCONFIRMED: whether Vault orders a large
result by id quickly; whether a record made or deleted between the pages' queries can shift a row
past the checks (same total, one in, one out): the ids are de-duplicated, a row could be missed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from records.connectors import vault_parse as vp
from records.connectors.vault_api import VaultApi

Row = dict[str, Any]


class PageMismatch(Exception):
    """A page read by offset did not fit the first page's count: the result changed or Vault
    chose a smaller page."""


def rows_at_once(api: VaultApi, statement: str) -> Iterator[Row]:
    """Every row of `statement` (a SELECT … FROM … [WHERE …] without ORDER BY or paging), in id
    order; the later pages at most 2 x `concurrency` ahead of the one handed over."""
    ordered = f"{statement} ORDER BY id ASC"
    first = api.call("POST", "query", data={"q": ordered})
    rows = vp.rows(first)
    yield from rows
    details = first.get("responseDetails") or {}
    total, step = vp.to_int(details.get("total")), len(rows)
    if not details.get("next_page"):
        return
    seen = {str(r.get("id")) for r in rows}
    try:
        if not total or not step:
            raise PageMismatch
        for page in _later_pages(api, ordered, total=total, step=step):
            seen.update(str(r.get("id")) for r in page)
            yield from page
    except PageMismatch:
        yield from (row for row in api.query(ordered) if str(row.get("id")) not in seen)


def _later_pages(api: VaultApi, ordered: str, *, total: int, step: int) -> Iterator[list[Row]]:
    """The pages after the first (`step` rows each: what the first page held), in order: `concurrency`
    calls in flight, and as many pages again asked for, so a call answered before the page handed
    over next is followed at once by another (at most 2 x concurrency pages held)."""
    offsets = deque(range(step, total, step))
    workers = max(1, api.config.concurrency)
    pool = ThreadPoolExecutor(max_workers=workers)
    ahead: deque[tuple[int, Future[dict[str, Any]]]] = deque()
    try:
        while offsets or ahead:
            while offsets and len(ahead) < 2 * workers:
                offset = offsets.popleft()
                q = f"{ordered} PAGESIZE {step} PAGEOFFSET {offset}"
                ahead.append((offset, pool.submit(api.call, "POST", "query", data={"q": q})))
            offset, future = ahead.popleft()
            yield _checked(future.result(), total=total, expected=min(step, total - offset))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _checked(body: dict[str, Any], *, total: int, expected: int) -> list[Row]:
    rows = vp.rows(body)
    if vp.to_int((body.get("responseDetails") or {}).get("total")) != total or len(rows) != expected:
        raise PageMismatch
    return rows
