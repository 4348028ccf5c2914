"""The findings of issue 17 (part A), each as the probe the adversary ran: login throttling on
both login forms, the queue dashboard for staff without permissions, ALLOWED_HOSTS='*', /health
with Redis down, and caching of authenticated pages."""

import django_rq
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from rq import Queue

from records.checks import check_allowed_hosts
from records.jobs import run_copy_job
from records.models import AuditEvent, CopyJob
from records.ops.embedded_redis import free_port

pytestmark = pytest.mark.django_db
LOGIN_FORMS = ["login", "admin:login"]


def _try_password(client, form, username, password, ip):
    return client.post(reverse(form), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("form", LOGIN_FORMS)
def test_forty_wrong_passwords_lock_the_account_out_for_that_address(client, staff, form):
    answers = [_try_password(client, form, "charlie", f"guess-{i}", "203.0.113.7").status_code for i in range(40)]
    assert answers[:4] == [200] * 4 and set(answers[5:]) == {429}, answers
    locked = _try_password(client, form, "charlie", "charlie-pass-123", "203.0.113.7")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Same user from another address, another user from this one: both still may log in.
    assert _try_password(client, form, "charlie", "charlie-pass-123", "198.51.100.2").status_code == 302
    assert AuditEvent.objects.filter(action="login.locked_out", details__username="charlie").exists()


def test_a_lock_out_is_lifted_by_the_command_and_audited(client, owner):
    for i in range(5):
        _try_password(client, "login", "alice", f"guess-{i}", "203.0.113.9")
    assert _try_password(client, "login", "alice", "alice-pass-123", "203.0.113.9").status_code == 429
    call_command("login_unlock", "--username", "alice")
    assert _try_password(client, "login", "alice", "alice-pass-123", "203.0.113.9").status_code == 302
    event = AuditEvent.objects.get(action="login.unlock")
    assert event.details == {"username": "alice", "ip_address": "", "attempts_cleared": 1, "via": "command"}


def test_a_lock_out_is_lifted_in_the_admin_and_audited(client, staff, owner):
    from axes.models import AccessAttempt

    for i in range(5):
        _try_password(client, "login", "alice", f"guess-{i}", "203.0.113.9")
    attempt = AccessAttempt.objects.get(username="alice")
    client.force_login(staff)
    url = reverse("admin:axes_accessattempt_changelist")
    response = client.post(url, {"action": "unlock_selected", "_selected_action": [attempt.pk]})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
    event = AuditEvent.objects.get(action="login.unlock")
    assert event.actor == staff and event.details["via"] == "admin"
    client.logout()
    assert _try_password(client, "login", "alice", "alice-pass-123", "203.0.113.9").status_code == 302


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


@override_settings(ALLOWED_HOSTS=["*"])
def test_allowed_hosts_star_is_warned_about():
    warnings = {w.id: w for w in check_allowed_hosts(None)}
    assert "records.W003" in warnings
    assert "ALLOWED_HOSTS" in warnings["records.W003"].msg


@override_settings(ALLOWED_HOSTS=["copier.example.com"])
def test_a_real_host_list_is_not_warned_about():
    assert "records.W003" not in {w.id for w in check_allowed_hosts(None)}


def test_health_names_redis_when_it_is_down(client, settings):
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{free_port()}/0", "DEFAULT_TIMEOUT": 60}}
    for url in ("/health/", "/health/ready/"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.json() == {"status": "fail", "checks": {"database": "ok", "redis": "fail"}}
    assert client.get("/health/live/").json() == {"status": "ok"}


def test_health_is_ok_with_database_and_redis_up(client, redis_url):
    for url in ("/health/", "/health/ready/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    assert "no-store" in response["Cache-Control"]  # a balancer must see the state of now


def test_authenticated_pages_are_not_cached(owner_client, make_profile):
    profile = make_profile()
    for url in (reverse("home"), reverse("profile_list"), reverse("profile_edit", args=[profile.code])):
        response = owner_client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store", url


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


def test_staff_without_permissions_cannot_use_or_edit_other_peoples_profiles(client, bare_staff, make_profile):
    """Found by the access matrix: is_staff alone used to show (and let edit) every profile."""
    profile = make_profile()
    client.force_login(bare_staff)
    assert client.get(reverse("profile_edit", args=[profile.code])).status_code == 404
    assert client.post(reverse("profile_delete", args=[profile.code])).status_code == 404
    assert profile.name not in client.get(reverse("profile_list")).content.decode()
    bare_staff.user_permissions.add(Permission.objects.get(codename="change_connectionprofile"))
    bare_staff = type(bare_staff).objects.get(pk=bare_staff.pk)  # drop the cached permissions
    client.force_login(bare_staff)
    assert client.get(reverse("profile_edit", args=[profile.code])).status_code == 200


def test_login_configuration_is_checked(settings):
    from records.checks import check_login_methods

    assert check_login_methods(None) == []
    settings.LOCAL_LOGIN_ENABLED = False
    assert [e.id for e in check_login_methods(None)] == ["records.E003"]
    settings.OIDC_RP_CLIENT_ID = "copier"
    assert [e.id for e in check_login_methods(None)] == ["records.E004", "records.E005"]
    settings.OIDC_OP_ISSUER, settings.OIDC_RP_CLIENT_SECRET = "https://login.example.com", "s"
    assert check_login_methods(None) == []


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
