"""Masking applied by the engine before any write, over HTTP against the sandbox: a Zoho clone (its
clone body), a Zoho and a Vault engine-built deep copy (Vault's own deep copy gives way to the
engine's), a copy into another profile under its policy; nothing unmasked on the ledger, the job
page or the CSV; undo and a re-run of masked copies."""

import json
import logging
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from records.copying.options import CopyOptions
from records.masking import keys as masking_keys
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_now, copy_request, preview

S = RecordResult.Status
EMAIL = re.compile(r"[a-z]+\.[a-z]+\d*@example\.(com|org|net)")
CONTACT_MASKS = {"Contacts": {"Email": "email", "Phone": "phone", "Mailing_City": "address"}}


def copy_across(cross, user, object_name, ids, mode, existing="create"):
    """A copy into the target profile through the services (the source's connector reads, the target's writes)."""
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create

    source, target = cross
    request = copy_request(source.profile, object_name, ids, mode, options=CopyOptions(existing=existing))
    request = type(request)(**{**request.__dict__, "target": target.profile})
    job = copy_job_create(request=request, user=user, enqueue=False, connector=source.connector)
    return copy_job_run(job_id=job.pk, worker_id="test", connector=target.connector, source_connector=source.connector)


def zoho_contacts(sandbox):
    return sandbox.zoho.state.records["Contacts"]


def a_contact(sandbox):
    return next(c for c in zoho_contacts(sandbox).values() if c.get("Email") and c.get("Phone"))


@pytest.mark.django_db
def test_a_zoho_clone_sends_standins_in_its_clone_body_and_the_ledger_keeps_labels(zoho, owner):
    source = a_contact(zoho.sandbox)
    job = copy_now(zoho.profile, owner, "Contacts", [source["id"]], "clone", options=CopyOptions(mask=CONTACT_MASKS))
    assert job.status == CopyJob.Status.SUCCEEDED
    row = job.results.get()
    copy = zoho_contacts(zoho.sandbox)[row.new_id]
    assert EMAIL.fullmatch(copy["Email"]) and copy["Email"] != source["Email"]
    assert copy["Phone"] != source["Phone"] and len(copy["Phone"]) == len(source["Phone"])
    assert copy["Last_Name"] == source["Last_Name"]  # unmasked fields are inherited as they were
    assert row.values == {"Email": "masked (email)", "Phone": "masked (phone)", "Mailing_City": "masked (address)"}


@pytest.mark.django_db
def test_nothing_unmasked_on_the_job_page_its_csv_the_logs_or_the_audit(zoho, owner, owner_client, caplog):
    from records.models import AuditEvent

    source = a_contact(zoho.sandbox)
    caplog.set_level(logging.DEBUG)
    job = copy_now(zoho.profile, owner, "Contacts", [source["id"]], "clone", options=CopyOptions(mask=CONTACT_MASKS))
    copy = zoho_contacts(zoho.sandbox)[job.results.get().new_id]
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    rows = owner_client.get(reverse("job_rows", args=[job.code])).content.decode()
    csv = b"".join(owner_client.get(reverse("job_results_csv", args=[job.code])).streaming_content).decode()
    audit = json.dumps(list(AuditEvent.objects.values("action", "details")))
    for text in (page, rows, csv, caplog.text, audit, json.dumps(job.plan)):
        for value in (source["Email"], copy["Email"], source["Phone"], copy["Phone"]):
            assert value not in text
    assert "masked (email)" in csv


@pytest.mark.django_db
def test_two_jobs_into_the_same_target_give_the_same_standins(zoho, owner):
    source = a_contact(zoho.sandbox)
    masks = CopyOptions(mask={"Contacts": {"Phone": "phone", "Mailing_City": "address"}})
    first = copy_now(zoho.profile, owner, "Contacts", [source["id"]], "clone", options=masks)
    second = copy_now(zoho.profile, owner, "Contacts", [source["id"]], "clone", options=masks)
    a, b = (zoho_contacts(zoho.sandbox)[j.results.get().new_id] for j in (first, second))
    assert a["Phone"] == b["Phone"] != source["Phone"]


