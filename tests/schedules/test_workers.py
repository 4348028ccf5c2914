"""Schedules under real `manage.py rqworker default plans --with-scheduler` processes: RQ's own
scheduler moves each due run to the queue, the claim in the database makes it run once.

RQ's scheduler lock (rq:scheduler-lock:<queue>) lives `scheduler interval + 60` = 61 s after its
holder's last heartbeat (rq/scheduler.py); a surviving worker takes it over in its maintenance
loop (every JOB_RESUME_STALE_SECONDS, 1 s here) once it is gone. The kill test lets that time pass
by expiring the dead holder's lock, as Redis does when its TTL runs out, to stay well under a
minute; SCHEDULE_REAL_LOCK_TTL=1 waits the real 61 s instead."""

import os
import time
from datetime import timedelta

import django_rq
import pytest
import redis
from django.conf import settings

from records.copy_templates import services as templates
from records.models import CopyJob
from records.schedules import services
from records.schedules.arming import RUN_DUE_SCHEDULE
from records.schedules.models import ScheduleRun
from tests.fixtures.engine import copy_request, kill_worker, start_worker

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LOCK = "rq:scheduler-lock:{}"


@pytest.fixture
def template(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone", overrides={"Account_Name": "{Account_Name} (tick)"})
    return templates.save_from_request(request=request, name="Ticking clone", user=owner)


def _worker(redis_url):
    return start_worker(redis_url, "plans", "--with-scheduler", lease=5, JOB_RESUME_STALE_SECONDS="1")


def _workers_up(redis_url, count):
    from rq import Worker

    conn = redis.Redis.from_url(redis_url)
    _wait(
        lambda: len(Worker.all(connection=conn)) >= count and conn.get(LOCK.format(settings.SCHEDULE_QUEUE)),
        40,
        "the workers",
    )


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


def _check_once_per_due_time(schedule, every):
    """Each due time claimed once, each started run one job, consecutive due times `every` s apart
    or more (a late run never makes up the ones it missed), no job without its run."""
    runs = list(ScheduleRun.objects.filter(schedule=schedule).order_by("due_at"))
    dues = [r.due_at for r in runs]
    assert len(set(dues)) == len(dues)
    assert all(b - a >= timedelta(seconds=every) for a, b in zip(dues, dues[1:], strict=False))
    started = [r.job_id for r in runs if r.job_id]
    jobs = list(CopyJob.objects.filter(schedule=schedule).values_list("pk", flat=True))
    assert sorted(started) == sorted(jobs)
    failed = django_rq.get_queue(settings.SCHEDULE_QUEUE).failed_job_registry
    assert failed.count == 0, [failed.get_job_ids()]
    return runs


def test_two_workers_with_schedulers_make_exactly_one_job_per_due_time(template, globex, owner, redis_url):
    first, second = _worker(redis_url), _worker(redis_url)
    try:
        _workers_up(redis_url, 2)
        schedule = services.schedule_add(template=template, user=owner, every_seconds=2, source_ids=[globex.record_id])
        # The first due time delivered five times more, straight to the queue both workers read.
        queue = django_rq.get_queue(settings.SCHEDULE_QUEUE)
        for _ in range(5):
            queue.enqueue(RUN_DUE_SCHEDULE, schedule.pk, schedule.next_due.isoformat())
        # Until four due times have come (about 8 s; longer on a loaded machine), not a fixed sleep.
        runs = ScheduleRun.objects.filter(schedule=schedule)
        _wait(
            lambda: runs.count() >= 4 and runs.filter(outcome=ScheduleRun.Outcome.STARTED).count() >= 2,
            90,
            "four due times",
        )
    finally:
        kill_worker(first)
        kill_worker(second)
    runs = _check_once_per_due_time(schedule, every=2)
    assert len(runs) >= 4, [(r.due_at, r.outcome) for r in runs]
    # "starting": a run the test's end killed while it made its job.
    outcomes = {ScheduleRun.Outcome.STARTED, ScheduleRun.Outcome.SKIPPED, ScheduleRun.Outcome.STARTING}
    assert {r.outcome for r in runs} <= outcomes
    assert sum(r.outcome == ScheduleRun.Outcome.STARTED for r in runs) >= 2


def test_a_worker_killed_while_holding_the_scheduler_the_next_due_run_is_still_made_once(
    template, globex, owner, redis_url
):
    conn = redis.Redis.from_url(redis_url)
    lock = LOCK.format(settings.SCHEDULE_QUEUE)
    holder = _worker(redis_url)
    survivor = None
    try:
        _wait(lambda: conn.get(lock), 30, "the first worker to take the scheduler lock")
        survivor = _worker(redis_url)
        _workers_up(redis_url, 2)
        schedule = services.schedule_add(template=template, user=owner, every_seconds=3, source_ids=[globex.record_id])
        _wait(lambda: ScheduleRun.objects.filter(schedule=schedule).exists(), 15, "a first run")
        kill_worker(holder)  # the worker, its scheduler process and any work horse
        killed_at = ScheduleRun.objects.filter(schedule=schedule).count()
        assert conn.get(lock), "the dead worker's lock outlives it"
        if os.environ.get("SCHEDULE_REAL_LOCK_TTL") != "1":
            conn.pexpire(lock, 1)  # the 61 s of its TTL, passed
        _wait(
            lambda: ScheduleRun.objects.filter(schedule=schedule).count() >= killed_at + 2,
            90 if os.environ.get("SCHEDULE_REAL_LOCK_TTL") == "1" else 20,
            "the surviving worker's scheduler to make the next runs",
        )
    finally:
        kill_worker(holder)
        if survivor is not None:
            kill_worker(survivor)
    _check_once_per_due_time(schedule, every=3)


def test_a_run_due_while_the_previous_copy_still_runs_on_a_worker_is_skipped_and_recorded(
    template, globex, owner, redis_url
):
    hold = globex.sandbox.hooks("zoho").hold("POST", r"/actions/clone$")  # the first copy's clone, answered late
    # Two: one is busy with the held copy, the other runs the due times meanwhile.
    workers = [_worker(redis_url), _worker(redis_url)]
    try:
        _workers_up(redis_url, 2)
        schedule = services.schedule_add(template=template, user=owner, every_seconds=2, source_ids=[globex.record_id])
        assert hold.wait(30), "the first run's copy never reached the clone"
        first = ScheduleRun.objects.get(schedule=schedule, outcome=ScheduleRun.Outcome.STARTED)
        _wait(lambda: ScheduleRun.objects.filter(schedule=schedule, outcome="skipped").count() >= 2, 15, "skips")
        hold.release()
        _wait(lambda: CopyJob.objects.filter(schedule=schedule).count() >= 2, 20, "a run after the copy ended")
    finally:
        hold.release()
        for worker in workers:
            kill_worker(worker)
    skipped = ScheduleRun.objects.filter(schedule=schedule, outcome=ScheduleRun.Outcome.SKIPPED)
    assert {r.note for r in skipped} == {f"skipped: the previous run (job {first.job_id}) is still running"}
    assert all(r.job_id is None for r in skipped)
    assert CopyJob.objects.get(pk=first.job_id).status == CopyJob.Status.SUCCEEDED
    _check_once_per_due_time(schedule, every=2)
