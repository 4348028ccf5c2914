"""Copies into another profile over HTTP, between two sandbox instances (the main org and the
target org, sandbox/target_org.py), with and without copy keys: references inside the tree point
at the copies, those outside at the records matched in the target, each unmatched choice, fields
and picklist values the target lacks left out, nothing written in the source."""

import re

import pytest
from django.core.exceptions import ValidationError

from records.models import CopyJob, RecordResult
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import assert_each_record_copied_once
from tests.fixtures.sandbox import find_record

S = RecordResult.Status
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_zoho_any(request):
    return request.getfixturevalue("cross_zoho" if request.param == "copy-key" else "bare_cross_zoho")


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_vault_any(request):
    return request.getfixturevalue("cross_vault" if request.param == "copy-key" else "bare_cross_vault")


READS = ("/oauth/", "/auth", "/coql", "/query")  # POSTs that change nothing


def source_writes(sandbox, name):
    return [e for e in sandbox.log(name) if e.method in WRITES and not any(r in e.path for r in READS)]


def zoho_records(sandbox, module):
    return sandbox.zoho.state.records[module]


@pytest.mark.django_db
def test_zoho_deep_copy_across_points_references_inside_the_tree_at_the_copies(cross_zoho_any, owner):
    source, target = cross_zoho_any
    src = find_record(source.connector, "Accounts", "Reporting Lines")
    source.sandbox.clear_log()
    job = copy_across(cross_zoho_any, owner, "Accounts", [src], "deep_copy")
    assert_each_record_copied_once(job)
    assert not source_writes(source.sandbox, "zoho")
    copies = {r.source_id: r.new_id for r in job.results.all()}
    assert all(i.startswith("68368780") for i in copies.values())  # ids of the target org
    contacts = zoho_records(target.sandbox, "Contacts")
    by_last = {c["Last_Name"]: c for c in contacts.values() if c["id"] in copies.values()}
    assert set(by_last) == {"Lead A", "Lead B", "Solo", "Member"}
    assert by_last["Solo"]["Reports_To"] == by_last["Solo"]["id"]
    assert by_last["Lead A"]["Reports_To"] == by_last["Lead B"]["id"]
    assert by_last["Member"]["Reports_To"] == by_last["Lead A"]["id"]
    account = zoho_records(target.sandbox, "Accounts")[copies[src]]
    assert all(c["Account_Name"] == account["id"] for c in by_last.values())
    # No user is mapped yet: the source's owner id means nothing there, the target's API user owns the copy.
    assert account["Owner"] == target.sandbox.zoho.state.api_user["id"]


