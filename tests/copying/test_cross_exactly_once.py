"""A copy into another profile makes exactly one copy of each record in the target, whatever
happens to its answers: a lost insert answer in the target is found again there (by the copy key,
or without one by its values, creation time and API user) and never sent twice. Real RQ worker
processes run the jobs against two sandbox instances."""

import re
import time

import pytest

from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import assert_each_record_copied_once, worker_running
from tests.fixtures.sandbox import find_record

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
CONTACTS_INSERT = r"^/crm/v\d+/Contacts$"


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_zoho_any(request):
    return request.getfixturevalue("cross_zoho" if request.param == "copy-key" else "bare_cross_zoho")


def inserts(sandbox, path, system="zoho"):
    return [e for e in sandbox.log(system) if e.method == "POST" and re.search(path, e.path.split("?")[0])]


def test_a_lost_insert_in_the_target_is_found_there_and_not_sent_again(cross_zoho_any, owner, redis_url):
    source, target = cross_zoho_any
    src = find_record(source.connector, "Accounts", "Reporting Lines")
    target.sandbox.hooks("zoho").lose("POST", CONTACTS_INSERT, applied=True)
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="Accounts",
        source_ids=(src,),
        mode="deep_copy",
        options=CopyOptions(existing="create"),
    )
    job = copy_job_create(request=request, user=owner)
    with worker_running(redis_url, "--burst") as worker:
        worker.wait(180)
    assert_each_record_copied_once(job)
    outcomes = [e.outcome for e in inserts(target.sandbox, CONTACTS_INSERT)]
    # The lost batch is not sent again (the next insert is the contacts of the next wave, if any).
    assert outcomes[0] == "lost_applied" and "lost_applied" not in outcomes[1:]
    assert len(outcomes) == len({r.depth for r in job.results.filter(object_name="Contacts")})
    copies = set(job.results.values_list("new_id", flat=True))
    contacts = [
        c
        for c in target.sandbox.zoho.state.records["Contacts"].values()
        if c["Last_Name"] in {"Lead A", "Lead B", "Solo", "Member"}
    ]
    assert len(contacts) == 4 and {c["id"] for c in contacts} <= copies


def test_a_worker_killed_while_the_target_holds_an_insert_answer_resumes_to_one_copy(cross_zoho_any, owner, redis_url):
    """SIGKILL after the target made the contacts but before the answer reached the worker: the
    lease runs out, resume-stale queues the job again and a second worker finds those copies in
    the target instead of inserting them again."""
    import django_rq

    from records.copying.job_actions import jobs_resume_stale
    from records.models import CopyJob
    from tests.fixtures.engine import kill_worker

    source, target = cross_zoho_any
    src = find_record(source.connector, "Accounts", "Reporting Lines")
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="Accounts",
        source_ids=(src,),
        mode="deep_copy",
        options=CopyOptions(existing="create"),
    )
    job = copy_job_create(request=request, user=owner)
    hold = target.sandbox.hooks("zoho").hold("POST", CONTACTS_INSERT)
    with worker_running(redis_url) as first:
        try:
            assert hold.wait(60), "no insert of contacts in the target"
            kill_worker(first)
        finally:
            hold.release()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING
    CopyJob.objects.filter(pk=job.pk).update(lease_expires_at=job.lease_expires_at.replace(year=2000))
    resumed = jobs_resume_stale()
    assert [j.pk for j in resumed] == [job.pk]
    assert resumed[0].rq_job_id in django_rq.get_queue("default").job_ids
    with worker_running(redis_url, "--burst") as second:
        second.wait(120)
    assert_each_record_copied_once(job)
    names = {"Lead A", "Lead B", "Solo", "Member"}
    contacts = [c for c in target.sandbox.zoho.state.records["Contacts"].values() if c["Last_Name"] in names]
    assert len(contacts) == 4
    assert {c["id"] for c in contacts} <= set(job.results.values_list("new_id", flat=True))


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_vault_any(request):
    return request.getfixturevalue("cross_vault" if request.param == "copy-key" else "bare_cross_vault")


def older_twin(target, object_name, values):
    """A record the target holds already with the copy's name, made by someone else's earlier job:
    older than the reconcile's clock margin (created before the copy was sent)."""
    from django.conf import settings

    made = target.connector.create(object_name, [values])[0]
    assert made.ok
    time.sleep(settings.RECONCILE_CLOCK_MARGIN_SECONDS + 1.2)  # remote times are kept to the second
    return made.new_id


def undo_copy(job, owner, target):
    from records.copying.job_actions import copy_job_undo
    from tests.fixtures.engine import run_job

    return run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=target.connector)


