"""A job run from a template: its page and the jobs tables name the template and version (joined
in the page's queries), and when it ends the template's recipients get the e-mail (Django's
outbox) and its webhook a signed POST (a real local HTTP server), sent by a real RQ worker."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.copy_templates import services
from records.copy_templates.notifications import TemplateNotifications
from records.copying.job_actions import copy_job_cancel
from records.models import CopyJob
from records.notify.models import WebhookDelivery
from tests.fixtures.engine import copy_request, run_job
from tests.fixtures.sandbox import find_record
from tests.notify.conftest import send_queued
from tests.notify.test_webhooks import Receiver, verified

SECRET = "the-template-secret"


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def template_job(globex, owner, *, name="Kit", run=True):
    _, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone", overrides={"Account_Name": "{Account_Name} (kit)"})
    template = services.save_from_request(request=request, name=name, user=owner)
    return template, _run(template, owner, [find_record(conn, "Accounts", "Acme Corp")], run=run)


def _run(template, user, ids, *, run=True):
    version = services.latest_version(template)
    request = services.run_request(template=template, user=user, source_ids=ids)
    job = services.run(template=template, version=version, request=request, user=user, enqueue=False)
    return run_job(job) if run else job


@pytest.mark.django_db
def test_the_job_page_and_the_job_list_name_the_template_and_version(owner_client, globex, owner):
    template, _ = template_job(globex, owner)
    services.edit(template=template, user=owner)  # version 2
    second = _run(template, owner, [globex.record_id])
    page = owner_client.get(reverse("job_detail", args=[second.code])).content.decode()
    assert 'id="job-template"' in page and "From template" in page and "Kit</a> v2" in page
    listing = owner_client.get(reverse("job_list")).content.decode()
    assert "from template Kit v1" in listing and "from template Kit v2" in listing
    assert "from template Kit" in owner_client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_the_job_list_costs_the_same_queries_with_more_template_jobs(owner_client, globex, owner):
    template, _ = template_job(globex, owner, run=False)

    def list_queries():
        with CaptureQueriesContext(connection) as ctx:
            owner_client.get(reverse("job_list"))
        return len(ctx.captured_queries)

    one = list_queries()
    for _ in range(3):
        _run(template, owner, [globex.record_id], run=False)
    assert list_queries() == one


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_template_job_that_ends_mails_its_recipients_and_signs_its_webhook(
    globex, owner, redis_url, mailoutbox, receiver
):
    owner.email = "alice@example.com"
    owner.save(update_fields=["email"])
    template, _ = template_job(globex, owner, run=False)
    told = TemplateNotifications(recipients=("team@example.com",), webhook_url=receiver.url, webhook_secret=SECRET)
    services.edit(template=template, user=owner, notifications=told)
    send_queued()
    mailoutbox.clear()  # the first job's own end (before the template told anyone else)
    job = _run(template, owner, [globex.record_id])
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    send_queued()
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.com", "team@example.com"]
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert verified(headers, body, secret=SECRET)
    assert json.loads(body)["job"]["id"] == job.pk
    assert WebhookDelivery.objects.get().status_code == 200


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_cancelled_template_job_tells_the_template_recipients_too(globex, owner, redis_url, mailoutbox):
    template, _ = template_job(globex, owner, run=False)
    template.notify_emails = ["team@example.com"]
    template.save(update_fields=["notify_emails"])
    job = _run(template, owner, [globex.record_id], run=False)
    copy_job_cancel(job=job, user=owner)
    send_queued()
    assert [m.to for m in mailoutbox if "team@example.com" in m.to] == [["team@example.com"]]
