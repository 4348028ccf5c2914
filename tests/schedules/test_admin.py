"""The schedules in the admin: read-only, each linking to its template's page (where changes are
armed and audited) and to its own runs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from records.copy_templates import services as templates
from records.models import AuditEvent
from records.schedules import services
from records.schedules.models import CopySchedule, ScheduleRun
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedules(globex, owner):
    sb, profile, conn, src = globex
    template = templates.save_from_request(
        request=copy_request(profile, "Accounts", [src], "clone"), name="Daily", user=owner
    )
    mine = services.schedule_add(template=template, user=owner, every_seconds=60, source_ids=[src])
    other = services.schedule_add(template=template, user=owner, cron="0 6 * * *", source_ids=[src])
    now = timezone.now()
    ScheduleRun.objects.create(schedule=mine, due_at=now, outcome=ScheduleRun.Outcome.SKIPPED, note="skipped: busy")
    ScheduleRun.objects.create(schedule=other, due_at=now - timedelta(days=1), note="the other's run")
    return mine, other


def test_a_schedule_in_the_admin_links_to_its_templates_page_and_to_its_own_runs(client, staff, schedules):
    mine, other = schedules
    client.force_login(staff)
    page = client.get(reverse("admin:records_copyschedule_change", args=[mine.pk])).content.decode()
    assert reverse("template_detail", args=[mine.template.code]) in page
    runs_url = reverse("admin:records_schedulerun_changelist") + f"?schedule__id__exact={mine.pk}"
    assert f'href="{runs_url}"' in page and "1 runs" in page

    runs = client.get(runs_url).content.decode()
    assert "skipped: busy" in runs and "the other&#x27;s run" not in runs
    listed = client.get(reverse("admin:records_copyschedule_changelist")).content.decode()
    assert "every 1 min" in listed and "at 0 6 * * * (UTC)" in listed


def test_the_admin_changes_no_schedule_nor_run(client, staff, schedules):
    mine, _ = schedules
    client.force_login(staff)
    audited = AuditEvent.objects.count()
    change = reverse("admin:records_copyschedule_change", args=[mine.pk])
    assert client.post(change, {"enabled": ""}).status_code == 403
    assert client.get(reverse("admin:records_copyschedule_add")).status_code == 403
    assert client.post(reverse("admin:records_copyschedule_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    run = mine.runs.get()
    assert client.post(reverse("admin:records_schedulerun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert CopySchedule.objects.get(pk=mine.pk).enabled and ScheduleRun.objects.count() == 2
    assert AuditEvent.objects.count() == audited
