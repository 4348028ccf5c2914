"""Making a copy job (records/copying/job_create.py): one pending result row per planned record,
written many rows a statement (sandbox over HTTP, the real database)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.models import RecordResult
from tests.fixtures.engine import start_job

pytestmark = pytest.mark.django_db

PRODUCTS = 40


def _products(conn, n):
    rows = [{"name__v": f"Rows Product {i:03d}", "status__v": ["active__v"]} for i in range(n)]
    results = conn.create("product__v", rows)
    assert all(r.ok for r in results)
    return [r.new_id for r in results]


def test_a_bulk_clone_writes_its_rows_in_one_statement_in_the_order_asked(vault, owner):
    _sb, profile, conn = vault
    ids = _products(conn, PRODUCTS)
    names = {i: {"name__v": f"Rows Copy {k:03d}"} for k, i in enumerate(ids)}
    table = RecordResult._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=names)
    # One statement, not one per tree: run for every row on SQLite (logged "<n> times: INSERT ..."),
    # one array a column on PostgreSQL.
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"] and table in q["sql"]]
    assert len(inserts) == 1
    assert list(job.results.order_by("pk").values_list("source_id", flat=True)) == ids
    assert job.planned_count == PRODUCTS
    assert job.state["trees"] == {}  # the run sends every row alike: no tree's rows kept for it


def test_a_bulk_clones_rows_made_before_its_job_name_the_jobs_code_and_its_records(vault, owner):
    from records.copying.tree import idempotency_key

    _sb, profile, conn = vault
    ids = _products(conn, 3)
    names = {i: {"name__v": f"Ahead Copy {k}"} for k, i in enumerate(ids)}
    job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=names)
    rows = list(job.results.order_by("pk"))
    assert [r.source_id for r in rows] == ids
    assert [r.source_name for r in rows] == [f"Rows Product {k:03d}" for k in range(3)]
    assert [r.idempotency_key for r in rows] == [idempotency_key(job.code, "product__v", i) for i in ids]
    assert {(r.job_id, r.status, r.attempts, r.depth) for r in rows} == {(job.pk, RecordResult.Status.PENDING, 0, 0)}
    assert all(r.updated >= job.created for r in rows)  # stamped when inserted, after the job


def test_a_refused_bulk_clone_makes_no_job_and_no_rows(vault, owner):
    from django.core.exceptions import ValidationError

    from records.models import CopyJob

    _sb, profile, conn = vault
    ids = _products(conn, 2)
    # The second row's new name is the first record's: the holders' answer refuses the plan.
    names = {ids[0]: {"name__v": "Refused Copy"}, ids[1]: {"name__v": "Rows Product 000"}}
    jobs, rows = CopyJob.objects.count(), RecordResult.objects.count()
    with pytest.raises(ValidationError, match="already used"):
        start_job(profile, owner, "product__v", ids, "clone", row_overrides=names)
    assert (CopyJob.objects.count(), RecordResult.objects.count()) == (jobs, rows)
