"""The queue dashboard (records/ops/rq_dashboard.py, django-rq's pages and the admin's copy of
them): staff without the permission can't open it or touch a queued job; for an operator, deleting,
stopping, emptying the queue and bulk actions on a copy job go through the job services (cancelled
and audited), and requeueing one is refused with the reason."""

import django_rq
import pytest
from django.urls import reverse
from rq import Queue

from records.jobs import run_copy_job
from records.models import AuditEvent, CopyJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_copy_job(redis_url, make_job):
    job = make_job(status=CopyJob.Status.QUEUED, results=3)
    # rq's own Queue: django-rq's would hold the job until the (test's) transaction commits.
    queue = Queue("default", connection=django_rq.get_connection("default"))
    rq_job = queue.enqueue_call(func=run_copy_job, args=(job.pk,), job_id=f"copyjob-{job.pk}-0-x")
    CopyJob.objects.filter(pk=job.pk).update(rq_job_id=rq_job.id)
    return job, rq_job, queue


@pytest.mark.parametrize("action", ["delete_job", "requeue_job", "enqueue_job", "stop_job"])
def test_staff_without_permission_cannot_touch_a_queued_job(client, bare_staff, queued_copy_job, action):
    job, rq_job, queue = queued_copy_job
    client.force_login(bare_staff)
    for method in (client.get, client.post):
        response = method(reverse(f"django_rq:{action}", args=[0, rq_job.id]))
        assert response.status_code == 403
    assert client.get(reverse("django_rq:home")).status_code == 403
    assert client.post(reverse("django_rq:clear", args=[0])).status_code == 403
    assert rq_job.id in queue.job_ids
    job.refresh_from_db()
    assert job.status == CopyJob.Status.QUEUED


def test_deleting_a_copy_job_on_the_dashboard_cancels_it_through_the_job_service(
    client, queue_operator, queued_copy_job
):
    job, rq_job, queue = queued_copy_job
    client.force_login(queue_operator)
    assert client.get(reverse("django_rq:home")).status_code == 200
    response = client.post(reverse("django_rq:delete_job", args=[0, rq_job.id]))
    assert response.status_code == 302
    assert rq_job.id not in queue.job_ids
    job.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED
    assert AuditEvent.objects.filter(action="job.cancel", job=job, actor=queue_operator).exists()


def test_emptying_the_queue_cancels_its_copy_jobs(client, staff, queued_copy_job):
    job, rq_job, queue = queued_copy_job
    client.force_login(staff)
    assert client.post(reverse("django_rq:clear", args=[0])).status_code == 302
    assert queue.job_ids == []
    job.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED


def test_requeueing_a_queued_copy_job_is_refused_with_the_reason(client, staff, queued_copy_job):
    job, rq_job, queue = queued_copy_job
    client.force_login(staff)
    response = client.post(reverse("django_rq:requeue_job", args=[0, rq_job.id]), follow=True)
    assert "use Resume on the job&#x27;s page" in response.content.decode()
    assert rq_job.id in queue.job_ids
    job.refresh_from_db()
    assert job.status == CopyJob.Status.QUEUED


def test_the_admins_copy_of_the_dashboard_is_locked_down_too(client, bare_staff, queue_operator, queued_copy_job):
    job, rq_job, queue = queued_copy_job
    client.force_login(bare_staff)
    assert client.get(reverse("admin:django_rq_home")).status_code == 403
    assert client.get(reverse("admin:django_rq_dashboard_changelist")).status_code == 403
    assert client.post(reverse("admin:django_rq_delete_job", args=[0, rq_job.id])).status_code == 403
    assert "django_rq" not in client.get(reverse("admin:index")).content.decode()
    client.force_login(queue_operator)
    assert client.post(reverse("admin:django_rq_delete_job", args=[0, rq_job.id])).status_code == 302
    job.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED and rq_job.id not in queue.job_ids


def test_stopping_a_copy_job_on_the_dashboard_cancels_it_instead_of_killing_the_worker(client, staff, queued_copy_job):
    job, rq_job, queue = queued_copy_job
    client.force_login(staff)
    assert client.post(reverse("django_rq:stop_job", args=[0, rq_job.id])).status_code == 302
    job.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED
    assert AuditEvent.objects.filter(action="job.cancel", job=job, actor=staff).exists()


@pytest.mark.parametrize("action, status", [("delete", CopyJob.Status.CANCELLED), ("requeue", CopyJob.Status.QUEUED)])
def test_bulk_actions_on_copy_jobs_go_through_the_services(client, staff, queued_copy_job, action, status):
    job, rq_job, queue = queued_copy_job
    client.force_login(staff)
    response = client.post(reverse("django_rq:actions", args=[0]), {"action": action, "job_ids": [rq_job.id]})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == status
    assert (rq_job.id in queue.job_ids) == (action == "requeue")
