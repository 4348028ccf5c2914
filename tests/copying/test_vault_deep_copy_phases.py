"""Vault's own deep copy shows its phases (issue 15): started — Vault job N running, polled k
times — results read, n of N matched. The poll count is the engine's own record of its status
calls, checked against the sandbox's log of them."""

import pytest
from django.urls import reverse

from records.copying.job_actions import copy_job_run
from records.copying.job_create import copy_job_create
from records.models import CopyJob
from records.web import job_progress
from tests.fixtures.engine import copy_request


def status_calls(sb, remote_id):
    return [e for e in sb.log("vault") if e.method == "GET" and e.path.endswith(f"/services/jobs/{remote_id}")]


@pytest.mark.django_db
def test_each_status_call_is_counted_and_the_job_page_says_how_many(vault, owner, owner_client):
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Cardiostat").records)
    sb.vault.configure(job_min_run_seconds=1.0)  # Vault's job runs long enough for a few polls
    job = copy_job_create(
        request=copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Cardiostat polled"}),
        user=owner,
        enqueue=False,
    )
    job = copy_job_run(job_id=job.pk, worker_id="test")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    st = job.state["roots"][src]
    polls = len(status_calls(sb, job.remote_job_id))
    assert polls >= 3 and st["polls"] == polls

    # The page while Vault's job was running, from the checkpoint as it was then.
    CopyJob.objects.filter(pk=job.pk).update(
        state={**job.state, "roots": {src: {**st, "phase": "polling"}}}, status=CopyJob.Status.RUNNING
    )
    expected = f"Vault job {job.remote_job_id} running, polled {polls} times"
    assert owner_client.get(reverse("job_objects", args=[job.code])).json()["phase"] == expected
    assert expected in owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    # Results read: how many of the records have been matched to their copies so far.
    CopyJob.objects.filter(pk=job.pk).update(state={**job.state, "roots": {src: {**st, "phase": "discover"}}})
    n = job.results.count()
    assert owner_client.get(reverse("job_objects", args=[job.code])).json()["phase"] == (
        f"Vault's job ended; results read, {n} of {n} matched"
    )


def test_phase_texts():
    assert job_progress.phase_text({"a": {"phase": "polling", "remote_job_id": "7"}}) == "Vault job 7 running"
    assert job_progress.phase_text({"a": {"phase": "polling", "remote_job_id": "7", "polls": 1}}) == (
        "Vault job 7 running, polled 1 time"
    )
    counts = {("product__v", "succeeded"): 1, ("formulation__c", "succeeded"): 1200, ("formulation__c", "pending"): 9}
    assert job_progress.phase_text({"a": {"phase": "discover"}}, counts) == (
        "Vault's job ended; results read, 1,201 of 1,210 matched"
    )
    assert job_progress.phase_text({"a": {"phase": "starting"}}) == "Started Vault's deep copy"
