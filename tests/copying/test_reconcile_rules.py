"""The reconcile rules without a copy key, over the in-memory connector (the seam): a lost answer's
copy is one record created after the row was marked sending, by the API user, with the values sent,
that no job knows; several such records hold the row for review, which only a person resolves."""

import pytest
from django.core.exceptions import ValidationError

from records.connectors import base
from records.copying.job_actions import copy_job_resume, copy_job_undo
from records.copying.job_create import copy_job_create
from records.copying.review import copy_row_resolve
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import MEMORY_API_USER, MemoryConnector, copy_request, run_job

pytestmark = pytest.mark.django_db
S = RecordResult.Status


def bare():
    """A Zoho-like system without copy-key fields: one account, three contacts."""
    conn = MemoryConnector(key_field=False)
    conn.root = conn.add("Accounts", Account_Name="Acme", Phone="1")
    for i in range(3):
        conn.add("Contacts", Last_Name=f"C{i}", Account_Name={"id": conn.root})
    return conn


def create(conn, profile, user, mode="clone", ids=None, **kw):
    request = copy_request(profile, "Accounts", ids or [conn.root], mode, **kw)
    return copy_job_create(request=request, user=user, enqueue=False, connector=conn)


def lose_next_write(conn, *, applied, also=None):
    """The next write's answer is lost, after applying it or not; `also()` runs first (a record
    someone else's work makes at that moment)."""

    def hook():
        conn.on_write = None
        if also:
            also()
        if not applied:
            raise base.OutcomeUnknown("connection dropped before the server read it", error_type="OutcomeUnknown")
        conn.drop_after_write = 1

    conn.on_write = hook


def stranger_copy(conn, name):
    """A record of the same name the API user makes meanwhile (another job, another tab)."""
    return lambda: conn._store("Accounts", {"Account_Name": name, "Phone": "1"}, MEMORY_API_USER)


def accounts_named(conn, name):
    return sorted(rid for rid, v in conn.data["Accounts"].items() if v.get("Account_Name") == name)


def test_a_lost_clone_not_applied_skips_the_source_and_an_earlier_jobs_copy_of_the_same_name(engine_profile, owner):
    conn = bare()
    first = run_job(create(conn, engine_profile, owner), connector=conn)
    earlier_copy = first.results.get().new_id
    lose_next_write(conn, applied=False)
    job = run_job(create(conn, engine_profile, owner), connector=conn, worker="w2")
    row = job.results.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert row.new_id not in (conn.root, earlier_copy)
    assert accounts_named(conn, "Acme") == sorted([conn.root, earlier_copy, row.new_id])
    assert [c for c in conn.calls if c[0] == "clone"] == [("clone", "Accounts", 1)] * 3  # first job, lost, again


