"""Scenario 5: the results CSV of a job with 10,000 and 100,000 results: time and peak memory.

Each export runs in a fresh subprocess (the same throwaway database) that streams the whole
response through Django's test Client, counting bytes; peak memory is tracemalloc's peak of
Python allocations during the download and the process's max RSS (getrusage). Flat = streamed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import ROOT, Row, bench_user
from bench.fixtures import job_with_results, plain_profile

NAME = "csv_export"

CHILD = r"""
import json, os, resource, sys, time, tracemalloc
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from records.models import CopyJob
job = CopyJob.objects.get(pk=int(sys.argv[1]))
client = Client()
client.force_login(get_user_model().objects.get(username="bench"))
url = reverse("job_results_csv", args=[job.code])
client.get(reverse("job_live", args=[job.code]))  # warm imports before measuring
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
response = client.get(url)
size = lines = 0
for chunk in response.streaming_content:
    size += len(chunk)
    lines += chunk.count(b"\n")
seconds = time.perf_counter() - t0
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"seconds": seconds, "bytes": size, "lines": lines, "peak": peak,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rss0_kb": rss0,
                  "streaming": bool(getattr(response, "streaming", False))}))
"""


def export(job_id: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(job_id)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"CSV export subprocess failed: {out.stderr[-800:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx) -> list[Row]:
    ctx.user = ctx.user or bench_user()
    profile = plain_profile(ctx.user, "Bench CSV")
    # Both sizes above the export's 2,000-row fetch chunk, or the small one would look "flatter".
    small_n, big_n = (4_000, 16_000) if ctx.quick else (10_000, 100_000)
    small = export(job_with_results(ctx.user, profile, small_n).pk)
    big = export(job_with_results(ctx.user, profile, big_n).pk)
    rows = []
    for n, r in ((small_n, small), (big_n, big)):
        rows.append(
            Row(
                NAME,
                f"{n:,} rows: seconds / MB",
                round(r["seconds"], 2),
                round(r["bytes"] / 1e6, 1),
                None,
                "info",
                None,
                note=f"{r['lines'] - 1:,} data lines, streaming={r['streaming']}, "
                f"{n / r['seconds']:,.0f} rows/s, max RSS {r['rss_kb'] / 1024:.0f} MB (before {r['rss0_kb'] / 1024:.0f} MB)",
            )
        )
    ratio = big["peak"] / max(small["peak"], 1)
    rows.append(
        Row(
            NAME,
            f"peak Python memory MB, {big_n:,} vs {small_n:,} rows",
            round(big["peak"] / 1e6, 2),
            round(small["peak"] / 1e6, 2),
            round(ratio, 2),
            "flat: <= 1.5x",
            ratio <= 1.5,
            gate=True,
        )
    )
    rss_growth = (big["rss_kb"] - big["rss0_kb"]) - (small["rss_kb"] - small["rss0_kb"])
    rows.append(
        Row(NAME, "RSS growth during download, MB (big - small)", round(rss_growth / 1024, 1), None, None, "info", None)
    )
    rows.append(
        Row(
            NAME,
            f"all {big_n:,} rows exported",
            big["lines"] - 1,
            big_n,
            None,
            "equal",
            big["lines"] - 1 == big_n,
            gate=True,
        )
    )
    return rows
