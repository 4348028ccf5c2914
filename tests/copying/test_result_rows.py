"""Result rows made and loaded in bulk (records/copying/result_rows.py) are the rows the ORM makes."""

import pytest

from records.copying.result_rows import new_rows
from records.models import CopyJob, RecordResult

pytestmark = pytest.mark.django_db


def _columns(row):
    return {f.attname: getattr(row, f.attname) for f in RecordResult._meta.concrete_fields}


def test_a_new_row_has_the_columns_the_constructor_gives_it(engine_profile):
    job = CopyJob.objects.create(
        profile=engine_profile,
        requested_by=engine_profile.owner,
        object_name="Accounts",
        source_ids=["1"],
        mode="clone",
    )
    given = {"object_name": "Accounts", "source_id": "1", "depth": 2, "source_snapshot": {"fields": {"a": 1}}}
    made, built = new_rows(job.pk, [given])[0], RecordResult(job=job, **given)
    assert _columns(made) == _columns(built)
    assert made._state.adding and made.pk is None


def test_new_rows_are_saved_and_read_back_as_given(engine_profile):
    job = CopyJob.objects.create(
        profile=engine_profile,
        requested_by=engine_profile.owner,
        object_name="Accounts",
        source_ids=["1", "2"],
        mode="clone",
    )
    rows = new_rows(job.pk, [{"object_name": "Accounts", "source_id": s, "idempotency_key": f"k{s}"} for s in "12"])
    RecordResult.objects.bulk_create(rows)
    assert list(job.results.values_list("source_id", "idempotency_key", "status")) == [
        ("1", "k1", RecordResult.Status.PENDING),
        ("2", "k2", RecordResult.Status.PENDING),
    ]