def test_a_lost_clone_applied_is_claimed_without_sending_it_again(engine_profile, owner):
    conn = bare()
    lose_next_write(conn, applied=True)
    job = run_job(create(conn, engine_profile, owner), connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED
    assert accounts_named(conn, "Acme") == sorted([conn.root, job.results.get().new_id])
    assert len([c for c in conn.calls if c[0] == "clone"]) == 1


def test_two_records_that_could_be_the_copy_hold_the_row_for_review(engine_profile, owner):
    conn = bare()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    row = job.results.get()
    assert row.status == S.REVIEW and not row.new_id
    assert sorted(c["id"] for c in row.candidates) == accounts_named(conn, "Acme 2")
    assert all(c["created"] and c["link"] for c in row.candidates)
    # Not succeeded; the words and the summary say why.
    assert job.status == CopyJob.Status.PARTIAL
    assert "1 needs review" in job.status_words and "review" in job.error_summary
    # Nothing to resume: a row in review is never sent again; undo finds nothing to delete.
    assert not job.can_resume(owner)[0] and not job.can_undo(owner)[0]
    assert len([c for c in conn.calls if c[0] == "clone"]) == 1


def test_picking_a_candidate_succeeds_the_row_and_the_job(engine_profile, owner):
    conn = bare()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    row = job.results.get()
    stranger, ours = accounts_named(conn, "Acme 2")
    with pytest.raises(ValidationError, match="not one of"):
        copy_row_resolve(job=job, row=row, pick=conn.root, user=owner)
    copy_row_resolve(job=job, row=row, pick=ours, user=owner)
    row.refresh_from_db()
    job.refresh_from_db()
    assert (row.status, row.new_id, row.link) == (S.SUCCEEDED, ours, f"http://memory/Accounts/{ours}")
    assert job.status == CopyJob.Status.SUCCEEDED and job.succeeded_count == 1 and not job.error_summary
    with pytest.raises(ValidationError, match="does not need review"):
        copy_row_resolve(job=job, row=row, pick=ours, user=owner)
    from records.models import AuditEvent

    event = AuditEvent.objects.get(action="job.resolve")
    assert event.details["pick"] == ours and sorted(event.details["candidates"]) == [stranger, ours]
    # Undo deletes the copy picked, never the other candidate.
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=conn, worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED
    assert accounts_named(conn, "Acme 2") == [stranger]


def test_none_of_them_fails_the_row_so_resume_sends_it_again(engine_profile, owner):
    conn = bare()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    copy_row_resolve(job=job, row=job.results.get(), pick=None, user=owner)
    job.refresh_from_db()
    row = job.results.get()
    assert row.status == S.FAILED and "none of the records" in row.error_message
    assert job.status == CopyJob.Status.FAILED and job.can_resume(owner)[0]
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, connector=conn, worker="w2")
    assert job.status == CopyJob.Status.SUCCEEDED
    assert len(accounts_named(conn, "Acme 2")) == 3  # the person said neither was ours: one more


def test_resolving_is_refused_to_a_user_without_access_and_while_the_job_runs(engine_profile, owner, other_user):
    conn = bare()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    row = job.results.get()
    with pytest.raises(ValidationError, match="no longer have access"):
        copy_row_resolve(job=job, row=row, pick=row.candidates[0]["id"], user=other_user)
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.RUNNING)
    with pytest.raises(ValidationError, match="still running"):
        copy_row_resolve(job=job, row=row, pick=row.candidates[0]["id"], user=owner)
    assert job.results.get().status == S.REVIEW


def test_a_lost_deep_copy_root_with_a_twin_holds_the_tree(engine_profile, owner):
    """The root's copy can't be told apart: the children wait (not parented under a guess); after
    the pick, a resume copies them under it."""
    conn = bare()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(
        create(conn, engine_profile, owner, mode="deep_copy", overrides={"Account_Name": "Acme 2"}), connector=conn
    )
    root = job.results.get(depth=0)
    assert root.status == S.REVIEW
    assert set(job.results.filter(depth=1).values_list("status", flat=True)) == {S.FAILED}
    assert conn.count("Contacts") == 3  # no child copied under a guess
    ours = accounts_named(conn, "Acme 2")[1]
    copy_row_resolve(job=job, row=root, pick=ours, user=owner)
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, connector=conn, worker="w2")
    assert job.status == CopyJob.Status.SUCCEEDED
    assert {c["Account_Name"]["id"] for c in conn.data["Contacts"].values()} == {conn.root, ours}


