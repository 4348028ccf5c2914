"""The CPU of a Vault bulk clone of 5,000, planned and run in-process at 0 ms latency (not a scenario).

`.venv/bin/python -m bench.clone_cpu [--runs N] [--records N] [--profile plan|run]`: creates the
source records (not timed), then times copy_job_create (the plan) and copy_job_run as the worker
calls it. The profile's concurrency is 1, so every call and every DB write is in this thread and
`time.thread_time()` is the work's CPU (the sandbox serves from threads of its own). `--profile`
prints cProfile's top functions of that phase of the last run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import time

from bench.common import bench_user, create_job, fresh_vault, make_tmp, run_job, setup_django, vault_profile


class _Ctx:
    user = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--profile", choices=["plan", "run"])
    args = parser.parse_args()
    tmp = make_tmp()
    setup_django(tmp, 0.2)
    from bench.vault_clone import OBJECT, create_products
    from records.connectors import connector_for
    from sandbox import Sandbox

    sb = Sandbox.start(vault_settings={"job_poll_interval": 0.2, "burst_sleep": False})
    sb._bench_poll = 0.2
    try:
        ctx = _Ctx()
        ctx.user = bench_user()
        plan_cpu, run_cpu = [], []
        for n in range(args.runs):
            fresh_vault(sb, 0.0)
            profile = vault_profile(sb, ctx.user, concurrency=1)
            ids = create_products(connector_for(profile), args.records, f"CPU Source {n}")
            names = {i: {"name__v": f"CPU Clone {n} {k:05d}"} for k, i in enumerate(ids)}
            prof = cProfile.Profile() if args.profile and n == args.runs - 1 else None
            start = time.thread_time()
            with _profiled(prof if args.profile == "plan" else None):
                job = create_job(ctx, profile, OBJECT, ids, "clone", row_overrides=names)
            planned = time.thread_time()
            with _profiled(prof if args.profile == "run" else None):
                job = run_job(job)
            plan_cpu.append(planned - start)
            run_cpu.append(time.thread_time() - planned)
            print(
                f"run {n}: {job.status} {job.succeeded_count} records, CPU plan {plan_cpu[-1] * 1000:.0f} ms, "
                f"run {run_cpu[-1] * 1000:.0f} ms"
            )
        for label, cpu in (("plan", plan_cpu), ("run", run_cpu)):
            print(f"CPU {label}: min {min(cpu) * 1000:.0f} ms, median {sorted(cpu)[len(cpu) // 2] * 1000:.0f} ms")
        if prof:
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
    finally:
        sb.stop()
        shutil.rmtree(tmp, ignore_errors=True)


class _profiled:
    def __init__(self, prof: cProfile.Profile | None) -> None:
        self.prof = prof

    def __enter__(self) -> None:
        if self.prof:
            self.prof.enable()

    def __exit__(self, *exc: object) -> None:
        if self.prof:
            self.prof.disable()


if __name__ == "__main__":
    main()
