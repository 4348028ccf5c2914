"""A copy job's RQ side (records/copying/job_queue.py), with a real Redis: enqueued on commit and run
by the RQ entry point; a job whose Redis queue was lost, or whose RQ job died with its worker
(before our claim, or between leaving the queue and starting), is resumed; one still waiting in
the queue is not queued twice."""

from datetime import UTC

import pytest

from records.connectors import connector_for
from records.copying.job_actions import jobs_resume_stale
from records.copying.job_create import copy_job_create
from records.copying.tree import read_tree
from records.models import CopyJob
from tests.fixtures.engine import copy_request, start_job
from tests.fixtures.sandbox import small_account


def burst():
    import django_rq
    from rq import SimpleWorker

    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_job_is_enqueued_on_commit_and_run_by_a_worker(zoho, owner, redis_url):
    sb, profile, conn = zoho
    src = small_account(conn)
    job = copy_job_create(
        request=copy_request(profile, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Queued Co"}),
        user=owner,
    )
    job.refresh_from_db()
    assert job.rq_job_id.startswith(f"copyjob-{job.pk}-")
    burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED
    assert job.succeeded_count == job.planned_count == len(read_tree(conn, "Accounts", src)) > 1
    assert len(conn.find("Accounts", {"Account_Name": "Queued Co"})) == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_queued_job_whose_redis_queue_was_lost_is_resumed(zoho, owner, redis_url, settings):
    import redis

    sb, profile, conn = zoho
    job = copy_job_create(
        request=copy_request(
            profile, "Accounts", [small_account(conn)], "clone", overrides={"Account_Name": "Lost Co"}
        ),
        user=owner,
    )
    redis.Redis.from_url(redis_url).flushdb()  # Redis lost its queue
    settings.JOB_LEASE_SECONDS = 0
    resumed = jobs_resume_stale()
    assert [j.pk for j in resumed] == [job.pk]
    assert jobs_resume_stale() == []  # its new RQ job is alive: not resumed twice
    burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and len(conn.find("Accounts", {"Account_Name": "Lost Co"})) == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)

# -- a copy job whose RQ job died with its worker, found by asking RQ (rq_job_alive) ------------------


def test_a_job_whose_work_horse_died_before_its_claim_is_queued_again(
    fresh_sandbox, zoho_profile, owner, redis_url, settings
):
    """Found by chaos seeds 1009, 1053, 1091: SIGKILL between RQ starting the job and our claim
    left the copy job queued and its RQ job 'started' (RQ keeps that until the job's timeout)."""
    from datetime import datetime, timedelta

    import django_rq
    from rq.job import Job, JobStatus

    conn = connector_for(zoho_profile)
    src = small_account(conn)
    job = start_job(
        zoho_profile, owner, "Accounts", [src], "clone", enqueue=True, overrides={"Account_Name": "Dead Horse Co"}
    )
    rq_job = Job.fetch(job.rq_job_id, connection=django_rq.get_connection("default"))
    django_rq.get_queue("default").remove(rq_job)  # a worker took it ...
    rq_job.set_status(JobStatus.STARTED)
    rq_job.started_at = datetime.now(UTC) - timedelta(seconds=10)  # ... and died 10 s ago
    rq_job.save()
    settings.JOB_LEASE_SECONDS = 2
    CopyJob.objects.filter(pk=job.pk).update(created=datetime.now(UTC) - timedelta(seconds=10))
    assert [j.pk for j in jobs_resume_stale()] == [job.pk]
    burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.attempts == 1
    assert len(conn.find("Accounts", {"Account_Name": "Dead Horse Co"})) == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_job_taken_from_the_queue_by_a_worker_that_died_before_starting_it_is_queued_again(
    fresh_sandbox, zoho_profile, owner, redis_url, settings
):
    """Found by chaos seed 21: a worker moves a job from the queue to RQ's intermediate list, then
    starts it in its work horse. SIGKILLed in between, the RQ job stays 'queued' outside the queue:
    no worker takes it, and RQ fails it only after a minute (never while its cleaning lock, left by
    a worker killed while cleaning, lasts: 15 minutes). The copy job sat queued all that time."""
    from datetime import datetime, timedelta

    import django_rq
    from rq import Queue

    conn = connector_for(zoho_profile)
    src = small_account(conn)
    job = start_job(
        zoho_profile, owner, "Accounts", [src], "clone", enqueue=True, overrides={"Account_Name": "Taken Job Co"}
    )
    queue = django_rq.get_queue("default")
    taken = Queue.dequeue_any([queue], None, connection=queue.connection)  # what a worker does first ...
    assert taken is not None and taken[0].id == job.rq_job_id  # ... and then it died
    settings.JOB_LEASE_SECONDS = 2
    CopyJob.objects.filter(pk=job.pk).update(created=datetime.now(UTC) - timedelta(seconds=10))
    assert [j.pk for j in jobs_resume_stale()] == [job.pk]
    burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.attempts == 1
    assert len(conn.find("Accounts", {"Account_Name": "Taken Job Co"})) == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_job_still_in_the_queue_is_not_queued_twice(fresh_sandbox, zoho_profile, owner, redis_url, settings):
    """jobs_resume_stale asks the queue: a job no worker has taken yet is alive, however long it waits."""
    from datetime import datetime, timedelta

    import django_rq

    conn = connector_for(zoho_profile)
    src = small_account(conn)
    job = start_job(zoho_profile, owner, "Accounts", [src], "clone", enqueue=True)
    settings.JOB_LEASE_SECONDS = 2
    CopyJob.objects.filter(pk=job.pk).update(created=datetime.now(UTC) - timedelta(seconds=10))
    assert jobs_resume_stale() == []
    assert django_rq.get_queue("default").job_ids == [job.rq_job_id]
