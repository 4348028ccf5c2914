"""Known ids are known per org: a source id in its job's profile's org, a copy in the org its job
wrote into. Ids of two vaults can coincide, so what the ledger says of an id in one vault never
keeps, refuses or hides a record of another vault with the same id."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.connectors.errors import NotFound
from records.copying.job_actions import copy_job_undo
from records.copying.known import known_ids
from records.models import CopyJob, RecordResult
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
A, S = RecordResult.Action, RecordResult.Status


def ledger_job(owner, profile, rows, target=None):
    """A finished job in `profile` (into `target`) with rows (source id, new id) it created."""
    job = CopyJob.objects.create(
        profile=profile,
        target_profile=target,
        object_name="product__v",
        mode=CopyJob.Mode.CLONE,
        requested_by=owner,
        status=CopyJob.Status.SUCCEEDED,
        source_ids=[s for s, _ in rows],
    )
    RecordResult.objects.bulk_create(
        [
            RecordResult(job=job, object_name="product__v", source_id=s, new_id=n, action=A.CREATE, status=S.SUCCEEDED)
            for s, n in rows
        ]
    )
    return job


def test_an_id_is_known_only_in_the_org_where_the_ledger_has_it(cross_vault, owner):
    source, target = cross_vault
    inside = ledger_job(owner, source.profile, [("00P000000000901", "00P000000000902")])
    across = ledger_job(owner, source.profile, [("00P000000000903", "00P000000000901")], target=target.profile)
    in_source = known_ids(["00P000000000901", "00P000000000902", "00P000000000903"], org=source.profile.pk)
    assert {i: (k.as_source, k.job_id) for i, k in in_source.items()} == {
        "00P000000000901": (True, inside.pk),
        "00P000000000902": (False, inside.pk),
        "00P000000000903": (True, across.pk),
    }
    in_target = known_ids(["00P000000000901", "00P000000000902", "00P000000000903"], org=target.profile.pk)
    assert {i: (k.as_source, k.job_id) for i, k in in_target.items()} == {"00P000000000901": (False, across.pk)}


def test_undo_across_deletes_its_copy_whose_id_is_a_source_in_the_source_vault(cross_vault, owner):
    source, target = cross_vault
    src = find_record(source.connector, "product__v", "Dermacalm")
    job = copy_across(cross_vault, owner, "product__v", [src], "clone")
    copy_id = job.results.get().new_id
    # The source vault has a record with the copy's id, copied there by another job.
    ledger_job(owner, source.profile, [(copy_id, "00P000000000999")])
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=target.connector)
    assert undo.status == CopyJob.Status.SUCCEEDED, [r.error_message for r in undo.results.all()]
    with pytest.raises(NotFound):
        target.connector.get("product__v", copy_id)


@pytest.mark.sqlite
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan of SQLite without statistics")
def test_the_ids_are_read_through_their_indexes_not_every_row_of_the_orgs_jobs(engine_profile, owner):
    """SQLite without statistics (the app never runs ANALYZE), the rows joined to their jobs in SQL,
    started from the org's jobs and read every row of each: for each 500 ids, the whole of a giant
    job. Each query of the rows is an index range of the ids asked."""
    job = ledger_job(owner, engine_profile, [(f"S{i}", f"N{i}") for i in range(300)])
    other = ledger_job(owner, engine_profile, [(f"S{i}", f"M{i}") for i in range(10)])
    ids = [f"S{i}" for i in range(300)] + [f"N{i}" for i in range(300)]
    with CaptureQueriesContext(connection) as queries:
        found = known_ids(ids, org=engine_profile.pk, except_job=other.pk)
    assert {i: (k.as_source, k.job_id) for i, k in found.items()} == {
        **{f"S{i}": (True, other.pk if i < 10 else job.pk) for i in range(300)},  # a source's last job
        **{f"N{i}": (False, job.pk) for i in range(300)},
    }
    reads = [q["sql"] for q in queries.captured_queries if "records_recordresult" in q["sql"]]
    assert len(reads) == 4  # 600 ids: two chunks, a query each for sources and copies
    with connection.cursor() as cursor:
        for sql in reads:
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%", "%%"))
            plan = " ".join(str(step[-1]) for step in cursor.fetchall())
            assert "result_source_id_idx" in plan or "result_new_id_idx" in plan, plan
            assert "job_id=?" not in plan, plan
