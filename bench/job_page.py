"""Scenario 4: the job page with 100, 1,000 and 10,000 results: server time and DB queries.

Through Django's test Client (the whole middleware stack, a logged-in session) with
CaptureQueriesContext. The query count must not grow with the number of results.
"""

from __future__ import annotations

import statistics
import time

from bench.common import Row, bench_user
from bench.fixtures import job_with_results, plain_profile

NAME = "job_page"
MAX_QUERIES, MAX_MS = 10, 100.0


def measure(client, url: str, repeat: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates compiled, session loaded once
    times, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    return statistics.median(times), max(queries), len(response.content)


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
        for label, suffix in (("page 1", ""), ("last page", f"?page={(n + 49) // 50}"),
                              ("filter failed", "?outcome=failed&page=2" if n > 500 else "?outcome=failed")):
            url = reverse("job_detail", args=[job.code]) + suffix
            ms, q, size = measure(client, url, repeat)
            counts.setdefault(label, []).append(q)
            rows.append(Row(NAME, f"{n:,} results, {label}: ms (median of {repeat})", round(ms, 1), None, None,
                            f"< {MAX_MS:g} ms", ms < MAX_MS))
            rows.append(Row(NAME, f"{n:,} results, {label}: queries", q, MAX_QUERIES, None,
                            f"<= {MAX_QUERIES}", q <= MAX_QUERIES, gate=False))
        url = reverse("job_progress", args=[job.code])
        ms, q, _ = measure(client, url, repeat)
        counts.setdefault("progress.json", []).append(q)
        rows.append(Row(NAME, f"{n:,} results, progress.json: ms / queries", round(ms, 1), q, None,
                        f"< {MAX_MS:g} ms", ms < MAX_MS))
    for label, qs in counts.items():
        flat = len(set(qs)) == 1
        rows.append(Row(NAME, f"{label}: queries at {' / '.join(f'{n:,}' for n in sizes)} results",
                        " / ".join(map(str, qs)), qs[0], None, "flat (no growth)", flat, gate=True))
    return rows
