"""Where a job's CPU goes in a real rqworker (not a scenario; the scale_out rows' CPU per job).

`.venv/bin/python -m bench.worker_cpu [--runs N] [--no-profile] [--debug] [--latency-ms 200]`: one sandbox
org in a process of its own, one `manage.py rqworker default` with bench.profiled_worker's class,
and N deep copies of Big Account queued one after another (each planned first, not timed). Per
job: the work horse's CPU (wait4), its part before `perform_job` and inside it, the worker's own
CPU around the job, the org's; then cProfile's top functions of every `perform_job` together.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, bench_user, create_job, make_tmp, setup_django, worker_env, zoho_profile
from bench.org_process import OrgProcess


def _start_worker(tmp: Path, out: Path, debug: bool) -> subprocess.Popen:
    import django_rq
    from rq import Worker

    env = {**os.environ, "WORKER_CPU_DIR": str(out)} if debug else worker_env(WORKER_CPU_DIR=str(out))
    cmd = [sys.executable, "manage.py", "rqworker", "default", "--worker-class", "bench.profiled_worker.ProfiledWorker"]
    log = (tmp / "worker.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    conn = django_rq.get_connection("default")
    deadline = time.monotonic() + 120
    while not Worker.all(connection=conn):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"the rqworker did not start ({tmp}/worker.log)")
        time.sleep(0.1)
    return proc


def _wait(job):
    from records.models import CopyJob

    while True:
        job = CopyJob.objects.get(pk=job.pk)
        if job.is_finished:
            return job
        time.sleep(0.05)


def _written(path: Path, lines: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() or len(path.read_text().splitlines()) < lines:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker wrote no line for job {lines} in {path}")
        time.sleep(0.05)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _report(out: Path, org_cpu: list[float], profile: bool) -> None:
    jobs, horses = _jsonl(out / "jobs.jsonl"), _jsonl(out / "horse.jsonl")
    for j, h, o in zip(jobs, horses, org_cpu, strict=False):
        print(
            f"job {j['job'][:8]}: horse {j['horse_cpu'] * 1000:.0f} ms (before perform_job "
            f"{h['before'] * 1000:.0f}, perform_job {h['perform'] * 1000:.0f}), worker {j['parent_cpu'] * 1000:.0f} ms, "
            f"org {o * 1000:.0f} ms, wall {j['wall']:.2f} s; gc {h.get('gc')}"
        )
    if horses:
        print(
            f"modules the first job's horse imported ({len(horses[0]['imported'])}):", " ".join(horses[0]["imported"])
        )
        print(
            f"modules the last job's horse imported ({len(horses[-1]['imported'])}):", " ".join(horses[-1]["imported"])
        )
    if jobs:
        med = sorted(j["horse_cpu"] + j["parent_cpu"] for j in jobs)[len(jobs) // 2]
        print(f"median horse + worker CPU per job: {med * 1000:.0f} ms")
    files = sorted(out.glob("*.prof"))
    if profile and files:
        stats = pstats.Stats(*[str(f) for f in files])
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--debug", action="store_true", help="the worker with DEBUG on, as the bench's own process")
    parser.add_argument("--account", default="Big Account")
    args = parser.parse_args()
    tmp = make_tmp()
    out = tmp / "cpu"
    out.mkdir()
    if args.no_profile:
        os.environ["WORKER_CPU_NO_PROFILE"] = "1"
    setup_django(tmp, 0.2)
    from bench.zoho_deep import account_id
    from records.connectors import connector_for
    from records.copying.job_queue import copy_job_enqueue
    from records.ops.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(socket_path=tmp / "redis.sock", data_dir=tmp / "redis").start()
    org = OrgProcess()
    worker = None
    org_cpu = []
    try:
        user = bench_user()
        worker = _start_worker(tmp, out, args.debug)

        class Ctx:
            pass

        ctx = Ctx()
        ctx.user = user
        for n in range(args.runs):
            org.reset()
            profile = zoho_profile(org, user, concurrency=5)
            root = account_id(connector_for(profile), args.account)
            top = {"Account_Name": f"{args.account} (worker cpu {n})", "Account_Number": None}
            job = create_job(ctx, profile, "Accounts", [root], "deep_copy", overrides=top)
            org.set_latency(args.latency_ms / 1000)
            before = org.cpu_seconds()
            copy_job_enqueue(job=job)
            job = _wait(job)
            _written(out / "jobs.jsonl", n + 1)  # the horse's exit and the worker's line
            org_cpu.append(org.cpu_seconds() - before)
            print(f"run {n}: {job.status} {job.succeeded_count} records", file=sys.stderr)
        _report(out, org_cpu, not args.no_profile)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        org.stop()
        redis.stop()
        if os.environ.get("KEEP_TMP"):
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
