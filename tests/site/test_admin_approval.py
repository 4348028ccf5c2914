"""The admin's approval actions on jobs and protection actions on profiles: the services do the
work (their rules, their audit)."""

import pytest
from django.urls import reverse

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
