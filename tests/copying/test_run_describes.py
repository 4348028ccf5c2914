"""A run reads the picklists' values only when it needs them (to mask): an engine-built Vault copy
makes no picklist call between its start and its writes."""

import pytest

from records.connectors import connector_for
from records.copying import lifecycle
from records.copying.options import CopyOptions
from records.copying.run_context import RunContext
from records.models import CopyJob
from tests.fixtures.engine import run_job, start_job


def picklist_calls(sb):
    return [e.path for e in sb.log("vault") if "/picklists/" in e.path]


def test_an_engine_built_vault_copy_runs_without_a_picklist_call(vault, owner):
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Neurolax").records if r.name == "Neurolax")
    job = start_job(
        profile,
        owner,
        "product__v",
        [src],
        "deep_copy",
        overrides={"name__v": "Neurolax P"},
        options=CopyOptions(engine=True),
    )
    sb.clear_log("vault")
    job = run_job(job)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count > 1
    assert picklist_calls(sb) == []


@pytest.mark.parametrize(("mask", "with_values"), [({}, False), ({"product__v": {"description__c": "text"}}, True)])
def test_a_run_describes_with_the_picklists_values_only_when_it_masks(make_job, vault, mask, with_values):
    sb, profile, _ = vault
    job = make_job(profile=profile, status=CopyJob.Status.QUEUED, options=CopyOptions(mask=mask).as_dict())
    context = RunContext.for_job(job, connector_for(profile), lifecycle.claim(job_id=job.pk, worker_id="w"))
    status = next(f for f in context.describe("product__v") if f.name == "status__v")
    assert bool(status.picklist_values) is with_values
    assert bool(picklist_calls(sb)) is with_values
