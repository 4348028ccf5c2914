"""Undo deletes only what its job created and nobody has changed since: the sandbox over HTTP,
without copy-key fields, its demo data made by another user than the API user; undos run by real
worker processes where the test is about what a worker does."""

import time

import pytest
from django.urls import reverse

from records.connectors.errors import NotFound
from records.copying.job_actions import copy_job_resume, copy_job_undo
from records.copying.job_create import copy_job_create
from records.copying.job_words import status_words
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from sandbox.zoho_demo import REPORTING_ACCOUNT
from tests.fixtures.engine import copy_now, copy_request, run_job, worker_running
from tests.fixtures.sandbox import find_record, small_account

S = RecordResult.Status
MARGIN = 1.0  # settings.UNDO_CLOCK_MARGIN_SECONDS here and in the workers: the times are whole seconds
PAST_MARGIN = 2.5  # a wait that puts an edit (or a record) clearly beyond the margin


@pytest.fixture
def margin(settings):
    settings.UNDO_CLOCK_MARGIN_SECONDS = MARGIN


def exists(conn, object_name, record_id) -> bool:
    try:
        conn.get(object_name, record_id)
    except NotFound:
        return False
    return True


def undo_in_worker(job, owner, redis_url, **kw):
    """Queue the undo of `job` and let a real worker process run it to its end."""
    undo = copy_job_undo(job=job, user=owner, **kw)
    run_queue(redis_url)
    return CopyJob.objects.get(pk=undo.pk)


def run_queue(redis_url):
    with worker_running(redis_url, "--burst", UNDO_CLOCK_MARGIN_SECONDS=str(MARGIN), VAULT_JOB_POLL_SECONDS="0.2") as w:
        w.wait(90)


def demo_accounts(conn):
    """The demo org's accounts (made by another user before any test), none a copy."""
    ids = [r.id for r in conn.search("Accounts", "").records]
    user = conn.api_user_id()
    return [rid for rid, r in conn.stamps("Accounts", ids).items() if r.created_by != user]


def clone_two_accounts(conn, profile, owner):
    ids = demo_accounts(conn)[:2]
    rows = {sid: {"Account_Name": f"Undo Safety {n}"} for n, sid in enumerate(ids)}
    job = copy_now(profile, owner, "Accounts", ids, "clone", row_overrides=rows)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    return job, [job.results.get(source_id=sid).new_id for sid in ids]


