"""A job's life as one fenced state machine (records/copying/lifecycle.py): real worker processes,
real Redis, the sandbox over HTTP. A lease that runs out while its worker is alive, a stale
generation that writes nothing; unfinished jobs resumable from the web, outages that wait; one job
per confirmation; undo once, no race on stale objects; Redis down at submit; access re-checked;
one rule per action for the web, the admin, the CLI and the services; cancelling a queued job."""

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from records.connectors import connector_for
from records.copying.job_actions import copy_job_cancel, copy_job_resume, copy_job_undo, jobs_resume_stale
from records.copying.job_queue import copy_job_enqueue
from records.copying.job_rules import can_resume, can_undo
from records.copying.job_words import status_words
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import manage_env, run_job, run_manage, start_job, wait_for, worker_running
from tests.fixtures.sandbox import small_accounts

S = RecordResult.Status
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _small_accounts(conn, n):
    return small_accounts(conn)[:n]


def _fast(conn):
    http = getattr(conn, "http", None)
    if http is not None:
        http.backoff, http.max_backoff = 0.01, 0.05
    return conn


def _burst():
    import django_rq
    from rq import SimpleWorker

    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)


def _save_draft(client, draft_id, profile, src, name):
    """A previewed clone of Account `src` named `name` in the client's session, as the wizard
    leaves it: POST /copy/preview/<draft_id>/confirm/ confirms it."""
    from records.web.drafts import DRAFTS_KEY

    session = client.session
    session[DRAFTS_KEY] = {
        draft_id: {
            "profile": str(profile.code),
            "object_name": "Accounts",
            "source_ids": [src],
            "mode": "clone",
            "overrides": {"Account_Name": name},
            "row_overrides": {},
            "label": "",
        }
    }
    session.save()


def _assert_each_named_once(conn, job, rows):
    """The job (read again) succeeded and each source's copy, found by its new name, exists once."""
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    for values in rows.values():
        assert len(conn.find("Accounts", values)) == 1


def _assert_one_copy_tree(conn, job, src, name):
    assert len(conn.find("Accounts", {"Account_Name": name})) == 1
    new_root = job.results.get(depth=0).new_id
    assert len(read_tree(conn, "Accounts", new_root)) == len(read_tree(conn, "Accounts", src)) == job.planned_count


# -- a lease that runs out while its worker is alive -----------------------------------------------


@pytest.mark.slow
def test_slow_calls_longer_than_the_lease_keep_it_and_copy_once(
    fresh_sandbox, zoho_profile, owner, redis_url, settings
):
    settings.JOB_LEASE_SECONDS = 2
    conn = connector_for(zoho_profile)
    src = _small_accounts(conn, 1)[0]
    job = start_job(
        zoho_profile, owner, "Accounts", [src], "deep_copy", enqueue=True, overrides={"Account_Name": "Fenced Co"}
    )
    fresh_sandbox.faults("zoho").set(latency=3.0)  # every call outlasts the 2 s lease

    # `job resume-stale` every half second, as an eager cron would run it.
    def finished():
        jobs_resume_stale()
        return CopyJob.objects.get(pk=job.pk).is_finished

    try:
        with worker_running(redis_url, lease=2), worker_running(redis_url, lease=2):
            assert wait_for(finished, 240)
    finally:
        fresh_sandbox.faults("zoho").clear()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, (job.status, job.error_summary)
    assert job.attempts == 1  # the healthy worker never lost its lease
    _assert_one_copy_tree(conn, job, src, "Fenced Co")


def test_a_stale_generation_writes_no_rows_and_changes_no_state(zoho_profile, owner, redis_url):
    from records.copying import lifecycle

    conn = connector_for(zoho_profile)
    src = _small_accounts(conn, 1)[0]
    job = start_job(zoho_profile, owner, "Accounts", [src], "clone", overrides={"Account_Name": "Stale Co"})
    first = lifecycle.claim(job_id=job.pk, worker_id="w1", lease_seconds=0)
    assert first
    second = lifecycle.claim(job_id=job.pk, worker_id="w2", lease_seconds=60)
    assert second and second.generation == first.generation + 1
    row = job.results.get()
    row.status, row.new_id = S.SUCCEEDED, "ghost"
    from records.copying import results as res

    with pytest.raises(lifecycle.LeaseLost):
        res.save([row], fence=first)
    assert job.results.get().new_id == ""
    assert not lifecycle.finish(fence=first, status=CopyJob.Status.SUCCEEDED)
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.RUNNING


