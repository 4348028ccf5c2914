"""A bulk clone's run (records/copying/clone.py) against the sandbox over HTTP: its batches in
flight at the profile's concurrency, the next started as soon as one answers, every record cloned
once, even when an answer is lost while other batches are under way."""

import re
import time

import pytest
from django.db.models import Count

from records.models import RecordResult
from tests.fixtures.engine import assert_each_record_copied_once, run_job, start_job

pytestmark = pytest.mark.django_db(transaction=True)  # threads: the calls overlap outside a transaction

S = RecordResult.Status
PRODUCTS = 1600  # four clone calls of 500 (the last of 100)
CLONE = r"/vobjects/product__v$"


def _products(conn, n):
    rows = [{"name__v": f"Batch Source {i:04d}", "status__v": ["active__v"]} for i in range(n)]
    results = conn.create("product__v", rows)
    assert all(r.ok for r in results)
    return [r.new_id for r in results]


def _planned_clone(vault, owner, concurrency=2, **kw):
    sb, profile, conn = vault
    profile.concurrency = concurrency
    profile.save()
    ids = _products(conn, PRODUCTS)
    names = {i: {"name__v": f"Batch Copy {k:04d}"} for k, i in enumerate(ids)}
    job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=names, **kw)
    sb.clear_log("vault")
    return sb, job


def _set_per_object():
    """Options under which a clone's plan keeps no fields for its run (planned_fields.py): a field
    set on every copy of the object."""
    from records.copying.options import CopyOptions

    return CopyOptions(fields={"product__v": {"description__c": "Set on every copy"}})


def _copies(sb):
    return [r for r in sb.vault.state.records["product__v"].values() if r["name__v"].startswith("Batch Copy")]


def _calls(sb, method, pattern):
    return [e for e in sb.log("vault") if e.method == method and re.search(pattern, e.path.split("?")[0])]


def test_a_clone_of_four_batches_at_concurrency_two_copies_each_record_once(vault, owner):
    sb, job = _planned_clone(vault, owner)
    job = run_job(job)
    assert_each_record_copied_once(job)
    assert len(_calls(sb, "POST", CLONE)) == 4
    assert len(_copies(sb)) == PRODUCTS
    assert all(v for v in job.results.values_list("values", flat=True))  # each row keeps what it was sent


def test_a_clone_run_reads_the_object_metadata_once_and_no_picklist(vault, owner):
    sb, job = _planned_clone(vault, owner)
    run_job(job)
    assert len(_calls(sb, "GET", r"/metadata/vobjects/product__v$")) == 1
    assert _calls(sb, "GET", r"/objects/picklists/") == []  # a clone checks no value: not needed


def test_an_answer_lost_while_other_batches_are_under_way_is_found_again_not_resent(vault, owner):
    sb, job = _planned_clone(vault, owner)
    sb.hooks("vault").lose("POST", CLONE, applied=True)  # the first clone call's answer
    job = run_job(job)
    assert_each_record_copied_once(job)
    assert [e.outcome for e in _calls(sb, "POST", CLONE)].count("lost_applied") == 1
    assert len(_calls(sb, "POST", CLONE)) == 4  # the lost batch was found by its copy keys, not sent again
    assert len(_copies(sb)) == PRODUCTS