# -- changed since the copy --------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_copy_edited_after_the_copy_is_kept_and_deleted_only_when_asked(bare_zoho, owner, redis_url, margin):
    sb, profile, conn = bare_zoho
    job, (edited, untouched) = clone_two_accounts(conn, profile, owner)
    time.sleep(PAST_MARGIN)
    assert conn.update("Accounts", [{"id": edited, "Description": "changed by a colleague"}])[0].ok

    undo = undo_in_worker(job, owner, redis_url)
    assert undo.status == CopyJob.Status.PARTIAL, undo.error_summary
    assert status_words(undo) == "Partly done: 1 deleted, 1 kept: changed since the copy"
    assert exists(conn, "Accounts", edited) and not exists(conn, "Accounts", untouched)
    kept = undo.results.get(source_id=edited)
    assert kept.status == S.SKIPPED and kept.error_type == "KEPT_CHANGED"
    assert kept.error_message.startswith("Changed since the copy — kept")
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.SUCCEEDED  # not undone: a copy is left

    # Resumed with "also delete records changed since the copy": the choice stays with the undo.
    copy_job_resume(job=undo, user=owner, include_changed=True)
    run_queue(redis_url)
    undo.refresh_from_db()
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert undo.options == {"include_changed": True}
    assert not exists(conn, "Accounts", edited)
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.UNDONE


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
@pytest.mark.django_db
def test_an_undos_lost_delete_answer_is_settled_by_what_the_system_holds(bare_zoho, owner, margin, applied):
    """A delete sent whose answer was lost (its row left sending): a copy already gone counts as
    deleted, one still there is checked again and deleted; the other copy is deleted as usual."""
    sb, profile, conn = bare_zoho
    job, (lost, other) = clone_two_accounts(conn, profile, owner)
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    undo.results.filter(source_id=lost).update(status=S.SENDING)
    if applied:
        assert conn.delete("Accounts", [lost])[0].ok
    undo = run_job(undo, worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED, [r.error_message for r in undo.results.all()]
    assert set(undo.results.values_list("status", flat=True)) == {S.SUCCEEDED}
    assert not exists(conn, "Accounts", lost) and not exists(conn, "Accounts", other)
    assert all(exists(conn, "Accounts", sid) for sid in job.results.values_list("source_id", flat=True))


@pytest.mark.parametrize("skew", [-600, 600], ids=["remote-clock-behind", "remote-clock-ahead"])
@pytest.mark.django_db
def test_undo_reads_times_on_the_remotes_clock(bare_zoho, owner, margin, skew):
    """Ten minutes off either way: a fresh copy is still deleted (not "created before the copy",
    not "changed"), an edited one still kept."""
    sb, profile, conn = bare_zoho
    sb.set_clock_skew(skew)
    job, (edited, untouched) = clone_two_accounts(conn, profile, owner)
    time.sleep(PAST_MARGIN)
    assert conn.update("Accounts", [{"id": edited, "Description": "changed"}])[0].ok
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    assert status_words(undo) == "Partly done: 1 deleted, 1 kept: changed since the copy", [
        r.error_message for r in undo.results.all()
    ]
    assert exists(conn, "Accounts", edited) and not exists(conn, "Accounts", untouched)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_job_undo_include_changed_deletes_an_edited_copy(bare_zoho, owner, redis_url, margin):
    from django.core.management import call_command

    sb, profile, conn = bare_zoho
    job, (edited, untouched) = clone_two_accounts(conn, profile, owner)
    time.sleep(PAST_MARGIN)
    assert conn.update("Accounts", [{"id": edited, "Description": "changed"}])[0].ok
    with pytest.raises(SystemExit) as exit_:
        call_command("job", "undo", str(job.pk), "--include-changed")
    assert exit_.value.code == 0
    run_queue(redis_url)
    undo = CopyJob.objects.get(parent_job=job)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert not exists(conn, "Accounts", edited) and not exists(conn, "Accounts", untouched)


@pytest.mark.django_db
def test_job_undo_preview_lists_deleted_and_kept_and_queues_nothing(bare_zoho, owner, margin, capsys):
    from django.core.management import call_command

    sb, profile, conn = bare_zoho
    job, (edited, untouched) = clone_two_accounts(conn, profile, owner)
    time.sleep(PAST_MARGIN)
    assert conn.update("Accounts", [{"id": edited, "Description": "changed"}])[0].ok
    with pytest.raises(SystemExit) as exit_:
        call_command("job", "undo", str(job.pk), "--preview")
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    deleted, changed = out.split("Changed since the copy — kept unless --include-changed")
    assert untouched in deleted and edited not in deleted
    assert edited in changed and "Changed since the copy — kept (modified" in changed
    assert not CopyJob.objects.filter(parent_job=job).exists()


@pytest.mark.django_db
def test_a_copy_the_job_itself_updated_later_is_not_taken_for_a_changed_one(bare_zoho, owner, margin):
    """The re-pointing update (Reports_To between the copies) is the job's own last write: it comes
    well after the inserts here (the sandbox slowed down once they are in), and undo still deletes all."""
    sb, profile, conn = bare_zoho
    src = find_record(conn, "Accounts", REPORTING_ACCOUNT)
    slow = lambda: sb.faults("zoho").set(latency=PAST_MARGIN)  # noqa: E731
    sb.hooks("zoho").after("POST", r"/Contacts$", slow, times=1)
    job = copy_now(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Repointed Co"})
    sb.faults("zoho").clear()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert any(e.method == "PUT" and e.path.endswith("/Contacts") for e in sb.log("zoho"))

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED, [r.error_message for r in undo.results.exclude(status=S.SUCCEEDED)]
    assert not any(exists(conn, r.object_name, r.source_id) for r in undo.results.all())


# -- never the job's to delete --------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_row_holding_a_source_id_never_deletes_the_source(bare_zoho, owner, redis_url, margin):
    """The old defect: a lost answer made a row claim its source. Its undo keeps the source."""
    sb, profile, conn = bare_zoho
    src = small_account(conn)
    job = copy_now(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Claimed Source"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    source_tree = {n.source_id for n in read_tree(conn, "Accounts", src)}
    root = job.results.get(depth=0)
    copy_root = root.new_id
    RecordResult.objects.filter(pk=root.pk).update(new_id=src)  # what the defect stored

    undo = undo_in_worker(job, owner, redis_url)
    row = undo.results.get(source_id=src)
    assert row.status == S.SKIPPED and row.error_type == "KEPT_SOURCE_RECORD"
    assert "source record" in row.error_message
    assert exists(conn, "Accounts", src)
    assert {n.source_id for n in read_tree(conn, "Accounts", src)} == source_tree
    # The children the job did create are deleted; the source keeps its own.
    for child in undo.results.exclude(source_id=src):
        assert child.status == S.SUCCEEDED and not exists(conn, child.object_name, child.source_id)
    assert undo.status == CopyJob.Status.PARTIAL and "1 kept: a source record" in status_words(undo)
    assert exists(conn, "Accounts", copy_root)  # no row names it any more: never guessed at


@pytest.mark.django_db
def test_a_record_not_created_by_the_api_user_is_kept(bare_zoho, owner, margin):
    sb, profile, conn = bare_zoho
    job, (copy, _) = clone_two_accounts(conn, profile, owner)
    someone_elses = next(rid for rid in demo_accounts(conn) if rid not in job.source_ids)
    row = job.results.get(new_id=copy)
    RecordResult.objects.filter(pk=row.pk).update(new_id=someone_elses)

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    kept = undo.results.get(source_id=someone_elses)
    assert kept.status == S.SKIPPED and kept.error_type == "KEPT_OTHER_USER"
    assert "another user" in kept.error_message
    assert exists(conn, "Accounts", someone_elses)
    assert undo.succeeded_count == 1


@pytest.mark.django_db
def test_a_record_created_before_its_row_was_sent_is_kept(bare_zoho, owner, margin):
    sb, profile, conn = bare_zoho
    earlier = conn.create("Accounts", [{"Account_Name": "Made Before The Copy"}])[0].new_id  # the API user's
    time.sleep(PAST_MARGIN + 0.5)
    job, (copy, _) = clone_two_accounts(conn, profile, owner)
    row = job.results.get(new_id=copy)
    RecordResult.objects.filter(pk=row.pk).update(new_id=earlier)

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    kept = undo.results.get(source_id=earlier)
    assert kept.status == S.SKIPPED and kept.error_type == "KEPT_CREATED_BEFORE_COPY", kept.error_message
    assert "before this copy was sent" in kept.error_message
    assert exists(conn, "Accounts", earlier)
    assert status_words(undo) == "Partly done: 1 deleted, 1 kept: created before the copy"


@pytest.mark.django_db
def test_another_jobs_copy_is_not_deleted_by_this_jobs_undo(bare_zoho, owner, margin):
    sb, profile, conn = bare_zoho
    first, (first_copy, _) = clone_two_accounts(conn, profile, owner)
    second, (second_copy, _) = clone_two_accounts(conn, profile, owner)
    row = second.results.get(new_id=second_copy)
    RecordResult.objects.filter(pk=row.pk).update(new_id=first_copy)  # both jobs claim one record

    undo = run_job(copy_job_undo(job=second, user=owner, enqueue=False), worker="u")
    kept = undo.results.get(source_id=first_copy)
    assert kept.error_type == "KEPT_OTHER_JOBS_COPY" and f"job {first.pk}" in kept.error_message
    assert exists(conn, "Accounts", first_copy)


# -- Vault: the cascade delete never takes what someone added ---------------------------------------


def vault_deep_copy(profile, owner, conn):
    src = find_record(conn, "product__v", "Neurolax")
    job = copy_now(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Neurolax Undo Safety"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    return job


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_child_added_under_a_vault_deep_copy_survives_its_undo(bare_vault, owner, redis_url, margin):
    sb, profile, conn = bare_vault
    job = vault_deep_copy(profile, owner, conn)
    copy_root = job.results.get(depth=0).new_id
    added = conn.create("formulation__c", [{"product__c": copy_root, "strength__c": "added later"}])[0].new_id
    copies = set(job.results.exclude(new_id="").values_list("object_name", "new_id"))

    undo = undo_in_worker(job, owner, redis_url)
    assert exists(conn, "formulation__c", added)
    assert exists(conn, "product__v", copy_root)
    root_row = undo.results.get(source_id=copy_root)
    assert root_row.error_type == "KEPT_RECORDS_ADDED_UNDER" and added in root_row.error_message
    assert not any("cascadedelete" in e.path for e in sb.log("vault"))
    for object_name, copy_id in copies - {("product__v", copy_root)}:
        assert not exists(conn, object_name, copy_id), (object_name, copy_id)
    assert undo.status == CopyJob.Status.PARTIAL
    assert status_words(undo).endswith("1 kept: records added under it")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_untouched_vault_deep_copy_is_undone_by_the_cascade_delete(bare_vault, owner, redis_url, margin):
    sb, profile, conn = bare_vault
    before = {o: set(r) for o, r in sb.vault.state.records.items()}
    job = vault_deep_copy(profile, owner, conn)
    undo = undo_in_worker(job, owner, redis_url)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert any("cascadedelete" in e.path for e in sb.log("vault"))
    assert {o: set(r) for o, r in sb.vault.state.records.items()} == before


@pytest.mark.django_db
def test_a_vault_copy_changed_below_the_root_keeps_the_records_above_it(bare_vault, owner, margin):
    sb, profile, conn = bare_vault
    job = vault_deep_copy(profile, owner, conn)
    packaging = job.results.filter(object_name="packaging__c").first()
    formulation = job.results.get(object_name="formulation__c", source_id=packaging.parent_source_id)
    time.sleep(PAST_MARGIN)
    assert conn.update("packaging__c", [{"id": packaging.new_id, "pack_size__c": 99}])[0].ok

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    by_id = {r.source_id: r for r in undo.results.all()}
    assert by_id[packaging.new_id].error_type == "KEPT_CHANGED"
    assert by_id[formulation.new_id].error_type == "KEPT_PARENT_OF_KEPT"
    assert by_id[job.results.get(depth=0).new_id].error_type == "KEPT_PARENT_OF_KEPT"
    kept = {r.source_id for r in by_id.values() if r.status == S.SKIPPED}
    assert all(exists(conn, r.object_name, r.source_id) == (r.source_id in kept) for r in by_id.values())


# -- the undo page ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_undo_page_lists_what_is_deleted_and_kept_before_confirming(bare_zoho, owner, owner_client, margin):
    sb, profile, conn = bare_zoho
    job, (edited, untouched) = clone_two_accounts(conn, profile, owner)
    time.sleep(PAST_MARGIN)
    assert conn.update("Accounts", [{"id": edited, "Description": "changed"}])[0].ok
    url = reverse("job_undo", args=[job.code])

    page = owner_client.get(url).content.decode()
    delete_table = page.split('id="undo-delete"')[1].split("</table>")[0]
    changed_table = page.split('id="undo-changed"')[1].split("</table>")[0]
    assert untouched in delete_table and edited not in delete_table
    assert edited in changed_table and "Changed since the copy — kept" in changed_table
    assert 'name="include_changed"' in page
    assert not CopyJob.objects.filter(parent_job=job).exists()  # looking queues nothing

    answer = owner_client.post(url, {"include_changed": "1"})
    undo = CopyJob.objects.get(parent_job=job)
    assert answer.status_code == 302 and answer.url == reverse("job_detail", args=[undo.code])
    assert undo.options == {"include_changed": True}
    undo = run_job(undo, worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert not exists(conn, "Accounts", edited) and not exists(conn, "Accounts", untouched)


@pytest.mark.django_db
def test_the_undo_page_reads_at_most_its_limit_and_says_the_worker_checks_the_rest(
    bare_zoho, owner, owner_client, margin, settings
):
    sb, profile, conn = bare_zoho
    job, (first, second) = clone_two_accounts(conn, profile, owner)
    settings.UNDO_PREVIEW_MAX_RECORDS = 1
    page = owner_client.get(reverse("job_undo", args=[job.code])).content.decode()
    assert "the other 1 are checked by the worker under the same rules" in page
    assert first in page and second not in page


@pytest.mark.django_db
def test_the_undo_page_still_confirms_when_the_records_cannot_be_read(bare_zoho, owner, owner_client, margin):
    sb, profile, conn = bare_zoho
    job, _ = clone_two_accounts(conn, profile, owner)
    sb.faults("zoho").set(p500=1.0, seed=1)
    try:
        page = owner_client.get(reverse("job_undo", args=[job.code])).content.decode()
    finally:
        sb.faults("zoho").clear()
    assert 'id="undo-unread"' in page and "reads each record before deleting it" in page
    assert 'type="submit"' in page


@pytest.mark.django_db
def test_resuming_an_undo_from_its_page_can_delete_the_changed_records_too(bare_zoho, owner, owner_client, margin):
    sb, profile, conn = bare_zoho
    job, (edited, untouched) = clone_two_accounts(conn, profile, owner)
    time.sleep(PAST_MARGIN)
    assert conn.update("Accounts", [{"id": edited, "Description": "changed"}])[0].ok
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    assert undo.status == CopyJob.Status.PARTIAL and exists(conn, "Accounts", edited)
    url = reverse("job_resume", args=[undo.code])

    page = owner_client.get(url).content.decode()
    assert 'name="include_changed"' in page and "checked" not in page.split('name="include_changed"')[1][:40]
    owner_client.post(url, {"include_changed": "1"})
    undo.refresh_from_db()
    assert undo.status == CopyJob.Status.QUEUED and undo.options == {"include_changed": True}
    undo = run_job(undo, worker="u2")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert not exists(conn, "Accounts", edited)
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.UNDONE


# -- the rules on the in-memory system (no clock waits) -------------------------------------------------


def native_copy(engine_profile, owner, settings):
    from tests.fixtures.engine import MemoryConnector

    settings.VAULT_JOB_POLL_SECONDS = 0
    conn = MemoryConnector(native=True)
    conn.root = conn.add("Accounts", Account_Name="Acme")
    for i in range(3):
        conn.add("Contacts", Last_Name=f"C{i}", Account_Name=conn.root)
    job = copy_job_create(
        request=copy_request(
            engine_profile, "Accounts", [conn.root], "deep_copy", overrides={"Account_Name": "Acme 2"}
        ),
        user=owner,
        enqueue=False,
        connector=conn,
    )
    job = run_job(job, connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    return conn, job


@pytest.mark.django_db
def test_children_that_cannot_be_read_mean_record_by_record_deletes_not_the_cascade(
    engine_profile, owner, settings, margin
):
    from records.connectors.errors import Rejected

    conn, job = native_copy(engine_profile, owner, settings)

    def unreadable(related, parent_ids):
        raise Rejected("no access to this relationship", error_type="INSUFFICIENT_ACCESS")

    conn.children = unreadable  # the stand-in system refuses to list children now
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=conn)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert not any(c[0] == "start_cascade_delete" for c in conn.calls)
    deletes = [c for c in conn.calls if c[0] == "delete"]
    assert [c[1] for c in deletes] == ["Contacts", "Accounts"]  # children first


@pytest.mark.django_db
def test_a_record_whose_maker_is_not_given_is_kept(engine_profile, owner, settings, margin):
    conn, job = native_copy(engine_profile, owner, settings)
    contact = job.results.filter(object_name="Contacts").first().new_id
    conn.meta[contact]["created_by"] = ""
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=conn)
    row = undo.results.get(source_id=contact)
    assert row.error_type == "KEPT_NO_STAMPS" and contact in conn.data["Contacts"]
    # Read under the copied root, it keeps the root: deleting that would delete or orphan it.
    root = undo.results.get(depth=0)
    assert root.error_type == "KEPT_PARENT_OF_KEPT" and root.source_id in conn.data["Accounts"]
    assert not any(c[0] == "start_cascade_delete" for c in conn.calls)


@pytest.mark.django_db
def test_a_record_the_copy_job_no_longer_names_is_kept_and_stops_the_cascade(engine_profile, owner, settings, margin):
    conn, job = native_copy(engine_profile, owner, settings)
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    row = job.results.filter(object_name="Contacts").first()
    RecordResult.objects.filter(pk=row.pk).update(new_id="")  # the copy job's row changed since
    undo = run_job(undo, connector=conn)
    kept = undo.results.get(source_id=row.new_id)
    assert kept.error_type == "KEPT_NOT_THIS_JOBS_COPY" and row.new_id in conn.data["Contacts"]
    assert not any(c[0] == "start_cascade_delete" for c in conn.calls)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_undo_names_the_copies_it_deletes(vault, owner):
    """An undo job was "Undo of 2 records" and each of its rows had no name ("—")."""
    from records.copying.job_actions import copy_job_undo
    from tests.fixtures.engine import copy_now, run_job

    _, profile, _ = vault
    ids = ["00P000000000001", "00P000000000002"]
    rows = {"00P000000000001": {"name__v": "Cardio U"}, "00P000000000002": {"name__v": "Neuro U"}}
    job = copy_now(profile, owner, "product__v", ids, "clone", row_overrides=rows)
    assert job.status == "succeeded", job.error_summary
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    assert sorted(undo.results.values_list("source_name", flat=True)) == ["Cardio U", "Neuro U"]
    assert undo.title in ("Undo of Cardio U and 1 more (Products)", "Undo of Neuro U and 1 more (Products)")
    assert run_job(undo).status == "succeeded"
