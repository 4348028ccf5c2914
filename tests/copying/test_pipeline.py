"""An engine-built copy sends a wave's batch as soon as the records it points at have copies,
over real HTTP: a batch of children goes while a batch of their wave's parents is unanswered."""

import threading
import time

import pytest

from records.models import CopyJob, RecordResult
from tests.fixtures.engine import run_job, start_job

CONTACTS_INSERT = r"^/crm/v\d+/Contacts$"
S = RecordResult.Status


def _account_with_contacts_and_tasks(conn, contacts: int) -> str:
    """An account with `contacts` contacts (two insert batches' worth), each with one task."""
    account = conn.create("Accounts", [{"Account_Name": "Pipeline Account"}])[0].new_id
    made = []
    for start in range(0, contacts, 100):
        names = range(start, min(contacts, start + 100))
        made += conn.create(
            "Contacts", [{"Last_Name": f"Pipeline {n:03d}", "Account_Name": {"id": account}} for n in names]
        )
    ids = [r.new_id for r in made]
    for start in range(0, contacts, 100):
        conn.create("Tasks", [{"Subject": f"Call {c}", "Who_Id": {"id": c}} for c in ids[start : start + 100]])
    return account


def _task_inserts(sb, since: int) -> list:
    return [e for e in sb.log("zoho")[since:] if e.method == "POST" and e.path.endswith("/Tasks")]


@pytest.mark.django_db(transaction=True)  # the batches are sent from threads
def test_a_child_batch_goes_while_a_parent_batch_of_the_wave_before_is_unanswered(zoho, owner):
    sb, profile, conn = zoho
    root = _account_with_contacts_and_tasks(conn, 200)
    job = start_job(profile, owner, "Accounts", [root], "deep_copy", overrides={"Account_Name": "Pipeline Copy"})
    assert job.results.filter(object_name="Contacts").count() == 200
    before = len(sb.log("zoho"))
    hold = sb.hooks("zoho").hold("POST", CONTACTS_INSERT)  # one of the two contacts' batches answered late
    done: list = []
    runner = threading.Thread(target=lambda: done.append(run_job(job)))
    runner.start()
    try:
        assert hold.wait(30)
        deadline = time.monotonic() + 20
        while not _task_inserts(sb, before) and time.monotonic() < deadline:
            time.sleep(0.05)
        sent_while_held = _task_inserts(sb, before)
    finally:
        hold.release()
        runner.join(120)
    assert sent_while_held, "the tasks of the contacts copied waited for the other contacts' batch"
    ended = done[0]
    assert ended.status == CopyJob.Status.SUCCEEDED, ended.error_summary
    assert ended.results.exclude(status=S.SUCCEEDED).count() == 0
    assert ended.results.filter(new_id="").count() == 0  # every record copied once, each recorded
    # Each task's copy points at its own contact's copy, and no more calls than wave by wave.
    copies = dict(ended.results.values_list("source_id", "new_id"))
    for row in ended.results.filter(object_name="Tasks")[:20]:
        task = conn.get("Tasks", row.new_id).fields
        source = conn.get("Tasks", row.source_id).fields
        assert task["Who_Id"]["id"] == copies[source["Who_Id"]["id"]]
    inserts = [e for e in sb.log("zoho")[before:] if e.method == "POST" and e.path.endswith(("/Contacts", "/Tasks"))]
    assert len(inserts) == 4


@pytest.mark.django_db(transaction=True)
def test_a_cancel_records_the_answers_of_the_batches_under_way(zoho, owner):
    from records.copying.job_actions import copy_job_cancel

    sb, profile, conn = zoho
    root = _account_with_contacts_and_tasks(conn, 200)
    job = start_job(profile, owner, "Accounts", [root], "deep_copy", overrides={"Account_Name": "Pipeline Cancel"})
    sb.faults("zoho").set(latency=0.3)  # the other batches answer while the cancel is requested
    hold = sb.hooks("zoho").hold("POST", CONTACTS_INSERT)  # one contacts batch under way, answered late
    done: list = []
    runner = threading.Thread(target=lambda: done.append(run_job(job)))
    runner.start()
    try:
        assert hold.wait(30)
        copy_job_cancel(job=CopyJob.objects.get(pk=job.pk), user=owner)
        time.sleep(2)  # the run sees the cancel at its next batch's answer, the held one still out
    finally:
        hold.release()
        runner.join(120)
        sb.faults("zoho").clear()
    ended = done[0]
    assert ended.status == CopyJob.Status.CANCELLED
    assert not ended.results.filter(status=S.SENDING).exists()  # the held batch's copies recorded
    assert ended.results.filter(object_name="Contacts", status=S.SUCCEEDED).exclude(new_id="").count() == 200


@pytest.mark.django_db(transaction=True)  # the batches are sent from threads
def test_a_due_batch_is_sent_before_the_answer_in_hand_is_recorded(zoho, owner):
    sb, profile, conn = zoho
    profile.concurrency = 2
    profile.save()
    root = _account_with_contacts_and_tasks(conn, 300)  # three contacts batches, two at once
    job = start_job(profile, owner, "Accounts", [root], "deep_copy", overrides={"Account_Name": "Pipeline Refill"})
    ended = run_job(job)
    assert ended.status == CopyJob.Status.SUCCEEDED, ended.error_summary
    contacts = ended.results.filter(object_name="Contacts")
    assert contacts.filter(status=S.SUCCEEDED).count() == 300 and contacts.filter(attempts=1).count() == 300
    batches: dict = {}  # one SENDING stamp per batch
    for sending_at, written_at in contacts.values_list("sending_at", "written_at"):
        batches.setdefault(sending_at, []).append(written_at)
    assert len(batches) == 3
    first, second, third = sorted(batches)
    answered_first = min(min(batches[first]), min(batches[second]))
    # The third batch was marked SENDING (and sent) before the first answer's rows were recorded.
    assert third < answered_first
