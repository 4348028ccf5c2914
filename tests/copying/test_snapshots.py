"""An engine-built deep copy (Zoho) reads the tree once, for the plan, and copies that snapshot;
Notes are read per parent with the profile's concurrency; result rows are written in one statement."""

import pytest
from django.utils import timezone

from records.connectors import connector_for
from records.copying import results as res
from records.copying.job_actions import copy_job_resume, copy_job_run
from records.copying.job_create import copy_job_create
from records.models import RecordResult
from tests.fixtures.engine import copy_request

S = RecordResult.Status


def _account(conn, name):
    return next(r.id for r in conn.search("Accounts", name).records if r.name == name)


def _plan_deep_copy(conn, profile, owner, copy_name):
    """A queued (not enqueued) deep copy of Acme Corp, its copy named `copy_name`."""
    return copy_job_create(
        request=copy_request(
            profile, "Accounts", [_account(conn, "Acme Corp")], "deep_copy", overrides={"Account_Name": copy_name}
        ),
        user=owner,
        enqueue=False,
    )


def test_deep_copy_run_copies_the_planned_snapshot_without_reading_records(zoho, owner):
    sb, profile, conn = zoho
    job = _plan_deep_copy(conn, profile, owner, "Snapshot Co")
    child = job.results.filter(object_name="Contacts").first()
    assert child.source_snapshot["fields"]["id"] == child.source_id
    assert child.source_snapshot["parent_field"]
    planned_name = child.source_snapshot["fields"]["Last_Name"]
    # The source changes after the preview: the copy is of what the plan read.
    sb.zoho.state.records["Contacts"][child.source_id]["Last_Name"] = "Changed After Planning"
    sb.clear_log("zoho")

    job = copy_job_run(job_id=job.pk, worker_id="snap")

    assert job.status == "succeeded", job.error_summary
    run_log = sb.log("zoho")
    record_reads = [e for e in run_log if e.method == "GET" and "/settings/" not in e.path and "/oauth/" not in e.path]
    queries = [e for e in run_log if e.path.startswith("/crm/") and e.path.split("?")[0].endswith("/coql")]
    assert record_reads == [] and queries == [], [e.path for e in record_reads + queries]
    copy = conn.get("Contacts", job.results.get(pk=child.pk).new_id)
    assert copy.fields["Last_Name"] == planned_name


def test_job_planned_without_snapshots_reads_the_tree_again(zoho, owner):
    """Jobs queued before snapshots were kept still run: the engine reads the records then."""
    sb, profile, conn = zoho
    job = _plan_deep_copy(conn, profile, owner, "Old Style Co")
    job.results.update(source_snapshot=None)
    sb.clear_log("zoho")
    job = copy_job_run(job_id=job.pk, worker_id="old")
    assert job.status == "succeeded", job.error_summary
    assert job.succeeded_count == job.planned_count > 1
    assert any(e.path.split("?")[0].endswith("/coql") for e in sb.log("zoho"))


def test_bulk_clone_keeps_no_snapshot(zoho, owner):
    _, profile, conn = zoho
    root = _account(conn, "Acme Corp")
    job = copy_job_create(
        request=copy_request(profile, "Accounts", [root], "clone", overrides={"Account_Name": "No Snapshot Co"}),
        user=owner,
        enqueue=False,
    )
    assert list(job.results.values_list("source_snapshot", flat=True)) == [None]


def test_notes_read_with_concurrency_match_a_sequential_read(fresh_sandbox, zoho_profile):
    conn = connector_for(zoho_profile)
    root = _account(conn, "Big Account")
    contacts_list = next(r for r in conn.related_lists("Accounts") if r.child_object == "Contacts")
    contacts = [c.id for c in conn.children(contacts_list, [root])]
    notes_list = next(r for r in conn.related_lists("Contacts") if r.child_object == "Notes")
    assert len(contacts) > 10

    zoho_profile.concurrency = 1
    sequential = [(n.id, n.fields.get("Parent_Id")) for n in connector_for(zoho_profile).children(notes_list, contacts)]
    zoho_profile.concurrency = 5
    fresh_sandbox.clear_log("zoho")
    parallel = [(n.id, n.fields.get("Parent_Id")) for n in connector_for(zoho_profile).children(notes_list, contacts)]

    assert parallel == sequential and len(parallel) >= len(contacts)
    assert len([e for e in fresh_sandbox.log("zoho") if "/Notes" in e.path]) == len(contacts)


