"""A lost answer that two records could be the copy of (the sandbox makes a twin of the same name
as the API user at that very moment, as a second tab would): the row needs review, nothing is
claimed or sent again, and a person picks the copy on the job page or with `job resolve`. Real
worker processes, the sandbox without copy keys over HTTP."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from records.copying.job_actions import copy_job_undo
from records.copying.job_words import status_words
from records.models import CopyJob, RecordResult
from tests.copying.test_reconcile import INITECH, ZOHO_CLONE, exists, in_worker, writes
from tests.fixtures.engine import start_job

S = RecordResult.Status
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def twin_appears_with_the_copy(sb, name):
    """The clone is applied, a record of the same name by the same user appears in the same
    moment, and the clone's answer is lost."""

    def make_twin():
        with sb.zoho.state.lock:
            sb.zoho.state.add("Accounts", {"Account_Name": name})

    sb.hooks("zoho").after("POST", ZOHO_CLONE, make_twin, times=1)
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=True)


def job_in_review(sb, profile, owner, redis_url):
    twin_appears_with_the_copy(sb, "Twin Co")
    job = start_job(profile, owner, "Accounts", [INITECH], "clone", enqueue=True, overrides={"Account_Name": "Twin Co"})
    job = in_worker(job, redis_url)
    row = job.results.get()
    assert row.status == S.REVIEW and not row.new_id, (row.status, row.error_message)
    assert job.status == CopyJob.Status.PARTIAL and "1 needs review" in status_words(job)
    assert len(writes(sb, ZOHO_CLONE)) == 1  # not sent again
    return job, row


def ours_and_twin(conn):
    """The copy keeps Initech's phone; the twin has a name only."""
    phone = conn.get("Accounts", INITECH).fields["Phone"]
    found = {r.id: r for r in conn.find("Accounts", {"Account_Name": "Twin Co"})}
    assert len(found) == 2
    ours = next(rid for rid, r in found.items() if r.fields.get("Phone") == phone)
    return ours, next(rid for rid in found if rid != ours)


def test_the_copy_is_picked_on_the_job_page_and_undo_leaves_the_twin(bare_zoho, owner, owner_client, redis_url):
    sb, profile, conn = bare_zoho
    job, row = job_in_review(sb, profile, owner, redis_url)
    ours, twin = ours_and_twin(conn)
    assert sorted(c["id"] for c in row.candidates) == sorted([ours, twin])
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "Needs review: 1" in page and ours in page and twin in page
    pick_url = reverse("job_row_pick", args=[job.code, row.pk])
    assert f'action="{pick_url}"' in page and reverse("job_row_none", args=[job.code, row.pk]) in page
    assert owner_client.get(pick_url).status_code == 405  # POST only
    other = Client()
    other.force_login(type(owner).objects.create_user("mallory", password="m-pass-123456"))
    assert other.post(pick_url, {"pick": ours}).status_code == 404  # not her job
    refused = owner_client.post(pick_url, {"pick": INITECH}, follow=True)
    assert "is not one of this record" in refused.content.decode()
    response = owner_client.post(pick_url, {"pick": ours})
    assert response.status_code == 302 and response["Location"].startswith(reverse("job_detail", args=[job.code]))
    job.refresh_from_db()
    row.refresh_from_db()
    assert (row.status, row.new_id) == (S.SUCCEEDED, ours) and job.status == CopyJob.Status.SUCCEEDED
    undo = in_worker(copy_job_undo(job=job, user=owner), redis_url)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert not exists(conn, "Accounts", ours) and exists(conn, "Accounts", twin) and exists(conn, "Accounts", INITECH)


def _job_command(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("job", *args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def test_the_copy_is_picked_with_job_resolve(bare_zoho, owner, redis_url):
    sb, profile, conn = bare_zoho
    job, row = job_in_review(sb, profile, owner, redis_url)
    ours, twin = ours_and_twin(conn)
    code, out, _ = _job_command("show", str(job.pk), "--json")
    shown = json.loads(out)["results"][0]
    assert shown["row"] == row.pk and sorted(c["id"] for c in shown["candidates"]) == sorted([ours, twin])
    code, _, err = _job_command("resolve", str(job.pk), str(row.pk), "--pick", INITECH)
    assert code == 2 and "is not one of" in err
    code, _, err = _job_command("resolve", str(job.pk), str(row.pk), "--pick", ours, "--user", "nobody")
    assert code == 2 and "No user named" in err
    # The row named by its source record's id, as the job page shows it.
    code, out, err = _job_command("resolve", str(job.pk), INITECH, "--pick", ours, "--user", owner.username, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded" and result["results"][0]["new_id"] == ours
    code, _, err = _job_command("resolve", str(job.pk), str(row.pk), "--none")
    assert code == 2 and "does not need review" in err


def test_a_copy_picked_without_a_link_in_a_copy_into_another_profile_links_into_that_profile(
    make_profile, make_job, owner
):
    """A candidate kept without its link (an older row): the link is made for where the job wrote."""
    from records.copying.review import copy_row_resolve

    source = make_profile(name="Vault Prod", base_url="https://prod.veevavault.com")
    target = make_profile(name="Vault UAT", base_url="https://uat.veevavault.com")
    job = make_job(profile=source, target_profile=target, status=CopyJob.Status.PARTIAL)
    row = RecordResult.objects.create(
        job=job, object_name="product__v", source_id="P1", status=S.REVIEW, candidates=[{"id": "V2", "name": "X"}]
    )
    row = copy_row_resolve(job=job, row=row, pick="V2", user=owner)
    assert row.link == "https://uat.veevavault.com/ui/#object/product__v/V2"
    assert RecordResult.objects.get(pk=row.pk).link == row.link