def test_zoho_create_lost_before_it_was_applied_never_claims_the_same_named_record(cross_zoho_any, owner):
    source, target = cross_zoho_any
    src = find_record(source.connector, "Accounts", "Initech")
    twin = older_twin(target, "Accounts", {"Account_Name": "Initech"})
    target.sandbox.clear_log()
    target.sandbox.hooks("zoho").lose("POST", r"^/crm/v\d+/Accounts$", applied=False)
    job = copy_across(cross_zoho_any, owner, "Accounts", [src], "clone")
    assert_each_record_copied_once(job)
    copy_id = job.results.get().new_id
    assert copy_id != twin
    named = [r["id"] for r in target.sandbox.zoho.state.records["Accounts"].values() if r["Account_Name"] == "Initech"]
    assert sorted(named) == sorted([twin, copy_id])  # the retry made exactly one copy
    assert [e.outcome for e in inserts(target.sandbox, r"^/crm/v\d+/Accounts$")] == ["lost_not_applied", "ok"]
    undo_copy(job, owner, target)
    remaining = target.sandbox.zoho.state.records["Accounts"]
    assert twin in remaining and copy_id not in remaining


def test_vault_create_lost_before_it_was_applied_never_claims_the_same_named_record(cross_vault_any, owner):
    source, target = cross_vault_any
    src = find_record(source.connector, "product__v", "Dermacalm")
    twin = older_twin(target, "product__v", {"name__v": "Dermacalm", "status__v": ["active__v"]})
    target.sandbox.clear_log()
    target.sandbox.hooks("vault").lose("POST", r"/vobjects/product__v$", applied=False)
    # Vault names are unique: "make unique" numbers the copy's name once the twin refuses it.
    job = copy_across(cross_vault_any, owner, "product__v", [src], "clone", unique={"product__v": ("name__v",)})
    assert_each_record_copied_once(job)
    copy_id = job.results.get().new_id
    products = target.sandbox.vault.state.records["product__v"]
    assert copy_id != twin and products[twin]["name__v"] == "Dermacalm"
    assert products[copy_id]["name__v"].startswith("Dermacalm") and products[copy_id]["name__v"] != "Dermacalm"
    assert len([p for p in products.values() if p["name__v"].startswith("Dermacalm")]) == 2
    undo_copy(job, owner, target)
    assert twin in products and copy_id not in products


def test_a_copy_into_another_org_through_an_outage_429s_and_lost_answers_ends_with_one_copy_each(cross_zoho_any, owner):
    """The target is down, then answers 429s, 5xx and loses answers after writing: resumed, the job
    ends with each record copied once there."""
    from django.utils import timezone

    from records.copying.job_actions import copy_job_resume, copy_job_run, jobs_resume_stale
    from records.models import CopyJob
    from tests.fixtures.sandbox import fast

    source, target = cross_zoho_any
    src = find_record(source.connector, "Accounts", "Reporting Lines")
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="Accounts",
        source_ids=(src,),
        mode="deep_copy",
        options=CopyOptions(existing="create"),
    )
    job = copy_job_create(request=request, user=owner, enqueue=False, connector=source.connector)
    writer = fast(target.connector)
    faults, ended = target.sandbox.faults("zoho"), []
    for round_, knobs in enumerate(
        [dict(p500=1.0, seed=22), dict(p429=0.3, p500=0.15, p_drop_after_write=0.3, seed=21), {}, {}]
    ):
        faults.set(**knobs) if knobs else faults.clear()
        if job.status == CopyJob.Status.WAITING:  # its wait over, as the worker's loop finds it
            CopyJob.objects.filter(pk=job.pk).update(resume_at=timezone.now())
            jobs_resume_stale()
        elif round_:
            copy_job_resume(job=job, user=owner, enqueue=False)
        job = copy_job_run(job_id=job.pk, worker_id=f"r{round_}", connector=writer, source_connector=source.connector)
        ended.append(job.status)
        if job.status == CopyJob.Status.SUCCEEDED:
            break
    faults.clear()
    assert ended[0] != CopyJob.Status.SUCCEEDED, ended  # the outage stopped it
    assert job.status == CopyJob.Status.SUCCEEDED, (job.status, job.error_summary)
    assert_each_record_copied_once(job)
    copies = {r.new_id for r in job.results.all()}
    by_name = [
        c for c in target.sandbox.zoho.state.records["Contacts"].values() if c["Last_Name"] in ("Lead A", "Solo")
    ]
    assert len(by_name) == 2 and {c["id"] for c in by_name} <= copies
