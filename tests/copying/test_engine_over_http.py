"""The engine against the real sandbox over HTTP, through the real connectors."""

import re
import threading

import pytest

from records.copying.job_actions import copy_job_cancel, copy_job_resume, copy_job_run, copy_job_undo
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_now, preview, run_job, start_job, wait_for_end, worker_running
from tests.fixtures.sandbox import find_record, small_account

S = RecordResult.Status
ZOHO_INSERT = r"^/crm/v\d+/(?!coql$)\w+$"  # POST /crm/{v}/{module}: a batch insert (COQL aside)


def tree_size(conn, object_name, root):
    return len(read_tree(conn, object_name, root))


# -- Vault --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_vault_clone_holds_overrides_and_drops_no_copy_fields(vault, owner):
    sb, profile, conn = vault
    src = find_record(conn, "product__v", "Neurolax")
    job = copy_now(
        profile,
        owner,
        "product__v",
        [src],
        "clone",
        overrides={"name__v": "Neurolax Copy", "description__c": "changed"},
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copy = conn.get("product__v", job.results.get().new_id).fields
    assert copy["name__v"] == "Neurolax Copy" and copy["description__c"] == "changed"
    assert not copy.get("external_id__v") and not copy.get("internal_code__c")


@pytest.mark.django_db
def test_vault_deep_copy_then_undo_leaves_vault_as_before(vault, owner):
    sb, profile, conn = vault
    before = {o: len(r) for o, r in sb.vault.state.records.items()}
    src = find_record(conn, "product__v", "Neurolax")
    job = copy_now(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Neurolax Deep"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.remote_job_id
    new_root = job.results.get(depth=0).new_id
    assert tree_size(conn, "product__v", new_root) == tree_size(conn, "product__v", src) == job.planned_count
    assert job.results.filter(status=S.SUCCEEDED, new_id="").count() == 0
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="t")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert {o: len(r) for o, r in sb.vault.state.records.items()} == before


@pytest.mark.django_db
def test_vault_dropped_answers_make_no_duplicates(vault, owner):
    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", n) for n in ("Neurolax", "Dermacalm", "Pulmoflow")]
    sb.faults("vault").set(p_drop_after_write=1.0, seed=1)
    try:
        rows = {i: {"name__v": f"Dropped {n}"} for n, i in enumerate(ids)}
        job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=rows)
        sb.faults("vault").set(p_drop_after_write=1.0, seed=1)
        job = run_job(job, worker="t")
    finally:
        sb.faults("vault").clear()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    for n in range(3):
        assert len(conn.find("product__v", {"name__v": f"Dropped {n}"})) == 1


