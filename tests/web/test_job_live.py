"""The job page's live part: one snapshot of the job, the same from the page and from its live URL,
with numbers that agree and reasons only for actions that could apply."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from records.models import CopyJob, RecordResult

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


ROWS_VERSION = re.compile(r'<template id="job-rows-version"[^>]*></template>')


def _live_of_page(owner_client, job) -> str:
    """The live part as the page holds it and as its URL sends it. The URL sends the first rows'
    digest beside the part (job.js fetches the rows again when it moves; the page has none, so
    the first poll fetches them once)."""
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    answer = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    assert len(ROWS_VERSION.findall(answer)) == 1 and not ROWS_VERSION.findall(page)
    live = ROWS_VERSION.sub("", answer).strip()
    start = page.index('<div id="job-live"')
    return CSRF.sub("", page[start : start + len(live)]), CSRF.sub("", live)


@pytest.mark.parametrize(
    "status", ["queued", "running", "waiting", "succeeded", "partial", "failed", "cancelled", "undone"]
)
def test_the_live_part_is_the_pages_own(owner_client, make_job, status):
    job = make_job(results=6, status=status, error_summary="The system is still rate-limiting after several tries.")
    on_page, live = _live_of_page(owner_client, job)
    assert on_page == live
    assert live.count('id="job-live"') == 1 and live.rstrip().endswith("</div>")


def test_a_cancelled_job_counts_skipped_records_as_not_copied(owner_client, make_job):
    job = make_job(results=0, status=CopyJob.Status.CANCELLED)
    RecordResult.objects.create(job=job, object_name="product__v", source_id="S1", status="succeeded", new_id="N1")
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="product__v", source_id=f"K{i}", status="skipped") for i in range(250)
    )
    CopyJob.objects.filter(pk=job.pk).update(planned_count=251)
    live = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    assert "Cancelled: 1 of 251 copied" in live
    assert '<span id="job-percent">&lt;1%</span>' in live  # never "0 %" beside a copied record
    assert '<b id="count-not-copied">250</b>' in live
    line = live.split('data-object="product__v"')[1].split("</tr>")[0]
    assert ">1 of 251<" in line and '"not-copied">250<' in line  # not "251/251 done"


def test_a_succeeded_job_shows_no_stale_notice_and_no_pointless_reasons(owner_client, make_job):
    job = make_job(results=3, status=CopyJob.Status.SUCCEEDED, error_summary="The system is still rate-limiting.")
    RecordResult.objects.filter(job=job).update(status="succeeded", new_id="N1")
    live = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    assert "rate-limiting" not in live and 'id="job-error"' not in live
    assert 'id="job-action-reasons"' not in live  # not "Resume: every record is done"
    assert "Cancel job" not in live and ">Undo copy</a>" in live


def test_an_undo_job_lists_no_reason_for_undoing_it(owner_client, make_job):
    copy = make_job(results=2)
    undo = make_job(results=2, mode=CopyJob.Mode.UNDO, parent_job=copy, profile=copy.profile)
    live = owner_client.get(reverse("job_live", args=[undo.code])).content.decode()
    assert "An undo can&#x27;t be undone" not in live and "can't be undone" not in live


def test_a_refusal_for_an_action_that_applies_is_one_sentence(owner_client, make_job):
    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    CopyJob.objects.filter(pk=job.pk).update(undo_job=make_job(mode=CopyJob.Mode.UNDO, status="partial"))
    live = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    reasons = live.split('id="job-action-reasons">')[1].split("</p>")[0]
    assert reasons.startswith("Resume and Undo copy: Job ") and "<li>" not in live


def test_numbers_and_times_read_alike(owner_client, make_job):
    job = make_job(results=0, status=CopyJob.Status.SUCCEEDED)
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="product__v", source_id=f"S{i}", status="succeeded", new_id=f"N{i}")
        for i in range(10_202)
    )
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "Succeeded: 10,202 copied" in body and '<b id="count-total">10,202</b>' in body
    assert ">10,202 of 10,202<" in body and "Succeeded: 10,202</span>" in body
    assert re.search(r"<dt>Requested</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC by", body)
    listing = owner_client.get(reverse("job_list")).content.decode()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>", listing)


def test_results_rows_name_the_copy_its_source_its_parent_and_the_fields_set(owner_client, make_job):
    job = make_job(results=0, plan={"changes": [{"field": "price__c", "label": "Price", "old": 1, "new": 99.5}]})
    RecordResult.objects.create(job=job, object_name="product__v", source_id="P1", source_name="Parent Co")
    RecordResult.objects.create(
        job=job,
        object_name="formulation__c",
        source_id="C1",
        source_name="Child source",
        parent_source_id="P1",
        values={"name__v": "Child copy", "price__c": 99.5},
    )
    for url in (reverse("job_detail", args=[job.code]), reverse("job_rows", args=[job.code])):
        body = owner_client.get(url).content.decode()
        assert "<td>Child copy</td><td>Child source</td>" in body  # the copy's name, then the source's
        assert 'Parent Co <span class="mono muted small-text">P1</span>' in body
        assert "Price = 99.5" in body and "price__c = " not in body
    csv_text = b"".join(owner_client.get(reverse("job_results_csv", args=[job.code])).streaming_content).decode()
    assert "price__c = 99.5" in csv_text  # the CSV keeps the API names a sheet can use


def test_undo_rows_name_the_parent_copy_not_the_original_source(owner_client, make_job):
    """An undo's rows are the copies it deletes: the PARENT column names the parent's copy (its
    name and new id), and a top copy says what it was a copy of, never the original source id."""
    job = make_job(results=0)
    RecordResult.objects.create(
        job=job,
        object_name="product__v",
        source_id="P1",
        source_name="Cardiostat",
        new_id="NP1",
        values={"name__v": "Cardiostat (copy)"},
        status="succeeded",
    )
    RecordResult.objects.create(
        job=job,
        object_name="formulation__c",
        source_id="C1",
        source_name="Tablet",
        new_id="NC1",
        parent_source_id="P1",
        status="succeeded",
    )
    undo = make_job(results=0, profile=job.profile, mode=CopyJob.Mode.UNDO, parent_job=job)
    RecordResult.objects.create(
        job=undo, object_name="product__v", source_id="NP1", parent_source_id="P1", source_name="Cardiostat (copy)"
    )
    RecordResult.objects.create(
        job=undo, object_name="formulation__c", source_id="NC1", parent_source_id="C1", source_name="Tablet", depth=1
    )
    for url in (reverse("job_detail", args=[undo.code]), reverse("job_rows", args=[undo.code])):
        body = owner_client.get(url).content.decode()
        body = body[body.index("<tr><td>") :]  # the rows, not the job's facts
        assert "<td>copy of Cardiostat</td>" in body
        assert 'Cardiostat (copy) <span class="mono muted small-text">NP1</span>' in body
        assert ">P1<" not in body and ">C1<" not in body and " P1<" not in body
