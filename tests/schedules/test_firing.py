"""A due run (records/schedules/): the claim's compare-and-set, the skip of a run whose previous
one still goes, bad input ending as a failed job that notifies, and the schedule going on. The
sandbox over HTTP, the real database; the RQ side (arming) on the test Redis."""

from datetime import timedelta

import django_rq
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from records.copy_templates import services as templates
from records.models import AuditEvent, CopyJob
from records.schedules import services
from records.schedules.arming import rq_job_id, schedules_rearm
from records.schedules.claims import claim
from records.schedules.firing import schedule_fire
from records.schedules.models import CopySchedule, ScheduleRun
from sandbox.zoho_schema import INDUSTRIES
from tests.fixtures.engine import copy_request

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
O = ScheduleRun.Outcome


@pytest.fixture
def template(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone", overrides={"Account_Name": "{Account_Name} (weekly)"})
    return templates.save_from_request(request=request, name="Weekly clone", user=owner)


@pytest.fixture
def schedule(template, globex, owner, redis_url, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.schedule_add(template=template, user=owner, every_seconds=60, source_ids=[globex.record_id])


def _scheduled_ids():
    return set(ScheduledJobRegistry(queue=django_rq.get_queue(settings.SCHEDULE_QUEUE)).get_job_ids())


def test_adding_a_schedule_arms_its_first_due_time_on_rq_and_audits_it(schedule, owner):
    assert schedule.next_due > timezone.now()
    assert _scheduled_ids() == {rq_job_id(schedule.pk, schedule.next_due)}
    event = AuditEvent.objects.get(action="template.schedule")
    assert (event.actor, event.details["cadence"], event.details["change"]) == (owner, "every 1 min", "added")


def test_one_due_time_is_claimed_once_the_second_claim_does_nothing(schedule):
    due = schedule.next_due
    first = claim(schedule=schedule, due=due)
    again = claim(schedule=CopySchedule.objects.get(pk=schedule.pk), due=due)
    assert first is not None and again is None
    assert ScheduleRun.objects.filter(schedule=schedule).count() == 1
    assert CopySchedule.objects.get(pk=schedule.pk).next_due > due  # moved on in the same transaction


def test_a_due_time_the_schedule_moved_past_or_turned_off_is_not_claimed(schedule, owner):
    assert claim(schedule=schedule, due=schedule.next_due - timedelta(seconds=60)) is None
    services.schedule_switch(schedule=schedule, user=owner, enabled=False)
    assert claim(schedule=schedule, due=schedule.next_due or timezone.now()) is None
    assert not ScheduleRun.objects.exists()


def test_a_due_run_makes_a_job_naming_its_schedule_and_arms_the_next(schedule, django_capture_on_commit_callbacks):
    due = schedule.next_due
    with django_capture_on_commit_callbacks(execute=True):
        run = schedule_fire(schedule_id=schedule.pk, due=due)
    assert run.outcome == O.STARTED
    job = run.job
    assert (job.schedule, job.requested_by, job.template_version.number) == (schedule, schedule.created_by, 1)
    assert job.status == CopyJob.Status.QUEUED
    following = CopySchedule.objects.get(pk=schedule.pk).next_due
    assert following == due + timedelta(seconds=60)
    assert rq_job_id(schedule.pk, following) in _scheduled_ids()
    assert schedule_fire(schedule_id=schedule.pk, due=due) is None  # the same due time again: nothing
    assert CopyJob.objects.count() == 1
    (audited,) = AuditEvent.objects.filter(action="template.run")  # the run as its owner's, once
    assert (audited.job, audited.actor, audited.details["version"]) == (job, schedule.created_by, 1)


def test_a_worker_dying_just_after_the_job_is_made_leaves_the_job_named_by_its_run(schedule, monkeypatch):
    """A worker killed between the job's transaction and the next line would leave a job no run
    names and its run "starting": the job, its schedule and its started run are one commit."""

    def died(**_kw):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(templates, "audit_run", died)  # the first line after the job's transaction
    with pytest.raises(RuntimeError):
        schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    (job,) = CopyJob.objects.all()
    (run,) = ScheduleRun.objects.all()
    assert (run.outcome, run.job, job.schedule) == (O.STARTED, job, schedule)
    assert CopySchedule.objects.get(pk=schedule.pk).last_job == job


def test_a_run_due_while_the_previous_job_still_runs_is_skipped_and_recorded(schedule):
    first = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    CopyJob.objects.filter(pk=first.job_id).update(status=CopyJob.Status.RUNNING)
    schedule.refresh_from_db()
    second = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    assert second.outcome == O.SKIPPED
    assert second.note == f"skipped: the previous run (job {first.job_id}) is still running"
    assert second.job is None and CopyJob.objects.count() == 1

    CopyJob.objects.filter(pk=first.job_id).update(status=CopyJob.Status.SUCCEEDED)
    schedule.refresh_from_db()
    third = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    assert third.outcome == O.STARTED and CopyJob.objects.count() == 2


def test_a_run_whose_filter_matches_nothing_fails_saying_why_notifies_and_the_schedule_goes_on(
    template, owner, redis_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        schedule = services.schedule_add(
            template=template, user=owner, every_seconds=30, source_filter="(Account_Name:equals:Nobody Ltd)"
        )
    due = schedule.next_due
    with django_capture_on_commit_callbacks(execute=True):
        run = schedule_fire(schedule_id=schedule.pk, due=due)

    assert run.outcome == O.FAILED
    assert "No Accounts record matches the filter" in run.note
    job = run.job
    assert (job.status, job.schedule, job.requested_by) == (CopyJob.Status.FAILED, schedule, owner)
    assert job.error_summary.startswith("The scheduled run could not start: No Accounts record matches")
    mails = [j for j in django_rq.get_queue(settings.NOTIFY_QUEUE).jobs if j.func_name.endswith("send_job_mails")]
    assert [(m.args[0], m.args[1]) for m in mails] == [(job.pk, "job.ended")]
    following = CopySchedule.objects.get(pk=schedule.pk).next_due
    assert following == due + timedelta(seconds=30)
    assert rq_job_id(schedule.pk, following) in _scheduled_ids()


def test_the_sweep_arms_a_next_due_time_a_dead_worker_left_unarmed(schedule):
    claim(schedule=schedule, due=schedule.next_due)  # claimed, and the worker died before arming
    django_rq.get_queue(settings.SCHEDULE_QUEUE).connection.flushdb()
    following = CopySchedule.objects.get(pk=schedule.pk).next_due
    assert schedules_rearm() == 1
    assert _scheduled_ids() == {rq_job_id(schedule.pk, following)}
    schedules_rearm()  # again: the same RQ job, not a second
    assert _scheduled_ids() == {rq_job_id(schedule.pk, following)}


def test_a_schedule_of_records_not_given_is_refused_before_anything_is_saved(template, owner):
    with pytest.raises(ValidationError, match="ids or a filter, one of the two"):
        services.schedule_add(template=template, user=owner, every_seconds=5)
    with pytest.raises(ValidationError, match="Unknown time zone"):
        services.schedule_add(template=template, user=owner, cron="0 6 * * *", time_zone="Nowhere", source_ids=["1"])
    assert not CopySchedule.objects.exists()


def test_a_scheduled_copy_into_a_protected_profile_waits_for_approval_and_the_next_run_is_skipped(
    schedule, globex, django_capture_on_commit_callbacks
):
    globex.profile.protected = True
    globex.profile.save(update_fields=["protected"])
    with django_capture_on_commit_callbacks(execute=True):
        run = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    assert run.job.status == CopyJob.Status.AWAITING_APPROVAL
    assert not run.job.rq_job_id  # not queued: an approval queues it
    schedule.refresh_from_db()
    waiting = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    assert waiting.outcome == O.SKIPPED and CopyJob.objects.count() == 1


def test_a_run_whose_filter_matches_more_than_its_limit_fails_saying_so(
    template, owner, redis_url, django_capture_on_commit_callbacks
):
    where = f"(Industry:equals:{INDUSTRIES[0]})"
    with django_capture_on_commit_callbacks(execute=True):
        schedule = services.schedule_add(
            template=template, user=owner, every_seconds=30, source_filter=where, source_limit=1
        )
        run = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    assert run.outcome == O.FAILED
    assert (
        run.note
        == f"More Accounts records match the filter {where!r} than its limit of 1: narrow the filter or raise the limit."
    )
    assert run.job.status == CopyJob.Status.FAILED and run.job.results.count() == 0
    assert CopySchedule.objects.get(pk=schedule.pk).next_due == schedule.next_due + timedelta(seconds=30)  # goes on


def test_a_run_after_its_profile_was_unshared_fails_naming_why_and_the_next_run_is_still_armed(
    template, globex, owner, other_user, redis_url, django_capture_on_commit_callbacks
):
    globex.profile.shared_with_users.add(other_user)
    templates.share(template=template, by=owner, user=other_user)
    with django_capture_on_commit_callbacks(execute=True):
        schedule = services.schedule_add(
            template=template, user=other_user, every_seconds=45, source_ids=[globex.record_id]
        )
    globex.profile.shared_with_users.remove(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        run = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    assert run.outcome == O.FAILED
    assert "copies from a profile that no longer exists or is not shared with you" in run.note
    assert (run.job.requested_by, run.job.status) == (other_user, CopyJob.Status.FAILED)
    following = CopySchedule.objects.get(pk=schedule.pk).next_due
    assert rq_job_id(schedule.pk, following) in _scheduled_ids()


def test_a_run_while_the_system_answers_only_errors_fails_saying_so_and_the_schedule_goes_on(
    schedule, globex, django_capture_on_commit_callbacks
):
    globex.sandbox.faults("zoho").set(p500=1.0, seed=1)
    with django_capture_on_commit_callbacks(execute=True):
        run = schedule_fire(schedule_id=schedule.pk, due=schedule.next_due)
    globex.sandbox.faults("zoho").set(p500=0.0)
    assert run.outcome == O.FAILED and run.job.status == CopyJob.Status.FAILED
    assert run.note.startswith("Couldn't reach Zoho CRM.")
    following = CopySchedule.objects.get(pk=schedule.pk).next_due
    assert rq_job_id(schedule.pk, following) in _scheduled_ids()
