"""Thin RQ entry points: ids in, one service call. Never model instances, clients or secrets."""

import os
import socket

from records.copying.job_actions import copy_job_run
from records.copying.stored_plans import plan_read


def run_copy_job(job_id: int) -> str:
    job = copy_job_run(job_id=job_id, worker_id=f"{socket.gethostname()}:{os.getpid()}")
    return job.status


def read_plan(plan_id: int) -> str:
    """A preview's plan (records/copying/stored_plans.py), on the "plans" queue."""
    return plan_read(plan_id=plan_id).status
