"""The admin's approval actions on jobs and protection actions on profiles: the services do the
work (their rules, their audit)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from records.models import AuditEvent, ConnectionProfile, CopyJob

pytestmark = pytest.mark.django_db
AWAITING = CopyJob.Status.AWAITING_APPROVAL


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def act(client, model, action, *objects):
    return client.post(
        reverse(f"admin:records_{model}_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects]},
        follow=True,
    )


def test_approve_and_reject_actions_decide_awaiting_copies_only(staff_client, staff, make_job, make_profile):
    target = make_profile(name="Validation", protected=True)
    first, second = (make_job(target_profile=target, status=AWAITING) for _ in range(2))
    done = make_job(status=CopyJob.Status.SUCCEEDED)
    response = act(staff_client, "copyjob", "approve_jobs", first, done)
    assert "not awaiting approval" in response.content.decode()
    act(staff_client, "copyjob", "reject_jobs", second)
    statuses = {j.pk: j.status for j in CopyJob.objects.all()}
    assert statuses == {first.pk: "queued", second.pk: "rejected", done.pk: "succeeded"}
    assert AuditEvent.objects.filter(action="job.approve", job=first, actor=staff).exists()
    assert AuditEvent.objects.filter(action="job.reject", job=second, actor=staff).exists()


def test_a_superuser_may_not_approve_their_own_request(staff_client, staff, make_job, make_profile):
    target = make_profile(name="Validation", protected=True, user=staff)
    job = make_job(user=staff, target_profile=target, status=AWAITING)
    response = act(staff_client, "copyjob", "approve_jobs", job)
    assert "other than the requester" in response.content.decode()
    assert CopyJob.objects.get(pk=job.pk).status == AWAITING


def test_protect_actions_set_and_lift_protection_audited(staff_client, staff, make_profile):
    profile = make_profile(name="Prod")
    act(staff_client, "connectionprofile", "protect_profiles", profile)
    assert ConnectionProfile.objects.get(pk=profile.pk).protected
    act(staff_client, "connectionprofile", "unprotect_profiles", profile)
    assert not ConnectionProfile.objects.get(pk=profile.pk).protected
    assert AuditEvent.objects.filter(action="profile.protect", actor=staff).count() == 2


@override_settings(COPY_APPROVAL_EXPIRY_DAYS=7)
def test_a_request_past_its_expiry_can_not_be_approved_in_the_admin(staff_client, make_job, make_profile):
    target = make_profile(name="Validation", protected=True)
    job = make_job(target_profile=target, status=AWAITING)
    CopyJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(days=7, minutes=1))
    response = act(staff_client, "copyjob", "approve_jobs", job)
    assert "expired" in response.content.decode()
    assert CopyJob.objects.get(pk=job.pk).status == AWAITING
    assert not AuditEvent.objects.filter(action="job.approve", job=job).exists()