@pytest.mark.django_db
def test_vault_retry_reruns_only_failed_rows(vault, owner):
    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", n) for n in ("Neurolax", "Dermacalm")]
    job = start_job(
        profile,
        owner,
        "product__v",
        ids,
        "clone",
        row_overrides={ids[0]: {"name__v": "Free Name"}, ids[1]: {"name__v": "Taken Name"}},
    )
    # Taken after the plan checked it (the plan refuses a value taken already): the row fails at run time.
    blocker = conn.clone(
        "product__v",
        [__import__("records.connectors.base", fromlist=["x"]).CloneRequest(ids[0], {"name__v": "Taken Name"})],
    )[0].new_id
    job = run_job(job)
    assert job.status == CopyJob.Status.PARTIAL and job.failed_count == 1
    assert job.results.get(status=S.FAILED).error_type
    conn.delete("product__v", [blocker])
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, worker="t2")
    assert job.status == CopyJob.Status.SUCCEEDED
    assert len(conn.find("product__v", {"name__v": "Free Name"})) == 1
    assert len(conn.find("product__v", {"name__v": "Taken Name"})) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_job_copy_once(vault, owner):
    sb, profile, conn = vault
    src = find_record(conn, "product__v", "Neurolax")
    job = start_job(profile, owner, "product__v", [src], "clone", overrides={"name__v": "Raced"})
    threads = [threading.Thread(target=copy_job_run, kwargs={"job_id": job.pk, "worker_id": f"w{i}"}) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.attempts == 1
    assert len(conn.find("product__v", {"name__v": "Raced"})) == 1


# -- Zoho ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_zoho_clone_and_deep_copy_with_overrides(zoho, owner):
    sb, profile, conn = zoho
    src = small_account(conn)
    job = copy_now(profile, owner, "Accounts", [src], "clone", overrides={"Account_Name": "Cloned Co"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert conn.get("Accounts", job.results.get().new_id).fields["Account_Name"] == "Cloned Co"
    job = copy_now(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Deep Co"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    assert conn.get("Accounts", new_root).fields["Account_Name"] == "Deep Co"
    assert tree_size(conn, "Accounts", new_root) == tree_size(conn, "Accounts", src)
    for related in conn.related_lists("Accounts"):
        if related.deep_copy:
            assert len(list(conn.children(related, [new_root]))) == len(list(conn.children(related, [src])))


@pytest.mark.django_db
def test_zoho_dropped_connection_no_duplicate_and_undo(zoho, owner):
    sb, profile, conn = zoho
    src = small_account(conn)
    size = tree_size(conn, "Accounts", src)
    job = start_job(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Dropped Co"})
    sb.faults("zoho").set(p_drop_after_write=0.5, seed=3)
    try:
        job = run_job(job, worker="t")
    finally:
        sb.faults("zoho").clear()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    assert tree_size(conn, "Accounts", new_root) == size
    assert len(conn.find("Accounts", {"Account_Name": "Dropped Co"})) == 1
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED
    assert conn.find("Accounts", {"Account_Name": "Dropped Co"}) == []


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_zoho_cancel_keeps_results(zoho, owner, redis_url):
    """Cancelled through the service once the first children batch was written, while the sandbox
    holds that batch's answer; a real worker runs the job and stops at its next batch."""
    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", "Big Account")
    # One call at a time (a worker sends up to the profile's concurrency at once): one batch in flight.
    profile.concurrency = 1
    profile.save(update_fields=["concurrency"])
    hold = sb.hooks("zoho").hold("POST", ZOHO_INSERT)  # the first insert (the root is a clone action)
    job = start_job(
        profile, owner, "Accounts", [src], "deep_copy", enqueue=True, overrides={"Account_Name": "Cancelled Co"}
    )
    with worker_running(redis_url):
        try:
            assert hold.wait(60), "no children batch was sent"
            copy_job_cancel(job=CopyJob.objects.get(pk=job.pk), user=owner)
        finally:
            hold.release()
        job = wait_for_end(job)
    assert job.status == CopyJob.Status.CANCELLED
    inserts = [e for e in sb.log("zoho") if e.method == "POST" and re.search(ZOHO_INSERT, e.path)]
    assert 0 < job.succeeded_count < job.planned_count and len(inserts) == 1
    assert job.results.filter(status=S.SKIPPED).exists()


@pytest.mark.django_db
def test_zoho_deep_copy_fields_unique_values_lookups_and_subforms(zoho, owner):
    sb, profile, conn = zoho
    src = find_record(conn, "Accounts", "Globex")
    plan = preview(profile, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Globex Deep"})
    assert not plan.refused_reason
    assert any(w.startswith("Account Number is unique in Accounts") for w in plan.warnings)
    assert "Email is unique in Contacts: copies get it blank." in plan.warnings
    job = copy_now(
        profile,
        owner,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Account_Name": "Globex Deep", "Phone": "+1 555 9999"},
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == job.planned_count == tree_size(conn, "Accounts", src)
    root = conn.get("Accounts", job.results.get(depth=0).new_id).fields
    source = conn.get("Accounts", src).fields
    assert root["Phone"] == "+1 555 9999" and not root.get("Account_Number")
    assert [b["Branch_Name"] for b in root["Branches"]] == [b["Branch_Name"] for b in source["Branches"]]
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.count() == 3
    for row in contacts:
        original, copy = conn.get("Contacts", row.source_id).fields, conn.get("Contacts", row.new_id).fields
        assert copy["Last_Name"] == original["Last_Name"] and not copy.get("Email")
        assert copy["Account_Name"]["id"] == root["id"]
        assert not copy.get("Photo_File") and not copy.get("Lead_Score")
    assert any(conn.get("Contacts", r.source_id).fields.get("Photo_File") for r in contacts)
    new_ids = list(job.results.values_list("new_id", flat=True))
    assert None not in new_ids and len(set(new_ids)) == len(new_ids)  # one copy per row
    for row in job.results.filter(depth__gt=0):
        assert row.parent_source_id


@pytest.mark.django_db(transaction=True)  # the connector clones several records from threads
def test_zoho_retry_reruns_only_failed_rows(zoho, owner):
    sb, profile, conn = zoho
    ids = [find_record(conn, "Accounts", n) for n in ("Globex", "Initech")]
    taken = "ACC-RETRY"
    job = start_job(
        profile,
        owner,
        "Accounts",
        ids,
        "clone",
        row_overrides={
            ids[0]: {"Account_Name": "Retry A"},
            ids[1]: {"Account_Name": "Retry B", "Account_Number": taken},
        },
    )
    # Taken after the plan checked it (the plan refuses a value taken already): the row fails at run time.
    blocker = conn.create("Accounts", [{"Account_Name": "Retry Blocker", "Account_Number": taken}])[0].new_id
    job = run_job(job)
    assert job.status == CopyJob.Status.PARTIAL and job.failed_count == 1
    assert job.results.get(status=S.FAILED).error_type == "DUPLICATE_DATA"
    conn.delete("Accounts", [blocker])
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, worker="t2")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert len(conn.find("Accounts", {"Account_Name": "Retry A"})) == 1
    assert len(conn.find("Accounts", {"Account_Name": "Retry B"})) == 1
