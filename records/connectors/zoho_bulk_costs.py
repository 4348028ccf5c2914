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
# [UNCONFIRMED] how fast a COQL page comes: Zoho documents none. A page of 2,000 rows with a
# module's list columns is a large answer (hundreds of KB), built and sent in about 2 s on top of
# the call's latency; the job's file streams at about the same rate (BULK_ROWS_PER_SECOND).
COQL_ROWS_PER_SECOND = 1000.0
# So where a read takes Bulk Read, at one chunk of parents (100): COQL costs 3 credits per 2,000
# rows and its pages follow each other (about 2.2 s each); a job costs 53 and about 11 s plus the
# file. Cheaper from 34,001 rows (18 pages = 54 credits), faster from about 19,000: Bulk Read is
# taken from 34,001 rows under one chunk of parents, e.g. 50,000 contacts of one account: 53
# credits and about 36 s against 75 credits and 55 s. (Beyond 100,000 rows COQL can't page on:
# its OFFSET stops there.)
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


@dataclass(frozen=True)
class BulkReadTerms:
    """What a bulk read job is taken to cost ([UNCONFIRMED]: see above), as one value a connector
    holds (`ZohoConnector.bulk_read_terms`): a test lowers it to have a small level read by a job."""

    credits: int = BULK_READ_CREDITS
    job_seconds: float = BULK_JOB_SECONDS


def _up(n: int, size: int) -> int:
    return -(-n // size)


def read_choice(
    rows: int, parents: int, *, latency: float, concurrency: int, terms: BulkReadTerms = BulkReadTerms()
) -> PathChoice:
    """Reading `rows` children of `parents` records: COQL pages (parent chunks overlap up to the
    concurrency, a chunk's pages follow each other) or a bulk read job per chunk of parents."""
    chunks = max(1, _up(parents, COQL_IN_MAX))
    calls = max(chunks, _up(rows, COQL_ROWS))
    page_seconds = latency + min(rows, COQL_ROWS) / COQL_ROWS_PER_SECOND
    api_seconds = max(_up(rows, COQL_ROWS), _up(calls, max(1, concurrency))) * page_seconds
    jobs = max(1, _up(parents, BULK_READ_IN_MAX)) * max(1, _up(rows, BULK_READ_ROWS))
    job_seconds = terms.job_seconds + rows / jobs / BULK_ROWS_PER_SECOND + BULK_CALLS * latency
    return _choose(
        "read",
        rows,
        api=(calls * COQL_CREDITS, api_seconds),
        bulk=(jobs * (terms.credits + BULK_CALLS - 1), _up(jobs, max(1, concurrency)) * job_seconds),
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
