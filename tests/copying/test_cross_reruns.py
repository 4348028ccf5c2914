"""Re-runs of a copy into another profile, over HTTP against two sandbox orgs, with and without copy
keys: a second run with `skip` creates nothing and says so per row; with `update` it sends only
the fields whose values differ and lists them per row (a lost answer: one update, the previous
values kept); undo deletes only what a job created, `--restore-updated` writes the old values back,
and a job that only skipped has nothing to undo."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.copying.job_actions import copy_job_undo
from records.copying.options import CopyOptions
from records.management.commands._cli import job_as_dict
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_now, run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
A, DEEP = RecordResult.Action, CopyJob.Mode.DEEP_COPY
ACCOUNT = "Initech"  # a small demo account: contacts, deals, tasks, notes (none in the target org)


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross(request):
    return request.getfixturevalue("cross_zoho" if request.param == "copy-key" else "bare_cross_zoho")


def counts(setup):
    state = setup.sandbox.zoho.state
    return {m: len(state.records[m]) for m in ("Accounts", "Contacts", "Deals", "Tasks", "Notes")}


def copy(cross, owner, root, existing):
    source, target = cross
    options = CopyOptions(existing=existing, unmatched={"*": "blank"})
    return copy_now(source.profile, owner, "Accounts", [root], DEEP, target=target.profile, options=options)


def test_second_run_with_skip_creates_nothing(cross, owner):
    source, target = cross
    root = find_record(source.connector, "Accounts", ACCOUNT)
    first = copy(cross, owner, root, "create")
    assert first.status == CopyJob.Status.SUCCEEDED, first.error_summary
    after_first = counts(target)
    second = copy(cross, owner, root, "skip")
    assert second.status == CopyJob.Status.SUCCEEDED, second.error_summary
    assert counts(target) == after_first
    rows = list(second.results.all())
    assert rows and all(r.action == A.SKIP for r in rows)
    assert {r.new_id for r in rows} == set(first.results.values_list("new_id", flat=True))
    with pytest.raises(ValidationError, match="created nothing"):
        copy_job_undo(job=second, user=owner, enqueue=False)


def test_a_rerun_reads_each_module_it_found_in_the_target_once(cross_zoho, owner):
    """Tasks hang by What_Id under the account and the deals and by Who_Id under the contacts:
    one read by ids sees that they are all still there, with both parent fields."""
    source, target = cross_zoho
    root = find_record(source.connector, "Accounts", ACCOUNT)
    copy(cross_zoho, owner, root, "create")
    target.sandbox.clear_log("zoho")
    second = copy(cross_zoho, owner, root, "skip")
    assert second.status == CopyJob.Status.SUCCEEDED, second.error_summary
    reads = [e.path.split("?")[0] for e in target.sandbox.log("zoho") if e.method == "GET" and "ids=" in e.path]
    modules = set(second.results.values_list("object_name", flat=True))
    assert "Tasks" in modules and sorted(reads) == sorted(f"/crm/v7/{m}" for m in modules)


def test_a_record_found_by_its_name_is_skipped_and_its_new_children_hang_under_it(cross, owner):
    """The target org has its own "Acme Corp" (other id, no children): a first copy with `skip`
    finds it by the name (Zoho's match key), creates the children only, under it."""
    source, target = cross
    root = find_record(source.connector, "Accounts", "Acme Corp")
    theirs = find_record(target.connector, "Accounts", "Acme Corp")
    before = counts(target)
    job = copy(cross, owner, root, "skip")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    top = job.results.get(depth=0)
    assert (top.action, top.new_id) == (A.SKIP, theirs) and counts(target)["Accounts"] == before["Accounts"]
    contacts = list(job.results.filter(object_name="Contacts", depth=1))
    assert contacts and all(r.action == A.CREATE and r.new_id for r in contacts)
    assert {target.connector.get("Contacts", r.new_id).fields["Account_Name"]["id"] for r in contacts} == {theirs}
    assert job.plan["cross"]["existing"]["key"] == 1 and job.plan["cross"]["existing"]["ledger"] == 0


def test_update_sends_only_the_changed_field_and_undo_restores_it(cross, owner):
    source, target = cross
    root = find_record(source.connector, "Accounts", ACCOUNT)
    first = copy(cross, owner, root, "create")
    copy_id = first.results.get(depth=0).new_id
    old_phone = target.connector.get("Accounts", copy_id).fields["Phone"]
    source.connector.update("Accounts", [{"id": root, "Phone": "+1 555 0142"}])
    target.sandbox.hooks("zoho").lose("PUT", r"/Accounts$", applied=True)
    target.sandbox.clear_log("zoho")
    second = copy(cross, owner, root, "update")
    assert second.status == CopyJob.Status.SUCCEEDED, second.error_summary
    top = second.results.get(depth=0)
    assert (top.action, top.values, top.previous) == (A.UPDATE, {"Phone": "+1 555 0142"}, {"Phone": old_phone})
    assert all(r.previous == {} for r in second.results.exclude(pk=top.pk))  # nothing else differs
    listed = {r["source_id"]: (r["action"], r["changed"]) for r in job_as_dict(second)["results"]}
    assert listed[root] == ("updated", ["Phone"]) and {a for a, _ in listed.values()} == {"updated"}
    puts = [e for e in target.sandbox.log("zoho") if e.method == "PUT"]
    assert len(puts) == 2 and all('"Phone"' in e.body_summary and "Account_Name" not in e.body_summary for e in puts)
    assert target.connector.get("Accounts", copy_id).fields["Phone"] == "+1 555 0142"
    undo = run_job(copy_job_undo(job=second, user=owner, enqueue=False, restore_updated=True))
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert target.connector.get("Accounts", copy_id).fields["Phone"] == old_phone
    # The copy was updated and written back since the first job made it: when that lands in a later
    # second than the copy, the first job's undo keeps it as changed; a person says delete it anyway.
    undo_first = run_job(copy_job_undo(job=first, user=owner, enqueue=False, include_changed=True))
    assert undo_first.status == CopyJob.Status.SUCCEEDED, undo_first.error_summary
    assert find_record(target.connector, "Accounts", "Acme Corp")  # the target's own records stay


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_v(request):
    return request.getfixturevalue("cross_vault" if request.param == "copy-key" else "bare_cross_vault")


def vault_counts(setup):
    state = setup.sandbox.vault.state
    return {o: len(state.records[o]) for o in ("product__v", "formulation__c", "packaging__c")}


def test_vault_second_run_with_skip_creates_nothing_then_update_changes_one_field(cross_v, owner):
    source, target = cross_v
    root = find_record(source.connector, "product__v", "Linked Product")

    def copy_vault(existing):
        options = CopyOptions(existing=existing, unmatched={"*": "blank"})
        return copy_now(source.profile, owner, "product__v", [root], DEEP, target=target.profile, options=options)

    first = copy_vault("create")
    assert first.status == CopyJob.Status.SUCCEEDED, first.error_summary
    after_first = vault_counts(target)
    second = copy_vault("skip")
    assert second.status == CopyJob.Status.SUCCEEDED and vault_counts(target) == after_first
    assert set(second.results.values_list("action", flat=True)) == {A.SKIP}
    source.connector.update("product__v", [{"id": root, "description__c": "Changed since the first copy"}])
    third = copy_vault("update")
    assert third.status == CopyJob.Status.SUCCEEDED, third.error_summary
    assert vault_counts(target) == after_first
    changed = {r.source_id: r.values for r in third.results.all() if r.values}
    assert changed == {root: {"description__c": "Changed since the first copy"}}


def test_copy_command_existing_skip_prints_each_row_skipped(cross_zoho, owner):
    source, target = cross_zoho
    root = find_record(source.connector, "Accounts", ACCOUNT)
    copy(cross_zoho, owner, root, "create")
    out, err = io.StringIO(), io.StringIO()
    args = ["copy", source.profile.name, "Accounts", root, "--deep", "--to", target.profile.name]
    args += ["--existing", "skip", "--unmatched", "blank", "--mask-suggested", "--sync", "--json"]
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    assert exc.value.code == 0, err.getvalue()
    job = json.loads(out.getvalue())
    assert job["target"] == target.profile.name
    assert job["results"] and {r["action"] for r in job["results"]} == {"skipped"}


def test_copy_by_query_into_another_org_skips_what_is_there_by_default(cross_zoho, owner):
    """The two newest Retail accounts: Acme Corp is in the target org already (a query copy skips by
    default), the other is created there with its tree."""
    source, target = cross_zoho
    before = counts(target)["Accounts"]
    options = CopyOptions(source_filter="(Industry:equals:Retail)", source_limit=2, unmatched={"*": "blank"})
    job = copy_now(source.profile, owner, "Accounts", [], DEEP, target=target.profile, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert len(job.source_ids) == 2 and job.plan["cross"]["query"]["count"] == 2
    tops = {r.source_name: r.action for r in job.results.filter(depth=0)}
    assert tops.pop("Acme Corp") == A.SKIP and list(tops.values()) == [A.CREATE]
    assert counts(target)["Accounts"] == before + 1
