"""Copies into a protected profile wait for approval (records/copying/approval.py): nothing is
written or queued until someone with records.approve_copy, not the requester, approves; a
rejection or an expiry ends the job with nothing written; the preview caps the records of one
job. Over HTTP against the sandbox: an in-system copy into a protected profile waits too."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from records.copying import approval
from records.copying.job_actions import copy_job_cancel, jobs_resume_stale
from records.copying.job_rules import can_approve, can_resume
from records.copying.job_words import status_words
from records.models import AuditEvent, CopyJob, RecordResult
from tests.fixtures.engine import preview, run_job, start_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db(transaction=True)
DEEP = CopyJob.Mode.DEEP_COPY
NEW_NAME = {"name__v": "Neurolax (validation)"}  # the name is unique in the vault


@pytest.fixture
def approver(django_user_model):
    user = django_user_model.objects.create_user("dora", password="dora-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="approve_copy"))
    return django_user_model.objects.get(pk=user.pk)  # permissions are cached per object


@pytest.fixture
def protected(neurolax, approver):
    """Neurolax's vault, protected, shared with the approver."""
    sb, profile, conn, src = neurolax
    profile.protected = True
    profile.save(update_fields=["protected"])
    profile.shared_with_users.add(approver)
    return neurolax


def writes(sb):
    return [
        e for e in sb.log("vault") if e.method in ("POST", "PUT", "DELETE") and not e.path.endswith(("/query", "/auth"))
    ]


def awaiting_job(protected, owner):
    sb, profile, conn, src = protected
    job = start_job(profile, owner, "product__v", [src], DEEP, enqueue=True, connector=conn, overrides=NEW_NAME)
    return CopyJob.objects.get(pk=job.pk)


def test_a_copy_into_a_protected_profile_waits_writing_and_queuing_nothing(protected, owner):
    sb = protected.sandbox
    sb.clear_log("vault")
    job = awaiting_job(protected, owner)
    assert job.status == CopyJob.Status.AWAITING_APPROVAL
    assert job.rq_job_id == ""  # never handed to the queue
    assert writes(sb) == []
    assert status_words(job).startswith("Awaiting approval")
    # A worker handed the job anyway does not run it.
    assert run_job(job, connector=protected.connector).status == CopyJob.Status.AWAITING_APPROVAL
    assert writes(sb) == []


def test_an_approved_copy_is_queued_and_runs(protected, owner, approver):
    job = awaiting_job(protected, owner)
    approved = approval.copy_job_approve(job=job, user=approver, enqueue=False)
    assert approved.status == CopyJob.Status.QUEUED
    assert (approved.decided_by, approved.decided_at is not None) == (approver, True)
    done = run_job(approved, connector=protected.connector)
    assert done.status == CopyJob.Status.SUCCEEDED
    assert writes(protected.sandbox)
    assert AuditEvent.objects.filter(action="job.approve", job=job, actor=approver).exists()


def test_the_requester_may_not_approve_their_own_copy(protected, approver):
    job = awaiting_job(protected, approver)  # the approver asked for it
    with pytest.raises(ValidationError, match="other than the requester"):
        approval.copy_job_approve(job=job, user=approver)
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.AWAITING_APPROVAL


def test_a_user_without_the_permission_may_not_approve(protected, owner, other_user):
    protected.profile.shared_with_users.add(other_user)
    job = awaiting_job(protected, owner)
    with pytest.raises(ValidationError, match="may not approve"):
        approval.copy_job_approve(job=job, user=other_user)
    with pytest.raises(ValidationError, match="may not approve"):
        approval.copy_job_reject(job=job, user=other_user)


def test_an_approver_who_may_not_use_the_profile_may_not_approve(protected, owner, approver):
    protected.profile.shared_with_users.remove(approver)
    job = awaiting_job(protected, owner)
    with pytest.raises(ValidationError, match="access"):
        approval.copy_job_approve(job=job, user=approver)


