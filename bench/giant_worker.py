"""One phase of the Giant Account copy in its own process, as a worker (or the web request) runs
it, so that its peak memory is its own: `python -m bench.giant_worker PHASE ID`.

Phases: `plan` (plan_read of a CopyPlan row: what the "plans" queue runs), `confirm`
(copy_job_create from the ready plan: what Confirm runs), `run` (copy_job_run: the "default"
queue), `undo` (copy_job_undo of the copy job: what the Undo button runs) and `undo_run`
(copy_job_run of the undo job: the worker deleting the copies). The environment (the throwaway database) is the parent's. Prints one JSON line:
{"phase", "seconds", "vmhwm_mb", "id"}.
"""

from __future__ import annotations

import json
import os
import sys
import time


def peak_rss_mb() -> float:
    """VmHWM of this process (its resident set's high-water mark), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_phase(phase: str, ident: int) -> int:
    from records.models import CopyPlan

    if phase == "plan":
        from records.copying.stored_plans import plan_read

        row = plan_read(plan_id=ident)
        if row.status != CopyPlan.Status.READY:
            raise RuntimeError(f"plan {ident} {row.status}: {row.error}")
        return row.pk
    if phase == "confirm":
        from records.copying.job_create import copy_job_create
        from records.copying.request import CopyRequest

        row = CopyPlan.objects.select_related("profile", "requested_by").get(pk=ident)
        request = CopyRequest.of_row(row)
        return copy_job_create(request=request, user=row.requested_by, plan=row, enqueue=False).pk
    if phase in ("run", "undo_run"):
        from records.copying.job_actions import copy_job_run

        return copy_job_run(job_id=ident, worker_id="bench-giant").pk
    if phase == "undo":
        from records.copying.job_actions import copy_job_undo
        from records.models import CopyJob

        job = CopyJob.objects.select_related("requested_by").get(pk=ident)
        return copy_job_undo(job=job, user=job.requested_by, enqueue=False).pk
    raise SystemExit(f"unknown phase {phase!r}")


def profiled(phase: str, ident: int) -> int:
    """The phase under cProfile, its stats written to $GIANT_PROFILE/PHASE-ID.prof (by hand, to see
    what grows faster than the records: `python -m pstats` on the small and the large size's)."""
    import cProfile

    profile = cProfile.Profile()
    result = profile.runcall(run_phase, phase, ident)
    os.makedirs(os.environ["GIANT_PROFILE"], exist_ok=True)
    profile.dump_stats(os.path.join(os.environ["GIANT_PROFILE"], f"{phase}-{ident}.prof"))
    return result


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.conf import settings

    # As on a production worker: with DEBUG on, Django keeps the SQL of the last 9,000 queries,
    # the stored pieces' JSON among them, which a worker doesn't (the bench's database needs DEBUG).
    settings.DEBUG = False
    phase, ident = argv[0], int(argv[1])
    start = time.perf_counter()
    result = profiled(phase, ident) if os.environ.get("GIANT_PROFILE") else run_phase(phase, ident)
    out = {"phase": phase, "seconds": time.perf_counter() - start, "vmhwm_mb": peak_rss_mb(), "id": result}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
