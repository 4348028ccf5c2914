"""References inside an engine-built Vault copy (issue 16), over HTTP against the sandbox: the demo's
"Linked Product" has a formulation based on its sibling and one based on itself (`based_on__c`);
their copies point at the copies, never back into the source tree, exactly once and undoable."""

import pytest

from records.connectors import connector_for
from records.copying.job_actions import copy_job_run, copy_job_undo, jobs_resume_stale
from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_request

S = RecordResult.Status
OBJECTS = ("product__v", "formulation__c", "packaging__c")


@pytest.fixture
def vault(fresh_sandbox, vault_profile, settings):
    settings.VAULT_JOB_POLL_SECONDS = 0.2
    return fresh_sandbox, vault_profile, connector_for(vault_profile)


def linked_product(conn):
    return next(r.id for r in conn.search("product__v", "Linked Product").records if r.name == "Linked Product")


def create(profile, user, src, name):
    return copy_job_create(
        request=copy_request(
            profile, "product__v", [src], "deep_copy", overrides={"name__v": name}, options=CopyOptions(engine=True)
        ),
        user=user,
        enqueue=False,
    )


def counts(sb):
    return {o: len(sb.vault.state.records[o]) for o in OBJECTS}


def puts(sb):
    return [e for e in sb.log("vault") if e.method == "PUT" and "/vobjects/formulation__c" in e.path]


def source_links(conn, src):
    """{formulation id: the formulation it is based on} for the source product's formulations."""
    rows = conn.find("formulation__c", {"product__c": src})
    return {r.id: conn.get("formulation__c", r.id).fields.get("based_on__c") for r in rows}


def assert_repointed(conn, job, links):
    copy_of = dict(job.results.filter(object_name="formulation__c").values_list("source_id", "new_id"))
    assert set(copy_of) == set(links)
    for source_id, based_on in links.items():
        copied = conn.get("formulation__c", copy_of[source_id]).fields
        assert copied.get("based_on__c") == (copy_of[based_on] if based_on else None), source_id


def test_demo_product_has_a_sibling_and_a_self_reference(vault):
    _, _, conn = vault
    links = source_links(conn, linked_product(conn))
    assert len(links) == 5
    others = [f for f, b in links.items() if b and b != f]
    cycle = [f for f in others if links[links[f]] == f]
    assert len(others) == 3 and all(links[f] in links for f in others) and len(cycle) == 2
    assert len([f for f, b in links.items() if b == f]) == 1
    info = {f.name: f for f in conn.describe("formulation__c")}["based_on__c"]
    assert info.reference_to == "formulation__c" and not info.required


def test_engine_built_copy_points_the_copies_at_the_copies_then_undo_removes_all(vault, owner):
    sb, profile, conn = vault
    src = linked_product(conn)
    links = source_links(conn, src)
    before = counts(sb)
    job = copy_job_run(job_id=create(profile, owner, src, "Linked Copy").pk, worker_id="test")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == 16
    assert {o: counts(sb)[o] - before[o] for o in OBJECTS} == {"product__v": 1, "formulation__c": 5, "packaging__c": 10}
    assert_repointed(conn, job, links)
    assert source_links(conn, src) == links  # the source tree is untouched
    # The sibling is created in a later wave than the one it is based on (its create carries the
    # copy's id); the self-reference and the cycle (whose two share a wave, records/copying/waves.py)
    # can't be: one Update Object Records call sets the three afterwards.
    assert len(puts(sb)) == 1
    selves = next(f for f, b in links.items() if b == f)
    row = job.results.get(object_name="formulation__c", source_id=selves)
    assert row.values["based_on__c"] == row.new_id  # the job page shows what the reference became
    sibling = next(f for f, b in links.items() if b and b != f and links[b] != f)
    assert job.results.get(source_id=sibling).depth > job.results.get(source_id=links[sibling]).depth
    assert len(job.state["repoint"][src]["refs"]) == 3
    cycle = [f for f, b in links.items() if b and b != f and links[b] == f]
    assert len({job.results.get(source_id=f).depth for f in cycle}) == 1

    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    undo = copy_job_run(job_id=undo.pk, worker_id="test")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert counts(sb) == before


def test_a_lost_answer_to_the_second_pass_is_sent_again_on_resume_without_duplicates(vault, owner):
    sb, profile, conn = vault
    src = linked_product(conn)
    links = source_links(conn, src)
    before = counts(sb)
    # The update is applied, its answer lost: the connector can't know; the job waits.
    sb.faults("vault").set(p_drop_after_write=1.0, drop_method="PUT", seed=1)
    job = copy_job_run(job_id=create(profile, owner, src, "Linked Lost").pk, worker_id="first")
    assert job.status == CopyJob.Status.WAITING, (job.status, job.error_summary)
    assert job.state["repoint"][src]["phase"] == "sending" and len(puts(sb)) == 1
    sb.faults("vault").clear()
    resumed = jobs_resume_stale(now=job.resume_at)
    assert [j.pk for j in resumed] == [job.pk]
    creates_before = len([e for e in sb.log("vault") if e.method == "POST" and "/vobjects/" in e.path])
    job = copy_job_run(job_id=job.pk, worker_id="second")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.state["repoint"][src]["phase"] == "done" and len(puts(sb)) == 2  # the pass sent once more
    assert len([e for e in sb.log("vault") if e.method == "POST" and "/vobjects/" in e.path]) == creates_before
    assert {o: counts(sb)[o] - before[o] for o in OBJECTS} == {"product__v": 1, "formulation__c": 5, "packaging__c": 10}
    assert_repointed(conn, job, links)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_mid_copy_with_references_resumes_without_duplicates(
    fresh_sandbox, vault_profile, owner, redis_url
):
    import time

    from django.core.management import call_command

    from tests.fixtures.engine import wait_for, worker_running

    sb, conn = fresh_sandbox, connector_for(vault_profile)
    src = linked_product(conn)
    links = source_links(conn, src)
    before = counts(sb)
    job = copy_job_create(
        request=copy_request(
            vault_profile,
            "product__v",
            [src],
            "deep_copy",
            overrides={"name__v": "Linked Resumed"},
            options=CopyOptions(engine=True),
        ),
        user=owner,
    )
    sb.faults("vault").set(latency=0.4)
    # SIGKILLed once the formulations exist: the packagings and the second pass are still to come.
    with worker_running(redis_url):
        assert wait_for(lambda: CopyJob.objects.get(pk=job.pk).succeeded_count >= 5, 120)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit):
        call_command("job", "resume-stale")
    sb.faults("vault").clear()
    with worker_running(redis_url, "--burst") as second:
        second.wait(120)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == 16
    assert {o: counts(sb)[o] - before[o] for o in OBJECTS} == {"product__v": 1, "formulation__c": 5, "packaging__c": 10}
    assert_repointed(conn, job, links)
