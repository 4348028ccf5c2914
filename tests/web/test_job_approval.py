"""The job page's approval box (templates/records/_job_approval.html) and its POST views
job_approve / job_reject: approvers of the protected profile see an awaiting job and its Approve
and Reject buttons; the requester sees why they can't approve; the title names source and target."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from records.copying.job_words import status_words
from records.models import AuditEvent, CopyJob

pytestmark = pytest.mark.django_db
AWAITING = CopyJob.Status.AWAITING_APPROVAL


@pytest.fixture
def approver(django_user_model):
    user = django_user_model.objects.create_user("dora", password="dora-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="approve_copy"))
    return user


@pytest.fixture
def awaiting(make_profile, make_job, owner, approver):
    """A copy from "Vault Prod" into the protected "Vault Validation", shared with the approver."""
    source = make_profile(name="Vault Prod")
    target = make_profile(name="Vault Validation", protected=True)
    target.shared_with_users.add(approver)
    plan = {
        "objects": [{"object_name": "product__v", "label": "Product", "count": 2, "depth": 0}],
        "cross": {
            "users": [
                {"source": "Ann <ann@prod>", "target": "Ann <ann@val>", "how": "same e-mail", "records": 2},
            ],
            "report": [
                "User Ann <ann@prod> → Ann <ann@val> (same e-mail): 2 record(s)",
                "Country: 2 matched by name__v",
            ],
        },
    }
    return make_job(
        profile=source, target_profile=target, status=AWAITING, results=2, source_name="Cardiostat", plan=plan
    )


def page(client, job):
    return client.get(reverse("job_detail", args=[job.code])).content.decode()


def test_the_requester_sees_the_job_awaiting_approval_without_an_approve_button(owner_client, awaiting):
    body = page(owner_client, awaiting)
    assert "Clone of Cardiostat from Vault Prod to Vault Validation" in body
    assert 'id="job-approval"' in body and "Vault Validation is protected" in body
    assert reverse("job_approve", args=[awaiting.code]) not in body
    assert "may not approve" in body


def test_an_approver_opens_the_awaiting_job_and_approves_it(client, approver, awaiting):
    client.force_login(approver)
    body = page(client, awaiting)
    # The approver sees what the copy would write before deciding: counts, users, the plan's notes.
    assert "Product: 2" in body and "Ann &lt;ann@val&gt;" in body and "Country: 2 matched by name__v" in body
    assert body.count("ann@val") == 1  # the users table, not the note too
    assert reverse("job_approve", args=[awaiting.code]) in body
    assert reverse("job_reject", args=[awaiting.code]) in body
    response = client.post(reverse("job_approve", args=[awaiting.code]), follow=True)
    assert "Approved: the copy is queued." in response.content.decode()
    # The approver lands on their own job list, not on a page they may no longer open.
    assert response.redirect_chain[-1][0] == reverse("job_list")
    awaiting.refresh_from_db()
    assert awaiting.status == CopyJob.Status.QUEUED and awaiting.decided_by == approver
    # Once decided the job is its requester's again: the approver acts on nobody else's copy.
    assert client.get(reverse("job_detail", args=[awaiting.code])).status_code == 404


def test_an_approver_rejects_with_a_reason(client, approver, awaiting):
    client.force_login(approver)
    client.post(reverse("job_reject", args=[awaiting.code]), {"reason": "Not in freeze week"})
    awaiting.refresh_from_db()
    assert awaiting.status == CopyJob.Status.REJECTED
    assert status_words(awaiting) == "Rejected by dora: Not in freeze week"
    assert AuditEvent.objects.filter(action="job.reject", job=awaiting, actor=approver).exists()


def test_the_requester_posting_approve_is_refused(owner_client, awaiting):
    response = owner_client.post(reverse("job_approve", args=[awaiting.code]), follow=True)
    assert "may not approve" in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.status == AWAITING


def test_an_approver_without_access_to_the_target_neither_sees_nor_decides_it(client, approver, awaiting):
    awaiting.target_profile.shared_with_users.remove(approver)
    client.force_login(approver)
    assert client.get(reverse("job_detail", args=[awaiting.code])).status_code == 404
    assert client.post(reverse("job_approve", args=[awaiting.code])).status_code == 404
    awaiting.refresh_from_db()
    assert awaiting.status == AWAITING


def test_a_user_without_the_permission_does_not_see_others_awaiting_jobs(client, other_user, awaiting):
    awaiting.target_profile.shared_with_users.add(other_user)
    client.force_login(other_user)
    assert client.get(reverse("job_detail", args=[awaiting.code])).status_code == 404


def test_the_requester_sees_the_rejection_on_the_job_page(owner_client, approver, awaiting):
    from records.copying.approval import copy_job_reject

    copy_job_reject(job=awaiting, user=approver, reason="Not in freeze week")
    body = page(owner_client, awaiting)
    assert "Rejected by dora: Not in freeze week" in body and "Nothing was written into Vault Validation" in body


def test_an_approver_may_not_cancel_someone_elses_request(client, approver, awaiting):
    client.force_login(approver)
    body = page(client, awaiting)
    assert reverse("job_cancel", args=[awaiting.code]) not in body
    client.post(reverse("job_cancel", args=[awaiting.code]))
    awaiting.refresh_from_db()
    assert awaiting.status == AWAITING


@pytest.fixture
def awaiting_with_tables(awaiting):
    """The plan as a copy into another profile stores it: schema differences, references, records
    already there and users (what the requester's preview showed)."""
    awaiting.plan["cross"].update(
        schema=[
            {
                "object_name": "product__v",
                "label": "Products",
                "missing_object": False,
                "missing_fields": [{"field": "launch_date__c", "label": "Launch Date", "records": 2}],
                "missing_values": [{"field": "dosage_form__c", "value": "syrup__c", "records": 1}],
                "required_unfilled": [],
                "shorter": [{"field": "description__c", "source_length": 32000, "target_length": 2000, "records": 1}],
                "other_type": [],
            }
        ],
        references={
            "country__v": {
                "key": "name__v",
                "records": 2,
                "matched": 1,
                "unmatched": 1,
                "examples": [
                    {"id": "V0C000000000003", "value": "France", "why": "no country__v with name__v 'France'"}
                ],
                "policy": "blank",
            }
        },
        existing={"policy": "skip", "found": {}, "ledger": 0, "key": 0},
    )
    awaiting.save(update_fields=["plan"])
    return awaiting


def test_an_approver_sees_the_requesters_preview_tables_without_their_choices(client, approver, awaiting_with_tables):
    client.force_login(approver)
    body = page(client, awaiting_with_tables)
    box = body[body.index('id="job-approval"') : body.index(reverse("job_reject", args=[awaiting_with_tables.code]))]
    assert 'id="cross-schema-product__v"' in box and "Launch Date" in box and "syrup__c" in box
    assert '<caption>Products <span class="mono muted small-text">product__v</span>: differences in' in box
    assert "32000 → 2000 characters" in box
    assert 'id="cross-references"' in box and "France" in box and "Leave them empty" in box
    assert 'id="cross-users"' in box and "Ann &lt;ann@val&gt;" in box
    assert "skipped, references point at them" in box
    # Read-only: the requester's choices are shown in words, not offered again.
    assert "<select" not in box and "copy_cross_choices" not in box and 'id="cross-choices"' not in box


@pytest.fixture
def expired(awaiting):
    """A request older than COPY_APPROVAL_EXPIRY_DAYS that the worker's maintenance loop has not ended yet."""
    CopyJob.objects.filter(pk=awaiting.pk).update(created=timezone.now() - timedelta(days=7, minutes=1))
    awaiting.refresh_from_db()
    return awaiting


@override_settings(COPY_APPROVAL_EXPIRY_DAYS=7)
def test_a_request_past_its_expiry_shows_as_expired_and_can_not_be_approved(client, approver, expired):
    client.force_login(approver)
    body = page(client, expired)
    assert "Expired" in body and "ask for the copy again" in body
    assert "Awaiting approval" not in body
    assert reverse("job_approve", args=[expired.code]) not in body
    response = client.post(reverse("job_approve", args=[expired.code]), follow=True)
    assert "expired" in response.content.decode()
    expired.refresh_from_db()
    assert expired.status == AWAITING and expired.decided_by is None
    assert not AuditEvent.objects.filter(action="job.approve", job=expired).exists()


def test_an_approver_sees_who_asked_and_which_profile_the_copy_writes_into(client, approver, awaiting, owner):
    client.force_login(approver)
    body = page(client, awaiting)
    assert f"by {owner.get_username()}</dd>" in body and "by dora</dd>" not in body
    assert "<dt>Copied into</dt><dd>Vault Validation" in body