# -- unfinished jobs resumable from the web; outages wait ------------------------------------------


def test_a_cancelled_job_is_resumed_from_the_web(fresh_sandbox, zoho_profile, owner, owner_client, redis_url):
    conn = connector_for(zoho_profile)
    ids = _small_accounts(conn, 2)
    rows = {sid: {"Account_Name": f"Resumed {i}"} for i, sid in enumerate(ids)}
    job = start_job(zoho_profile, owner, "Accounts", ids, "clone", row_overrides=rows)
    copy_job_cancel(job=job, user=owner)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED and job.results.filter(status=S.SKIPPED).count() == 2
    page = owner_client.get(f"/jobs/{job.code}/").content.decode()
    assert f"/jobs/{job.code}/resume/" in page
    owner_client.post(f"/jobs/{job.code}/resume/")
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.QUEUED
    _burst()
    _assert_each_named_once(conn, job, rows)


def test_a_429_storm_makes_the_job_wait_then_resume(fresh_sandbox, zoho_profile, owner, redis_url, settings):
    settings.JOB_WAIT_FIRST_SECONDS = 0.2
    conn = _fast(connector_for(zoho_profile))
    ids = _small_accounts(conn, 3)
    rows = {sid: {"Account_Name": f"Storm {i}"} for i, sid in enumerate(ids)}
    job = start_job(zoho_profile, owner, "Accounts", ids, "clone", row_overrides=rows)
    fresh_sandbox.faults("zoho").set(p429=1.0)
    try:
        job = run_job(job, connector=conn, worker="storm")
    finally:
        fresh_sandbox.faults("zoho").clear()
    assert job.status == CopyJob.Status.WAITING and job.resume_at is not None
    assert "Failed" not in status_words(job)
    time.sleep(0.3)
    assert job.pk in [j.pk for j in jobs_resume_stale()]
    _burst()
    _assert_each_named_once(conn, job, rows)


