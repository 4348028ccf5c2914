"""The app's RQ worker (records/worker.py) in a real `manage.py rqworker` process: it imports what
the jobs run before it forks their work horses, and its horses still run the jobs."""

import json

import pytest

from records.models import CopyJob
from tests.fixtures.engine import start_job, worker_running

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

MEASURED_WORKER = "tests.fixtures.measured_worker.MeasuredWorker"


def test_the_work_horses_import_nothing_of_the_app_and_run_each_job(globex, owner, redis_url, tmp_path):
    """Each horse is forked from the worker: a module the worker had not imported was imported
    again by every job (the job functions, the connector, the mail and schedule modules)."""
    _sb, profile, _conn, account = globex
    jobs = [
        start_job(
            profile,
            owner,
            "Accounts",
            [account],
            CopyJob.Mode.CLONE,
            enqueue=True,
            overrides={"Account_Name": f"Globex {n}"},
        )
        for n in range(2)
    ]
    measured = tmp_path / "horses.jsonl"
    with worker_running(redis_url, "--burst", "--worker-class", MEASURED_WORKER, MEASURED_RSS_FILE=str(measured)) as w:
        w.wait(120)

    for job in jobs:
        job.refresh_from_db()
        assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    horses = [json.loads(line) for line in measured.read_text().splitlines()]
    assert sorted(h["args"] for h in horses) == sorted([j.pk] for j in jobs)
    for horse in horses:
        assert [m for m in horse["imported"] if m.startswith("records")] == []
