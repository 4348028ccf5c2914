"""References inside an engine-built deep copy (records/copying/repoint.py), over HTTP against the
sandbox: their copies point at the copies, never back into the source tree, exactly once and
undoable. Zoho: the demo's "Reporting Lines" account has four contacts whose Reports_To point at
each other (a cycle), at itself and at a colleague, set by Update Records (PUT) after the inserts.
Vault: the demo's "Linked Product" has a formulation based on its sibling and one based on itself
(`based_on__c`)."""

import pytest

from records.connectors import connector_for
from records.copying.job_actions import copy_job_run, copy_job_undo, jobs_resume_stale
from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.models import CopyJob
from sandbox.zoho_demo import REPORTING_ACCOUNT, REPORTING_LINES
from tests.fixtures.engine import copy_now, copy_request, run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
MODULES = ("Accounts", "Contacts")


def counts(sb):
    return {m: len(sb.zoho.state.records[m]) for m in MODULES}


def puts(sb):
    return [e for e in sb.log("zoho") if e.method == "PUT" and e.path.endswith("/Contacts")]


def contact_inserts(sb):
    return [e for e in sb.log("zoho") if e.method == "POST" and e.path.endswith("/Contacts")]


def reports_to(sb, contact_id):
    return sb.zoho.state.get("Contacts", contact_id).get("Reports_To")


def source_lines(sb, account_id):
    """{contact id: the id of the contact it reports to} for the contacts of an account."""
    recs = sb.zoho.state.records["Contacts"].values()
    return {r["id"]: r.get("Reports_To") for r in recs if r.get("Account_Name") == account_id}


def copy(profile, user, src, name, **options):
    return copy_now(
        profile,
        user,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Account_Name": name},
        options=CopyOptions(**options),
    )


def assert_repointed(sb, job, lines):
    copy_of = dict(job.results.filter(object_name="Contacts").values_list("source_id", "new_id"))
    assert set(copy_of) == set(lines)
    for source_id, boss in lines.items():
        assert reports_to(sb, copy_of[source_id]) == copy_of[boss], source_id


def test_demo_account_has_a_cycle_a_self_reference_and_a_colleague(zoho):
    sb, _, conn = zoho
    lines = source_lines(sb, find_record(conn, "Accounts", REPORTING_ACCOUNT))
    assert len(lines) == len(REPORTING_LINES) == 4
    assert len([c for c, b in lines.items() if b == c]) == 1
    assert len([c for c, b in lines.items() if b != c and lines[b] == c]) == 2
    info = {f.name: f for f in conn.describe("Contacts")}["Reports_To"]
    assert info.reference_to == "Contacts" and info.editable and not info.required


def test_copies_report_to_the_copies_then_undo_removes_all(zoho, owner):
    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", REPORTING_ACCOUNT)
    lines = source_lines(sb, src)
    before = counts(sb)
    into_source = []  # copies seen pointing into the source tree, after each insert of contacts

    def look():
        recs = sb.zoho.state.records["Contacts"].values()
        into_source.extend(r["id"] for r in recs if r["id"] not in lines and r.get("Reports_To") in lines)

    sb.hooks("zoho").after("POST", r"/Contacts$", look)
    job = copy(profile, owner, src, "Reporting Copy")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == 5
    assert {m: counts(sb)[m] - before[m] for m in MODULES} == {"Accounts": 1, "Contacts": 4}
    assert_repointed(sb, job, lines)
    assert source_lines(sb, src) == lines  # the source tree is untouched
    # The colleague is inserted after the contact it reports to (its insert carries the copy's id).
    # The two of the cycle share a wave with each other (same-wave references) and the self-reference
    # can't point at a copy yet: one Update Records call sets the three afterwards, with trigger []
    # as on the inserts. Two contact inserts: the wave of the cycle and Solo, then the colleague's.
    assert len(puts(sb)) == 1 and len(contact_inserts(sb)) == 2
    assert len(job.state["repoint"][src]["refs"]) == 3
    cycle = [c for c, b in lines.items() if b != c and lines[b] == c]
    assert len({job.results.get(source_id=c).depth for c in cycle}) == 1
    update = [a for a in sb.zoho.state.actions if a["op"] == "update"]
    assert len(update) == 1 and len(update[0]["ids"]) == 3 and update[0]["automations_ran"] is False
    solo = next(c for c, b in lines.items() if b == c)
    row = job.results.get(source_id=solo)
    assert row.values["Reports_To"] == row.new_id  # the job page shows what the reference became
    assert contact_inserts(sb) and into_source == []  # no copy ever pointed into the source tree

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False))
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert counts(sb) == before