@pytest.mark.django_db
def test_a_zoho_deep_copy_masks_the_children_built_by_the_engine(globex, owner):
    sb, profile, conn, account = globex
    job = copy_now(profile, owner, "Accounts", [account], "deep_copy", options=CopyOptions(mask=CONTACT_MASKS))
    assert job.status == CopyJob.Status.SUCCEEDED
    rows = list(job.results.filter(object_name="Contacts"))
    assert rows
    for row in rows:
        source, copy = zoho_contacts(sb)[row.source_id], zoho_contacts(sb)[row.new_id]
        if source.get("Email"):
            assert EMAIL.fullmatch(copy["Email"]) and row.values["Email"] == "masked (email)"
        assert source.get("Email") not in str(row.values)


@pytest.mark.django_db
def test_vault_masking_builds_the_hierarchy_with_the_engine_and_masks_every_level(neurolax, owner):
    sb, profile, conn, product = neurolax
    masks = CopyOptions(mask={"product__v": {"description__c": "text"}, "formulation__c": {"strength__c": "text"}})
    named = {"name__v": "Neurolax (masked copy)"}
    plan = preview(profile, "product__v", [product], "deep_copy", connector=conn, options=masks, overrides=named)
    assert "fields are masked" in plan.way
    assert plan.masking["formulation__c"][0]["rule"] == "text"
    job = copy_now(profile, owner, "product__v", [product], "deep_copy", connector=conn, options=masks, overrides=named)
    assert job.status == CopyJob.Status.SUCCEEDED
    kept = job.plan["masking"]["product__v"][0]
    assert kept["count"] == 1 and "sample_source" not in kept and "sample_standin" not in kept  # no value kept
    records = sb.vault.state.records
    for row in job.results.all():
        field = "description__c" if row.object_name == "product__v" else "strength__c"
        if row.object_name == "packaging__c":
            continue
        source, copy = records[row.object_name][row.source_id], records[row.object_name][row.new_id]
        if source.get(field):
            assert copy[field] != source[field] and len(copy[field]) <= len(source[field])
            assert row.values[field] == "masked (text)"


@pytest.mark.django_db
def test_a_rule_that_doesnt_fit_is_refused_before_anything_is_queued(zoho, owner):
    for masks, words in [
        ({"Accounts": {"Employees": "email"}}, "the email rule can't give it a value"),
        ({"Contacts": {"Account_Name": "name"}}, "reference to another record"),
        ({"Contacts": {"Copy_Key": "hash"}}, "copy-key field"),
    ]:
        obj = next(iter(masks))
        ids = [next(iter(zoho.sandbox.zoho.state.records[obj]))]
        with pytest.raises(ValidationError) as exc:
            preview(zoho.profile, obj, ids, "clone", options=CopyOptions(mask=masks))
        assert words in " ".join(exc.value.messages)
    assert not CopyJob.objects.exists()


@pytest.mark.django_db
def test_the_targets_policy_applies_and_a_user_cant_remove_it(cross_zoho, owner):
    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    with pytest.raises(ValidationError) as exc:
        request = copy_request(
            source.profile,
            "Contacts",
            [contact["id"]],
            "clone",
            options=CopyOptions(mask={"Contacts": {"Email": "keep"}}),
        )
        type(request)(**{**request.__dict__, "target": target.profile}).checked_ids()
    assert "masks it as email" in exc.value.messages[0]
    job = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone")
    assert job.status == CopyJob.Status.SUCCEEDED
    row = job.results.get()
    copy = target.sandbox.zoho.state.records["Contacts"][row.new_id]
    assert EMAIL.fullmatch(copy["Email"])
    assert row.values["Email"] == "masked (email)"
    # Another target (the source profile itself) has another key: another stand-in.
    here = copy_now(
        source.profile, owner, "Contacts", [contact["id"]], "clone", options=CopyOptions(mask=CONTACT_MASKS)
    )
    assert zoho_contacts(source.sandbox)[here.results.get().new_id]["Email"] != copy["Email"]


@pytest.mark.django_db
def test_a_rerun_of_a_masked_copy_finds_it_and_undo_deletes_it(cross_zoho, owner):
    from records.copying.job_actions import copy_job_run, copy_job_undo

    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    first = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone")
    copy_id = first.results.get().new_id
    again = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone", existing="skip")
    row = again.results.get()
    assert row.action == RecordResult.Action.SKIP and row.new_id == copy_id
    undo = copy_job_undo(job=first, user=owner, enqueue=False)
    copy_job_run(job_id=undo.pk, worker_id="test", connector=target.connector)
    assert copy_id not in target.sandbox.zoho.state.records["Contacts"]


