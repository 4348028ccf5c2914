"""A stored plan's pieces read back for its job (records/copying/piece_reads.py): a bulk clone's
one-record trees read ahead many a query, over a plan read by a real RQ worker through the sandbox."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import piece_reads, plan_pieces, stored_plans, tree
from records.copying.job_create import copy_job_create
from records.models import CopyPlan
from tests.fixtures.engine import copy_request

pytestmark = [pytest.mark.redis, pytest.mark.plans_on_worker, pytest.mark.django_db(transaction=True)]
CLONES = 1000


def burst():
    import django_rq
    from rq import SimpleWorker

    django_rq.get_worker("plans", worker_class=SimpleWorker).work(burst=True)


def _products(conn, n):
    rows = [{"name__v": f"Bulk Source {i:05d}", "status__v": ["active__v"]} for i in range(n)]
    return [r.new_id for r in conn.create("product__v", rows)]


def _rows(job):
    fields = ("object_name", "source_id", "source_name", "parent_source_id", "depth", "status", "source_snapshot")
    return list(job.results.order_by("id").values_list(*fields))


def test_confirming_a_thousand_clones_from_a_stored_plan_costs_a_few_queries_and_makes_the_same_job(
    vault, owner, redis_url
):
    _, profile, conn = vault
    ids = _products(conn, CLONES)
    names = {source: {"name__v": f"Bulk Clone {k:05d}"} for k, source in enumerate(ids)}
    request = copy_request(profile, "product__v", ids, "clone", row_overrides=names)
    row = stored_plans.plan_request(request=request, user=owner)
    burst()
    row.refresh_from_db()
    assert row.status == CopyPlan.Status.READY, row.error
    with CaptureQueriesContext(connection) as queries:
        job = copy_job_create(request=request, user=owner, plan=row, enqueue=False)
    piece_reads_made = [q for q in queries.captured_queries if "planchunk" in q["sql"].lower()]
    assert len(piece_reads_made) < 10  # two a tree before: 2,003
    assert len(queries.captured_queries) < 25  # 18 now: the claim, the job, its rows' inserts, the audit
    read_here = copy_job_create(request=request, user=owner, enqueue=False)  # the trees read in the caller
    assert job.planned_count == read_here.planned_count == CLONES
    assert _rows(job) == _rows(read_here)
    assert job.source_name == read_here.source_name == "Bulk Source 00000"


def _stored(engine_profile, trees):
    row = CopyPlan.objects.create(
        profile=engine_profile, requested_by=engine_profile.owner, object_name="Accounts", mode="deep_copy", key="k"
    )
    plan_pieces.store(plan_id=row.pk, trees=trees, snapshot=True)
    CopyPlan.objects.filter(pk=row.pk).update(trees=plan_pieces.stored_value(trees, True))
    row.refresh_from_db()
    return row


def _small_tree(root, n):
    return [tree.Node("Accounts", root, 0, name=root)] + [
        tree.Node("Contacts", f"{root}-c{i}", 1, root, "Account_Name", {"Last_Name": f"C{i}"}) for i in range(n - 1)
    ]


def test_trees_read_ahead_hold_a_bounded_number_of_records_and_come_back_in_order(engine_profile):
    trees = {f"r{i}": _small_tree(f"r{i}", 100) for i in range(30)}
    trees["big"] = _small_tree("big", 2 * plan_pieces.CHUNK_NODES + 3)  # three pieces
    trees.update({f"s{i}": _small_tree(f"s{i}", 1 + i % 3) for i in range(20)})
    pieces = plan_pieces.StoredTrees(_stored(engine_profile, trees))
    got, held = {}, []
    with CaptureQueriesContext(connection) as queries:
        for root in pieces.roots():
            got[root] = []
            for piece in pieces.chunks(root):
                got[root] += piece
                held.append(sum(len(p) for p in pieces.reader._held.values()))
    assert got == trees
    assert max(held) == piece_reads.READ_AHEAD_NODES  # 20 trees of 100 records a read, never more
    # The index; a count and a read for the first 20 trees of 100, then for the other 10 and the 20
    # small ones after the big tree (its pieces skipped); the big tree a piece a query.
    assert len(queries.captured_queries) == 1 + 2 * 2 + 3
