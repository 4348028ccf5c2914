"""The app's RQ worker with each job's CPU measured (for `bench.worker_cpu`, not a scenario):
started as `rqworker --worker-class bench.profiled_worker.ProfiledWorker` with WORKER_CPU_DIR
set, it writes there per job a line of `jobs.jsonl` (the worker's side: its own CPU around the
job, the work horse's CPU from wait4, all its threads), a line of `horse.jsonl` (the horse's
side: its CPU before `perform_job`, i.e. the fork and RQ's start, and inside it; its garbage
collections; the modules it imported, which the worker had not) and, unless
WORKER_CPU_NO_PROFILE is set, cProfile files timed in thread CPU: `<job id>.prof` for
`perform_job`, `<job id>-thread<n>.prof` for each thread the horse started (the calls' threads,
the heartbeats; one still running at the job's end is written as it stands, its sleep counted
oddly: read its CPU, not its waits)."""

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
        record: dict[str, Any] = {"job": job.id, "before": time.process_time()}  # the fork, RQ's start
        modules = set(sys.modules)
        record["gc"] = _time_gc()
        prof = None if os.environ.get("WORKER_CPU_NO_PROFILE") else cProfile.Profile(time.thread_time)
        threads = _profile_threads() if prof else []
        start = time.process_time()
        try:
            if prof:
                prof.enable()
            return super().perform_job(job, queue, execution)
        finally:
            record["perform"] = time.process_time() - start
            record["imported"] = sorted(set(sys.modules) - modules)
            _write(job.id, record, prof, threads)


def _write(job_id: str, record: dict[str, Any], prof: cProfile.Profile | None, threads: list[cProfile.Profile]) -> None:
    if prof:
        prof.disable()
        prof.dump_stats(_out() / f"{job_id}.prof")
        for n, thread_prof in enumerate(threads):
            thread_prof.dump_stats(_out() / f"{job_id}-thread{n}.prof")
    with (_out() / "horse.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\n")
