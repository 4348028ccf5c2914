"""An undo's cost in line with its rows, counted, not timed (a shared CI machine's clock says little):
the undo of a large engine-built Vault deep copy takes a number of steps of our code (the records
package's line events) in line with its rows, not their square, against the sandbox over HTTP; the
undo job is made holding a piece of rows at a time (memory traced); the copies it checks are read in
a few queries; the worker's undo holds a piece of rows at a time (row instances counted)."""

import gc
import sys
import tracemalloc
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from records.connectors import connector_for
from records.copying import undo_checks, undo_pieces
from records.copying.job_actions import copy_job_run, copy_job_undo
from records.copying.options import CopyOptions
from records.models import CopyJob, RecordResult
from sandbox import Sandbox, demo
from tests.fixtures.engine import copy_now
from tests.fixtures.sandbox import TEST_VAULT_SETTINGS

ROWS = 6_000
OURS = str(Path(__file__).resolve().parents[2] / "records")


def find_id(conn, name):
    return next(r.id for r in conn.search("product__v", name).records if r.name == name)


def engine_copy_and_undo(profile, owner, conn, name) -> tuple[CopyJob, CopyJob]:
    """An engine-built deep copy of the product `name`, run here, and its undo job (not run)."""
    job = copy_now(
        profile,
        owner,
        "product__v",
        [find_id(conn, name)],
        "deep_copy",
        overrides={"name__v": f"{name} S"},
        options=CopyOptions(engine=True),
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    return job, copy_job_undo(job=job, user=owner, enqueue=False)


def run_traced(undo: CopyJob, tracer) -> CopyJob:
    """The undo job run here as the worker runs it, `tracer` set on this thread meanwhile."""
    before = sys.gettrace()  # a coverage run's tracer, given back after
    sys.settrace(tracer)
    try:
        undo = copy_job_run(job_id=undo.pk, worker_id="test")
    finally:
        sys.settrace(before)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    return undo


def steps_of_undo(profile, owner, conn, name) -> tuple[int, int]:
    """(rows, line events of records/ in this thread) of the undo of an engine-built copy of `name`.
    The worker's thread runs the whole undo: the cascade, the checks, settling the rows."""
    job, undo = engine_copy_and_undo(profile, owner, conn, name)
    steps = 0

    def lines(frame, event, arg):
        nonlocal steps
        steps += event == "line"
        return lines

    def calls(frame, event, arg):
        # Only our own code's lines are counted (Django's and the connectors' HTTP are not ours to bound).
        return lines if frame.f_code.co_filename.startswith(OURS) else None

    undo = run_traced(undo, calls)
    assert undo.succeeded_count == undo.planned_count == job.planned_count
    return undo.planned_count, steps


def test_the_undo_of_a_large_deep_copy_takes_steps_in_line_with_its_rows_not_their_square(vault, owner):
    sb, profile, conn = vault
    small_rows, small_steps = steps_of_undo(profile, owner, conn, "Cardiostat")
    large_rows, large_steps = steps_of_undo(profile, owner, conn, "Large Product")
    assert (small_rows, large_rows) == (36, 2_001)
    # Per row the large undo may cost what the small one does (its fixed steps spread over fewer
    # rows make the small one's share the larger); a step made for every row of every row (the
    # rows still to settle found by rebuilding their set each time) costs 2,000 more per row.
    assert large_steps / large_rows <= small_steps / small_rows, (small_steps, large_steps)


def add_created_rows(job, extra) -> None:
    """ROWS rows of records `job` created: a product, formulations under it; `extra(i)`: more columns."""
    RecordResult.objects.bulk_create(
        (
            RecordResult(
                job=job,
                object_name="formulation__c" if i else "product__v",
                source_id=f"S{i}",
                new_id=f"N{i}",
                depth=1 if i else 0,
                status=RecordResult.Status.SUCCEEDED,
                **extra(i),
            )
            for i in range(ROWS)
        ),
        batch_size=500,
    )


def test_the_undo_job_is_made_a_piece_of_rows_at_a_time_without_their_snapshots(make_job, owner):
    """The Undo button makes a row for each record the job created: from the created rows read in
    pieces, without the source snapshot each holds (a whole source record: most of a row)."""
    job = make_job(mode=CopyJob.Mode.DEEP_COPY)
    snapshot = {"description__v": "x" * 2_000}
    add_created_rows(job, lambda i: {"source_snapshot": snapshot})
    tracemalloc.start()
    try:
        undo = copy_job_undo(job=job, user=owner, enqueue=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert undo.results.count() == undo.plan["deletes"] == ROWS
    assert undo.source_ids == ["N0"]
    assert set(undo.results.values_list("source_id", flat=True)) == {f"N{i}" for i in range(ROWS)}
    # Every row held at once with its snapshot: 34 MB traced; a piece without snapshots: 3.4 MB.
    assert peak < 6 * 2**20, peak


def test_the_undo_buttons_rows_are_made_from_the_copies_columns_not_a_model_instance_each(make_job, owner):
    """The Undo button reads each created row's columns and writes the undo's row from them: no
    RecordResult is built per copy, read or written (before: two each, ~175 µs a row, 17.5 s at
    100,000), and each row still names the copy as the copy job named it."""
    job = make_job(mode=CopyJob.Mode.DEEP_COPY)
    add_created_rows(
        job, lambda i: {"source_name": f"Source {i}", "values": {"name__v": f"Copy {i}"} if i % 2 else None}
    )
    built = 0

    def calls(frame, event, arg):
        nonlocal built
        if event == "call" and frame.f_code is Model.__init__.__code__ and type(frame.f_locals["self"]) is RecordResult:
            built += 1

    sys.setprofile(calls)
    try:
        undo = copy_job_undo(job=job, user=owner, enqueue=False)
    finally:
        sys.setprofile(None)
    assert built <= 1, built  # the top record's row, read for the job's title
    rows = {r.source_id: r for r in undo.results.all()}
    assert len(rows) == ROWS
    assert (rows["N1"].source_name, rows["N2"].source_name) == ("Copy 1", "Source 2")
    assert (rows["N1"].parent_source_id, rows["N1"].object_name, rows["N1"].depth) == ("S1", "formulation__c", 1)
    assert len({r.idempotency_key for r in rows.values()}) == ROWS
    assert {r.status for r in rows.values()} == {RecordResult.Status.PENDING}


def test_the_copies_an_undo_checks_are_read_in_queries_not_one_per_row(make_job, django_assert_max_num_queries):
    """The rows read through the job's related manager with only some columns: the job id among them
    (each row read gets its job set from it: deferred, a query a row, 272 here)."""
    job = make_job(results=300, mode=CopyJob.Mode.DEEP_COPY)
    with django_assert_max_num_queries(3):
        targets = undo_checks.copy_targets(job)
    assert len(targets) == 270  # every tenth row failed or has no copy


@pytest.mark.sqlite
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan of SQLite without statistics")
def test_the_workers_undo_asks_each_piece_of_copies_by_id_not_by_scanning_the_jobs_rows(make_job, owner):
    """Each piece of the worker's check asks the undo's pending rows and the parents' copies by
    their ids (an index range): with the job in the WHERE, SQLite without statistics read every
    pending row of the undo (and every copied row of the copy) for each piece, quadratic at 100,000."""
    job = make_job(mode=CopyJob.Mode.DEEP_COPY)
    rows = [("S0", "N0", "", 0)] + [(f"S{i}", f"N{i}", "S0", 1) for i in range(1, 30)]
    RecordResult.objects.bulk_create(
        RecordResult(
            job=job,
            object_name="formulation__c" if depth else "product__v",
            source_id=s,
            new_id=n,
            parent_source_id=parent,
            depth=depth,
            status=RecordResult.Status.SUCCEEDED,
        )
        for s, n, parent, depth in rows
    )
    # Another job copied the same source records (their ids are its sources too): not this copy's parents.
    other = make_job(mode=CopyJob.Mode.DEEP_COPY)
    RecordResult.objects.bulk_create(
        RecordResult(
            job=other, object_name="product__v", source_id=s, new_id=f"M{s}", status=RecordResult.Status.SUCCEEDED
        )
        for s, _, _, _ in rows[:3]
    )
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    undo.results.filter(source_id="N7").update(status=RecordResult.Status.SKIPPED)  # settled already
    with CaptureQueriesContext(connection) as queries:
        (targets,) = undo_pieces.target_pieces(job, undo)
    assert [(t.record_id, t.parent_id) for t in targets] == [("N0", "")] + [
        (f"N{i}", "N0") for i in range(1, 30) if i != 7
    ]
    by_ids = [q["sql"] for q in queries.captured_queries if '"source_id" IN' in q["sql"]]
    assert len(by_ids) == 2, by_ids  # the undo's pending rows, the parents' copies
    with connection.cursor() as cursor:
        for sql in by_ids:
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%", "%%"))
            plan = " ".join(str(step[-1]) for step in cursor.fetchall())
            assert "result_source_id_idx" in plan and "job_id=?" not in plan, plan


GIANT = 5_000  # records under the giant product: its copy's rows are PIECE rows 2.5 times over


@pytest.fixture
def giant_vault(owner, settings):
    """A sandbox of its own whose vault holds the Giant Product with GIANT records under it."""
    from records.models import ConnectionProfile, System

    settings.VAULT_JOB_POLL_SECONDS = 0.2
    sb = Sandbox.start(vault_settings={**TEST_VAULT_SETTINGS, "giant_related": GIANT})
    try:
        profile = ConnectionProfile.objects.create(
            name="Giant Vault", **demo.profile_values(System.VAULT, sb.vault_url), owner=owner
        )
        yield sb, profile, connector_for(profile)
    finally:
        sb.stop()


def test_the_workers_undo_holds_a_piece_of_rows_at_a_time_not_every_row(giant_vault, owner):
    """The undo of a copy of 5,001 records, run as the worker runs it, deletes them all while no
    more than a piece of its rows is alive as instances at any row write (before: every pending row
    at once, and again while settling the cascade: 10,002)."""
    sb, profile, conn = giant_vault
    job, undo = engine_copy_and_undo(profile, owner, conn, demo.GIANT_PRODUCT)
    assert job.planned_count == GIANT + 1
    alive: list[int] = []
    writes = str(Path(OURS) / "copying" / "results.py")

    def calls(frame, event, arg):
        # Counted at each write of rows: what the run holds then (the gc sees every instance).
        if frame.f_code.co_name == "_write" and frame.f_code.co_filename == writes:
            alive.append(sum(1 for o in gc.get_objects() if type(o) is RecordResult))

    undo = run_traced(undo, calls)
    assert undo.succeeded_count == undo.planned_count == GIANT + 1
    made = job.results.filter(status=RecordResult.Status.SUCCEEDED, action=RecordResult.Action.CREATE)
    assert not any(new_id in sb.vault.state.records[obj] for obj, new_id in made.values_list("object_name", "new_id"))
    assert alive, "no row written"
    # A piece of rows, and the root's row held for its cascade.
    assert max(alive) <= undo_pieces.PIECE + 1, max(alive)
