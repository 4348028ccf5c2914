"""The job page's API budget: what the run last saw and, while the job waits for more, until when;
stored on the job by the run (the page makes no remote call), in the same query as the job."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.lib import words
from records.models import CopyJob
from tests.fixtures.engine import run_job, start_job

pytestmark = pytest.mark.django_db


def _live(client, job):
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(reverse("job_live", args=[job.code])).content.decode()
    return body, len(ctx.captured_queries)


def test_a_job_out_of_zoho_credits_shows_what_is_left_and_until_when_it_waits(globex, owner, owner_client):
    sb, profile, _, src = globex
    job = start_job(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Globex B"})
    sb.zoho.settings = sb.zoho.settings.updated(daily_credits=1000)
    sb.zoho.credits_used = 1000 - 51  # the run's first answer leaves it at the floor: it waits
    job = run_job(job)
    assert job.status == CopyJob.Status.WAITING
    stored = job.state["budget"]
    assert stored["kind"] == "credits" and stored["remaining"] <= 50 and stored["wait_until"]
    sb.clear_log()
    body, queries = _live(owner_client, job)
    assert sb.log("zoho") == []  # the page asked Zoho nothing
    assert f"API budget: {stored['remaining']} Zoho API credits left today" in body
    until = max(CopyJob.objects.get(pk=job.pk).resume_at.isoformat(), stored["wait_until"])
    assert f"Waiting for the API budget until {words.minute(datetime.fromisoformat(until))}." in body
    # Without a stored budget the part needs as many queries: the budget came with the job's row.
    CopyJob.objects.filter(pk=job.pk).update(state={})
    bare, bare_queries = _live(owner_client, job)
    assert "API budget" not in bare and queries == bare_queries
