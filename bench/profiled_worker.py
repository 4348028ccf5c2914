"""The app's RQ worker with each job's CPU measured and profiled (for `bench.worker_cpu`, not a
scenario): started as `rqworker --worker-class bench.profiled_worker.ProfiledWorker` with
WORKER_CPU_DIR set, it writes there one JSON line per job (`jobs.jsonl`) and one cProfile file per
job (`<job id>.prof`, the work horse's `perform_job`).

Where a job's CPU goes in a real worker: the parent (dequeue, fork, monitoring the horse, the
maintenance between jobs) and the work horse (its CPU before `perform_job`: the fork's copied
pages; `perform_job`: RQ's bookkeeping around the job's function; after it: the exit), read from
the horse's own clock and from the parent's wait4 of it."""

import cProfile
import gc
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from records.worker import CopierWorker


def _out() -> Path:
    return Path(os.environ["WORKER_CPU_DIR"])


def _profile_threads() -> list[cProfile.Profile]:
    """Profile every thread started from now on in this process (the horse: the calls' threads,
    the heartbeat); cProfile alone sees the thread that enables it."""
    profiles: list[cProfile.Profile] = []
    run = threading.Thread.run

    def profiled_run(thread: threading.Thread) -> None:
        prof = cProfile.Profile(time.thread_time)  # CPU, not waits
        profiles.append(prof)
        prof.enable()
        try:
            run(thread)
        finally:
            prof.disable()

    threading.Thread.run = profiled_run  # type: ignore[method-assign]  # the horse only; it ends with the job
    return profiles


def _time_gc() -> dict[str, float]:
    """The horse's garbage collections: count and CPU seconds per generation."""
    times: dict[str, float] = {}
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
            return
        gen = str(info["generation"])
        times[f"n{gen}"] = times.get(f"n{gen}", 0) + 1
        times[f"s{gen}"] = times.get(f"s{gen}", 0.0) + time.thread_time() - started[0]

    gc.callbacks.append(callback)
    return times


class ProfiledWorker(CopierWorker):
    def execute_job(self, job: Any, queue: Any) -> None:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        super().execute_job(job, queue)
        record = {
            "job": job.id,
            "parent_cpu": time.process_time() - cpu0,
            "wall": time.perf_counter() - wall0,
            "horse_cpu": getattr(self, "_horse_cpu", None),
        }
        with (_out() / "jobs.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")

    def wait_for_horse(self) -> Any:
        pid, stat, rusage = super().wait_for_horse()
        if rusage is not None:
            self._horse_cpu = rusage.ru_utime + rusage.ru_stime
        return pid, stat, rusage

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        before = time.process_time()  # the horse's CPU so far: the fork and RQ's start
        modules = set(sys.modules)
        gc_times = _time_gc()
        prof = None if os.environ.get("WORKER_CPU_NO_PROFILE") else cProfile.Profile(time.thread_time)
        threads = _profile_threads() if prof else []
        if prof:
            prof.enable()
        start = time.process_time()
        try:
            return super().perform_job(job, queue, execution)
        finally:
            if prof:
                prof.disable()
                prof.dump_stats(_out() / f"{job.id}.prof")
                for n, thread_prof in enumerate(threads):
                    thread_prof.dump_stats(_out() / f"{job.id}-thread{n}.prof")
            with (_out() / "horse.jsonl").open("a") as out:
                imported = sorted(
                    set(sys.modules) - modules
                )  # modules the horse imported, not the worker before the fork
                record = {
                    "job": job.id,
                    "before": before,
                    "perform": time.process_time() - start,
                    "imported": imported,
                    "gc": gc_times,
                }
                out.write(json.dumps(record) + "\n")
