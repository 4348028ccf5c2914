"""A deep copy's job rows made while its tree is read (records/copying/job_create.py TreeRowsAhead),
over real HTTP: made before the tree's last read is answered, and stored exactly as the rows of
the same plan made from its stored pieces (the way they were made before)."""

import threading
import time

import pytest

from records.copying import stored_plans
from records.copying.job_create import TreeRowsAhead, copy_job_create
from records.copying.options import CopyOptions
from records.copying.preview import plan_copy
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_request
from tests.fixtures.sandbox import find_record

# What the database takes differs on SQLite: CI runs these on its SQLite pass too.
pytestmark = pytest.mark.sqlite

PACKAGING_METADATA = r"^/api/v[\d.]+/metadata/vobjects/packaging__c$"
COLUMNS = ("object_name", "source_id", "source_name", "parent_source_id", "depth", "status", "attempts")


def _until(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(check())


def _packaging_queries(sb, count: int) -> list:
    return [e for e in sb.log("vault")[count:] if e.method == "POST" and "packaging__c" in e.body_summary]


@pytest.mark.django_db(transaction=True)  # the plan is read in a thread while the test looks on
def test_a_deep_copys_rows_are_made_while_its_last_level_is_still_to_read(vault):
    sb, profile, conn = vault
    src = find_record(conn, "product__v", "Neurolax")  # 5 formulations, 30 packagings below them
    fresh = type(conn)(conn.config, conn.tokens)  # nothing described yet
    before = len(sb.log("vault"))
    # The packagings' query names their columns: it waits for their metadata, held here.
    held = sb.hooks("vault").hold("GET", PACKAGING_METADATA)
    options = CopyOptions(engine=True)
    request = copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Early"}, options=options)
    ahead = TreeRowsAhead(snapshot=True)
    plans: list = []
    planner = threading.Thread(target=lambda: plans.append(plan_copy(request=request, connector=fresh, sink=ahead)))
    planner.start()
    try:
        assert held.wait(10)
        made_early = _until(lambda: ahead.rows is not None and len(ahead.rows.params) == 6)
        queried_early = _packaging_queries(sb, before)
        early = [list(p) for p in ahead.rows.params] if ahead.rows is not None else []
    finally:
        held.release()
        planner.join(30)
    assert made_early and not queried_early  # the top record's and its 5 formulations' rows, packagings unread
    snapshot = next(i for i, f in enumerate(ahead.rows.fields) if f.attname == "source_snapshot")
    # Their snapshots prepared too, as the database takes them: SQLite's JSON text, PostgreSQL's
    # Jsonb adapter (psycopg writes its text when the statement runs).
    assert all(p[snapshot] is not None and not isinstance(p[snapshot], dict) for p in early)
    plan, trees = plans[0]
    assert not plan.refused_reason and len(ahead.rows.params) == len(trees[src]) == 36


@pytest.mark.django_db(transaction=True)
def test_a_deep_copys_rows_made_as_its_tree_is_read_are_those_its_stored_plan_makes(vault, owner):
    _sb, profile, conn = vault
    # Formulations based on each other: records pushed below their depth, a cycle sharing a wave.
    src = find_record(conn, "product__v", "Linked Product")
    options = CopyOptions(engine=True)
    request = copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Linked"}, options=options)
    now = copy_job_create(request=request, user=owner, enqueue=False)  # its rows made as the tree is read
    stored = stored_plans.plan_request(request=request, user=owner)  # read inline here
    stored.refresh_from_db()
    from_pieces = copy_job_create(request=request, user=owner, enqueue=False, plan=stored)

    def rows(job: CopyJob) -> list[tuple]:
        return [(*r[:-1], r[-1] == job.pk) for r in job.results.order_by("pk").values_list(*COLUMNS, "job_id")]

    assert rows(now) == rows(from_pieces)
    assert sorted({d for *_, d, _s, _a, _j in rows(now)}) == [0, 1, 2, 3]  # waves, not only depths
    snapshots = [
        RecordResult.objects.filter(job=j).order_by("pk").values_list("source_snapshot", flat=True)
        for j in (now, from_pieces)
    ]
    assert list(snapshots[0]) == list(snapshots[1]) and all(snapshots[0])
    assert [r.idempotency_key for r in now.results.order_by("pk")] == [
        f"rc-{now.code.hex[:12]}-{k.split('-')[-1]}"
        for k in from_pieces.results.order_by("pk").values_list("idempotency_key", flat=True)
    ]
    assert now.planned_count == from_pieces.planned_count == len(rows(now))
    assert all(r.updated >= now.created for r in now.results.all())  # stamped at the insert, after the job


def test_rows_are_made_ahead_for_one_tree_up_to_its_most_records_only():
    from records.copying.tree import Node

    nodes = [Node("product__v", "P1", 0)] + [Node("formulation__c", f"F{i}", 1, "P1", "product__c") for i in range(3)]
    ahead = TreeRowsAhead(snapshot=False, max_rows=4)
    keep = ahead.keep_of("P1")
    assert [keep(n) for n in nodes] == nodes  # the records kept as read
    assert ahead.rows is not None and len(ahead.rows.params) == 4
    keep(Node("formulation__c", "F3", 1, "P1", "product__c"))
    assert ahead.rows is None  # past its most: made from the tree at the insert instead

    several = TreeRowsAhead(snapshot=False)
    several.keep_of("P1")(nodes[0])
    several.keep_of("P2")(Node("product__v", "P2", 0))
    assert several.rows is None  # a second top record: the trees' rows made from them
