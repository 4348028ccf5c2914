"""Enqueueing on commit, the RQ entry point, and resuming a job whose queue vanished (real Redis)."""

import pytest

from records.copying.job_actions import jobs_resume_stale
from records.copying.job_create import copy_job_create
from records.copying.tree import read_tree
from records.models import CopyJob
from tests.fixtures.engine import copy_request
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
