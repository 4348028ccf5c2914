"""What a clone's plan reads of the object's metadata when the job is made at once (the command,
a schedule): Vault's picklists are a call each, read only when the copy sets a picklist value,
and such a value is still checked against them before anything is queued."""

import re

import pytest
from django.core.exceptions import ValidationError

from records.models import CopyJob
from tests.fixtures.engine import assert_each_record_copied_once, copy_request, run_job, start_job

pytestmark = pytest.mark.django_db(transaction=True)  # the plan's reads overlap in threads
# A vault as the demo has it, and one as real vaults are: no copy-key field.
VAULTS = pytest.mark.parametrize("which", ["vault", "bare_vault"])

PICKLISTS = r"^/api/v[\d.]+/objects/picklists/"


def _sources(conn, n=3):
    rows = [{"name__v": f"Plan Read Source {i}", "status__v": ["active__v"]} for i in range(n)]
    made = conn.create("product__v", rows)
    assert all(r.ok for r in made)
    return [r.new_id for r in made]


def _picklist_calls(sb) -> list[str]:
    return [e.path for e in sb.log("vault") if e.method == "GET" and re.search(PICKLISTS, e.path.split("?")[0])]


def _clone_made_at_once(setup, owner, prefix):
    """A bulk clone of three new products, each given a name, its job made at once; the log cleared
    first, so it holds the plan's calls."""
    sb, profile, conn = setup
    ids = _sources(conn)
    sb.clear_log("vault")
    names = {s: {"name__v": f"{prefix} {k}"} for k, s in enumerate(ids)}
    return sb, start_job(profile, owner, "product__v", ids, "clone", row_overrides=names)


@VAULTS
def test_a_bulk_clone_made_at_once_that_sets_no_picklist_reads_no_picklist(which, request, owner):
    sb, job = _clone_made_at_once(request.getfixturevalue(which), owner, "Plan Read Copy")
    assert job.status == CopyJob.Status.QUEUED and job.planned_count == 3
    assert _picklist_calls(sb) == []
    # The plan's checks and samples still had the fields' labels and uniqueness.
    assert job.plan["objects"] and not job.plan.get("refused_reason")
    assert_each_record_copied_once(run_job(job))


@VAULTS
def test_a_bulk_clone_that_sets_a_picklist_value_reads_that_picklist_and_checks_the_value(which, request, owner):
    sb, profile, conn = request.getfixturevalue(which)
    ids = _sources(conn)
    sb.clear_log("vault")
    rows = {ids[0]: {"name__v": "Plan Read One"}, ids[1]: {"name__v": "Plan Read Two", "status__v": ["no_such__c"]}}
    with pytest.raises(ValidationError, match="no_such__c"):
        start_job(profile, owner, "product__v", ids[:2], "clone", row_overrides=rows)
    assert any(p.endswith("/product_status__c") for p in _picklist_calls(sb)), _picklist_calls(sb)
    assert not CopyJob.objects.filter(object_name="product__v", requested_by=owner).exists()
    # A value the picklist holds is taken: the values were read, not every value refused.
    rows[ids[1]]["status__v"] = ["inactive__v"]
    job = start_job(profile, owner, "product__v", ids[:2], "clone", row_overrides=rows)
    assert job.planned_count == 2


def test_a_plan_people_choose_fields_from_still_reads_the_picklists(vault):
    """The preview's plan (copy_preview; a stored plan on a worker) keeps the picklists' values:
    its field pickers show their labels."""
    from records.copying.preview import copy_preview

    sb, profile, conn = vault
    ids = _sources(conn)
    sb.clear_log("vault")
    names = {s: {"name__v": f"Plan Read Preview {k}"} for k, s in enumerate(ids)}
    plan = copy_preview(request=copy_request(profile, "product__v", ids, "clone", row_overrides=names))
    assert not plan.refused_reason
    assert _picklist_calls(sb)


@VAULTS
def test_a_clone_plan_names_its_object_from_the_object_metadata_without_the_object_list(which, request, owner):
    sb, job = _clone_made_at_once(request.getfixturevalue(which), owner, "Plan Label Copy")
    metadata = [e.path.split("?")[0] for e in sb.log("vault") if e.method == "GET" and "/metadata/vobjects" in e.path]
    assert [p for p in metadata if p.endswith("/metadata/vobjects")] == []  # the list: a slot the checks need
    assert len(metadata) == 1  # the object's own metadata, read once for its fields and its labels
    assert [(o["object_name"], o["label"]) for o in job.plan["objects"]] == [("product__v", "Products")]
