"""A job runs only where its records are: a profile pointed at another org after the job was made
(the edit page, `profile update`, the admin) stops it before anything is sent, and pointing the
profile back lets it resume. The plan's key guards the preview; this guards the queued job."""

import pytest

from records.copying.job_actions import copy_job_resume, copy_job_undo
from records.models import CopyJob
from tests.fixtures.engine import run_job, start_job

pytestmark = pytest.mark.django_db

INITECH = "5725767000000200045"


def _writes(sb):
    return [e for e in sb.log("zoho") if e.method in ("POST", "PUT", "DELETE") and "/oauth/" not in e.path]


def _point(profile, url):
    # As the edit page does with new secrets given: the address changes, the secrets stay valid.
    type(profile).objects.filter(pk=profile.pk).update(base_url=url, accounts_url=url)
    profile.refresh_from_db()


def test_a_queued_clone_never_writes_into_the_org_its_profile_was_moved_to(
    fresh_sandbox, fresh_bare_sandbox, zoho_profile, owner
):
    job = start_job(zoho_profile, owner, "Accounts", [INITECH], "clone")
    home = zoho_profile.base_url
    _point(zoho_profile, fresh_bare_sandbox.zoho_url)
    fresh_sandbox.clear_log()
    fresh_bare_sandbox.clear_log()

    job = run_job(job)

    assert job.status == CopyJob.Status.FAILED
    assert "now points at" in job.error_summary and "nothing was sent" in job.error_summary
    assert _writes(fresh_sandbox) == [] and _writes(fresh_bare_sandbox) == []

    _point(zoho_profile, home)
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert _writes(fresh_bare_sandbox) == []


def test_an_undo_runs_only_where_its_copy_wrote(fresh_sandbox, fresh_bare_sandbox, zoho_profile, owner):
    job = run_job(start_job(zoho_profile, owner, "Accounts", [INITECH], "clone"))
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    _point(zoho_profile, fresh_bare_sandbox.zoho_url)
    fresh_bare_sandbox.clear_log()

    undo = run_job(undo)

    assert undo.status == CopyJob.Status.FAILED and "nothing was sent" in undo.error_summary
    assert _writes(fresh_bare_sandbox) == []