def test_equal_children_of_one_batch_are_matched_without_review(engine_profile, owner):
    """Rows whose copies can't differ (all their values sent, and equal) take the copies found in
    order: which one a row gets changes nothing. Sound, so no review."""
    conn = MemoryConnector(key_field=False)
    conn.root = conn.add("Accounts", Account_Name="Acme")
    for _ in range(3):
        conn.add("Contacts", Last_Name="Same", Account_Name={"id": conn.root})
    job = create(conn, engine_profile, owner, mode="deep_copy", overrides={"Account_Name": "Acme 2"})

    def lose_inserts():
        conn.on_write = None if conn.calls[-1][0] == "create" else lose_inserts
        if conn.calls[-1][0] == "create":
            conn.drop_after_write = 1

    conn.on_write = lose_inserts
    job = run_job(job, connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_ids = list(job.results.filter(depth=1).values_list("new_id", flat=True))
    assert len(set(new_ids)) == 3 and conn.count("Contacts") == 6
    assert len([c for c in conn.calls if c[0] == "create"]) == 1


def test_a_bulk_clone_renamed_alike_is_told_apart_by_what_each_copy_inherits(engine_profile, owner):
    conn = MemoryConnector(key_field=False)
    ids = [conn.add("Accounts", Account_Name=f"Src {i}", Phone=str(i)) for i in range(3)]
    lose_next_write(conn, applied=True)
    job = create(conn, engine_profile, owner, ids=ids, overrides={"Account_Name": "Twin"})
    job = run_job(job, connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    for row in job.results.all():
        assert conn.data["Accounts"][row.new_id]["Phone"] == conn.data["Accounts"][row.source_id]["Phone"]
    assert len(accounts_named(conn, "Twin")) == 3 and len([c for c in conn.calls if c[0] == "clone"]) == 1


def test_resume_sends_failed_rows_again_but_never_one_in_review_and_undo_spares_candidates(engine_profile, owner):
    conn = MemoryConnector(key_field=False)
    a, b = conn.add("Accounts", Account_Name="A", Phone="1"), conn.add("Accounts", Account_Name="B", Phone="2")
    conn.reject_names = {"B 2"}
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "A 2"))
    rows = {a: {"Account_Name": "A 2"}, b: {"Account_Name": "B 2"}}
    job = run_job(create(conn, engine_profile, owner, ids=[a, b], row_overrides=rows), connector=conn)
    assert dict(job.results.values_list("source_id", "status")) == {a: S.REVIEW, b: S.FAILED}
    assert job.status == CopyJob.Status.PARTIAL
    assert job.status_words == "Partly done: 0 copied, 1 failed, 1 needs review"
    conn.reject_names = set()
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, connector=conn, worker="w2")
    assert dict(job.results.values_list("source_id", "status")) == {a: S.REVIEW, b: S.SUCCEEDED}
    assert conn.calls[-1] == ("clone", "Accounts", 1)  # b alone
    assert job.status == CopyJob.Status.PARTIAL and "1 record needs review" in job.error_summary
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=conn, worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED and undo.results.count() == 1
    assert len(accounts_named(conn, "A 2")) == 2 and accounts_named(conn, "B 2") == []


def test_a_vault_deep_copy_whose_top_copy_needs_review_is_never_started_again(engine_profile, owner, settings):
    settings.VAULT_LOST_START_WAIT_SECONDS = 0.3
    settings.VAULT_JOB_POLL_SECONDS = 0.05
    conn = MemoryConnector(native=True, key_field=False)
    conn.root = conn.add("Accounts", Account_Name="Acme", Phone="1")
    conn.add("Contacts", Last_Name="C0", Account_Name={"id": conn.root})
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(
        create(conn, engine_profile, owner, mode="deep_copy", overrides={"Account_Name": "Acme 2"}), connector=conn
    )
    root = job.results.get(depth=0)
    assert root.status == S.REVIEW and len(root.candidates) == 2
    assert set(job.results.filter(depth=1).values_list("error_type", flat=True)) == {"PARENT_IN_REVIEW"}
    copy_job_resume(job=job, user=owner, enqueue=False)  # the children are resumable; the top is not
    job = run_job(job, connector=conn, worker="w2")
    assert job.results.get(depth=0).status == S.REVIEW
    ours = accounts_named(conn, "Acme 2")[1]
    copy_row_resolve(job=job, row=root, pick=ours, user=owner)
    job.refresh_from_db()
    assert job.state["roots"][conn.root] == {"phase": "discover", "new_id": ours}
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, connector=conn, worker="w3")
    assert job.results.get(depth=0).new_id == ours
    assert [c for c in conn.calls if c[0] == "start_deep_copy"] == [("start_deep_copy", "Accounts", conn.root)]
