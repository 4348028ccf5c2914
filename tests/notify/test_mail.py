"""E-mails about jobs (records/notify/): one to the requester at every end of a job, one to each
approver who may decide a copy awaiting approval (never the requester), none to a user who turned
them off; each queued on commit and sent by a real RQ worker, each recorded; a failing mail server
changes nothing about the job."""

import pytest
from django.contrib.auth.models import Group, Permission

from records.connectors.errors import Unavailable
from records.copying import approval
from records.copying.job_actions import copy_job_cancel
from records.models import AuditEvent, CopyJob
from records.notify.models import MailDelivery
from records.notify.preferences import notification_settings_save
from tests.fixtures.engine import copy_now, start_job
from tests.notify.conftest import send_queued

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
Status = CopyJob.Status


def ended(job, mailoutbox):
    send_queued()
    job.refresh_from_db()
    return job, [m for m in mailoutbox if m.to == ["alice@example.com"]]


def test_a_job_that_succeeds_mails_its_requester_its_outcome_counts_and_link(
    memory, engine_profile, alice, redis_url, mailoutbox, settings
):
    settings.SITE_URL = "https://copier.example.com"
    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "deep_copy", connector=memory)
    job, mails = ended(job, mailoutbox)
    assert job.status == Status.SUCCEEDED
    assert len(mails) == 1
    assert mails[0].subject == f"Job {job.pk} succeeded: {job.title}"
    assert f"Succeeded: {job.succeeded_count} copied" in mails[0].body
    assert f"https://copier.example.com/jobs/{job.code}/" in mails[0].body
    assert MailDelivery.objects.get(job=job).status == MailDelivery.Status.SENT


@pytest.mark.parametrize(
    ("rejected", "status", "words"),
    [({"C1"}, Status.PARTIAL, "Partly done"), ({"Acme"}, Status.FAILED, "Failed: nothing copied")],
)
def test_a_job_partly_done_or_failed_mails_its_requester_once(
    memory, engine_profile, alice, redis_url, mailoutbox, rejected, status, words
):
    memory.reject_names = rejected
    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "deep_copy", connector=memory)
    job, mails = ended(job, mailoutbox)
    assert job.status == status
    assert len(mails) == 1 and words in mails[0].body
    assert "bad name" not in mails[0].subject


def test_a_cancelled_job_mails_its_requester(memory, engine_profile, alice, redis_url, mailoutbox):
    job = start_job(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    copy_job_cancel(job=job, user=alice)
    job, mails = ended(job, mailoutbox)
    assert job.status == Status.CANCELLED
    assert [m.subject for m in mails] == [f"Job {job.pk} cancelled: {job.title}"]


def test_a_job_that_stopped_waiting_after_an_outage_mails_its_requester(
    memory, engine_profile, alice, redis_url, mailoutbox, settings
):
    settings.JOB_WAIT_BUDGET_SECONDS = 0

    def outage():
        raise Unavailable("The remote system is unavailable.", error_type="UNAVAILABLE")

    memory.on_write = outage
    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    job, mails = ended(job, mailoutbox)
    assert job.status == Status.FAILED
    assert len(mails) == 1 and "Stopped after an outage" in mails[0].body


def test_one_end_told_twice_mails_once(memory, engine_profile, alice, redis_url, mailoutbox):
    from records.notify.events import job_ended

    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    job_ended(job=job)  # the same end told twice (a retried transition): still one e-mail
    job, mails = ended(job, mailoutbox)
    assert len(mails) == 1


def test_a_user_who_turned_e_mails_off_gets_none_and_the_change_is_audited(
    memory, engine_profile, alice, redis_url, mailoutbox
):
    notification_settings_save(user=alice, email_on=False)
    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    job, mails = ended(job, mailoutbox)
    assert job.status == Status.SUCCEEDED and mails == []
    assert AuditEvent.objects.filter(action="notify.preference", actor=alice, details={"email_on": False}).exists()


def test_extra_recipients_a_template_passes_get_the_job_end_too(memory, engine_profile, alice, redis_url, mailoutbox):
    from records.notify.events import job_ended

    job = start_job(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    copy_job_cancel(job=job, user=alice)
    job_ended(job=job, recipients=["Team@Example.com"])
    send_queued()
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.com", "team@example.com"]


def test_a_mail_server_that_fails_is_recorded_and_the_job_is_unchanged(
    memory, engine_profile, alice, redis_url, mailoutbox, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    job, _ = ended(job, mailoutbox)
    assert job.status == Status.SUCCEEDED
    row = MailDelivery.objects.get(job=job)
    assert row.status == MailDelivery.Status.FAILED and "ConnectionRefusedError" in row.error


# -- awaiting approval ------------------------------------------------------------------------------


def _approver(django_user_model, name, *, email=True):
    user = django_user_model.objects.create_user(name, email=f"{name}@example.com" if email else "")
    user.user_permissions.add(Permission.objects.get(codename="approve_copy"))
    return user


def test_a_copy_awaiting_approval_mails_only_the_approvers_who_may_decide_it(
    memory, engine_profile, alice, django_user_model, redis_url, mailoutbox
):
    engine_profile.protected = True
    engine_profile.save(update_fields=["protected"])
    alice.user_permissions.add(Permission.objects.get(codename="approve_copy"))  # the requester: never asked
    dora, erin = _approver(django_user_model, "dora"), _approver(django_user_model, "erin")
    quiet = _approver(django_user_model, "quiet")
    notification_settings_save(user=quiet, email_on=False)
    engine_profile.shared_with_users.add(dora, quiet)  # erin has no access to the profile
    frank = django_user_model.objects.create_user("frank", email="frank@example.com")  # no permission
    gina = django_user_model.objects.create_user("gina", email="gina@example.com")
    approvers = Group.objects.create(name="approvers")
    approvers.permissions.add(Permission.objects.get(codename="approve_copy"))
    gina.groups.add(approvers)  # may approve through her group
    engine_profile.shared_with_users.add(frank, gina)

    job = start_job(engine_profile, alice, "Accounts", [memory.root], "clone", enqueue=True, connector=memory)
    assert job.status == Status.AWAITING_APPROVAL
    send_queued()
    subject = f"Approval needed: job {job.pk}, {job.title}"
    assert [(m.to, m.subject) for m in mailoutbox] == [(["dora@example.com"], subject), (["gina@example.com"], subject)]
    assert "alice asks to copy into Memory, a protected profile" in mailoutbox[0].body
    assert erin.email not in str([m.to for m in mailoutbox])


def test_a_rejected_copy_mails_its_requester(memory, engine_profile, alice, django_user_model, redis_url, mailoutbox):
    engine_profile.protected = True
    engine_profile.save(update_fields=["protected"])
    dora = _approver(django_user_model, "dora")
    engine_profile.shared_with_users.add(dora)
    job = start_job(engine_profile, alice, "Accounts", [memory.root], "clone", enqueue=True, connector=memory)
    approval.copy_job_reject(job=job, user=django_user_model.objects.get(pk=dora.pk), reason="Not this week")
    job, mails = ended(job, mailoutbox)
    assert job.status == Status.REJECTED
    assert len(mails) == 1 and "Rejected by dora: Not this week" in mails[0].body