@pytest.mark.django_db
def test_zoho_outside_reference_matched_by_name_and_what_id_repointed(cross_zoho_any, owner):
    source, target = cross_zoho_any
    src = find_record(source.connector, "Accounts", "Initech")
    acme = find_record(source.connector, "Accounts", "Acme Corp")
    source.connector.update("Accounts", [{"id": src, "Parent_Account": {"id": acme}}])
    job = copy_across(cross_zoho_any, owner, "Accounts", [src], "deep_copy")
    assert_each_record_copied_once(job)
    copies = {r.source_id: r.new_id for r in job.results.all()}
    target_acme = find_record(target.connector, "Accounts", "Acme Corp")
    account = zoho_records(target.sandbox, "Accounts")[copies[src]]
    assert account["Parent_Account"] == target_acme
    assert "Regions" not in account  # the target has no such field: left out and said so
    assert "Regions" in job.results.get(depth=0).values["_left_out"]
    tasks = [t for t in zoho_records(target.sandbox, "Tasks").values() if t["id"] in copies.values()]
    assert tasks and all(t.get("What_Id") in copies.values() or t.get("Who_Id") in copies.values() for t in tasks)
    assert job.plan["cross"]["references"]["Accounts"]["matched"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("choice", ["refuse", "blank", "fail"])
def test_zoho_unmatched_outside_reference_follows_the_choice(cross_zoho, owner, choice):
    source, target = cross_zoho
    src = find_record(source.connector, "Accounts", "Initech")
    hooli = find_record(source.connector, "Accounts", "Hooli")  # not in the target org
    source.connector.update("Accounts", [{"id": src, "Parent_Account": {"id": hooli}}])
    before = len(zoho_records(target.sandbox, "Accounts"))
    if choice == "refuse":
        with pytest.raises(ValidationError, match="no match in the target"):
            copy_across(cross_zoho, owner, "Accounts", [src], "deep_copy")
        assert len(zoho_records(target.sandbox, "Accounts")) == before
        return
    job = copy_across(cross_zoho, owner, "Accounts", [src], "deep_copy", unmatched={"Accounts": choice})
    root = job.results.get(depth=0)
    if choice == "blank":
        assert_each_record_copied_once(job)
        assert not zoho_records(target.sandbox, "Accounts")[root.new_id].get("Parent_Account")
    else:
        assert root.status == S.FAILED and "no match in the target" in root.error_message
        assert not job.results.exclude(new_id="").exists()
        assert len(zoho_records(target.sandbox, "Accounts")) == before


@pytest.mark.django_db
def test_vault_deep_copy_across_matches_the_country_and_leaves_out_what_the_target_lacks(cross_vault_any, owner):
    source, target = cross_vault_any
    src = find_record(source.connector, "product__v", "Linked Product")
    source.sandbox.clear_log()
    job = copy_across(cross_vault_any, owner, "product__v", [src], "deep_copy")
    assert_each_record_copied_once(job)
    assert not source_writes(source.sandbox, "vault")
    state = target.sandbox.vault.state.records
    copies = {r.source_id: r.new_id for r in job.results.all()}
    product = state["product__v"][copies[src]]
    germany = next(c["id"] for c in state["country__v"].values() if c["name__v"] == "Germany")
    assert product["country__c"] == germany
    assert "launch_date__c" not in product
    formulations = [
        state["formulation__c"][copies[r.source_id]] for r in job.results.filter(object_name="formulation__c")
    ]
    assert len(formulations) == 5
    copied = set(copies.values())
    assert {f["based_on__c"] for f in formulations if f.get("based_on__c")} <= copied  # never a source id
    assert sum(1 for f in formulations if f.get("based_on__c")) == 4
    assert not any("syrup__c" in (f.get("dosage_form__c") or []) for f in formulations)
    left = [(r.values or {}).get("_left_out") for r in job.results.filter(object_name="formulation__c")]
    assert ["dosage_form__c"] in left
    assert "launch_date__c" in job.results.get(depth=0).values["_left_out"]


@pytest.mark.django_db
def test_vault_clone_across_of_one_record(cross_vault, owner):
    source, target = cross_vault
    src = find_record(source.connector, "product__v", "Dermacalm")  # its country, Japan, is in the target
    job = copy_across(cross_vault, owner, "product__v", [src], "clone")
    assert_each_record_copied_once(job)
    product = target.sandbox.vault.state.records["product__v"][job.results.get().new_id]
    assert product["name__v"] == "Dermacalm"  # unique values kept: the target has no Dermacalm
    assert job.status == CopyJob.Status.SUCCEEDED


@pytest.mark.django_db
def test_vault_reference_to_a_country_the_target_lacks_refuses_by_default_or_is_left_empty(cross_vault, owner):
    source, target = cross_vault
    src = find_record(source.connector, "product__v", "Neurolax")  # France: not in the target vault
    with pytest.raises(ValidationError, match="France"):
        copy_across(cross_vault, owner, "product__v", [src], "clone")
    job = copy_across(cross_vault, owner, "product__v", [src], "clone", unmatched={"*": "blank"})
    assert_each_record_copied_once(job)
    assert not target.sandbox.vault.state.records["product__v"][job.results.get().new_id].get("country__c")


@pytest.mark.django_db
def test_zoho_outside_reference_with_two_records_of_its_name_in_the_target_is_unmatched(cross_zoho, owner):
    source, target = cross_zoho
    src = find_record(source.connector, "Accounts", "Initech")
    globex = find_record(source.connector, "Accounts", "Globex")
    source.connector.update("Accounts", [{"id": src, "Parent_Account": {"id": globex}}])
    target.connector.create("Accounts", [{"Account_Name": "Globex"}])  # now two Globex there
    with pytest.raises(ValidationError, match="2 records in the target have Account_Name 'Globex'"):
        copy_across(cross_zoho, owner, "Accounts", [src], "clone")


def insert_calls(sandbox, system, path):
    return [e for e in sandbox.log(system) if e.method == "POST" and re.search(path, e.path.split("?")[0])]


@pytest.mark.django_db
def test_zoho_copy_by_query_inserts_the_top_records_a_hundred_a_call(cross_zoho, owner):
    source, target = cross_zoho
    made = source.connector.create("Accounts", [{"Account_Name": f"Batch {i:03}"} for i in range(150)])
    assert all(r.ok for r in made)
    target.sandbox.clear_log()
    job = copy_across(
        cross_zoho, owner, "Accounts", [], "clone", source_filter="(Account_Name:starts_with:Batch )", source_limit=150
    )
    assert_each_record_copied_once(job)
    assert job.results.count() == 150
    assert len(insert_calls(target.sandbox, "zoho", r"^/crm/v\d+/Accounts$")) == 2  # ⌈150/100⌉, not 150


@pytest.mark.django_db
def test_vault_copy_by_query_inserts_the_top_records_in_one_call(cross_vault, owner):
    source, target = cross_vault
    made = source.connector.create(
        "product__v", [{"name__v": f"Batch {i:02}", "status__v": ["active__v"]} for i in range(12)]
    )
    assert all(r.ok for r in made)
    target.sandbox.clear_log()
    job = copy_across(
        cross_vault, owner, "product__v", [], "clone", source_filter="name__v LIKE 'Batch %'", source_limit=12
    )
    assert_each_record_copied_once(job)
    assert job.results.count() == 12
    assert len(insert_calls(target.sandbox, "vault", r"/vobjects/product__v$")) == 1  # ≤500 a call


@pytest.mark.django_db
def test_vault_fail_choice_fails_only_the_records_whose_reference_has_no_match(cross_vault_any, owner):
    source, target = cross_vault_any
    src = find_record(source.connector, "product__v", "Linked Product")
    records = source.sandbox.vault.state.records["formulation__c"]
    ours = [f for f in records.values() if f["product__c"] == src]
    based_on = {f.get("based_on__c") for f in ours}
    loose = next(f["id"] for f in ours if f["id"] not in based_on)  # no sibling derives from it
    elsewhere = next(f["id"] for f in records.values() if f["product__c"] != src)
    source.connector.update("formulation__c", [{"id": loose, "based_on__c": elsewhere}])
    job = copy_across(cross_vault_any, owner, "product__v", [src], "deep_copy", unmatched={"formulation__c": "fail"})
    failed = job.results.get(source_id=loose)
    assert failed.status == S.FAILED and failed.new_id == ""
    assert "Based On" in failed.error_message and elsewhere in failed.error_message
    assert "no unique field to match it by" in failed.error_message  # why: Vault numbers formulation names
    assert not job.results.filter(parent_source_id=loose).exclude(status=S.FAILED).exists()  # its packagings
    created = job.results.filter(object_name="formulation__c", status=S.SUCCEEDED)
    assert created.count() == len(ours) - 1
    state = target.sandbox.vault.state.records["formulation__c"]
    copies = dict(job.results.exclude(new_id="").values_list("source_id", "new_id"))
    for row in created:
        source_ref = records[row.source_id].get("based_on__c")
        assert (state[row.new_id].get("based_on__c") or None) == (copies[source_ref] if source_ref else None)
    assert job.results.get(depth=0).status == S.SUCCEEDED


@pytest.mark.django_db
def test_zoho_bulk_clone_across_gives_each_record_its_own_values_in_the_target(cross_zoho_any, owner):
    """A bulk clone (ids with a value per row, as from a CSV) into another org."""
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create
    from records.copying.options import CopyOptions
    from records.copying.request import CopyRequest

    source, target = cross_zoho_any
    ids = [find_record(source.connector, "Accounts", name) for name in ("Initech", "Globex")]
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="Accounts",
        source_ids=tuple(ids),
        mode="clone",
        row_overrides={ids[0]: {"Account_Name": "Initech UAT"}, ids[1]: {"Account_Name": "Globex UAT"}},
        options=CopyOptions(existing="create"),
    )
    job = copy_job_create(request=request, user=owner, enqueue=False, connector=source.connector)
    job = copy_job_run(job_id=job.pk, worker_id="test", connector=target.connector, source_connector=source.connector)
    assert_each_record_copied_once(job)
    made = {r.source_id: zoho_records(target.sandbox, "Accounts")[r.new_id]["Account_Name"] for r in job.results.all()}
    assert made == {ids[0]: "Initech UAT", ids[1]: "Globex UAT"}
    assert not source_writes(source.sandbox, "zoho")


