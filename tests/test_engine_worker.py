"""A real RQ worker process killed with SIGKILL mid deep copy, then resumed: exactly one copy each."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from records.connectors import connector_for
from records.copying import services
from records.copying.plan import read_tree
from records.models import CopyJob
from tests.dburl import worker_database_url

ROOT = Path(__file__).resolve().parent.parent


def _worker(redis_url, *extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "copier_site.test_settings",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_url,
        "JOB_LEASE_SECONDS": "3",
        "COPIER_VAR_DIR": os.environ["COPIER_VAR_DIR"],
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively (RQ's work horse runs in its own session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _kill(proc):
    """SIGKILL the worker and the work horse it forked, as when the machine or container dies."""
    if proc.returncode is not None:
        return
    for pid in [proc.pid, *_descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


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
    job = services.copy_job_create(
        profile=zoho_profile,
        object_name="Accounts",
        source_ids=[src],
        mode="deep_copy",
        user=owner,
        overrides={"Account_Name": "Resumed Co"},
    )
    assert job.planned_count >= 1000
    fresh_sandbox.faults("zoho").set(latency=0.05)
    first = _worker(redis_url)
    try:
        assert _wait(lambda: CopyJob.objects.get(pk=job.pk).succeeded_count > job.planned_count // 4, 120)
        _kill(first)
    finally:
        _kill(first)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING and job.succeeded_count < job.planned_count
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit) as exit_:
        call_command("job", "resume-stale")
    assert exit_.value.code == 0
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.QUEUED
    fresh_sandbox.faults("zoho").clear()
    second = _worker(redis_url, "--burst")
    try:
        second.wait(120)
    finally:
        _kill(second)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.results.count() == job.planned_count == job.succeeded_count
    new_ids = list(job.results.values_list("new_id", flat=True))
    assert len(set(new_ids)) == len(new_ids)
    new_root = job.results.get(depth=0).new_id
    assert len(read_tree(conn, "Accounts", new_root)) == len(read_tree(conn, "Accounts", src)) == job.planned_count
    assert len(conn.find("Accounts", {"Account_Name": "Resumed Co"})) == 1
