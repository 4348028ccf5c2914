"""The e-mail about a scheduled run that made no job (its template's profile was deleted): to the
schedule's owner and the template's extra recipients, once per due time, sent by a real RQ worker
after the run's commit; none to an owner who turned e-mails off. The schedule keeps going."""

from datetime import timedelta

import pytest

from records.copy_templates import services as templates
from records.models import CopySchedule, ScheduleRun
from records.notify.models import MailDelivery
from records.notify.preferences import notification_settings_save
from records.notify.schedule_mail import RUN_FAILED, send_schedule_run_mails
from records.schedules import services
from records.schedules.firing import schedule_fire
from tests.fixtures.engine import copy_request
from tests.notify.conftest import send_queued

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def schedule(globex, alice, redis_url):
    _, profile, _, src = globex
    request = copy_request(profile, "Accounts", [src], "clone")
    template = templates.save_from_request(request=request, name="Weekly clone", user=alice)
    template.notify_emails = ["team@example.com"]
    template.save(update_fields=["notify_emails"])
    return services.schedule_add(template=template, user=alice, every_seconds=60, source_ids=[src])


def test_a_run_whose_profile_was_deleted_mails_the_owner_and_recipients_once_and_the_schedule_goes_on(
    schedule, globex, mailoutbox, settings
):
    settings.SITE_URL = "https://copier.example.com"
    globex.profile.delete()
    due = schedule.next_due
    run = schedule_fire(schedule_id=schedule.pk, due=due)
    assert schedule_fire(schedule_id=schedule.pk, due=due) is None  # a second firing of the same due time
    send_queued()

    assert (run.outcome, run.job) == (ScheduleRun.Outcome.FAILED, None)
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.com", "team@example.com"]
    mail = mailoutbox[0]
    assert mail.subject == "Scheduled run failed: Weekly clone"
    assert f"(every 1 min) due at {due:%Y-%m-%d %H:%M:%S} UTC could not start" in mail.body
    assert "no longer exists" in mail.body
    assert f"https://copier.example.com/templates/{schedule.template.code}/" in mail.body
    rows = MailDelivery.objects.filter(schedule_run=run, event=RUN_FAILED)
    assert {r.status for r in rows} == {MailDelivery.Status.SENT} and rows.count() == 2
    assert CopySchedule.objects.get(pk=schedule.pk).next_due == due + timedelta(seconds=60)


def test_the_mails_of_a_run_queued_twice_are_sent_once(schedule, globex, mailoutbox):
    globex.profile.delete()
    run = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    send_queued()
    send_schedule_run_mails(run_id=run.pk)
    assert len(mailoutbox) == 2


def test_an_owner_who_turned_e_mails_off_gets_none_the_template_recipients_still_do(
    schedule, globex, alice, mailoutbox
):
    notification_settings_save(user=alice, email_on=False)
    globex.profile.delete()
    schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    send_queued()
    assert [m.to for m in mailoutbox] == [["team@example.com"]]
