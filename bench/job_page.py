"""Scenario 4: the job page with 100, 1,000 and 10,000 results: server time and DB queries.

Through Django's test Client (the whole middleware stack, a logged-in session) with
CaptureQueriesContext. The query count must not grow with the number of results. The results
table pages by keyset (?after=/?before=/?last=1): the pages measured are the first, the last, a
middle one (after the id of the result halfway through) and the second page of failed results
(the "Next" link of the first, as a user gets there); the live part (jobs/<code>/live/) also when unchanged (304).
"""

from __future__ import annotations

import re
import statistics
import time

from bench.common import Row, bench_user
from bench.fixtures import job_with_results, plain_profile

NAME = "job_page"
# 11: a middle page's 10 and the page's parents' names (one query, whatever the number of rows).
MAX_QUERIES, MAX_MS = 11, 100.0


def measure(client, url: str, repeat: int, headers: dict | None = None, status: int = 200) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = headers or {}
    client.get(url, headers=headers)  # warm: templates compiled, session loaded once
    times, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        if response.status_code != status:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    return statistics.median(times), max(queries), len(response.content)


def next_link(client, url: str) -> str:
    """The query string of the page's "Next" link (rel="next")."""
    html = client.get(url).content.decode()
    found = re.search(r'href="(\?[^"]*)" rel="next"', html)
    if not found:
        raise RuntimeError(f"no Next link on {url}")
    return found.group(1).replace("&amp;", "&")


def second_failed_page(client, job, base: str) -> str:
    """Page 2 of the failed results: the "Next" link of page 1, as a user gets there; with fewer
    than a page of failures, the page after the first failure (still a page with a cursor)."""
    if job.failed_count > 50:
        return next_link(client, base + "?outcome=failed")
    first = job.results.filter(status="failed").order_by("id").values_list("id", flat=True).first()
    return f"?outcome=failed&after={first}"


def run(ctx) -> list[Row]:
    from django.test import Client
    from django.urls import reverse

    ctx.user = ctx.user or bench_user()
    profile = plain_profile(ctx.user, "Bench job page")
    client = Client()
    client.force_login(ctx.user)
    sizes = [100, 1000, 2000] if ctx.quick else [100, 1000, 10_000]
    repeat = 3 if ctx.quick else 10
    rows, counts = [], {}
    for n in sizes:
        job = job_with_results(ctx.user, profile, n)
        base = reverse("job_detail", args=[job.code])
        middle = job.results.order_by("id").values_list("id", flat=True)[n // 2]
        pages = (
            ("page 1", ""),
            ("last page", "?last=1"),
            ("middle page", f"?after={middle}"),
            ("filter failed", second_failed_page(client, job, base)),
        )
        for label, suffix in pages:
            url = base + suffix
            ms, q, size = measure(client, url, repeat)
            counts.setdefault(label, []).append(q)
            rows.append(
                Row(
                    NAME,
                    f"{n:,} results, {label}: ms (median of {repeat})",
                    round(ms, 1),
                    None,
                    None,
                    f"< {MAX_MS:g} ms",
                    ms < MAX_MS,
                )
            )
            rows.append(
                Row(
                    NAME,
                    f"{n:,} results, {label}: queries",
                    q,
                    MAX_QUERIES,
                    None,
                    f"<= {MAX_QUERIES}",
                    q <= MAX_QUERIES,
                    gate=False,
                )
            )
        url = reverse("job_live", args=[job.code])
        ms, q, _ = measure(client, url, repeat)
        counts.setdefault("live part", []).append(q)
        rows.append(
            Row(
                NAME,
                f"{n:,} results, live part: ms / queries",
                round(ms, 1),
                q,
                None,
                f"< {MAX_MS:g} ms",
                ms < MAX_MS,
            )
        )
        etag = client.get(url)["ETag"]
        ms, q, size = measure(client, url, repeat, headers={"If-None-Match": etag}, status=304)
        rows.append(
            Row(
                NAME,
                f"{n:,} results, live part unchanged (304): ms / queries",
                round(ms, 1),
                q,
                None,
                f"< {MAX_MS:g} ms",
                ms < MAX_MS,
            )
        )
    for label, qs in counts.items():
        flat = len(set(qs)) == 1
        rows.append(
            Row(
                NAME,
                f"{label}: queries at {' / '.join(f'{n:,}' for n in sizes)} results",
                " / ".join(map(str, qs)),
                qs[0],
                None,
                "flat (no growth)",
                flat,
                gate=True,
            )
        )
    return rows