def test_run_workflows_lets_the_update_fire_them_too(zoho, owner):
    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", REPORTING_ACCOUNT)
    job = copy(profile, owner, src, "Reporting Workflows", run_workflows=True)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    writes = [a for a in sb.zoho.state.actions if a["op"] in ("insert", "update")]
    assert {a["op"] for a in writes} == {"insert", "update"}
    assert all(a["automations_ran"] and a["trigger"] is None for a in writes)
    assert_repointed(sb, job, source_lines(sb, src))


def test_a_lost_update_answer_is_sent_again_on_resume_without_duplicates(zoho, owner):
    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", REPORTING_ACCOUNT)
    lines = source_lines(sb, src)
    before = counts(sb)
    # The update is applied, its answer lost: the connector can't know; the job waits.
    sb.faults("zoho").set(p_drop_after_write=1.0, drop_method="PUT", seed=1)
    job = copy(profile, owner, src, "Reporting Lost")
    assert job.status == CopyJob.Status.WAITING, (job.status, job.error_summary)
    assert job.state["repoint"][src]["phase"] == "sending" and len(puts(sb)) == 1
    sb.faults("zoho").clear()
    resumed = jobs_resume_stale(now=job.resume_at)
    assert [j.pk for j in resumed] == [job.pk]
    inserts_before = len(contact_inserts(sb))
    job = run_job(job, worker="second")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.state["repoint"][src]["phase"] == "done" and len(puts(sb)) == 2  # the pass sent once more
    assert len(contact_inserts(sb)) == inserts_before
    assert {m: counts(sb)[m] - before[m] for m in MODULES} == {"Accounts": 1, "Contacts": 4}
    assert_repointed(sb, job, lines)


def test_the_preview_counts_the_update_call(zoho):
    from tests.fixtures.engine import preview

    sb, profile, conn = zoho
    plan = preview(profile, "Accounts", [find_record(conn, "Accounts", REPORTING_ACCOUNT)], "deep_copy")
    # The clone, the inserts of two waves of contacts, then the update of the three references.
    assert "then 1 update call re-pointing references inside it: 4 write calls" in plan.way
    acme = preview(profile, "Accounts", [find_record(conn, "Accounts", "Acme Corp")], "deep_copy")
    assert "update" not in acme.way


def test_a_refused_update_is_noted_on_the_rows_and_the_copies_point_nowhere(zoho, owner):
    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", REPORTING_ACCOUNT)
    lines = source_lines(sb, src)
    refused = {"code": "RECORD_LOCKED", "details": {}, "message": "the record is locked", "status": "error"}
    sb.hooks("zoho").answer("PUT", r"/Contacts$", {"data": [refused] * 3})
    job = copy(profile, owner, src, "Reporting Refused")
    # The copies exist (a retry must not create them again): the job succeeds, the rows say what wasn't set.
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    noted = job.results.exclude(values__isnull=True).filter(values__has_key="_references_not_set")
    assert noted.count() == 3 and all("locked" in r.values["_references_not_set"] for r in noted)
    for row in noted:
        assert reports_to(sb, row.new_id) is None  # left empty by the insert, never the source's contact
    member = next(c for c, b in lines.items() if b != c and lines[b] != c)
    row = job.results.get(source_id=member)
    assert reports_to(sb, row.new_id) == job.results.get(source_id=lines[member]).new_id


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_the_second_pass_is_resumed_without_duplicates(zoho, owner, redis_url):
    import time

    from django.core.management import call_command

    from tests.fixtures.engine import start_job, worker_running

    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", REPORTING_ACCOUNT)
    lines = source_lines(sb, src)
    before = counts(sb)
    job = start_job(
        profile, owner, "Accounts", [src], "deep_copy", enqueue=True, overrides={"Account_Name": "Reporting Killed"}
    )
    hold = sb.hooks("zoho").hold("PUT", r"/Contacts$")  # the update is applied; its answer waits
    with worker_running(redis_url):  # SIGKILLed at the end of the block, while it waits
        assert hold.wait(60)
    hold.release()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING and job.state["repoint"][src]["phase"] == "sending"
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit):
        call_command("job", "resume-stale")
    with worker_running(redis_url, "--burst") as second:
        second.wait(120)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == 5 and len(puts(sb)) == 2
    assert {m: counts(sb)[m] - before[m] for m in MODULES} == {"Accounts": 1, "Contacts": 4}
    assert_repointed(sb, job, lines)


VAULT_OBJECTS = ("product__v", "formulation__c", "packaging__c")


# -- Vault: formulations based on a sibling and on themselves ------------------------------------


def linked_product(conn):
    return next(r.id for r in conn.search("product__v", "Linked Product").records if r.name == "Linked Product")


def create_vault_job(profile, user, src, name):
    return copy_job_create(
        request=copy_request(
            profile, "product__v", [src], "deep_copy", overrides={"name__v": name}, options=CopyOptions(engine=True)
        ),
        user=user,
        enqueue=False,
    )


