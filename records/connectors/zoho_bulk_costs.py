"""Which path a level of a Zoho copy takes: the ordinary API (COQL reads, inserts of 100) or a bulk
job (Bulk Read, Bulk Write), by the one rule here: a bulk job only when it costs fewer credits AND
less time at the level's size. The numbers and their sources are in docs/zoho-bulk-api.md; the
ones marked [UNCONFIRMED] are the most plausible values, kept here to be changed in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

COQL_ROWS = 2000  # §4.4: rows per COQL call
COQL_CREDITS = 3  # §9: a COQL call of LIMIT 1,001-2,000 costs 3 credits (tiers 1/2/3)
COQL_IN_MAX = 100  # §4.4: parent ids a COQL `in (...)`
INSERT_ROWS = 100  # §3: records per insert call
INSERT_RECORDS_PER_CREDIT = 10  # §9: 1 credit per 10 records written
BULK_WRITE_CREDITS = 500  # §9: initialising a bulk write job
BULK_WRITE_ROWS = 25_000  # records a bulk write job takes
BULK_READ_CREDITS = 50  # [UNCONFIRMED] a bulk read job's cost (not on the v7/v8 limits pages we read)
BULK_READ_ROWS = 200_000  # records a bulk read job (one page) gives
BULK_READ_IN_MAX = 100  # [UNCONFIRMED] values in a bulk read criteria's `in` (COQL's 100 assumed)
# [UNCONFIRMED] how long a job runs: Zoho documents none. A fixed queueing delay plus a rate; the
# calls around it (upload, create, a poll each POLL seconds, download) at the profile's latency.
BULK_JOB_SECONDS = 10.0
BULK_ROWS_PER_SECOND = 2000.0
BULK_CALLS = 4  # upload or create, create, a last poll, the download
# The latency a plan's times assume: a real remote's 100-300 ms a call (the planner runs before
# any copy call, so it has no measured one).
ASSUMED_LATENCY = 0.2


@dataclass(frozen=True)
class PathChoice:
    """A level's path, what each path would cost, and why this one."""

    path: str  # "api" or "bulk"
    why: str
    api_credits: int
    api_seconds: float
    bulk_credits: int
    bulk_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _up(n: int, size: int) -> int:
    return -(-n // size)


def read_choice(rows: int, parents: int, *, latency: float, concurrency: int) -> PathChoice:
    """Reading `rows` children of `parents` records: COQL pages (parent chunks overlap up to the
    concurrency, a chunk's pages follow each other) or a bulk read job per chunk of parents."""
    chunks = max(1, _up(parents, COQL_IN_MAX))
    calls = max(chunks, _up(rows, COQL_ROWS))
    api_seconds = max(_up(rows, COQL_ROWS), _up(calls, max(1, concurrency))) * latency
    jobs = max(1, _up(parents, BULK_READ_IN_MAX)) * max(1, _up(rows, BULK_READ_ROWS))
    bulk_seconds = _up(jobs, max(1, concurrency)) * (_job_seconds(rows / jobs) + BULK_CALLS * latency)
    return _choose(
        "read",
        rows,
        api=(calls * COQL_CREDITS, api_seconds),
        bulk=(jobs * (BULK_READ_CREDITS + BULK_CALLS - 1), bulk_seconds),
    )


def insert_choice(rows: int, *, latency: float, concurrency: int) -> PathChoice:
    """Inserting `rows` records of one module: calls of 100 (overlapping up to the concurrency) or
    a bulk write job per 25,000."""
    calls = _up(rows, INSERT_ROWS)
    api_credits = _up(rows, INSERT_RECORDS_PER_CREDIT)
    api_seconds = _up(calls, max(1, concurrency)) * latency
    jobs = max(1, _up(rows, BULK_WRITE_ROWS))
    bulk_seconds = _up(jobs, max(1, concurrency)) * (_job_seconds(rows / jobs) + BULK_CALLS * latency)
    return _choose(
        "write",
        rows,
        api=(api_credits, api_seconds),
        bulk=(jobs * (BULK_WRITE_CREDITS + BULK_CALLS - 1), bulk_seconds),
    )


def _job_seconds(rows: float) -> float:
    return BULK_JOB_SECONDS + rows / BULK_ROWS_PER_SECOND


def _choose(kind: str, rows: int, *, api: tuple[int, float], bulk: tuple[int, float]) -> PathChoice:
    (api_credits, api_seconds), (bulk_credits, bulk_seconds) = api, bulk
    cheaper, faster = bulk_credits < api_credits, bulk_seconds < api_seconds
    name = "Bulk Read" if kind == "read" else "Bulk Write"
    if cheaper and faster:
        why = f"{name}: {bulk_credits:,} credits and about {bulk_seconds:,.0f} s"
        why += f" against {api_credits:,} credits and {api_seconds:,.0f} s"
        return PathChoice("bulk", why, api_credits, api_seconds, bulk_credits, bulk_seconds)
    ordinary = "COQL reads" if kind == "read" else "inserts of 100"
    costs = f"{api_credits:,} credits, about {api_seconds:,.0f} s"
    if not cheaper:
        reason = f"{name} would cost {bulk_credits:,} credits"
    else:
        reason = f"{name} would take about {bulk_seconds:,.0f} s"
    why = f"{ordinary} ({costs}): {reason} for {rows:,} records"
    return PathChoice("api", why, api_credits, api_seconds, bulk_credits, bulk_seconds)
