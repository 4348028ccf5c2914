"""A real RQ worker process killed with SIGKILL mid deep copy, then resumed: exactly one copy each."""

import time

import pytest
from django.core.management import call_command

from records.connectors import connector_for
from records.copying.tree import read_tree
from records.models import CopyJob
from tests.fixtures.engine import assert_each_record_copied_once, start_job, wait_for, worker_running


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_killed_worker_is_resumed_and_copies_each_record_once(fresh_sandbox, zoho_profile, owner, redis_url):
    conn = connector_for(zoho_profile)
    # "Huge Account" (2,000+ related records) when the emulator has it, else "Big Account".
    src = next(
        r.id
        for name in ("Huge Account", "Big Account")
        for r in conn.search("Accounts", name).records
        if r.name == name
    )
    job = start_job(
        zoho_profile, owner, "Accounts", [src], "deep_copy", enqueue=True, overrides={"Account_Name": "Resumed Co"}
    )
    assert job.planned_count >= 1000
    fresh_sandbox.faults("zoho").set(latency=0.05)
    with worker_running(redis_url):  # SIGKILLed at the end of the block
        assert wait_for(lambda: CopyJob.objects.get(pk=job.pk).succeeded_count > job.planned_count // 4, 120)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING and job.succeeded_count < job.planned_count
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit) as exit_:
        call_command("job", "resume-stale")
    assert exit_.value.code == 0
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.QUEUED
    fresh_sandbox.faults("zoho").clear()
    with worker_running(redis_url, "--burst") as second:
        second.wait(120)
    assert_each_record_copied_once(job)
    new_root = job.results.get(depth=0).new_id
    assert len(read_tree(conn, "Accounts", new_root)) == len(read_tree(conn, "Accounts", src)) == job.planned_count
    assert len(conn.find("Accounts", {"Account_Name": "Resumed Co"})) == 1
