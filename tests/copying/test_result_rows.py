"""Result rows made and loaded in bulk (records/copying/result_rows.py) are the rows the ORM makes."""

import pytest

from records.copying.result_rows import new_rows, reloaded
from records.models import CopyJob, RecordResult

pytestmark = pytest.mark.django_db


def _job(profile, source_ids):
    return CopyJob.objects.create(
        profile=profile, requested_by=profile.owner, object_name="Accounts", source_ids=source_ids, mode="clone"
    )


def _columns(row):
    return {f.attname: getattr(row, f.attname) for f in RecordResult._meta.concrete_fields}


def test_a_new_row_has_the_columns_the_constructor_gives_it(engine_profile):
    job = _job(engine_profile, ["1"])
    given = {"object_name": "Accounts", "source_id": "1", "depth": 2, "source_snapshot": {"fields": {"a": 1}}}
    made, built = new_rows(job.pk, [given])[0], RecordResult(job=job, **given)
    assert _columns(made) == _columns(built)
    assert made._state.adding and made.pk is None


def test_new_rows_are_saved_and_read_back_as_given(engine_profile):
    job = _job(engine_profile, ["1", "2"])
    rows = new_rows(job.pk, [{"object_name": "Accounts", "source_id": s, "idempotency_key": f"k{s}"} for s in "12"])
    RecordResult.objects.bulk_create(rows)
    assert list(job.results.values_list("source_id", "idempotency_key", "status")) == [
        ("1", "k1", RecordResult.Status.PENDING),
        ("2", "k2", RecordResult.Status.PENDING),
    ]


def test_rows_read_again_by_id_come_in_that_order_without_their_snapshots(engine_profile):
    job = _job(engine_profile, ["1"])
    given = [{"object_name": "Contacts", "source_id": s, "source_snapshot": {"fields": {"a": s}}} for s in "1234"]
    RecordResult.objects.bulk_create(new_rows(job.pk, given))
    pks = list(job.results.order_by("-source_id").values_list("pk", flat=True))
    rows = reloaded(pks)
    assert [r.pk for r in rows] == pks
    assert [r.source_snapshot for r in rows] == [None] * 4  # not read: the run never writes them
    orm = {r.pk: _columns(r) for r in job.results.all()}
    assert all(_columns(r) == {**orm[r.pk], "source_snapshot": None} for r in rows)
    assert rows[0].object_name is rows[3].object_name and rows[0].status is rows[3].status  # one string each
