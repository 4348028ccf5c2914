import csv
import io

import pytest
from django.urls import reverse

from records.models import CopyJob, RecordResult

pytestmark = pytest.mark.django_db


def test_job_list_shows_only_my_jobs_newest_first(owner_client, owner, other_user, make_job):
    first = make_job(results=3)
    second = make_job(results=1)
    theirs = make_job(user=other_user)
    response = owner_client.get(reverse("job_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert str(second.code) in body and str(first.code) in body
    assert str(theirs.code) not in body
    assert body.index(str(second.code)) < body.index(str(first.code))


def test_job_list_filters_by_status_and_profile(owner_client, make_job):
    done = make_job()
    running = make_job(status=CopyJob.Status.RUNNING)
    body = owner_client.get(reverse("job_list"), {"status": "running"}).content.decode()
    assert str(running.code) in body and str(done.code) not in body
    body = owner_client.get(reverse("job_list"), {"profile": str(done.profile.code)}).content.decode()
    assert str(done.code) in body and str(running.code) not in body


def test_it_refuses_other_users_job(owner_client, other_user, make_job):
    theirs = make_job(user=other_user, results=2)
    for name in ("job_detail", "job_progress", "job_results_csv", "job_cancel", "job_retry", "job_undo"):
        assert owner_client.get(reverse(name, args=[theirs.code])).status_code == 404, name
    for name in ("job_cancel", "job_retry", "job_undo"):
        assert owner_client.post(reverse(name, args=[theirs.code])).status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.cancel_requested is False


def test_staff_cannot_open_others_jobs_on_the_site(client, staff, other_user, make_job):
    client.force_login(staff)
    theirs = make_job(user=other_user)
    assert client.get(reverse("job_detail", args=[theirs.code])).status_code == 404


def test_anonymous_is_sent_to_login(client, make_job):
    job = make_job()
    response = client.get(reverse("job_detail", args=[job.code]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("job_progress", args=[job.code])).status_code == 302


def test_job_page_has_constant_query_count_with_10000_results(
    owner_client, make_job, django_assert_max_num_queries
):
    job = make_job(results=10_000, status=CopyJob.Status.PARTIAL)
    url = reverse("job_detail", args=[job.code])
    for params in ({}, {"page": "50"}, {"outcome": "failed"}, {"object": "formulation__c"}, {"q": "S00042"}):
        with django_assert_max_num_queries(10):
            response = owner_client.get(url, params)
        assert response.status_code == 200
    body = owner_client.get(url, {"q": "S00042"}).content.decode()
    assert "N00042" in body and "S00043" not in body


def test_job_page_filters_results(owner_client, make_job):
    job = make_job(results=40)
    body = owner_client.get(reverse("job_detail", args=[job.code]), {"outcome": "failed"}).content.decode()
    assert "S00010" in body and "S00011" not in body
    assert "INVALID_DATA" in body and "Name must be unique" in body


def test_job_page_links_new_records(owner_client, make_job):
    job = make_job(results=3)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert 'href="https://example.veevavault.com/ui/#object/product__v/N00001"' in body


def test_remote_values_are_rendered_escaped(owner_client, make_job):
    job = make_job(results=0)
    RecordResult.objects.create(
        job=job,
        object_name="product__v",
        source_id="<script>alert(1)</script>",
        status="failed",
        error_type="INVALID_DATA",
        error_message='<img src=x onerror="alert(2)">',
    )
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body


def test_progress_endpoint(owner_client, make_job):
    job = make_job(results=0, status=CopyJob.Status.RUNNING)
    CopyJob.objects.filter(pk=job.pk).update(planned_count=10, succeeded_count=3, failed_count=1)
    data = owner_client.get(reverse("job_progress", args=[job.code])).json()
    assert data["percent"] == 40 and data["done"] == 4 and data["finished"] is False
    assert data["status"] == "running"


def test_csv_download_streams_every_result_and_neutralises_formulas(owner_client, make_job):
    job = make_job(results=120)
    RecordResult.objects.create(
        job=job, object_name="product__v", source_id="=HYPERLINK(\"http://evil\")", status="failed",
        error_type="@SUM(1)", error_message="+cmd|' /C calc'!A0",
    )
    RecordResult.objects.create(job=job, object_name="product__v", source_id="-2+3", status="failed")
    response = owner_client.get(reverse("job_results_csv", args=[job.code]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["object", "source_id", "new_id"]
    assert len(rows) == 1 + 122
    evil = rows[-2]
    assert evil[1] == "'=HYPERLINK(\"http://evil\")"
    assert evil[6] == "'@SUM(1)" and evil[7].startswith("'+cmd")
    assert rows[-1][1] == "'-2+3"


def test_actions_need_post_with_csrf(client, owner, make_job):
    from django.test import Client

    job = make_job(status=CopyJob.Status.RUNNING)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    response = csrf_client.post(reverse("job_cancel", args=[job.code]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.cancel_requested is False


def test_action_page_asks_for_confirmation(owner_client, make_job):
    job = make_job(status=CopyJob.Status.RUNNING)
    response = owner_client.get(reverse("job_cancel", args=[job.code]))
    assert response.status_code == 200
    assert "Yes, cancel the job" in response.content.decode()


def test_action_not_allowed_says_why(owner_client, make_job):
    job = make_job(status=CopyJob.Status.SUCCEEDED)
    response = owner_client.post(reverse("job_cancel", args=[job.code]), follow=True)
    assert "already finished" in response.content.decode()
