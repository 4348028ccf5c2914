"""Fixing failed rows, then resuming (records/copying/row_fixes.py) against the sandbox over HTTP: a
clone refused on a duplicate name fixed with a new name, a template, or "make unique"; an engine
deep copy's child refused by Zoho's validation rule; a Vault deep copy's top row; what is refused;
and the lost answer of a fixed row found by its fixed value."""

import pytest
from django.core.exceptions import ValidationError

from records.copying.job_actions import copy_job_resume, copy_job_run
from records.copying.row_fixes import copy_rows_fix, copy_rows_fix_and_resume
from records.models import AuditEvent, CopyJob, RecordResult, RowFix
from tests.fixtures.engine import run_job, start_job

pytestmark = pytest.mark.django_db
S = RecordResult.Status


def failed_clone(setup, user, name, *, mode="clone", **kw):
    """A job copying Neurolax as `name`, run after a product named `name` appeared: its row fails."""
    sb, profile, conn, src = setup
    job = start_job(profile, user, "product__v", [src], mode, overrides={"name__v": name}, **kw)
    assert all(r.ok for r in conn.create("product__v", [{"name__v": name, "status__v": "active__v"}]))
    job = run_job(job)
    assert job.results.get(depth=0).status == S.FAILED, job.error_summary
    return job


def test_a_duplicate_name_fixed_and_resumed_is_copied_with_the_new_name(neurolax, owner):
    job = failed_clone(neurolax, owner, "Fix Me")
    row = job.results.get()
    made = copy_rows_fix_and_resume(job=job, user=owner, rows=[row.pk], values={"name__v": "Fix Me 2"}, enqueue=False)
    assert [(f.field, f.before, f.after, f.user) for f in made] == [("name__v", "Fix Me", "Fix Me 2", owner)]
    job = copy_job_run(job_id=job.pk, worker_id="w")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row.refresh_from_db()
    assert neurolax.connector.get("product__v", row.new_id).fields["name__v"] == "Fix Me 2"
    assert row.fixes == {"name__v": "Fix Me 2"} and row.values["name__v"] == "Fix Me 2"
    event = AuditEvent.objects.get(action="job.fix")
    assert event.actor == owner and event.details["fields"] == ["name__v"] and event.details["rows"] == [row.pk]
    assert AuditEvent.objects.filter(action="job.resume", actor=owner).exists()


def test_make_unique_takes_the_first_free_number(neurolax, owner):
    job = failed_clone(neurolax, owner, "Twin")
    neurolax.connector.create("product__v", [{"name__v": "Twin (2)", "status__v": "active__v"}])
    copy_rows_fix(job=job, user=owner, all_failed=True, make_unique="name__v")
    assert RowFix.objects.get().after == "Twin (3)"
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = copy_job_run(job_id=job.pk, worker_id="w")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert neurolax.connector.get("product__v", job.results.get().new_id).fields["name__v"] == "Twin (3)"


def test_a_template_is_rendered_from_the_rows_source(neurolax, owner):
    job = failed_clone(neurolax, owner, "Templated")
    copy_rows_fix(job=job, user=owner, all_failed=True, values={"name__v": "{name__v} fixed"})
    assert RowFix.objects.get().after == "Neurolax fixed"


def test_refused_fixes_change_nothing(neurolax, owner, other_user):
    job = failed_clone(neurolax, owner, "Taken")
    row = job.results.get()
    cases = [
        (dict(user=owner, rows=[row.pk], values={"name__v": "Taken"}), "already used"),
        (dict(user=owner, rows=[row.pk], values={"price__c": "cheap"}), "Price"),
        (dict(user=owner, rows=[row.pk + 999], values={"name__v": "X"}), "failed or skipped"),
        (dict(user=owner, rows=[row.pk], values={"name__v": "X"}, make_unique="name__v"), "Say what"),
        (dict(user=other_user, rows=[row.pk], values={"name__v": "X"}), "no longer have access"),
    ]
    for kwargs, words in cases:
        with pytest.raises(ValidationError) as exc:
            copy_rows_fix(job=job, **kwargs)
        assert words in " ".join(exc.value.messages), kwargs
    assert not RowFix.objects.exists() and not AuditEvent.objects.filter(action="job.fix").exists()
    row.refresh_from_db()
    assert row.fixes is None


def test_a_succeeded_job_has_nothing_to_fix(neurolax, owner):
    sb, profile, conn, src = neurolax
    job = run_job(start_job(profile, owner, "product__v", [src], "clone", overrides={"name__v": "Fine"}))
    with pytest.raises(ValidationError, match="nothing to fix"):
        copy_rows_fix(job=job, user=owner, all_failed=True, values={"name__v": "Y"})