def vault_counts(sb):
    return {o: len(sb.vault.state.records[o]) for o in VAULT_OBJECTS}


def vault_puts(sb):
    return [e for e in sb.log("vault") if e.method == "PUT" and "/vobjects/formulation__c" in e.path]


def source_links(conn, src):
    """{formulation id: the formulation it is based on} for the source product's formulations."""
    rows = conn.find("formulation__c", {"product__c": src})
    return {r.id: conn.get("formulation__c", r.id).fields.get("based_on__c") for r in rows}


def assert_vault_repointed(conn, job, links):
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
    before = vault_counts(sb)
    job = copy_job_run(job_id=create_vault_job(profile, owner, src, "Linked Copy").pk, worker_id="test")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == 16
    assert {o: vault_counts(sb)[o] - before[o] for o in VAULT_OBJECTS} == {
        "product__v": 1,
        "formulation__c": 5,
        "packaging__c": 10,
    }
    assert_vault_repointed(conn, job, links)
    assert source_links(conn, src) == links  # the source tree is untouched
    # The sibling is created in a later wave than the one it is based on (its create carries the
    # copy's id); the self-reference and the cycle (whose two share a wave, records/copying/waves.py)
    # can't be: one Update Object Records call sets the three afterwards.
    assert len(vault_puts(sb)) == 1
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
    assert vault_counts(sb) == before


def test_a_lost_answer_to_the_second_pass_is_sent_again_on_resume_without_duplicates(vault, owner):
    sb, profile, conn = vault
    src = linked_product(conn)
    links = source_links(conn, src)
    before = vault_counts(sb)
    # The update is applied, its answer lost: the connector can't know; the job waits.
    sb.faults("vault").set(p_drop_after_write=1.0, drop_method="PUT", seed=1)
    job = copy_job_run(job_id=create_vault_job(profile, owner, src, "Linked Lost").pk, worker_id="first")
    assert job.status == CopyJob.Status.WAITING, (job.status, job.error_summary)
    assert job.state["repoint"][src]["phase"] == "sending" and len(vault_puts(sb)) == 1
    sb.faults("vault").clear()
    resumed = jobs_resume_stale(now=job.resume_at)
    assert [j.pk for j in resumed] == [job.pk]
    creates_before = len([e for e in sb.log("vault") if e.method == "POST" and "/vobjects/" in e.path])
    job = copy_job_run(job_id=job.pk, worker_id="second")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.state["repoint"][src]["phase"] == "done" and len(vault_puts(sb)) == 2  # the pass sent once more
    assert len([e for e in sb.log("vault") if e.method == "POST" and "/vobjects/" in e.path]) == creates_before
    assert {o: vault_counts(sb)[o] - before[o] for o in VAULT_OBJECTS} == {
        "product__v": 1,
        "formulation__c": 5,
        "packaging__c": 10,
    }
    assert_vault_repointed(conn, job, links)


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
    before = vault_counts(sb)
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
    assert {o: vault_counts(sb)[o] - before[o] for o in VAULT_OBJECTS} == {
        "product__v": 1,
        "formulation__c": 5,
        "packaging__c": 10,
    }
    assert_vault_repointed(conn, job, links)


def test_a_plan_kept_in_part_by_a_stopped_run_is_completed_on_resume_each_reference_once(vault, owner):
    sb, profile, conn = vault
    src = linked_product(conn)
    links = source_links(conn, src)
    whole = copy_job_run(job_id=create_vault_job(profile, owner, src, "Linked Whole").pk, worker_id="test")
    refs = whole.state["repoint"][src]["refs"]
    before = vault_counts(sb)
    job = create_vault_job(profile, owner, src, "Linked Parts")
    # As a run stopped between two pieces of its tree leaves it: the plan of the records up to a
    # place in the order the tree is read (depth, id), here the first record with a later reference.
    marks = {source_id: (depth, pk) for depth, pk, source_id in job.results.values_list("depth", "pk", "source_id")}
    through = min(marks[r[1]] for r in refs)
    part = [r for r in refs if marks[r[1]] <= through]
    assert 0 < len(part) < len(refs)
    job.state["repoint"] = {src: {"phase": "", "refs": part, "through": list(through)}}
    job.save(update_fields=["state"])

    job = copy_job_run(job_id=job.pk, worker_id="second")

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    kept = job.state["repoint"][src]
    assert sorted(kept["refs"]) == sorted(refs) and "through" not in kept  # each reference once, none left out
    assert {o: vault_counts(sb)[o] - before[o] for o in VAULT_OBJECTS} == {
        "product__v": 1,
        "formulation__c": 5,
        "packaging__c": 10,
    }
    assert_vault_repointed(conn, job, links)
