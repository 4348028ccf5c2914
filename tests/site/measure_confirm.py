"""Confirming a Vault bulk clone from its stored plan, measured: the queries and the CPU seconds of
copy_job_create(plan=...) as the web's Confirm calls it, the plan read first by an RQ worker over
the sandbox. Not a test (it asserts nothing); run it with the tests' fixtures:

    .venv/bin/python -m pytest tests/site/measure_confirm.py -p no:xdist -q -s

(its name keeps it out of the test runs).

CLONES sets the size (default 5,000)."""

import os
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import stored_plans
from records.copying.job_create import copy_job_create
from records.models import CopyPlan
from tests.fixtures.engine import copy_request

CLONES = int(os.environ.get("CLONES", "5000"))


@pytest.mark.redis
@pytest.mark.plans_on_worker
@pytest.mark.django_db(transaction=True)
def test_measure_confirm_of_a_bulk_clone(vault, owner, redis_url):
    import django_rq
    from rq import SimpleWorker

    _, profile, conn = vault
    rows = [{"name__v": f"Measure Source {i:05d}", "status__v": ["active__v"]} for i in range(CLONES)]
    ids = [r.new_id for r in conn.create("product__v", rows)]
    names = {source: {"name__v": f"Measure Clone {k:05d}"} for k, source in enumerate(ids)}
    request = copy_request(profile, "product__v", ids, "clone", row_overrides=names)
    row = stored_plans.plan_request(request=request, user=owner)
    django_rq.get_worker("plans", worker_class=SimpleWorker).work(burst=True)
    row.refresh_from_db()
    assert row.status == CopyPlan.Status.READY, row.error
    cpu, wall = time.thread_time(), time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        job = copy_job_create(request=request, user=owner, plan=row, enqueue=False)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    pieces = sum("planchunk" in q["sql"].lower() for q in queries.captured_queries)
    print(
        f"\nconfirm of {job.planned_count:,} clones from the stored plan: {len(queries.captured_queries):,} queries"
        f" ({pieces:,} on the plan's pieces), CPU {cpu:.2f} s, wall {wall:.2f} s"
    )
