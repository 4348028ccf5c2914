"""The worker's CPU for one Big Account deep copy, in-process at 0 ms latency (not a scenario).

`.venv/bin/python -m bench.job_cpu [--runs N] [--profile]`: plans the job, then times
copy_job_run as the worker calls it; the profile's concurrency is 1, so every call and every DB
write is in this thread and `time.thread_time()` is the work horse's CPU (the sandbox serves from
threads of its own). `--profile` prints cProfile's top functions of the last run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import time

from bench.common import bench_user, create_job, make_tmp, run_job, setup_django, zoho_profile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--account", default="Big Account")
    args = parser.parse_args()
    tmp = make_tmp()
    setup_django(tmp, 0.2)
    from bench.zoho_deep import account_id, fresh_zoho
    from records.connectors import connector_for
    from records.ops.embedded_redis import EmbeddedRedis
    from sandbox import Sandbox

    redis = EmbeddedRedis(socket_path=tmp / "redis.sock", data_dir=tmp / "redis").start()
    sb = Sandbox.start(vault_settings={"job_poll_interval": 0.2, "burst_sleep": False})
    try:
        fresh_zoho(sb, 0.0)
        user = bench_user()
        cpu = []
        for n in range(args.runs):
            profile = zoho_profile(sb, user, concurrency=1)
            root = account_id(connector_for(profile), args.account)

            class Ctx:
                pass

            ctx = Ctx()
            ctx.user = user
            top = {"Account_Name": f"{args.account} (cpu {n})", "Account_Number": None}
            job = create_job(ctx, profile, "Accounts", [root], "deep_copy", overrides=top)
            prof = cProfile.Profile() if args.profile and n == args.runs - 1 else None
            start = time.thread_time()
            if prof:
                prof.enable()
            job = run_job(job)
            if prof:
                prof.disable()
            cpu.append(time.thread_time() - start)
            print(f"run {n}: {job.status} {job.succeeded_count} records, CPU {cpu[-1] * 1000:.0f} ms")
        print(f"CPU per job: min {min(cpu) * 1000:.0f} ms, median {sorted(cpu)[len(cpu) // 2] * 1000:.0f} ms")
        if args.profile and prof:
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
    finally:
        sb.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
