"""RecordResult's indexes: each one a query that matters reads, none kept for nothing (every
index is maintained on each of a plan's inserts and each answer recorded)."""

import pytest
from django.db import connection
from django.db.models import QuerySet

from records.models import CopyJob, RecordResult

# What the database takes differs on SQLite: CI runs these on its SQLite pass too.
pytestmark = pytest.mark.sqlite

S = RecordResult.Status
TABLE = RecordResult._meta.db_table


def _index_columns() -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, TABLE)
    return {tuple(c["columns"]) for c in found.values() if c["index"] or c["unique"]} - {("id",)}


def _plan(rows: QuerySet[RecordResult]) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: is an index usable at all
        return rows.explain()
    return rows.explain()


def _reads_by_index(plan: str) -> bool:
    if connection.vendor == "postgresql":
        return "Seq Scan" not in plan and "Index" in plan
    table_lines = [line for line in plan.splitlines() if TABLE in line]
    return bool(table_lines) and all("USING" in line and "INDEX" in line for line in table_lines)


@pytest.mark.django_db
def test_the_result_table_keeps_six_indexes_and_no_lone_job_index():
    assert _index_columns() == {
        ("job_id", "object_name", "source_id"),  # one row per record: a plan's rows inserted once
        ("job_id", "id"),
        ("job_id", "status", "id"),
        ("job_id", "object_name", "status", "id"),
        ("source_id",),
        ("new_id",),
    }


@pytest.mark.django_db(transaction=False)
def test_every_query_of_the_job_page_the_run_and_the_known_ids_reads_an_index(make_job, vault_profile):
    job = make_job(results=40, status=CopyJob.Status.SUCCEEDED, profile=vault_profile)
    other = make_job(results=3, status=CopyJob.Status.SUCCEEDED, profile=vault_profile)
    rows = RecordResult.objects
    queries = {
        "a page by keyset": job.results.filter(pk__gt=5).order_by("pk")[:50],
        "a page of one outcome": job.results.filter(status=S.FAILED, pk__gt=5).order_by("pk")[:50],
        "a page of one object and outcome": job.results.filter(object_name="product__v", status=S.SUCCEEDED),
        "a job's copies": job.results.exclude(new_id="").order_by("pk"),
        "the rows of jobs deleted (cascade)": rows.filter(job__in=[job.pk, other.pk]),
        "a known copy": rows.filter(new_id__in=["N00001", "N00002"]),
        "a known source": rows.filter(source_id__in=["S00001"]),
        "one row of a record": job.results.filter(object_name="product__v", source_id="S00002"),
    }
    slow = {name: plan for name, qs in queries.items() if not _reads_by_index(plan := _plan(qs))}
    assert not slow
