"""Approval of a copy into a protected org, in a real browser against two sandbox orgs: the
approver opens the awaiting job, sees the requester's preview (counts, schema differences, users)
read-only in the approval box, and approves it (the copy is queued; its run is the services' tests')."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.models import CopyJob
from tests.fixtures.sandbox import find_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_approver_sees_the_preview_tables_and_approves(cross_zoho, owner, approver, new_page, login, live_server):
    source, target = cross_zoho
    target.profile.protected = True
    target.profile.save(update_fields=["protected"])
    target.profile.shared_with_users.add(approver)
    # A transactional test flushes the group's grant the migration made: given to the user here.
    approver.user_permissions.add(Permission.objects.get(codename="approve_copy"))
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="Accounts",
        source_ids=(find_record(source.connector, "Accounts", "Globex"),),
        mode="deep_copy",
        options=CopyOptions(existing="create"),
    )
    job = copy_job_create(request=request, user=owner, connector=source.connector)
    assert job.status == CopyJob.Status.AWAITING_APPROVAL
    schema = [d["object_name"] for d in job.plan["cross"]["schema"]]
    assert schema and job.plan["cross"]["users"], "the plan has differences and users to show"

    page = login(new_page(), "erin", "erin-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    box = page.locator("#job-approval")
    expect(box.locator("#approval-plan")).to_contain_text("Accounts")
    for object_name in schema:
        expect(box.locator(f"#cross-schema-{object_name}")).to_be_visible()
    expect(box.locator("#cross-users")).to_be_visible()
    expect(box.locator("select")).to_have_count(0)  # the requester's choices, not offered again
    box.locator("button", has_text="Approve and run the copy").click()
    expect(page.locator(".msg-success", has_text="Approved")).to_be_visible()
    job.refresh_from_db()
    assert job.decided_by == approver
