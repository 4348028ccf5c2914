"""An engine-built deep copy reads its tree from the job's rows a piece at a time: never every
record's snapshot at once, each wave CHUNK_ROWS rows at a time."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying.tree_pieces import CHUNK_ROWS, PIECE_ROWS
from tests.fixtures.engine import MemoryConnector, assert_each_record_copied_once, run_job, start_job

pytestmark = pytest.mark.django_db
IN_IDS = re.compile(r'"id" IN \(([^)]*)\)')


def _snapshot_reads(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"source_snapshot"' in q["sql"]]


def test_a_wave_larger_than_a_piece_is_read_and_sent_a_piece_at_a_time(engine_profile):
    conn = MemoryConnector()
    root = conn.add("Accounts", Account_Name="Wide")
    tasks = 2 * CHUNK_ROWS + 500
    for i in range(tasks):
        conn.add("Tasks", Subject=f"T{i}", What_Id={"id": root}, **{"$se_module": "Accounts"})
    contact = conn.add("Contacts", Last_Name="C", Account_Name={"id": root})
    conn.add("Tasks", Subject="Under the contact", Who_Id={"id": contact})
    job = start_job(
        engine_profile,
        engine_profile.owner,
        "Accounts",
        [root],
        "deep_copy",
        connector=conn,
        overrides={"Account_Name": "Wide 2"},
    )
    assert job.planned_count == tasks + 3

    with CaptureQueriesContext(connection) as captured:
        run_job(job, connector=conn)

    assert_each_record_copied_once(job)
    reads = _snapshot_reads(captured.captured_queries)
    pieces = [len(m.group(1).split(",")) for sql in reads for m in [IN_IDS.search(sql)] if m]
    # Every read of snapshots is one piece of the tree (or the root alone), never the whole tree.
    assert all(IN_IDS.search(sql) or "LIMIT 1" in sql for sql in reads), reads
    # The pipeline's pieces are small: an answer that comes while one is read waits for its end
    # (~50-100 µs a row), and its dependents' batches with it.
    assert pieces and max(pieces) <= PIECE_ROWS <= 500
    # The tree (small enough for the pipeline) read once, in pieces: each snapshot read and
    # parsed once, for the second pass's plan and for sending alike.
    assert sum(pieces) == job.planned_count
    assert len(pieces) == math.ceil(job.planned_count / PIECE_ROWS)
