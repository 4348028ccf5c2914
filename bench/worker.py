"""Scenario 6: queue-to-start latency with a warm worker, and engine CPU per record.

Queue-to-start: a real `manage.py rqworker default` (the same throwaway DB) against an
EmbeddedRedis; after one warm-up job, small clone jobs are created with enqueue on commit and
the time from copy_job_create returning to the job's `started` stamp is taken.

Engine overhead: a Zoho deep copy against the sandbox with no added latency and profile
concurrency 1, so the engine runs in this thread only; thread CPU time (time.thread_time: the
sandbox's server threads are not counted) of create + run, divided by the records copied.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, Row, bench_user, create_job, na_rows, run_job, unavailable, zoho_profile

NAME = "worker"


def queue_to_start(ctx) -> list[Row]:
    from django.utils import timezone

    from bench.zoho_deep import account_id, fresh_zoho
    from records.connectors import connector_for
    from records.copying.job_create import copy_job_create
    from records.copying.request import CopyRequest
    from records.ops.embedded_redis import EmbeddedRedis

    sb = ctx.sb
    fresh_zoho(sb, 0.0)
    profile = zoho_profile(sb, ctx.user, concurrency=2)
    root = account_id(connector_for(profile), "Acme Corp")
    ctx.redis = EmbeddedRedis(socket_path=ctx.tmp / "redis.sock", data_dir=ctx.tmp / "redis").start()
    log_path = ctx.tmp / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "default"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def one(n):
            request = CopyRequest(
                profile=profile,
                object_name="Accounts",
                source_ids=(root,),
                mode="clone",
                overrides={"Account_Name": f"Queue probe {n}", "Account_Number": None},
            )
            job = copy_job_create(request=request, user=ctx.user)
            queued_at = timezone.now()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                job.refresh_from_db()
                if job.is_finished:
                    break
                time.sleep(0.01)
            else:
                raise RuntimeError(f"the worker did not finish job {job.pk} in 60 s (log: {log_path})")
            return job, (job.started - queued_at).total_seconds(), (job.finished - queued_at).total_seconds()

        one(0)  # warm-up: imports, DB connection, token
        n = ctx.scale(10, 3)
        samples = [one(i + 1) for i in range(n)]
        starts = sorted(s for _, s, _ in samples)
        ends = sorted(e for _, _, e in samples)
        statuses = {j.status for j, _, _ in samples}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
        ctx.redis.stop()
        ctx.redis = None
    med = statistics.median(starts)
    return [
        Row(
            NAME,
            f"queue -> start, warm rqworker (median of {n}, ms)",
            round(med * 1000, 1),
            None,
            None,
            "info",
            None,
            note=f"min {starts[0] * 1000:.0f} ms, max {starts[-1] * 1000:.0f} ms; queue -> finished median "
            f"{statistics.median(ends) * 1000:.0f} ms for a 1-record clone; statuses {sorted(statuses)}",
        ),
    ]


def engine_cpu(ctx) -> list[Row]:
    from bench.zoho_deep import ACCOUNT, account_id, fresh_zoho
    from records.connectors import connector_for

    sb = ctx.sb
    fresh_zoho(sb, 0.0)
    name = "Acme Corp" if ctx.quick else ACCOUNT
    profile = zoho_profile(sb, ctx.user, concurrency=1)
    root = account_id(connector_for(profile), name)
    top = {"Account_Name": f"{name} (cpu copy)", "Account_Number": None}
    http_cpu = HttpClientCpu()
    c0, w0 = time.thread_time(), time.perf_counter()
    job = create_job(ctx, profile, "Accounts", [root], "deep_copy", overrides=top)
    c1 = time.thread_time()
    job = run_job(job, worker="bench-cpu")
    c2, w2 = time.thread_time(), time.perf_counter()
    http_cpu.stop()
    calls = len(sb.log("zoho"))
    records = max(1, job.succeeded_count)
    total = (c2 - c0) / records * 1000
    engine = (c2 - c0 - http_cpu.seconds) / records * 1000
    return [
        Row(
            NAME,
            f"engine CPU per record outside the HTTP client, Zoho deep copy of {records:,} (ms)",
            round(engine, 3),
            None,
            None,
            "< 1 ms" if not ctx.quick else "info (quick: 20 records)",
            engine < 1.0 if not ctx.quick else None,
            note=f"thread CPU create {c1 - c0:.2f} s + run {c2 - c1:.2f} s, of which {http_cpu.seconds:.2f} s inside "
            f"HttpClient.request ({http_cpu.calls} calls: requests/urllib3 building, sending and reading); "
            f"the rest is planning, payloads, JSON, Django ORM/SQLite; wall {w2 - w0:.2f} s; job {job.status}",
        ),
        Row(
            NAME,
            "engine CPU per record, all of it (incl. the HTTP client, ms)",
            round(total, 3),
            None,
            None,
            "info",
            None,
            note=f"{calls} HTTP calls at 0 ms added latency, {(c2 - c0) / max(1, calls) * 1000:.1f} ms CPU per call",
        ),
    ]


class HttpClientCpu:
    """Thread CPU spent inside HttpClient.request (the network seam), to set it apart from the
    engine's own work. Instrumentation for this measurement only; removed by stop()."""

    def __init__(self):
        from records.connectors import http

        self.cls, self.original = http.HttpClient, http.HttpClient.request
        self.seconds, self.calls = 0.0, 0
        timer = self

        def request(client, *args, **kwargs):
            start = time.thread_time()
            try:
                return timer.original(client, *args, **kwargs)
            finally:
                timer.seconds += time.thread_time() - start
                timer.calls += 1

        self.cls.request = request

    def stop(self):
        self.cls.request = self.original


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "zoho")
    if why:
        return na_rows(NAME, ["queue -> start", "engine CPU per record"], why)
    ctx.user = ctx.user or bench_user()
    rows = []
    try:
        rows += queue_to_start(ctx)
    except Exception as exc:
        rows.append(Row(NAME, "queue -> start", "not available", note=f"{type(exc).__name__}: {exc}"[:300]))
    rows += engine_cpu(ctx)
    return rows