def test_a_read_outage_waits_instead_of_failing(fresh_sandbox, zoho_profile, owner, redis_url, settings):
    settings.JOB_WAIT_FIRST_SECONDS = 0.2
    conn = _fast(connector_for(zoho_profile))
    src = _small_accounts(conn, 1)[0]
    job = start_job(zoho_profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Outage Co"})
    fresh_sandbox.faults("zoho").set(p500=1.0)
    try:
        job = run_job(job, connector=_fast(connector_for(zoho_profile)), worker="outage")
    finally:
        fresh_sandbox.faults("zoho").clear()
    assert job.status == CopyJob.Status.WAITING, (job.status, job.error_summary)
    time.sleep(0.3)
    jobs_resume_stale()
    _burst()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    _assert_one_copy_tree(conn, job, src, "Outage Co")


def test_the_wait_budget_ends_a_job_that_copied_records_as_stopped_not_failed(make_job, owner, settings):
    from records.copying import lifecycle

    job = make_job(results=10, status=CopyJob.Status.QUEUED)
    job.results.filter(status=S.FAILED).update(status=S.PENDING, error_type="", error_message="")
    fence = lifecycle.claim(job_id=job.pk, worker_id="w", lease_seconds=60)
    settings.JOB_WAIT_BUDGET_SECONDS = 0
    lifecycle.wait_or_stop(fence=fence, reason="The remote system is unavailable.")
    job.refresh_from_db()
    assert job.status == CopyJob.Status.PARTIAL
    assert status_words(job).startswith("Stopped after an outage: 9 copied, 1 not yet")
    assert can_resume(job, owner) == (True, "")


# -- one job per confirmation ----------------------------------------------------------------------


def test_concurrent_confirms_of_one_preview_create_one_job(fresh_sandbox, zoho_profile, owner, redis_url):
    conn = connector_for(zoho_profile)
    src = _small_accounts(conn, 1)[0]
    client = Client()
    client.force_login(owner)
    _save_draft(client, "d1", zoho_profile, src, "Once Co")
    fresh_sandbox.faults("zoho").set(latency=0.3)
    answers = []

    def post():
        c = Client()
        c.cookies = client.cookies
        answers.append(c.post("/copy/preview/d1/confirm/"))

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fresh_sandbox.faults("zoho").clear()
    assert CopyJob.objects.count() == 1
    job = CopyJob.objects.get()
    assert {a.status_code for a in answers} == {302}
    assert {a["Location"] for a in answers} == {f"/jobs/{job.code}/"}
    # Clicking Confirm again later answers with the same job, too.
    again = client.post("/copy/preview/d1/confirm/")
    assert again.status_code == 302 and again["Location"] == f"/jobs/{job.code}/"


# -- undo once; no race on stale objects -----------------------------------------------------------


def test_an_undone_job_says_so_and_cannot_be_undone_again(fresh_sandbox, zoho_profile, owner, owner_client, redis_url):
    conn = connector_for(zoho_profile)
    src = _small_accounts(conn, 1)[0]
    job = start_job(
        zoho_profile, owner, "Accounts", [src], "clone", enqueue=True, overrides={"Account_Name": "Undo Once Co"}
    )
    _burst()
    owner_client.post(f"/jobs/{job.code}/undo/")
    _burst()
    undo = CopyJob.objects.get(parent_job=job, mode=CopyJob.Mode.UNDO)
    assert undo.status == CopyJob.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.status == CopyJob.Status.UNDONE
    allowed, reason = can_undo(job, owner)
    assert not allowed and reason == f"Undone by job {undo.pk}."
    page = owner_client.get(f"/jobs/{job.code}/").content.decode()
    assert f"Undone by job {undo.pk}" in page and f"/jobs/{job.code}/undo/" not in page
    assert "(deleted)" in page
    owner_client.post(f"/jobs/{job.code}/undo/")
    assert CopyJob.objects.filter(mode=CopyJob.Mode.UNDO).count() == 1
    assert not can_undo(undo, owner)[0]
    assert conn.find("Accounts", {"Account_Name": "Undo Once Co"}) == []


def test_two_undo_requests_on_stale_objects_make_one_undo(make_job, owner, redis_url):
    job = make_job(results=10)
    a, b = CopyJob.objects.get(pk=job.pk), CopyJob.objects.get(pk=job.pk)
    copy_job_undo(job=a, user=owner, enqueue=False)
    with pytest.raises(ValidationError):
        copy_job_undo(job=b, user=owner, enqueue=False)
    assert CopyJob.objects.filter(mode=CopyJob.Mode.UNDO).count() == 1


def test_a_resume_on_a_stale_object_never_resets_a_running_job(make_job, owner, redis_url):
    from records.copying import lifecycle

    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    stale = CopyJob.objects.get(pk=job.pk)
    copy_job_resume(job=CopyJob.objects.get(pk=job.pk), user=owner, enqueue=False)
    assert lifecycle.claim(job_id=job.pk, worker_id="w", lease_seconds=60)
    with pytest.raises(ValidationError):
        copy_job_resume(job=stale, user=owner, enqueue=False)
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.RUNNING


def test_a_part_failed_vault_undo_is_resumed(fresh_sandbox, vault_profile, owner, redis_url, settings):
    """Found by chaos seeds 1053/1091: a Vault undo whose cascade delete failed could be resumed
    but did nothing (its phase said done). Now a 5xx storm makes it wait, and a resume deletes."""
    settings.VAULT_JOB_POLL_SECONDS = 0.1
    conn = connector_for(vault_profile)
    src = next(r.id for r in conn.search("product__v", "Neurolax").records if r.name == "Neurolax")
    before = {obj: set(recs) for obj, recs in fresh_sandbox.vault.state.records.items()}
    job = start_job(vault_profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Undo Me"})
    job = run_job(job, connector=conn, worker="w")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    # The state a failed cascade start left: every row failed, the phase done.
    CopyJob.objects.filter(pk=undo.pk).update(
        status=CopyJob.Status.FAILED, state={"cascade": {undo.results.get(depth=0).source_id: {"phase": "done"}}}
    )
    undo.results.update(status=S.FAILED, error_type="INTERNAL_ERROR")
    undo = copy_job_resume(job=undo, user=owner, enqueue=False)
    undo = run_job(undo, connector=conn, worker="w2")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.UNDONE
    after = {obj: set(recs) for obj, recs in fresh_sandbox.vault.state.records.items()}
    assert after == before


# -- Redis down at submit --------------------------------------------------------------------------


def test_confirm_with_redis_down_answers_with_the_job_page_and_starts_once_later(
    fresh_sandbox, zoho_profile, owner, owner_client, redis_url, settings
):
    from records.ops.embedded_redis import free_port

    conn = connector_for(zoho_profile)
    src = _small_accounts(conn, 1)[0]
    _save_draft(owner_client, "d5", zoho_profile, src, "Queue Down Co")
    up = settings.RQ_QUEUES
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{free_port()}/0", "DEFAULT_TIMEOUT": 600}}
    answer = owner_client.post("/copy/preview/d5/confirm/", follow=True)
    assert answer.status_code == 200
    job = CopyJob.objects.get()
    assert answer.redirect_chain[-1][0] == f"/jobs/{job.code}/"
    assert "it starts when the queue is back" in answer.content.decode()
    settings.RQ_QUEUES = up
    settings.JOB_LEASE_SECONDS = 0
    assert [j.pk for j in jobs_resume_stale()] == [job.pk]
    _burst()
    assert jobs_resume_stale() == []
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.attempts == 1
    assert len(conn.find("Accounts", {"Account_Name": "Queue Down Co"})) == 1


def test_the_worker_itself_resumes_a_job_that_never_reached_the_queue(
    fresh_sandbox, zoho_profile, owner, redis_url, settings
):
    """No cron: every worker runs resume-stale between jobs (records/worker.py)."""
    from records.ops.embedded_redis import free_port

    conn = connector_for(zoho_profile)
    src = _small_accounts(conn, 1)[0]
    up = settings.RQ_QUEUES
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{free_port()}/0", "DEFAULT_TIMEOUT": 600}}
    job = start_job(zoho_profile, owner, "Accounts", [src], "clone", overrides={"Account_Name": "Worker Resumed Co"})
    assert copy_job_enqueue(job=job).queue_down
    settings.RQ_QUEUES = up
    with worker_running(redis_url, lease=1, JOB_RESUME_STALE_SECONDS="1"):
        assert wait_for(lambda: CopyJob.objects.get(pk=job.pk).is_finished, 60)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.attempts == 1
    assert len(conn.find("Accounts", {"Account_Name": "Worker Resumed Co"})) == 1


def test_shell_commands_without_redis_fail_with_one_line(make_job, owner):
    from records.ops.embedded_redis import free_port

    job = make_job(results=10)
    done = run_manage("job", "undo", str(job.pk), env=manage_env(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Redis" in done.stderr


def test_shell_commands_start_the_embedded_redis_when_redis_url_is_unset(make_job, owner, tmp_path):
    import redis

    job = make_job(results=10)
    # A var dir of its own (the socket is <var dir>/redis.sock), with the session's credential key.
    shutil.copy(Path(os.environ["COPIER_VAR_DIR"]) / "dev_credential_key", tmp_path / "dev_credential_key")
    env = manage_env(COPIER_VAR_DIR=str(tmp_path))
    env.pop("REDIS_URL", None)  # unset: the command starts the embedded Redis
    done = run_manage("job", "undo", str(job.pk), env=env)
    server = redis.Redis(unix_socket_path=str(tmp_path / "redis.sock"))
    try:
        assert done.returncode == 0, done.stderr
        assert "Started the embedded Redis" in done.stderr
        undo = CopyJob.objects.get(mode=CopyJob.Mode.UNDO)
        assert server.exists(f"rq:job:{undo.rq_job_id}")  # queued there, for a worker to run
    finally:
        try:
            server.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass


# -- access re-checked -----------------------------------------------------------------------------


def test_a_user_whose_profile_was_unshared_can_no_longer_act_on_his_jobs(
    make_profile, make_job, owner, other_user, redis_url
):
    profile = make_profile(name="Shared")
    profile.shared_with_users.add(other_user)
    job = make_job(user=other_user, profile=profile, results=10, status=CopyJob.Status.PARTIAL)
    profile.shared_with_users.remove(other_user)
    client = Client()
    client.force_login(other_user)
    client.post(f"/jobs/{job.code}/undo/")
    client.post(f"/jobs/{job.code}/resume/")
    assert CopyJob.objects.count() == 1
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.PARTIAL
    allowed, reason = can_resume(job, other_user)
    assert not allowed and "no longer" in reason


# -- one rule per action ---------------------------------------------------------------------------


def test_web_admin_cli_and_services_give_the_same_answer(make_job, owner, staff, owner_client, redis_url):
    from django.contrib.messages import get_messages

    job = make_job(results=10, status=CopyJob.Status.SUCCEEDED)
    job.results.filter(status=S.FAILED).update(status=S.SUCCEEDED, error_type="", error_message="")
    allowed, reason = can_resume(job, owner)
    assert not allowed and reason
    web = owner_client.post(f"/jobs/{job.code}/resume/")
    assert reason in [str(m) for m in get_messages(web.wsgi_request)]
    admin = Client()
    admin.force_login(staff)
    answer = admin.post("/admin/records/copyjob/", {"action": "resume_jobs", "_selected_action": [job.pk]}, follow=True)
    assert reason in answer.content.decode()
    with pytest.raises(SystemExit) as exit_:
        call_command("job", "retry", str(job.pk))
    assert exit_.value.code == 2
    # A cancelled job with skipped rows and nothing failed: every layer resumes it.
    other = make_job(results=10, status=CopyJob.Status.CANCELLED)
    other.results.filter(status=S.FAILED).update(status=S.SKIPPED)
    assert can_resume(other, owner) == (True, "")
    admin.post("/admin/records/copyjob/", {"action": "resume_jobs", "_selected_action": [other.pk]})
    assert CopyJob.objects.get(pk=other.pk).status == CopyJob.Status.QUEUED


# -- cancelling a queued job -----------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_a_queued_job_with_every_record_done_ends_it_as_done(make_job, owner):
    """Chaos seed 1023: a worker died between a job's last row and its end, resume-stale queued it
    again, then Cancel came: the job read "Cancelled: 3 copied, 0 not copied" and nothing could
    resume or finish it. Nothing was left to skip, so it ends as what it did."""
    job = make_job(status=CopyJob.Status.QUEUED)
    for i in range(3):
        RecordResult.objects.create(
            job=job, object_name="product__v", source_id=f"P{i}", new_id=f"N{i}", status=RecordResult.Status.SUCCEEDED
        )
    copy_job_cancel(job=job, user=owner)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED
    assert can_undo(job, owner) == (True, "")


@pytest.mark.django_db
def test_cancelling_a_queued_job_with_records_left_still_cancels_it(make_job, owner):
    job = make_job(status=CopyJob.Status.QUEUED)
    RecordResult.objects.create(
        job=job, object_name="product__v", source_id="P0", new_id="N0", status=RecordResult.Status.SUCCEEDED
    )
    RecordResult.objects.create(job=job, object_name="product__v", source_id="P1")
    copy_job_cancel(job=job, user=owner)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.CANCELLED
    assert job.results.get(source_id="P1").status == RecordResult.Status.SKIPPED