def test_a_rejected_copy_ends_with_its_reason_and_nothing_written(protected, owner, approver):
    sb = protected.sandbox
    job = awaiting_job(protected, owner)
    sb.clear_log("vault")
    rejected = approval.copy_job_reject(job=job, user=approver, reason="  Not during the  audit ")
    assert rejected.status == CopyJob.Status.REJECTED
    assert status_words(rejected) == "Rejected by dora: Not during the audit"
    assert rejected.is_finished
    assert not rejected.results.filter(status=RecordResult.Status.PENDING).exists()
    assert writes(sb) == []
    assert AuditEvent.objects.get(action="job.reject", job=job).details == {"reason": "Not during the audit"}
    with pytest.raises(ValidationError, match="awaiting approval"):
        approval.copy_job_approve(job=rejected, user=approver)
    ok, reason = can_resume(rejected, owner)
    assert not ok and "not approved" in reason


@override_settings(COPY_APPROVAL_EXPIRY_DAYS=7)
def test_a_request_left_past_its_expiry_ends_and_can_not_be_approved(protected, owner, approver):
    job = awaiting_job(protected, owner)
    CopyJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(days=7, minutes=1))
    job.refresh_from_db()
    with pytest.raises(ValidationError, match="expired"):
        approval.copy_job_approve(job=job, user=approver)
    fresh = awaiting_job(protected, owner)
    jobs_resume_stale()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.REJECTED
    assert status_words(job).startswith("Expired")
    assert CopyJob.objects.get(pk=fresh.pk).status == CopyJob.Status.AWAITING_APPROVAL
    assert AuditEvent.objects.filter(action="job.expire", job=job).count() == 1


def test_the_requester_may_cancel_a_copy_awaiting_approval(protected, owner):
    job = awaiting_job(protected, owner)
    cancelled = copy_job_cancel(job=job, user=owner)
    assert cancelled.status == CopyJob.Status.CANCELLED
    assert not can_approve(cancelled, owner)[0]


@override_settings(PROTECTED_MAX_RECORDS=2)
def test_the_preview_refuses_more_records_than_a_protected_profile_takes_in_one_job(protected):
    sb, profile, conn, src = protected
    plan = preview(profile, "product__v", [src], DEEP, connector=conn, overrides=NEW_NAME)
    assert plan.total > 2
    assert "at most 2 records" in plan.refused_reason
    profile.protected = False
    profile.save(update_fields=["protected"])
    assert not preview(profile, "product__v", [src], DEEP, connector=conn, overrides=NEW_NAME).refused_reason


def test_a_copy_into_a_protected_target_waits_and_neither_org_sees_a_write(cross_zoho, owner):
    source, target = cross_zoho
    target.profile.protected = True
    target.profile.save(update_fields=["protected"])
    globex = find_record(source.connector, "Accounts", "Globex")
    source.sandbox.clear_log("zoho")
    target.sandbox.clear_log("zoho")
    job = start_job(source.profile, owner, "Accounts", [globex], DEEP, enqueue=True, target=target.profile)
    job = CopyJob.objects.get(pk=job.pk)
    assert job.status == CopyJob.Status.AWAITING_APPROVAL and job.rq_job_id == ""
    assert job.title.endswith("from Sandbox Zoho to Target Zoho")
    for sb in (source.sandbox, target.sandbox):
        writes = [e for e in sb.log("zoho") if e.method in ("POST", "PUT", "DELETE") and e.path.startswith("/crm/")]
        assert [e for e in writes if not e.path.endswith("/coql")] == []  # COQL reads are POSTs


def test_job_approve_wait_exits_0_once_a_worker_has_run_the_copy(protected, owner, approver, redis_url):
    import io
    import json

    from django.core.management import call_command

    from tests.fixtures.engine import worker_running

    job = awaiting_job(protected, owner)
    out, err = io.StringIO(), io.StringIO()
    with worker_running(redis_url), pytest.raises(SystemExit) as exc:
        call_command(
            "job",
            "approve",
            str(job.pk),
            "--user",
            "dora",
            "--wait",
            "--timeout",
            "120",
            "--json",
            stdout=out,
            stderr=err,
        )
    assert exc.value.code == 0, err.getvalue()
    data = json.loads(out.getvalue())
    assert data["status"] == "succeeded" and data["results"][0]["new_id"]
    assert (
        protected.sandbox.vault.state.records["product__v"][data["results"][0]["new_id"]]["name__v"]
        == NEW_NAME["name__v"]
    )