@pytest.mark.django_db
def test_a_rerun_that_updates_sends_the_new_standin_and_keeps_the_label(cross_zoho, owner):
    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    first = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone")
    copy_id = first.results.get().new_id
    before = target.sandbox.zoho.state.records["Contacts"][copy_id]["Phone"]
    source.connector.update("Contacts", [{"id": contact["id"], "Phone": "+1 555 999 0000"}])
    again = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone", existing="update")
    row = again.results.get()
    assert row.action == RecordResult.Action.UPDATE and row.status == S.SUCCEEDED
    after = target.sandbox.zoho.state.records["Contacts"][copy_id]["Phone"]
    assert after != before and after != "+1 555 999 0000" and len(after) == len("+1 555 999 0000")
    assert row.values == {"Phone": "masked (phone)"}


@pytest.mark.django_db
def test_a_rerun_finds_a_masked_copy_by_its_masked_match_key(cross_zoho, owner):
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create

    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    first = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone")
    copy_id = first.results.get().new_id
    first.results.all().delete()  # no ledger left: only the key can find the copy
    options = CopyOptions(existing="skip", match={"Contacts": "Email"})
    request = copy_request(source.profile, "Contacts", [contact["id"]], "clone", options=options)
    request = type(request)(**{**request.__dict__, "target": target.profile})
    job = copy_job_create(request=request, user=owner, enqueue=False, connector=source.connector)
    job = copy_job_run(job_id=job.pk, worker_id="test", connector=target.connector, source_connector=source.connector)
    row = job.results.get()
    assert row.action == RecordResult.Action.SKIP and row.new_id == copy_id


@pytest.mark.django_db
def test_a_stored_plan_shows_the_samples_until_confirm_then_keeps_neither(zoho, owner):
    from records.copying import stored_plans
    from records.copying.job_create import copy_job_create
    from records.models import CopyPlan

    source = a_contact(zoho.sandbox)
    request = copy_request(zoho.profile, "Contacts", [source["id"]], "clone", options=CopyOptions(mask=CONTACT_MASKS))
    row = stored_plans.plan_request(request=request, user=owner)  # read inline in tests (PLAN_READ_INLINE)
    row.refresh_from_db()
    assert row.status == CopyPlan.Status.READY, row.error
    email = next(r for r in row.plan["masking"]["Contacts"] if r["field"] == "Email")
    assert email["sample_source"] == source["Email"] and EMAIL.fullmatch(email["sample_standin"])
    copy_job_create(request=request, user=owner, plan=row, enqueue=False)
    row.refresh_from_db()
    assert source["Email"] not in json.dumps(row.plan) and email["sample_standin"] not in json.dumps(row.plan)


@pytest.mark.django_db
def test_a_vault_deep_copy_planned_before_a_policy_writes_nothing_unmasked(neurolax, owner):
    from tests.fixtures.engine import run_job, start_job

    sb, profile, conn, product = neurolax
    named = {"name__v": "Neurolax (before the policy)"}
    job = start_job(profile, owner, "product__v", [product], "deep_copy", connector=conn, overrides=named)
    masking_keys.masking_policy_set(profile=profile, policy={"product__v": {"description__c": "text"}}, user=owner)
    sb.clear_log()
    job = run_job(job, connector=conn)
    assert job.status == CopyJob.Status.FAILED
    assert "masking policy changed" in job.error_summary
    assert not [e for e in sb.log("vault") if e.method == "POST" and "deepcopy" in e.path]


@pytest.mark.django_db
def test_restore_updated_says_a_masked_field_cant_be_written_back_and_keeps_it(cross_zoho, owner):
    import io

    from django.core.management import call_command

    from records.copying.job_actions import copy_job_run, copy_job_undo

    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    copy_id = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone").results.get().new_id
    source.connector.update("Contacts", [{"id": contact["id"], "Phone": "+1 555 999 0000"}])
    again = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone", existing="update")
    written = target.sandbox.zoho.state.records["Contacts"][copy_id]["Phone"]
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("job", "undo", str(again.pk), "--preview", stdout=out)
    assert "can't restore Phone: masked, the stand-in written is not stored" in out.getvalue()
    undo = copy_job_undo(job=again, user=owner, enqueue=False, restore_updated=True)
    copy_job_run(job_id=undo.pk, worker_id="test", connector=target.connector)
    assert target.sandbox.zoho.state.records["Contacts"][copy_id]["Phone"] == written
    row = undo.results.get()
    assert "Not written back: Phone (masked" in row.error_message and "changed again" not in row.error_message