def test_a_cancel_asked_while_batches_are_under_way_starts_no_further_batch(vault, owner):
    from django.db import connection

    from records.models import CopyJob

    sb, job = _planned_clone(vault, owner)

    def cancel():  # as the job page's Cancel would, while the first calls are under way
        CopyJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        connection.close()

    # Every clone call's answer waits for the cancel to be committed (not only the first call's:
    # the other call under way could otherwise be answered while the first one's cancel waits for
    # the database, and a third batch start before the cancel is there to be seen).
    sb.hooks("vault").after("POST", CLONE, cancel)
    job = run_job(job)
    assert job.status == CopyJob.Status.CANCELLED, job.status
    assert len(_calls(sb, "POST", CLONE)) == 2  # the two under way; none started after their answers
    rows = dict(job.results.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    assert rows == {S.SUCCEEDED: 1000, S.SKIPPED: PRODUCTS - 1000}  # both answers recorded, nothing SENDING
    assert len(_copies(sb)) == 1000


def _statuses(job) -> dict[str, int]:
    return dict(job.results.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def _run_in_thread(job):
    import threading

    done: list = []
    runner = threading.Thread(target=lambda: done.append(run_job(job)))
    runner.start()
    return runner, done


def test_the_first_window_is_sent_while_the_object_metadata_is_read(vault, owner):
    from records.models import CopyJob

    sb, job = _planned_clone(vault, owner)
    assert job.plan["planned_fields"]["product__v"]  # its unique fields and copy key, as the plan read them
    hold = sb.hooks("vault").hold("GET", r"/metadata/vobjects/product__v$")
    runner, done = _run_in_thread(job)
    try:
        assert hold.wait(20)
        deadline = time.monotonic() + 10
        while len(_calls(sb, "POST", CLONE)) < 2 and time.monotonic() < deadline:  # logged once answered
            time.sleep(0.02)
        time.sleep(0.3)  # a third call would have left by now
        calls_meanwhile = len(_calls(sb, "POST", CLONE))
        answered = _statuses(job)  # the answers are recorded once the describe is back
    finally:
        hold.release()
        runner.join(60)
    assert calls_meanwhile == 2  # the describe's answer still held: both slots' batches answered, no third
    assert answered == {S.SENDING: PRODUCTS}  # the two batches sent and the next two marked ahead
    assert done[0].status == CopyJob.Status.SUCCEEDED, done[0].error_summary
    assert_each_record_copied_once(done[0])
    assert len(_calls(sb, "POST", CLONE)) == 4
    assert set(done[0].results.values_list("attempts", flat=True)) == {1}
    assert len(_calls(sb, "GET", r"/metadata/vobjects/product__v$")) == 1


def test_a_job_whose_plan_kept_no_fields_marks_its_first_window_while_the_metadata_is_read(vault, owner):
    from records.models import CopyJob

    sb, job = _planned_clone(vault, owner, options=_set_per_object())
    assert "planned_fields" not in job.plan
    hold = sb.hooks("vault").hold("GET", r"/metadata/vobjects/product__v$")
    runner, done = _run_in_thread(job)
    try:
        assert hold.wait(20)
        deadline = time.monotonic() + 10
        while _statuses(job).get(S.SENDING, 0) < 1000 and time.monotonic() < deadline:
            time.sleep(0.02)
        marked = _statuses(job)  # the describe's answer still held: no clone sent yet
        calls_meanwhile = len(_calls(sb, "POST", CLONE))
    finally:
        hold.release()
        runner.join(60)
    assert marked == {S.SENDING: 1000, S.PENDING: PRODUCTS - 1000}  # two batches (concurrency 2), not more
    assert calls_meanwhile == 0
    assert done[0].status == CopyJob.Status.SUCCEEDED, done[0].error_summary
    assert_each_record_copied_once(done[0])
    assert len(_calls(sb, "POST", CLONE)) == 4
    assert set(done[0].results.values_list("attempts", flat=True)) == {1}  # marked once, not again at the call


def test_the_next_window_is_marked_sending_while_the_first_calls_are_out(vault, owner):
    sb, job = _planned_clone(vault, owner)
    hold = sb.hooks("vault").hold("POST", CLONE, times=2)  # both calls of the first window held
    runner, done = _run_in_thread(job)
    try:
        assert hold.wait(20)
        deadline = time.monotonic() + 10
        while _statuses(job).get(S.SENDING, 0) < PRODUCTS and time.monotonic() < deadline:
            time.sleep(0.02)
        marked = _statuses(job)
        calls_meanwhile = len(_calls(sb, "POST", CLONE))  # a held call is logged once answered
    finally:
        hold.release()
        runner.join(60)
    assert marked == {S.SENDING: PRODUCTS}  # the two batches out and the next two, marked ahead
    assert calls_meanwhile == 0
    assert_each_record_copied_once(done[0])
    assert len(_calls(sb, "POST", CLONE)) == 4


def test_rows_marked_ahead_are_pending_again_when_the_metadata_cannot_be_read(vault, owner):
    from records.models import CopyJob

    sb, job = _planned_clone(vault, owner, options=_set_per_object())
    sb.hooks("vault").answer(
        "GET",
        r"/metadata/vobjects/product__v$",
        {"responseStatus": "FAILURE", "errors": [{"type": "INVALID_DATA", "message": "No metadata."}]},
    )
    job = run_job(job)
    assert job.status != CopyJob.Status.SUCCEEDED
    assert _calls(sb, "POST", CLONE) == []
    assert S.SENDING not in _statuses(job)  # never sent: nothing left for a reconcile to look for
    assert set(job.results.values_list("attempts", flat=True)) == {0}


def test_the_first_window_sent_before_the_metadata_failed_is_recorded_and_the_rest_sent_on_resume(vault, owner):
    from records.copying.job_actions import copy_job_resume
    from records.models import CopyJob

    sb, job = _planned_clone(vault, owner)
    failure = {"responseStatus": "FAILURE", "errors": [{"type": "INVALID_DATA", "message": "No metadata."}]}
    sb.hooks("vault").answer("GET", r"/metadata/vobjects/product__v$", failure, times=1)
    job = run_job(job)
    assert job.status != CopyJob.Status.SUCCEEDED
    assert len(_calls(sb, "POST", CLONE)) == 2  # the first window, sent beside the describe
    # Their answers recorded as the run stopped; the next window, marked ahead, pending again.
    assert _statuses(job) == {S.SUCCEEDED: 1000, S.PENDING: PRODUCTS - 1000}
    assert set(job.results.filter(status=S.PENDING).values_list("attempts", flat=True)) == {0}
    job = run_job(copy_job_resume(job=job, user=owner, enqueue=False))
    assert_each_record_copied_once(job)
    assert len(_calls(sb, "POST", CLONE)) == 4
    assert len(_copies(sb)) == PRODUCTS


def test_a_copy_key_field_added_after_the_plan_is_not_what_a_lost_answer_is_found_by(bare_vault, owner):
    """The plan read no copy-key field (as real vaults have none), so the first window went without
    keys; an admin adds the field before the run's describe. A lost answer of that window is found
    again by its copies' values, not looked for by keys it never sent (and sent again)."""
    sb, profile, conn = bare_vault
    sb, job = _planned_clone(bare_vault, owner)
    assert conn.add_copy_key("product__v") == "copy_key__c"
    sb.hooks("vault").lose("POST", CLONE, applied=True)  # the first clone call's answer
    job = run_job(job)
    assert_each_record_copied_once(job)
    assert [e.outcome for e in _calls(sb, "POST", CLONE)].count("lost_applied") == 1
    assert len(_calls(sb, "POST", CLONE)) == 4  # the lost batch found, not sent again
    assert len(_copies(sb)) == PRODUCTS


def test_a_clone_clears_the_unique_fields_its_plan_showed_even_if_the_object_changed_since(vault, owner):
    """Every payload of a job clears the same unique fields, those the preview said it would: the
    first window is sent on the plan's fields, before the run's describe is back."""
    from dataclasses import replace

    sb, profile, conn = vault
    made = conn.create("country__v", [{"name__v": f"Plan Unique {i}", "code__v": f"Q{i}"} for i in range(2)])
    ids = [r.new_id for r in made]
    names = {i: {"name__v": f"Plan Unique Copy {k}"} for k, i in enumerate(ids)}
    job = start_job(profile, owner, "country__v", ids, "clone", row_overrides=names)
    assert [f["name"] for f in job.plan["planned_fields"]["country__v"] if f["name"] == "code__v"] == ["code__v"]
    state = sb.vault.state  # the country code stops being unique before the job runs
    objdef = state.schema["country__v"]
    fields = tuple(replace(f, unique=False) if f.name == "code__v" else f for f in objdef.fields)
    state.schema["country__v"] = replace(objdef, fields=fields, by_name={})
    state.unique["country__v"].pop("code__v")
    job = run_job(job)
    assert_each_record_copied_once(job)
    copies = [r for r in state.records["country__v"].values() if r["name__v"].startswith("Plan Unique Copy")]
    assert len(copies) == 2 and [c.get("code__v") for c in copies] == [None, None]


def test_a_copy_key_field_added_while_a_job_waits_is_not_what_its_lost_answers_are_found_by(bare_vault, owner):
    """A job sent its first batch without keys (the object had no copy-key field), its answer was
    lost and the outage stopped the job before the copy was looked for. An admin adds the field
    meanwhile; the resumed run finds the copy by its values, not by a key it never carried."""
    from records.copying.job_actions import copy_job_resume
    from records.models import CopyJob

    sb, profile, conn = bare_vault
    sb, job = _planned_clone(bare_vault, owner, concurrency=1, options=_set_per_object())
    hooks = sb.hooks("vault")
    hooks.lose("POST", CLONE, applied=True)  # the first batch's answer
    hooks.after("POST", CLONE, lambda: sb.faults("vault").set(p500=1.0), times=1)  # then the outage
    job = run_job(job)
    assert job.status == CopyJob.Status.WAITING, (job.status, job.error_summary)
    assert _statuses(job).get(S.SENDING) == 500  # sent, answer lost, not looked for yet
    sb.faults("vault").set(p500=0.0)
    assert conn.add_copy_key("product__v") == "copy_key__c"
    job = run_job(copy_job_resume(job=job, user=owner, enqueue=False))
    assert_each_record_copied_once(job)
    assert len(_copies(sb)) == PRODUCTS
