"""Enqueueing on commit, the RQ entry point, and resuming a job whose queue vanished (real Redis)."""

import sys
import types

import pytest

from records.copying import services
from records.models import CopyJob


@pytest.fixture
def registered(memory, monkeypatch):
    module = types.ModuleType("tests_memory_connector_q")
    module.make = lambda config, tokens: memory
    monkeypatch.setitem(sys.modules, "tests_memory_connector_q", module)
    from records import connectors

    monkeypatch.setitem(connectors.REGISTRY, "zoho", "tests_memory_connector_q:make")
    return memory


def burst():
    import django_rq
    from rq import SimpleWorker

    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_job_is_enqueued_on_commit_and_run_by_a_worker(registered, engine_profile, owner, redis_url):
    job = services.copy_job_create(
        profile=engine_profile,
        object_name="Accounts",
        source_ids=[registered.root],
        mode="deep_copy",
        user=owner,
        overrides={"Account_Name": "Queued Co"},
    )
    job.refresh_from_db()
    assert job.rq_job_id.startswith(f"copyjob-{job.pk}-")
    burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.succeeded_count == 7


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_queued_job_whose_redis_queue_was_lost_is_resumed(registered, engine_profile, owner, redis_url, settings):
    import redis

    job = services.copy_job_create(
        profile=engine_profile,
        object_name="Accounts",
        source_ids=[registered.root],
        mode="clone",
        user=owner,
        overrides={"Account_Name": "Lost Co"},
    )
    redis.Redis.from_url(redis_url).flushdb()  # Redis lost its queue
    settings.JOB_LEASE_SECONDS = 0
    resumed = services.jobs_resume_stale()
    assert [j.pk for j in resumed] == [job.pk]
    assert services.jobs_resume_stale() == []  # its new RQ job is alive: not resumed twice
    burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and registered.count("Accounts") == 2
