"""Scenario: scale out. Real `manage.py rqworker` processes (1, 2, then 4) run 8 Zoho deep copies at
once, each on its own profile and its own sandbox org (each org a `python -m sandbox` process of
its own, bench/org_process.py), at 200 ms per call (`--quick`: its own latency): records copied per
second, and its ratio at 4 workers to 1 (target >= 3.2x: the jobs wait on the remote, not on a
CPU, so four workers should come close to four times one). Then 8 jobs on ONE Zoho profile across
4 workers: the most calls in flight the org saw at once (the sandbox counts them, latency
included; sandbox/in_flight.py) stays within the profile's concurrency, which the workers share
through Redis (records/connectors/slots.py).

Each job is planned first (copy_job_create, not queued) with no added latency, then the latency is
set and the jobs are queued together once the workers are listening; the time runs from queueing
to the last job's end. The planning is measured by the other scenarios; this one times the runs.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from bench.common import ROOT, Row, bench_user, create_job, na_rows, unavailable, worker_env, zoho_profile
from bench.org_process import OrgProcess

NAME = "scale_out"
ORGS = 8
WORKER_COUNTS = (1, 2, 4)
QUICK_WORKER_COUNTS = (1, 4)  # --quick: the CI run's time
LATENCY = 0.2  # a real remote's, whatever --latency-ms says: the point is workers waiting on it
CONCURRENCY = 5  # each profile's (ConnectionProfile's default)
SHARED_CONCURRENCY = 3  # the one profile of the second row: fewer than 4 workers x 5 threads
TARGET_RATIO = 3.2
JOB_TIMEOUT = 600.0


@dataclass
class Round:
    workers: int
    seconds: float
    records: int
    statuses: list[str]
    worker_cpu: float  # CPU seconds of the worker processes and their work horses (start-up included)
    bench_cpu: float  # CPU seconds of this process (queueing, polling) while the jobs ran
    orgs_cpu: float  # CPU seconds of the sandbox processes while the jobs ran
    job_seconds: list[float]  # each job's run, started to finished
    calls: int  # API calls the orgs answered while the jobs ran
    load: tuple[float, float]  # the machine's 1-minute load average before and after (shared machine)

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def ok(self) -> bool:
        return set(self.statuses) == {"succeeded"}


def _orgs(count: int) -> list[OrgProcess]:
    orgs: list[OrgProcess] = []
    try:
        for _ in range(count):
            orgs.append(OrgProcess())
    except BaseException:
        for org in orgs:
            org.stop()
        raise
    return orgs


def _redis(ctx):
    from records.ops.embedded_redis import EmbeddedRedis

    if ctx.redis is None:
        ctx.redis = EmbeddedRedis(socket_path=ctx.tmp / "redis.sock", data_dir=ctx.tmp / "redis").start()
    return ctx.redis


def _plan(ctx, profile, account: str, n: int):
    """One deep copy of `account`, planned now (no latency), queued later."""
    from bench.zoho_deep import account_id
    from records.connectors import connector_for

    root = account_id(connector_for(profile), account)
    top = {"Account_Name": f"{account} (scale-out {n})", "Account_Number": None}
    return create_job(ctx, profile, "Accounts", [root], "deep_copy", overrides=top)


def _started_workers(ctx, count: int, label: str) -> list[subprocess.Popen]:
    import django_rq
    from rq import Worker

    conn = django_rq.get_connection("default")
    before = len(Worker.all(connection=conn))
    procs = []
    for i in range(count):
        with open(ctx.tmp / f"scale-{label}-{i}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "rqworker", "default"],
                    cwd=ROOT,
                    env=worker_env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    deadline = time.monotonic() + 120
    while len(Worker.all(connection=conn)) < before + count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            _stop(procs)
            raise RuntimeError(f"{count} rqworker(s) did not start (logs: {ctx.tmp}/scale-{label}-*.log)")
        time.sleep(0.1)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()  # RQ's warm shutdown: no job is running by now
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


@contextmanager
def _workers(ctx, count: int, label: str):
    procs = _started_workers(ctx, count, label)
    try:
        yield procs
    finally:
        _stop(procs)


def _wait_for_all(jobs) -> list:
    from records.models import CopyJob

    ids = [j.pk for j in jobs]
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        done = list(CopyJob.objects.filter(pk__in=ids))
        if all(j.is_finished for j in done):
            return done
        time.sleep(0.05)
    raise RuntimeError(f"jobs {ids} not finished in {JOB_TIMEOUT:.0f} s")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_jobs(ctx, jobs, workers: int, label: str) -> tuple[list, float, float]:
    """Queue `jobs` with `workers` rqworkers listening: (the ended jobs, wall s, this process's CPU s)."""
    from records.copying.job_queue import copy_job_enqueue

    with _workers(ctx, workers, label):
        cpu0, t0 = time.process_time(), time.perf_counter()
        for job in jobs:
            copy_job_enqueue(job=job)
        ended = _wait_for_all(jobs)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    _timeline(ended, label)
    return ended, seconds, cpu


def _timeline(ended, label: str) -> None:
    """Each job's start and end after the first start, on stderr (where a missed ratio loses its time)."""
    first = min(j.started for j in ended)
    spans = [((j.started - first).total_seconds(), (j.finished - first).total_seconds()) for j in ended]
    text = " ".join(f"{a:.1f}-{b:.1f}" for a, b in sorted(spans))
    print(f"[bench] {NAME} {label}: job runs (s after the first start) {text}", file=sys.stderr, flush=True)


def latency(ctx) -> float:
    """LATENCY; `--quick` (informational, the CI run's time): the quick run's own latency, as
    latency_bounds' small copies. The one profile's peak in flight is still gated then: 8 jobs on
    4 workers still want more calls out at once than its concurrency."""
    return ctx.latency if ctx.quick else LATENCY


def throughput(ctx, orgs, workers: int, account: str) -> Round:
    """8 deep copies, one per org and profile, run by `workers` rqworkers at `latency(ctx)` per call."""
    jobs = []
    for n, org in enumerate(orgs):
        org.reset()
        profile = zoho_profile(org, ctx.user, concurrency=CONCURRENCY, name=f"Scale out w{workers} org {n}")
        jobs.append(_plan(ctx, profile, account, n))
    for org in orgs:
        org.set_latency(latency(ctx))
        org.clear_log()
    cpu_before, load_before = _children_cpu(), os.getloadavg()[0]
    orgs_before = sum(org.cpu_seconds() for org in orgs)
    ended, seconds, bench_cpu = _run_jobs(ctx, jobs, workers, f"w{workers}")
    orgs_cpu = sum(org.cpu_seconds() for org in orgs) - orgs_before
    return Round(
        workers,
        seconds,
        sum(j.succeeded_count for j in ended),
        sorted(j.status for j in ended),
        _children_cpu() - cpu_before,
        bench_cpu,
        orgs_cpu,
        sorted((j.finished - j.started).total_seconds() for j in ended),
        sum(len(org.log()) for org in orgs),
        (load_before, os.getloadavg()[0]),
    )


def start_up_cpu(ctx) -> float:
    """CPU seconds one rqworker spends starting and stopping with no job: what the rounds' worker
    CPU holds besides the jobs'."""
    before = _children_cpu()
    _stop(_started_workers(ctx, 1, "idle"))
    return _children_cpu() - before


def shared_profile(ctx, org: OrgProcess, account: str) -> tuple[int, list[str], float, int]:
    """8 deep copies on one profile run by 4 rqworkers: (the org's peak calls in flight, the jobs'
    statuses, wall s, 429s the org answered)."""
    org.reset()
    profile = zoho_profile(org, ctx.user, concurrency=SHARED_CONCURRENCY, name="Scale out shared profile")
    jobs = [_plan(ctx, profile, account, n) for n in range(ORGS)]
    org.set_latency(latency(ctx))
    org.clear_log()
    org.reset_peak()
    ended, seconds, _cpu = _run_jobs(ctx, jobs, max(WORKER_COUNTS), "shared")
    too_many = sum(1 for e in org.log() if e["status"] == 429)
    return org.in_flight()["peak"], sorted(j.status for j in ended), seconds, too_many


def run(ctx) -> list[Row]:
    why = unavailable(ctx.sb, "zoho")
    if why:
        return na_rows(NAME, ["records/s at 4 workers vs 1", "peak calls in flight, one profile"], why)
    ctx.user = ctx.user or bench_user()
    account = "Acme Corp" if ctx.quick else "Big Account"
    _redis(ctx)
    orgs = _orgs(ORGS)
    try:
        idle_cpu = start_up_cpu(ctx)
        counts = QUICK_WORKER_COUNTS if ctx.quick else WORKER_COUNTS
        rounds = [throughput(ctx, orgs, n, account) for n in counts]
        shared = shared_profile(ctx, orgs[0], account)
    finally:
        for org in orgs:
            org.stop()
    return throughput_rows(ctx, rounds, account, idle_cpu) + [shared_row(ctx, shared, account)]


def _round_note(ctx, r: Round, account: str, idle_cpu: float) -> str:
    jobs_cpu = max(0.0, r.worker_cpu - r.workers * idle_cpu)
    return (
        f"{r.records:,} records, {r.calls:,} calls in {r.seconds:.2f} s (deep copies of {account!r}, "
        f"{latency(ctx) * 1000:g} ms a call, concurrency {CONCURRENCY} each); a job's run {r.job_seconds[0]:.2f}–"
        f"{r.job_seconds[-1]:.2f} s (sum {sum(r.job_seconds):.1f} s); CPU: the jobs in the workers {jobs_cpu:.1f} s "
        f"({jobs_cpu / max(1, r.calls) * 1000:.1f} ms a call; start-up {idle_cpu:.1f} s a worker left out), "
        f"the 8 sandbox processes {r.orgs_cpu:.1f} s, the bench's {r.bench_cpu:.1f} s; load average {r.load[0]:.1f} -> {r.load[1]:.1f}; "
        f"jobs {sorted(set(r.statuses))}"
    )


def throughput_rows(ctx, rounds: list[Round], account: str, idle_cpu: float) -> list[Row]:
    one = rounds[0]
    rows = [
        Row(
            NAME,
            f"records/s, {r.workers} rqworker(s), 8 jobs on 8 orgs",
            round(r.rate, 1),
            round(one.rate, 1),
            round(r.rate / one.rate, 2),
            "info (ratio: vs 1 worker)",
            None if r.ok else False,
            gate=not r.ok,
            note=_round_note(ctx, r, account, idle_cpu),
        )
        for r in rounds
    ]
    last = rounds[-1]
    ratio = last.rate / one.rate
    rows.append(
        Row(
            NAME,
            f"records/s at {last.workers} rqworkers / at 1",
            round(ratio, 2),
            TARGET_RATIO,
            round(ratio, 2),
            "info (quick: small jobs)" if ctx.quick else f">= {TARGET_RATIO:g}x",
            None if ctx.quick else ratio >= TARGET_RATIO,
            gate=not ctx.quick,
            note=f"{last.rate:.1f} vs {one.rate:.1f} records/s",
        )
    )
    return rows


def shared_row(ctx, shared: tuple[int, list[str], float, int], account: str) -> Row:
    peak, statuses, seconds, too_many = shared
    ok = peak <= SHARED_CONCURRENCY and set(statuses) == {"succeeded"}
    return Row(
        NAME,
        f"peak calls in flight at the org: 8 jobs, one profile (concurrency {SHARED_CONCURRENCY}), "
        f"{max(WORKER_COUNTS)} rqworkers",
        peak,
        SHARED_CONCURRENCY,
        None,
        f"<= {SHARED_CONCURRENCY}",
        ok,
        gate=True,
        note=f"deep copies of {account!r} at {latency(ctx) * 1000:g} ms a call, {seconds:.2f} s; measured in the sandbox "
        f"(latency included); the org answered {too_many} 429(s); jobs {sorted(set(statuses))}",
    )
