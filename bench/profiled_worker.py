"""The app's RQ worker with each job's CPU measured and profiled (for `bench.worker_cpu`, not a
scenario): started as `rqworker --worker-class bench.profiled_worker.ProfiledWorker` with
WORKER_CPU_DIR set, it writes there one JSON line per job (`jobs.jsonl`) and one cProfile file per
job (`<job id>.prof`, the work horse's `perform_job`).

Where a job's CPU goes in a real worker: the parent (dequeue, fork, monitoring the horse, the
maintenance between jobs) and the work horse (its CPU before `perform_job`: the fork's copied
pages; `perform_job`: RQ's bookkeeping around the job's function; after it: the exit), read from
the horse's own clock and from the parent's wait4 of it."""

import cProfile
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from records.worker import CopierWorker


def _out() -> Path:
    return Path(os.environ["WORKER_CPU_DIR"])


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
        prof = None if os.environ.get("WORKER_CPU_NO_PROFILE") else cProfile.Profile()
        if prof:
            prof.enable()
        start = time.process_time()
        try:
            return super().perform_job(job, queue, execution)
        finally:
            if prof:
                prof.disable()
                prof.dump_stats(_out() / f"{job.id}.prof")
            with (_out() / "horse.jsonl").open("a") as out:
                imported = sorted(
                    set(sys.modules) - modules
                )  # modules the horse imported, not the worker before the fork
                record = {"job": job.id, "before": before, "perform": time.process_time() - start, "imported": imported}
                out.write(json.dumps(record) + "\n")
