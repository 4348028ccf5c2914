"""The "Fix failed rows" page (records/web/views/job_fix.py) over the Vault sandbox: a failed
clone's row fixed and resumed, all failed rows made unique, the fixes listed, the job page's link,
and who may reach it (the owner only; POST with CSRF)."""

import pytest
from django.test import Client
from django.urls import reverse

from records.copying.job_actions import copy_job_run
from records.models import CopyJob, RowFix
from tests.fixtures.engine import run_job, start_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(neurolax, owner):
    """A clone of Neurolax as "Fix Me", which failed: a product of that name appeared first."""
    sb, profile, conn, src = neurolax
    job = start_job(profile, owner, "product__v", [src], "clone", overrides={"name__v": "Fix Me"})
    assert all(r.ok for r in conn.create("product__v", [{"name__v": "Fix Me", "status__v": "active__v"}]))
    job = run_job(job)
    assert job.status == CopyJob.Status.FAILED
    return job


def test_a_row_fixed_and_resumed_from_the_page(failed, owner_client, neurolax):
    page = owner_client.get(reverse("job_fix", args=[failed.code])).content.decode()
    row = failed.results.get()
    assert f'id="fix-row-{row.pk}"' in page and '<option value="name__v">Product Name</option>' in page
    url = reverse("job_fix_row", args=[failed.code, row.pk])
    answer = owner_client.post(url, {"field": "name__v", "value": "Fix Me 2", "then": "resume"})
    assert answer.status_code == 302 and answer["Location"] == reverse("job_detail", args=[failed.code])
    failed.refresh_from_db()
    assert failed.status == CopyJob.Status.QUEUED
    job = copy_job_run(job_id=failed.pk, worker_id="w")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    history = owner_client.get(reverse("job_fix", args=[failed.code])).content.decode()
    assert "alice · " in history and "Product Name “Fix Me” → “Fix Me 2”" in history
    assert "No record failed: nothing to fix." in history


def test_all_failed_rows_made_unique_without_resuming(failed, owner_client):
    answer = owner_client.post(reverse("job_fix_all", args=[failed.code]), {"field": "name__v", "how": "make_unique"})
    assert answer["Location"] == reverse("job_fix", args=[failed.code])
    assert RowFix.objects.get().after == "Fix Me (2)"
    failed.refresh_from_db()
    assert failed.status == CopyJob.Status.FAILED  # saved, not resumed


def test_a_refused_fix_says_why_and_changes_nothing(failed, owner_client):
    row = failed.results.get()
    answer = owner_client.post(
        reverse("job_fix_row", args=[failed.code, row.pk]), {"field": "name__v", "value": "Fix Me"}, follow=True
    )
    assert "already used" in answer.content.decode() and not RowFix.objects.exists()


def test_the_job_page_links_to_the_fix_page_while_a_row_failed(failed, owner_client):
    url = reverse("job_fix", args=[failed.code])
    assert f'href="{url}"' in owner_client.get(reverse("job_detail", args=[failed.code])).content.decode()


def test_only_the_owner_fixes_by_post_with_csrf(failed, other_user, owner):
    other = Client()
    other.force_login(other_user)
    assert other.get(reverse("job_fix", args=[failed.code])).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    row_url = reverse("job_fix_row", args=[failed.code, failed.results.get().pk])
    assert strict.get(row_url).status_code == 405
    assert strict.post(row_url, {"field": "name__v", "value": "X"}).status_code == 403
    assert not RowFix.objects.exists()


def test_the_admin_shows_a_rows_fixes(failed, owner, admin_client):
    from records.copying.row_fixes import copy_rows_fix

    copy_rows_fix(job=failed, user=owner, all_failed=True, make_unique="name__v")
    row = failed.results.get()
    page = admin_client.get(reverse("admin:records_recordresult_change", args=[row.pk])).content.decode()
    assert "Fix Me (2)" in page and "Product Name" in page