def test_an_engine_deep_copys_child_is_fixed_and_sent_again(globex, owner):
    sb, profile, conn, src = globex
    job = start_job(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Globex Fixed"})
    child = job.results.filter(object_name="Contacts").first()
    assert child is not None
    last_name = conn.get("Contacts", child.source_id).fields["Last_Name"]
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=(("Contacts", "Last_Name", last_name),))
    job = run_job(job)
    child.refresh_from_db()
    assert job.status == CopyJob.Status.PARTIAL and child.status == S.FAILED
    copy_rows_fix_and_resume(job=job, user=owner, rows=[child.pk], values={"Last_Name": "Renamed"}, enqueue=False)
    job = copy_job_run(job_id=job.pk, worker_id="w")
    child.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert conn.get("Contacts", child.new_id).fields["Last_Name"] == "Renamed"
    assert RowFix.objects.get().before == last_name


def test_a_vault_deep_copy_takes_fixes_for_its_top_record_only(neurolax, owner):
    job = failed_clone(neurolax, owner, "Deep Twin", mode="deep_copy")
    top = job.results.get(depth=0)
    below = job.results.exclude(depth=0).first()
    assert below is not None and below.status in (S.FAILED, S.SKIPPED), below and below.status
    with pytest.raises(ValidationError, match="only the top record"):
        copy_rows_fix(job=job, user=owner, rows=[below.pk], values={"name__v": "X"})
    copy_rows_fix_and_resume(job=job, user=owner, all_failed=True, values={"name__v": "Deep Twin 2"}, enqueue=False)
    job = copy_job_run(job_id=job.pk, worker_id="w")
    top.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert neurolax.connector.get("product__v", top.new_id).fields["name__v"] == "Deep Twin 2"
    assert job.results.filter(status=S.SUCCEEDED).count() == job.planned_count


def test_a_fixed_rows_lost_answer_is_found_by_its_fixed_value(neurolax, owner):
    job = failed_clone(neurolax, owner, "Lost Twin")
    copy_rows_fix_and_resume(job=job, user=owner, all_failed=True, values={"name__v": "Lost Fixed"}, enqueue=False)
    sb = neurolax.sandbox
    sb.clear_log("vault")
    sb.hooks("vault").lose("POST", r"^/api/v\d+\.\d+/vobjects/product__v$", applied=True)
    job = copy_job_run(job_id=job.pk, worker_id="w")
    creates = [e for e in sb.log("vault") if e.method == "POST" and e.path.endswith("/vobjects/product__v")]
    assert len(creates) == 1  # the answer was lost, the copy found, not sent again
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get()
    assert neurolax.connector.get("product__v", row.new_id).fields["name__v"] == "Lost Fixed"
    found = neurolax.connector.find("product__v", {"name__v": "Lost Fixed"})
    assert [r.id for r in found] == [row.new_id]  # one copy, claimed, not sent twice


def test_a_copy_into_another_org_is_made_unique_and_offered_fields_in_that_org(cross_zoho, owner):
    """The copy is written in the target: its free numbers and its settable fields are the target's."""
    from records.copying.row_fix_choices import fix_choices
    from tests.fixtures.sandbox import find_record

    source, target = cross_zoho
    acme = find_record(source.connector, "Accounts", "Acme Corp")
    target.sandbox.zoho.state.add("Accounts", {"Account_Name": "Acme Corp (2)"})  # taken there only
    job = CopyJob.objects.create(
        profile=source.profile,
        target_profile=target.profile,
        requested_by=owner,
        object_name="Accounts",
        source_ids=[acme],
        mode=CopyJob.Mode.CLONE,
        status=CopyJob.Status.PARTIAL,
        planned_count=1,
        failed_count=1,
    )
    row = RecordResult.objects.create(
        job=job,
        object_name="Accounts",
        source_id=acme,
        status=RecordResult.Status.FAILED,
        error_type="DUPLICATE_DATA",
        values={"Account_Name": "Acme Corp"},
    )
    [fix] = copy_rows_fix(job=job, user=owner, rows=[row.pk], make_unique="Account_Name")
    assert fix.after == "Acme Corp (3)"
    offered = {name for name, _ in fix_choices(job=job, user=owner).fields["Accounts"]}
    assert "Account_Name" in offered and "Regions" not in offered  # the target org has no Regions


def test_a_vault_deep_copy_into_another_vault_takes_fixes_below_its_top_record(cross_vault, owner):
    """Built by Record Copier (Vault's deep copy works inside one vault), so every row takes values."""
    source, target = cross_vault
    job = CopyJob.objects.create(
        profile=source.profile,
        target_profile=target.profile,
        requested_by=owner,
        object_name="product__v",
        source_ids=["P1"],
        mode=CopyJob.Mode.DEEP_COPY,
        status=CopyJob.Status.PARTIAL,
        planned_count=2,
        failed_count=1,
    )
    row = RecordResult.objects.create(
        job=job,
        object_name="formulation__c",
        source_id="F1",
        depth=1,
        status=RecordResult.Status.FAILED,
        error_type="INVALID_DATA",
        values={"strength__c": "10 mg"},
    )
    [fix] = copy_rows_fix(job=job, user=owner, rows=[row.pk], values={"strength__c": "20 mg"})
    assert fix.after == "20 mg"
