"""The RQ worker class the app runs (settings.RQ["WORKER_CLASS"]): RQ's own worker, which also
runs `job resume-stale` (and drops the records of old unconfirmed plans, and re-arms the
schedules, records/schedules/arming.py) in its maintenance loop, so no external cron is needed
(`runapp` runs one).

It runs between jobs, every JOB_RESUME_STALE_SECONDS: jobs whose worker died, whose wait (a rate
limit or an outage) is over, or that never reached the queue (Redis was down at submit) are queued
again. Several workers doing it at once is safe: every transition is a compare-and-set, and a
second RQ job for the same copy job finds it claimed and does nothing.

RQ forks a work horse per job, and the horse ends with the job: whatever the job imports that
the worker has not is imported again by every horse (19 modules for a Zoho deep copy: the job
functions, the connector, the mail and schedule modules: ~40 ms of CPU a Big Account copy with
their bytecode cached, ~80 ms where it is not). The worker imports them once, before its first
fork (`preload`)."""

import gc
import logging
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from rq import Worker

from records.connectors import REGISTRY, connector_class
from records.copying.job_actions import jobs_resume_stale
from records.copying.stored_plans import plans_prune
from records.schedules.arming import schedules_rearm

log = logging.getLogger(__name__)

# The modules of the functions the app queues (records/jobs.py imports what they run), and the
# connectors' token store (connector_for imports it late: it needs Django's apps, set up here).
JOB_MODULES = ("records.jobs", "records.connectors.tokens")


def preload() -> None:
    """Import the job functions and every system's connector in this process, so that the work
    horses forked from it find them loaded. A connector that fails to import is left to its jobs
    (which report it), as connector_for leaves it: one system's module can't stop the worker."""
    for module in JOB_MODULES:
        import_module(module)
    for system in REGISTRY:
        try:
            connector_class(system)
        except Exception:  # noqa: BLE001 - see above: the jobs of that system will say why
            log.exception("the %s connector did not import in the worker", system)


class CopierWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", settings.JOB_RESUME_STALE_SECONDS)
        super().__init__(*args, **kwargs)

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        preload()  # once, before the first job's fork
        # What is loaded now lives as long as the worker: out of the collector's sight, a horse's
        # collections skip it (and leave its pages shared), as the gc module's docs advise before
        # forking. ~3 ms a Big Account job here. Collected first, so no garbage is kept for good.
        gc.collect()
        gc.freeze()
        super().bootstrap(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # RQ waits for a job up to ~7 minutes at a time and runs maintenance only in between: an
        # idle worker would resume nothing for that long (the chaos tests caught it).
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]  # RQ's method has no annotations
        close_old_connections()
        try:
            resumed = jobs_resume_stale()
        except Exception:  # noqa: BLE001 - the worker must keep working; tried again next round
            log.exception("resume-stale failed in the worker")
            return
        if resumed:
            log.info("resume-stale: queued jobs %s again", [j.pk for j in resumed])
        self._prune_plans()
        self._rearm_schedules()

    def _prune_plans(self) -> None:
        try:
            pruned = plans_prune()
        except Exception:  # noqa: BLE001 - as above: tried again next round
            log.exception("pruning old plans failed in the worker")
            return
        if pruned:
            log.info("dropped the records of %s unconfirmed plans", pruned)

    def _rearm_schedules(self) -> None:
        # A worker that died between claiming a due run and arming the next left it unarmed.
        try:
            schedules_rearm()
        except Exception:  # noqa: BLE001 - as above: tried again next round
            log.exception("re-arming the schedules failed in the worker")
