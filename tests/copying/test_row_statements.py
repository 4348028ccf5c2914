"""Many result rows in one statement (records/copying/row_statements.py, through results.insert
and results.save): the same rows, order, conflicts and refusals on SQLite and on PostgreSQL, where
the rows go as one array a column. Run on both of CI's databases."""

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from records.copying import results as res
from records.copying.result_rows import new_rows
from records.models import CopyJob, RecordResult

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
S = RecordResult.Status


def _job(profile):
    return CopyJob.objects.create(
        profile=profile, requested_by=profile.owner, object_name="Accounts", source_ids=["a"], mode="clone"
    )


def _rows(job, ids, **given):
    return new_rows(
        job.pk, [{"object_name": "Accounts", "source_id": s, "idempotency_key": f"k{s}", **given} for s in ids]
    )


def test_new_rows_are_inserted_in_their_order_and_a_record_already_there_keeps_its_first_row(engine_profile):
    job = _job(engine_profile)
    res.insert(_rows(job, ["c", "a"], source_name="first"))
    snapshot = {"fields": {"Name": "Ünïcode 'quoted' \"and\" \\ back"}, "parent_field": None}
    later = _rows(job, ["b", "a", "d", "b"], source_name="later", depth=3, source_snapshot=snapshot)
    later[3].source_name = "second b"
    with CaptureQueriesContext(connection) as queries:
        res.insert(later)
    _one_statement(queries, "INSERT")
    stored = list(job.results.order_by("pk").values_list("source_id", "source_name", "depth", "source_snapshot"))
    assert stored == [
        ("c", "first", 0, None),
        ("a", "first", 0, None),
        ("b", "later", 3, snapshot),  # the record's first row in the statement; its second skipped
        ("d", "later", 3, snapshot),
    ]
    assert len(set(job.results.values_list("updated", flat=True))) == 2  # one stamp a statement


def test_a_value_too_long_for_its_column_is_refused_not_cut(engine_profile):
    job = _job(engine_profile)
    too_long = _rows(job, ["x" * 101])
    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            res.insert(too_long)
        assert not job.results.exists()
    else:  # SQLite has no length limit: the row is kept whole (not cut either)
        res.insert(too_long)
        assert list(job.results.values_list("source_id", flat=True)) == ["x" * 101]


def _one_statement(queries, verb):
    """One statement for all the rows: run for each on SQLite (logged "<n> times: …"), one array a
    column on PostgreSQL (not one statement a row there)."""
    statements = [q["sql"] for q in queries.captured_queries if verb in q["sql"]]
    assert len(statements) == 1
    if connection.vendor == "postgresql":
        assert "unnest(" in statements[0] and " times:" not in statements[0]


def test_a_batch_of_answers_writes_each_rows_own_values_none_and_json_included(engine_profile):
    job = _job(engine_profile)
    res.insert(_rows(job, ["1", "2", "3"]))
    rows = list(job.results.order_by("pk"))
    res.mark_sending(rows)
    res.succeed(rows[0], "N1", "https://x.example/N1")
    rows[0].values = {"Name": 'It\'s "new"', "list": [1, None, "é"]}
    res.fail(rows[1], "INVALID_DATA", "refused: a 'quoted' reason")
    rows[1].values = None
    res.succeed(rows[2], "N3")
    rows[2].values = {}
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        res.save(rows)
    _one_statement(queries, "UPDATE")
    stored = {r.source_id: r for r in job.results.all()}
    assert (stored["1"].status, stored["1"].new_id, stored["1"].link) == (S.SUCCEEDED, "N1", "https://x.example/N1")
    assert stored["1"].values == {"Name": 'It\'s "new"', "list": [1, None, "é"]}
    assert (stored["2"].status, stored["2"].error_message, stored["2"].values) == (
        S.FAILED,
        "refused: a 'quoted' reason",
        None,
    )
    assert (stored["3"].new_id, stored["3"].values) == ("N3", {})
    assert stored["2"].written_at is None and stored["3"].written_at is not None
    assert all(r.updated >= before for r in stored.values())
    assert {r.attempts for r in stored.values()} == {1}


def test_an_answer_naming_no_stored_row_changes_nothing_else(engine_profile):
    job = _job(engine_profile)
    res.insert(_rows(job, ["1", "2"]))
    first, second = job.results.order_by("pk")
    res.succeed(first, "N1")
    RecordResult.objects.filter(pk=second.pk).delete()
    res.succeed(second, "N2")
    res.save([first, second])
    assert list(job.results.values_list("source_id", "new_id")) == [("1", "N1")]
