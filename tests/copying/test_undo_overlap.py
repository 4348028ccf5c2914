"""An undo's deletes of one object at one level go together, up to the profile's concurrency: the
bare Zoho org over HTTP (no copy keys, demo data made by another user), the undo run in this
process outside a transaction (threads are used only there). Each copy is deleted once, no source
is touched, and a rate limit met while other deletes are under way makes the undo wait, their
answers recorded first, then resume."""

import re
import threading
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from records.connectors import connector_for
from records.copying.job_actions import copy_job_resume, copy_job_undo
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_now, run_job
from tests.fixtures.sandbox import find_record

S = RecordResult.Status
DELETE = r"^/crm/v\d+/\w+$"  # Zoho's DELETE /{module}?ids=…


@pytest.fixture
def margin(settings):
    settings.UNDO_CLOCK_MARGIN_SECONDS = 1.0


def fast(conn):
    conn.http.backoff, conn.http.max_backoff = 0.01, 0.05  # retries real, their waits short
    return conn


def big_account_copied(bare_zoho, owner):
    sb, profile, conn = bare_zoho
    src = find_record(conn, "Accounts", "Big Account")
    job = copy_now(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Big Account Undone"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    return job


def deleted_ids(sb) -> Counter:
    """How often each id was asked to be deleted by an answered DELETE (the sandbox's log; an answer
    lost on the way is logged with the status it would have had, and not counted)."""
    asked: Counter = Counter()
    for e in sb.log("zoho"):
        parts = urlsplit(e.path)
        if e.method == "DELETE" and re.search(DELETE, parts.path) and e.status == 200 and e.outcome == "ok":
            asked.update(parse_qs(parts.query)["ids"][0].split(","))
    return asked


def assert_undone_once(sb, job, undo):
    """Every copy gone and asked to be deleted once; every source still there; every row deleted."""
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert set(undo.results.values_list("status", flat=True)) == {S.SUCCEEDED}
    made = dict(job.results.values_list("new_id", "object_name"))
    held = sb.zoho.state.records
    assert not [i for i, module in made.items() if i in held[module]]
    asked = deleted_ids(sb)
    assert set(asked) == set(made) and set(asked.values()) == {1}
    assert all(s in held[m] for s, m in job.results.values_list("source_id", "object_name"))


def run_in_thread(undo, conn, out):
    try:
        out["undo"] = run_job(undo, connector=conn, worker="undo")
    finally:
        connection.close()  # this thread's own connection


@pytest.mark.django_db(transaction=True)
def test_an_undos_deletes_of_one_level_go_together_and_delete_each_copy_once(bare_zoho, owner, margin):
    """While the first delete's answer is held, the other deletes of its level are sent and answered
    (one call at a time, none would be); then the rest of the undo as before."""
    sb, profile, _ = bare_zoho
    job = big_account_copied(bare_zoho, owner)
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    sb.clear_log("zoho")
    hold = sb.hooks("zoho").hold("DELETE", DELETE)
    out: dict = {}
    runner = threading.Thread(target=run_in_thread, args=(undo, fast(connector_for(profile)), out))
    runner.start()
    try:
        assert hold.wait(60), "no delete was sent"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not deleted_ids(sb):
            time.sleep(0.05)
        answered_while_held = len(deleted_ids(sb))
    finally:
        hold.release()
        runner.join(120)
    assert answered_while_held, "no other delete went while the first was under way"
    assert profile.concurrency > 1
    assert_undone_once(sb, job, out["undo"])


@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_among_deletes_under_way_makes_the_undo_wait_then_resume_each_copy_once(
    bare_zoho, owner, margin, settings
):
    """The org starts refusing (429) once the first delete is answered: the deletes still under way
    are recorded, the undo waits with no row failed or left sending, and its resume deletes the rest."""
    settings.JOB_WAIT_FIRST_SECONDS = 0.2
    sb, profile, _ = bare_zoho
    job = big_account_copied(bare_zoho, owner)
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    sb.clear_log("zoho")
    sb.hooks("zoho").after("DELETE", DELETE, lambda: sb.faults("zoho").set(p429=1.0), times=1)
    try:
        undo = run_job(undo, connector=fast(connector_for(profile)), worker="undo")
    finally:
        sb.faults("zoho").clear()
    assert undo.status == CopyJob.Status.WAITING, (undo.status, undo.error_summary)
    statuses = Counter(undo.results.values_list("status", flat=True))
    assert statuses[S.SUCCEEDED] > 0 and statuses[S.PENDING] > 0
    assert not statuses[S.SENDING] and not statuses[S.FAILED]
    # which delete is answered first is timing's (a level's last, short batch may be): the rows
    # recorded deleted are exactly the ids the org answered for, whichever they were
    deleted = set(undo.results.filter(status=S.SUCCEEDED).values_list("source_id", flat=True))
    assert deleted == set(deleted_ids(sb))
    undo = copy_job_resume(job=undo, user=owner, enqueue=False)  # Resume, as on the job page
    undo = run_job(undo, connector=fast(connector_for(profile)), worker="undo-again")
    assert_undone_once(sb, job, undo)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
@pytest.mark.django_db(transaction=True)
def test_a_lost_answer_among_deletes_under_way_is_settled_by_what_the_org_holds(bare_zoho, owner, margin, applied):
    """The first delete's answer is lost (the org deleted its records, or not) while the others of
    its level are under way: the copies still there are deleted, none twice; the copies' children
    keep their sources' names, the sources are untouched."""
    sb, profile, _ = bare_zoho
    job = big_account_copied(bare_zoho, owner)
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    sb.clear_log("zoho")
    sb.hooks("zoho").lose("DELETE", DELETE, applied=applied)
    undo = run_job(undo, connector=fast(connector_for(profile)), worker="undo")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert set(undo.results.values_list("status", flat=True)) == {S.SUCCEEDED}
    made = dict(job.results.values_list("new_id", "object_name"))
    held = sb.zoho.state.records
    assert not [i for i, module in made.items() if i in held[module]]
    assert all(s in held[m] for s, m in job.results.values_list("source_id", "object_name"))
    lost = [e for e in sb.log("zoho") if e.method == "DELETE" and e.outcome.startswith("lost")]
    assert len(lost) == 1
    asked = deleted_ids(sb)  # answered deletes: a lost one that was applied is not asked again
    assert set(asked.values()) == {1}
    lost_ids = set(parse_qs(urlsplit(lost[0].path).query)["ids"][0].split(","))
    assert (lost_ids & set(asked)) == (set() if applied else lost_ids)
