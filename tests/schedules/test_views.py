"""The schedules on a template's page, and a scheduled job named on its page and in the job list."""

import pytest
from django.urls import reverse

from records.copy_templates import services as templates
from records.models import AuditEvent
from records.schedules.firing import schedule_fire
from records.schedules.models import CopySchedule
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(globex, owner):
    sb, profile, conn, src = globex
    return templates.save_from_request(
        request=copy_request(profile, "Accounts", [src], "clone"), name="Daily", user=owner
    )


def _page(client, template):
    return client.get(reverse("template_detail", args=[template.code])).content.decode()


def test_a_schedule_added_on_the_page_shows_its_next_five_times_in_its_time_zone(owner_client, template, globex):
    answer = owner_client.post(
        reverse("schedule_add", args=[template.code]),
        {
            "cron": "15 7 * * *",
            "unit": "minutes",
            "ids": globex.record_id,
            "time_zone": "Europe/Paris",
            "enabled": "on",
        },
    )
    assert answer.status_code == 302
    schedule = CopySchedule.objects.get()
    assert (schedule.cron, schedule.time_zone, schedule.enabled) == ("15 7 * * *", "Europe/Paris", True)
    page = _page(owner_client, template)
    assert "Scheduled Daily at 15 7 * * * (Europe/Paris)." in page
    assert page.count("07:15:00 CE") == 5  # CET or CEST, as the season is


def test_an_interval_in_minutes_with_a_filter_is_saved_in_seconds(owner_client, template):
    owner_client.post(
        reverse("schedule_add", args=[template.code]),
        {"every": "15", "unit": "minutes", "source_filter": "(Industry:equals:Retail)", "source_limit": "3",
         "time_zone": "UTC", "enabled": "on"},
    )  # fmt: skip
    schedule = CopySchedule.objects.get()
    assert (schedule.every_seconds, schedule.source_filter, schedule.source_limit) == (
        900,
        "(Industry:equals:Retail)",
        3,
    )
    assert "every 15 min" in _page(owner_client, template)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cron": "0 6 * * 8"}, "Invalid cron expression &#x27;0 6 * * 8&#x27;"),
        ({"cron": "0 6 * * *", "time_zone": "Paris"}, "Unknown time zone &#x27;Paris&#x27;"),
    ],
)
def test_a_bad_cron_or_time_zone_is_refused_on_the_page_with_a_clear_message(owner_client, template, fields, message):
    data = {"unit": "minutes", "ids": "1", "time_zone": "UTC", "enabled": "on", **fields}
    answer = owner_client.post(reverse("schedule_add", args=[template.code]), data, follow=True)
    assert message in answer.content.decode()
    assert not CopySchedule.objects.exists()


def test_turning_a_schedule_off_and_removing_it_are_audited(owner_client, template, globex, owner):
    from records.schedules import services

    schedule = services.schedule_add(template=template, user=owner, every_seconds=60, source_ids=[globex.record_id])
    owner_client.post(reverse("schedule_switch", args=[template.code, schedule.pk]), {"enabled": "0"})
    schedule.refresh_from_db()
    assert (schedule.enabled, schedule.next_due) == (False, None)
    owner_client.post(reverse("schedule_remove", args=[template.code, schedule.pk]))
    assert not CopySchedule.objects.exists()
    changes = [
        e.details["change"]
        for e in AuditEvent.objects.filter(action__in=["template.schedule", "template.unschedule"]).order_by("pk")
    ]
    assert changes == ["added", "off", "removed"]


def test_a_scheduled_job_is_named_by_its_schedule_on_its_page_and_in_the_job_list(
    owner_client, template, globex, owner
):
    from records.schedules import services

    schedule = services.schedule_add(template=template, user=owner, every_seconds=120, source_ids=[globex.record_id])
    job = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due).job
    assert "Scheduled: Daily every 2 min" in owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "Scheduled: Daily every 2 min" in owner_client.get(reverse("job_list")).content.decode()


def test_another_users_template_cannot_be_scheduled_nor_its_schedules_changed(
    client, other_user, template, globex, owner
):
    from records.schedules import services

    schedule = services.schedule_add(template=template, user=owner, every_seconds=60, source_ids=[globex.record_id])
    client.force_login(other_user)
    data = {"every": "1", "unit": "minutes", "ids": globex.record_id, "time_zone": "UTC", "enabled": "on"}
    assert client.post(reverse("schedule_add", args=[template.code]), data).status_code == 404
    assert client.post(reverse("schedule_remove", args=[template.code, schedule.pk])).status_code == 404
    assert CopySchedule.objects.filter(pk=schedule.pk, enabled=True).count() == 1
