"""A new job's result rows inserted from plain NewRows hold what model instances would."""

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from records.copying import results as res
from records.copying.new_rows import NewRow
from records.models import CopyJob, RecordResult


@pytest.mark.django_db
def test_a_row_inserted_from_a_new_row_equals_one_inserted_from_the_model(owner, vault_profile):
    job = CopyJob.objects.create(
        profile=vault_profile, object_name="product__v", source_ids=["a"], mode="deep_copy", requested_by=owner
    )
    values = {
        "object_name": "packaging__c",
        "source_name": "Box – ünïcode",
        "parent_source_id": "a",
        "depth": 2,
        "idempotency_key": "rc-1",
        "source_snapshot": {"fields": {"name__v": "Box", "size__c": 3}, "parent_field": "formulation__c"},
    }
    before = timezone.now()
    res.insert([RecordResult(job=job, source_id="m", **values)])
    res.insert([NewRow(job.pk, values["object_name"], "n", **{k: v for k, v in values.items() if k != "object_name"})])
    model_row, plain_row = (job.results.get(source_id=s) for s in ("m", "n"))
    leave_out = ["id", "source_id", "updated"]
    assert model_to_dict(plain_row, exclude=leave_out) == model_to_dict(model_row, exclude=leave_out)
    assert (plain_row.status, plain_row.attempts, plain_row.action) == (RecordResult.Status.PENDING, 0, "create")
    assert plain_row.source_snapshot == values["source_snapshot"] and plain_row.updated >= before


@pytest.mark.django_db
def test_a_new_row_inserted_twice_is_one_row(owner, vault_profile):
    job = CopyJob.objects.create(
        profile=vault_profile, object_name="product__v", source_ids=["a"], mode="clone", requested_by=owner
    )
    row = NewRow(job.pk, "product__v", "a", "A", "", 0, "rc-2", None)
    res.insert([row])
    res.insert([NewRow(job.pk, "product__v", "a", "A again", "", 0, "rc-2", None)])
    assert list(job.results.values_list("source_name", flat=True)) == ["A"]