@pytest.mark.django_db
def test_zoho_deep_copy_across_applies_every_choice_a_copy_in_one_org_has(cross_zoho, owner):
    """Leave out a branch, values and templates on the top and on a child object, a cleared field,
    the lineage stamp and the automation flag, all written in the target org."""
    from dataclasses import replace

    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create
    from records.copying.options import lineage_text, parse_cli
    from records.copying.request import CopyRequest

    source, target = cross_zoho
    src = find_record(source.connector, "Accounts", "Globex")
    top, options = parse_cli(
        top_object="Accounts",
        describe=source.connector.describe,
        set_values=["Account_Name={Account_Name} UAT #{job}", "Contacts:Last_Name={Last_Name} (UAT)"],
        clear=["Contacts:First_Name"],
        exclude=["Deals"],
        unique=[],
        lineage=["Contacts:Description"],
        run_workflows=True,
    )
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="Accounts",
        source_ids=(src,),
        mode="deep_copy",
        overrides=top,
        options=replace(options, existing="create"),
    )
    job = copy_job_create(request=request, user=owner, enqueue=False, connector=source.connector)
    target.sandbox.zoho.state.actions.clear()
    job = copy_job_run(job_id=job.pk, worker_id="test", connector=target.connector, source_connector=source.connector)
    assert_each_record_copied_once(job)
    assert zoho_records(target.sandbox, "Accounts")[job.results.get(depth=0).new_id]["Account_Name"] == (
        f"Globex UAT #{job.pk}"
    )
    assert "Deals" not in set(job.results.values_list("object_name", flat=True))
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.exists()
    for row in contacts:
        original = source.connector.get("Contacts", row.source_id).fields
        copied = zoho_records(target.sandbox, "Contacts")[row.new_id]
        assert copied["Last_Name"] == f"{original['Last_Name']} (UAT)"
        assert original["First_Name"] and not copied.get("First_Name")
        assert copied["Description"] == lineage_text(row.source_id, job.pk)
    inserts = [a for a in target.sandbox.zoho.state.actions if a["op"] == "insert"]
    assert inserts and all(a["trigger"] is None and a["automations_ran"] for a in inserts)
    assert not source_writes(source.sandbox, "zoho")


@pytest.mark.django_db
def test_vault_deep_copy_across_leaves_out_a_branch_and_sends_the_automation_headers(cross_vault, owner):
    source, target = cross_vault
    src = find_record(source.connector, "product__v", "Dermacalm")
    target.sandbox.vault.state.write_modes.clear()
    job = copy_across(
        cross_vault,
        owner,
        "product__v",
        [src],
        "deep_copy",
        exclude=("packaging__c",),
        migration_mode=True,
        no_triggers=True,
    )
    assert_each_record_copied_once(job)
    objects = set(job.results.values_list("object_name", flat=True))
    assert "formulation__c" in objects and "packaging__c" not in objects
    modes = target.sandbox.vault.state.write_modes
    assert modes and all(m["migration_mode"] and m["no_triggers"] for m in modes)
    assert not source_writes(source.sandbox, "vault")