def test_notes_reader_stopped_early_does_not_read_every_parent(fresh_sandbox, zoho_profile):
    zoho_profile.concurrency = 2
    conn = connector_for(zoho_profile)
    root = _account(conn, "Big Account")
    contacts_list = next(r for r in conn.related_lists("Accounts") if r.child_object == "Contacts")
    contacts = [c.id for c in conn.children(contacts_list, [root])]
    notes_list = next(r for r in conn.related_lists("Contacts") if r.child_object == "Notes")
    fresh_sandbox.clear_log("zoho")
    reader = conn.children(notes_list, contacts)
    next(reader)
    reader.close()  # what read_tree does when a tree is too large
    assert len([e for e in fresh_sandbox.log("zoho") if "/Notes" in e.path]) < len(contacts)


@pytest.mark.django_db
def test_saved_rows_hold_every_written_value(owner, vault_profile):
    from records.models import CopyJob

    job = CopyJob.objects.create(
        profile=vault_profile, object_name="product__v", source_ids=["a", "b"], mode="clone", requested_by=owner
    )
    rows = [RecordResult.objects.create(job=job, object_name="product__v", source_id=s) for s in ("a", "b")]
    before = timezone.now()
    res.mark_sending(rows)
    assert list(job.results.order_by("id").values_list("status", "attempts")) == [(S.SENDING, 1), (S.SENDING, 1)]
    res.succeed(rows[0], "NEW1", "https://x.veevavault.com/ui/#object/product__v/NEW1")
    res.fail(rows[1], "INVALID_DATA", "Bad 'value' with \"quotes\" and ünïcode")
    res.save(rows)
    saved = {r.source_id: r for r in job.results.all()}
    assert (saved["a"].status, saved["a"].new_id, saved["a"].link) == (
        S.SUCCEEDED,
        "NEW1",
        "https://x.veevavault.com/ui/#object/product__v/NEW1",
    )
    assert (saved["b"].status, saved["b"].error_type, saved["b"].error_message) == (
        S.FAILED,
        "INVALID_DATA",
        "Bad 'value' with \"quotes\" and ünïcode",
    )
    assert all(r.updated >= before for r in saved.values())
    res.save([])  # nothing to write is not an error


def test_snapshots_of_copied_records_are_dropped_when_the_job_ends(zoho, owner):
    sb, profile, conn = zoho
    job = _plan_deep_copy(conn, profile, owner, "Drop Snapshots Co")
    assert job.results.filter(source_snapshot__isnull=True).count() == 0
    # One contact will fail: its snapshot stays, so a retry can still copy it.
    failing = job.results.filter(object_name="Contacts").first()
    snap = failing.source_snapshot
    snap["fields"]["Last_Name"] = None  # required: Zoho refuses the insert
    job.results.filter(pk=failing.pk).update(source_snapshot=snap)
    job = copy_job_run(job_id=job.pk, worker_id="drop")
    kept = dict(job.results.exclude(source_snapshot=None).values_list("source_id", "status"))
    assert job.results.filter(status=S.SUCCEEDED).count() > 1
    assert job.results.filter(status=S.SUCCEEDED, source_snapshot__isnull=False).count() == 0
    # The failed contact and the records under it (not copied: no parent) keep theirs.
    assert kept[failing.source_id] == S.FAILED and set(kept.values()) == {S.FAILED}


def test_a_retry_copies_the_rest_from_the_snapshots_without_reading_records(zoho, owner):
    sb, profile, conn = zoho
    job = _plan_deep_copy(conn, profile, owner, "Retry Snapshot Co")
    failing = job.results.filter(object_name="Contacts").first()
    good = failing.source_snapshot
    bad = {**good, "fields": {**good["fields"], "Last_Name": None}}  # required: refused
    job.results.filter(pk=failing.pk).update(source_snapshot=bad)
    job = copy_job_run(job_id=job.pk, worker_id="first")
    assert job.status == "partial" and job.results.get(pk=failing.pk).status == S.FAILED
    job.results.filter(pk=failing.pk).update(source_snapshot=good)  # as if the refusal had passed
    copy_job_resume(job=job, user=owner, enqueue=False)
    sb.clear_log("zoho")
    job = copy_job_run(job_id=job.pk, worker_id="retry")
    assert job.status == "succeeded", job.error_summary
    assert job.succeeded_count == job.planned_count
    reads = [
        e.path
        for e in sb.log("zoho")
        if e.method == "GET" and "/settings/" not in e.path or e.path.split("?")[0].endswith("/coql")
    ]
    assert reads == []
