"""A deep copy built by the engine level by level, against the sandbox over HTTP: Vault's hierarchy
through Create Object Records with source_record_id and the new parent, <= 500 rows a call,
exactly once; a worker SIGKILLed mid copy (Vault, and a Zoho account with 1,000+ records) resumed
without duplicates."""

import time
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.connectors import connector_for
from records.copying.job_actions import copy_job_run, copy_job_undo
from records.copying.options import CopyOptions
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import (
    assert_each_record_copied_once,
    copy_now,
    preview,
    start_job,
    wait_for,
    worker_running,
)

S = RecordResult.Status


def find_id(conn, name):
    return next(r.id for r in conn.search("product__v", name).records if r.name == name)


def run(profile, user, ids, **kw):
    return copy_now(profile, user, "product__v", ids, "deep_copy", **kw)


def creates(sb):
    return [
        e
        for e in sb.log("vault")
        if e.method == "POST" and "/vobjects/" in e.path and "deep_copy" not in e.path and "actions" not in e.path
    ]


def test_leaving_out_a_branch_and_a_field_below_the_top_are_built_by_the_engine(vault, owner):
    sb, profile, conn = vault
    src = find_id(conn, "Neurolax")
    options = CopyOptions(exclude=("packaging__c",), fields={"formulation__c": {"strength__c": "{strength__c} v2"}})
    plan = preview(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Neurolax E"}, options=options)
    assert not plan.refused_reason, plan.refused_reason
    assert "leaves out a branch" in plan.way and "write calls" in plan.way
    assert {o.object_name for o in plan.objects} == {"product__v", "formulation__c"}
    job = run(profile, owner, [src], overrides={"name__v": "Neurolax E"}, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == plan.total
    root = job.results.get(depth=0).new_id
    copied = read_tree(conn, "product__v", root)
    assert {n.object_name for n in copied} == {"product__v", "formulation__c"}
    assert len(copied) == plan.total
    for row in job.results.filter(object_name="formulation__c"):
        original, copy = conn.get("formulation__c", row.source_id).fields, conn.get("formulation__c", row.new_id).fields
        assert copy["product__c"] == root
        assert copy["strength__c"] == f"{original.get('strength__c') or ''} v2"
    assert not any("deep_copy" in e.path for e in sb.log("vault"))  # not Vault's own deep copy


def test_over_10000_is_refused_without_engine_before_any_write(vault, owner):
    sb, profile, conn = vault
    src = find_id(conn, "Mega Product")
    with pytest.raises(ValidationError, match="Build the hierarchy level by level"):
        start_job(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Mega 2"})
    assert not creates(sb)


def test_mega_product_with_engine_copied_exactly_once_then_undone(vault, owner):
    sb, profile, conn = vault
    src = find_id(conn, "Mega Product")
    options = CopyOptions(engine=True)
    plan = preview(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Mega 2"}, options=options)
    assert not plan.refused_reason and plan.related_total > 10_000
    assert "more than 10,000 related records" in plan.way
    calls_before = len(creates(sb))
    before = {o: len(sb.vault.state.records[o]) for o in ("product__v", "formulation__c", "packaging__c")}
    job = run(profile, owner, [src], overrides={"name__v": "Mega 2"}, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == plan.total
    after = {o: len(sb.vault.state.records[o]) for o in before}
    counts = {o.object_name: 0 for o in plan.objects}
    for o in plan.objects:
        counts[o.object_name] += o.count
    assert {o: after[o] - before[o] for o in before} == counts  # each record copied once
    minimum = 1 + sum(-(-o.count // 500) for o in plan.objects if o.depth > 0)
    made = len(creates(sb)) - calls_before
    assert minimum <= made <= 1.1 * minimum, (made, minimum)
    new_ids = set(job.results.values_list("new_id", flat=True))
    assert len(new_ids) == job.planned_count
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    undo = copy_job_run(job_id=undo.pk, worker_id="test")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert {o: len(sb.vault.state.records[o]) for o in before} == before


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_mid_engine_built_vault_copy_resumes_without_duplicates(
    fresh_sandbox, vault_profile, owner, redis_url
):
    import time

    from django.core.management import call_command

    sb, conn = fresh_sandbox, connector_for(vault_profile)
    src = find_id(conn, "Mega Product")
    job = start_job(
        vault_profile,
        owner,
        "product__v",
        [src],
        "deep_copy",
        enqueue=True,
        overrides={"name__v": "Mega Resumed"},
        options=CopyOptions(engine=True),
    )
    before = {o: len(sb.vault.state.records[o]) for o in ("product__v", "formulation__c", "packaging__c")}
    # Slow enough that the ~8,700 records left take several round trips after the count is seen
    # (at five 500-record creates in flight, the copy's creates are ~5 rounds after the top record's).
    sb.faults("vault").set(latency=0.6)
    with worker_running(redis_url):  # SIGKILLed at the end of the block
        assert wait_for(lambda: CopyJob.objects.get(pk=job.pk).succeeded_count > 1500, 180)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING and job.succeeded_count < job.planned_count
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit):
        call_command("job", "resume-stale")
    sb.faults("vault").clear()
    with worker_running(redis_url, "--burst") as second:
        second.wait(600)  # ~8,700 records left; a machine running other tests at once takes minutes
    assert_each_record_copied_once(job)
    added = sum(len(sb.vault.state.records[o]) - n for o, n in before.items())
    assert added == job.planned_count  # no record created twice


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_killed_worker_is_resumed_and_copies_each_record_once(fresh_sandbox, zoho_profile, owner, redis_url):
    conn = connector_for(zoho_profile)
    # "Huge Account" (2,000+ related records) when the emulator has it, else "Big Account".
    src = next(
        r.id
        for name in ("Huge Account", "Big Account")
        for r in conn.search("Accounts", name).records
        if r.name == name
    )
    job = start_job(
        zoho_profile, owner, "Accounts", [src], "deep_copy", enqueue=True, overrides={"Account_Name": "Resumed Co"}
    )
    assert job.planned_count >= 1000
    fresh_sandbox.faults("zoho").set(latency=0.05)
    with worker_running(redis_url):  # SIGKILLed at the end of the block
        assert wait_for(lambda: CopyJob.objects.get(pk=job.pk).succeeded_count > job.planned_count // 4, 120)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING and job.succeeded_count < job.planned_count
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit) as exit_:
        call_command("job", "resume-stale")
    assert exit_.value.code == 0
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.QUEUED
    fresh_sandbox.faults("zoho").clear()
    with worker_running(redis_url, "--burst") as second:
        second.wait(600)  # the rest of the copy; minutes on a machine running other tests
    assert_each_record_copied_once(job)
    new_root = job.results.get(depth=0).new_id
    assert len(read_tree(conn, "Accounts", new_root)) == len(read_tree(conn, "Accounts", src)) == job.planned_count
    assert len(conn.find("Accounts", {"Account_Name": "Resumed Co"})) == 1


@pytest.mark.django_db(transaction=True)  # the job runs in a thread of its own while the test looks on
def test_the_second_pass_is_planned_while_the_top_records_clone_is_unanswered(vault, owner):
    import threading

    sb, profile, conn = vault
    src = find_id(conn, "Neurolax")
    options = CopyOptions(engine=True)
    job = start_job(
        profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Neurolax Early"}, options=options
    )
    hold = sb.hooks("vault").hold("POST", r"/vobjects/product__v$")  # the top record's clone, answered late
    ended: list = []
    worker = threading.Thread(target=lambda: ended.append(copy_job_run(job_id=job.pk, worker_id="test")))
    worker.start()
    try:
        assert hold.wait(30)
        # The plan kept (and the pipeline's rows worked out) before the clone's answer is in: the
        # first wave's batch then waits for nothing but that answer.
        planned = wait_for(lambda: src in CopyJob.objects.get(pk=job.pk).state.get("repoint", {}), timeout=10)
        children_sent = [e for e in creates(sb) if "product__v" not in e.path]
    finally:
        hold.release()
        worker.join(60)
    assert planned
    assert not children_sent  # no child before its parent's copy exists
    assert ended and ended[0].status == CopyJob.Status.SUCCEEDED, ended and ended[0].error_summary
    assert ended[0].succeeded_count == ended[0].planned_count


@pytest.mark.django_db(transaction=True)  # the batches go from threads; the hook reads the job from the server's
def test_a_tree_read_in_pieces_keeps_each_pieces_plan_before_its_creates_and_no_partial_batch_goes_early(vault, owner):
    from django.db import connection

    sb, profile, conn = vault
    src = find_id(conn, "Mega Product")  # 10,202 rows: 21 pieces of tree_pieces.PIECE_ROWS
    # Slots for every batch at once: a partial batch would find one free while its group is read.
    profile.concurrency = 25
    profile.save(update_fields=["concurrency"])
    options = CopyOptions(engine=True)
    job = start_job(
        profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Mega Pieces"}, options=options
    )
    seen: list[tuple[bool, list]] = []  # per create: the plan kept in part?, rows sent that it doesn't hold

    def check_plan():
        try:
            plan = CopyJob.objects.get(pk=job.pk).state.get("repoint", {}).get(src)
            through = tuple(plan["through"]) if plan and "through" in plan else None
            sending = job.results.filter(status=S.SENDING).values_list("depth", "pk")
            seen.append((through is not None, [m for m in sending if plan is None or (through and m > through)]))
        finally:
            connection.close()  # the server's thread

    sb.hooks("vault").after("POST", r"/vobjects/(product__v|formulation__c|packaging__c)$", check_plan)
    before = len(creates(sb))

    job = copy_job_run(job_id=job.pk, worker_id="test")

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == 10_202
    assert seen and [uncovered for _, uncovered in seen if uncovered] == []  # each row's plan kept before its create
    assert any(partial for partial, _ in seen)  # the first creates went while the tree was still being read
    # No partial batch while the rest of its group was still unread: 10,100 packagings in 21 calls,
    # each of 500 but the last one sent (a batch's rows are marked SENDING together, one stamp).
    calls = Counter(e.path.rsplit("/", 1)[-1] for e in creates(sb)[before:])
    assert calls == {"product__v": 1, "formulation__c": 1, "packaging__c": 21}
    stamps = Counter(job.results.filter(object_name="packaging__c").values_list("sending_at", flat=True))
    sizes = [n for _, n in sorted(stamps.items())]
    assert sizes == [500] * 20 + [100], sizes
