"""Pure-logic tests of the copy engine over an in-memory Connector (the seam)."""

import pytest
from django.core.exceptions import ValidationError

from records.copying.job_actions import _claim, copy_job_resume, copy_job_undo, jobs_resume_stale
from records.copying.job_create import copy_job_create
from records.copying.preview import copy_preview
from records.copying.validation import override_errors
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import ZOHO_FIELDS, MemoryConnector, copy_request, run_job

pytestmark = pytest.mark.django_db
S = RecordResult.Status


def create(conn, profile, user, mode="deep_copy", ids=None, **kw):
    request = copy_request(profile, "Accounts", ids or [conn.root], mode, **kw)
    return copy_job_create(request=request, user=user, enqueue=False, connector=conn)


def test_preview_counts_changes_and_depth(memory, engine_profile):
    plan = copy_preview(
        request=copy_request(
            engine_profile, "Accounts", [memory.root], "deep_copy", overrides={"Account_Name": "Acme 2"}
        ),
        connector=memory,
    )
    counts = {(o.object_name, o.depth): o.count for o in plan.objects}
    assert counts == {("Accounts", 0): 1, ("Contacts", 1): 3, ("Tasks", 1): 2, ("Tasks", 2): 1}
    assert plan.total == 7 and not plan.refused_reason
    assert [(c.field, c.old, c.new) for c in plan.changes] == [("Account_Name", "Acme", "Acme 2")]


def test_preview_refuses_over_the_limit(memory, engine_profile):
    memory.max_deep_copy_records = 4
    plan = copy_preview(
        request=copy_request(engine_profile, "Accounts", [memory.root], "deep_copy", overrides={}), connector=memory
    )
    assert "more than 4" in plan.refused_reason
    with pytest.raises(ValidationError):
        create(memory, engine_profile, engine_profile.owner)
    assert not CopyJob.objects.exists()


def test_it_validates_overrides_per_field():
    errors = override_errors(
        fields=ZOHO_FIELDS["Accounts"],
        overrides={
            "Nope": 1,
            "Created_Time": "x",
            "Account_Name": None,
            "Employees": "many",
            "Rating": "Warm",
            "Phone": "2",
        },
    )
    assert set(errors) == {"Nope", "Created_Time", "Account_Name", "Employees", "Rating"}


def test_deep_copy_builds_the_tree_once_with_repointed_lookups(memory, engine_profile, owner):
    job = create(memory, engine_profile, owner, overrides={"Account_Name": "Acme 2"})
    assert job.planned_count == 7 and job.results.filter(status=S.PENDING).count() == 7
    job = run_job(connector=memory, job=job)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == 7 and memory.count("Accounts") == 2
    new_acc = job.results.get(depth=0).new_id
    copy = memory.data["Accounts"][new_acc]
    assert copy["Account_Name"] == "Acme 2" and "Secret_Code" not in copy
    new_contacts = [memory.data["Contacts"][r.new_id] for r in job.results.filter(object_name="Contacts")]
    assert all(c["Account_Name"] == {"id": new_acc} and "Lead_Score" not in c for c in new_contacts)
    contact_map = dict(job.results.filter(object_name="Contacts").values_list("source_id", "new_id"))
    both = next(
        v
        for v in memory.data["Tasks"].values()
        if v["Subject"] == "T-both" and v["id"] in set(job.results.values_list("new_id", flat=True))
    )
    assert both["What_Id"] == {"id": new_acc} and both["Who_Id"] == {"id": contact_map[memory.contacts[0]]}
    assert both["$se_module"] == "Accounts" and all(k.startswith("$se") or not k.startswith("$") for k in both)
    assert memory.count("Tasks") == 6 and memory.count("Contacts") == 7


def test_subform_rows_come_along_without_ids(memory, engine_profile, owner):
    from records.connectors.base import Record
    from records.copying.engine_deep_copy import build_payload
    from records.copying.tree import Node

    node = Node(
        "Accounts",
        "1",
        1,
        parent_field="Parent",
        fields={"id": "1", "Branches": [{"id": "b", "Branch": "N"}], "$state": "x", "Account_Name": "A"},
    )
    payload = build_payload(node, ZOHO_FIELDS["Accounts"], {}, "P", memory)
    assert payload["Branches"] == [{"Branch": "N"}] and "id" not in payload and "$state" not in payload
    del Record


def test_lost_answer_is_reconciled_by_copy_key_no_duplicate(memory, engine_profile, owner):
    memory.drop_after_write = 2
    job = run_job(connector=memory, job=create(memory, engine_profile, owner, overrides={"Account_Name": "Acme 2"}))
    assert job.status == CopyJob.Status.SUCCEEDED
    assert memory.count("Accounts") == 2 and memory.count("Contacts") == 7 and memory.count("Tasks") == 6


def test_lost_answer_without_copy_key_is_found_by_name_and_parent(engine_profile, owner):
    conn = MemoryConnector(key_field=False)
    acc = conn.add("Accounts", Account_Name="Acme")
    for i in range(3):
        conn.add("Contacts", Last_Name=f"C{i}", Account_Name={"id": acc})
    conn.root = acc
    conn.drop_after_write = 2
    job = run_job(connector=conn, job=create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}))
    assert job.status == CopyJob.Status.SUCCEEDED
    assert conn.count("Accounts") == 2 and conn.count("Contacts") == 6


def test_a_crash_after_sending_is_reconciled_on_resume(memory, engine_profile, owner):
    job = create(memory, engine_profile, owner, mode="clone", overrides={"Account_Name": "Acme 2"})

    def crash():
        memory.on_write = None
        raise KeyboardInterrupt  # the worker dies after marking SENDING

    memory.on_write = crash
    with pytest.raises(KeyboardInterrupt):
        run_job(connector=memory, job=job)
    # The write happened? Simulate "applied": write again through the connector as the dead worker did.
    row = job.results.get()
    assert row.status == S.SENDING
    memory.add("Accounts", Account_Name="Acme 2", Copy_Key=row.idempotency_key)
    CopyJob.objects.filter(pk=job.pk).update(lease_expires_at="2000-01-01T00:00:00Z")
    job = run_job(connector=memory, job=job, worker="w2")
    assert job.status == CopyJob.Status.SUCCEEDED and memory.count("Accounts") == 2


def test_second_worker_does_nothing_while_lease_held(memory, engine_profile, owner):
    job = create(memory, engine_profile, owner)
    assert _claim(job.pk, "w1")
    job = run_job(connector=memory, job=job, worker="w2")
    assert job.status == CopyJob.Status.RUNNING and memory.calls == []


def test_bulk_clone_with_row_overrides_in_batches(engine_profile, owner):
    conn = MemoryConnector(batch_size=2)
    ids = [conn.add("Accounts", Account_Name=f"A{i}") for i in range(5)]
    job = copy_job_create(
        request=copy_request(
            engine_profile,
            "Accounts",
            ids,
            "clone",
            overrides={"Phone": "9"},
            row_overrides={ids[0]: {"Account_Name": "First"}},
        ),
        user=owner,
        enqueue=False,
        connector=conn,
    )
    job = run_job(connector=conn, job=job)
    assert job.status == CopyJob.Status.SUCCEEDED and job.succeeded_count == 5
    assert [c for c in conn.calls if c[0] == "clone"] == [("clone", "Accounts", 2)] * 2 + [("clone", "Accounts", 1)]
    names = sorted(conn.data["Accounts"][r.new_id]["Account_Name"] for r in job.results.all())
    assert names == ["A1", "A2", "A3", "A4", "First"]


def test_failed_rows_then_retry_reruns_only_them(memory, engine_profile, owner):
    memory.reject_names = {"C1"}
    job = run_job(connector=memory, job=create(memory, engine_profile, owner, overrides={"Account_Name": "Acme 2"}))
    assert job.status == CopyJob.Status.PARTIAL
    failed = job.results.filter(status=S.FAILED)
    assert {r.error_type for r in failed} == {"INVALID_DATA", "PARENT_NOT_COPIED"}
    memory.reject_names = set()
    memory.calls.clear()
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(connector=memory, job=job, worker="w2")
    assert job.status == CopyJob.Status.SUCCEEDED
    assert memory.count("Accounts") == 2 and memory.count("Contacts") == 7 and memory.count("Tasks") == 6
    assert ("clone", "Accounts", 1) not in memory.calls


def test_cancel_stops_between_batches_and_keeps_results(engine_profile, owner):
    conn = MemoryConnector(batch_size=1)
    acc = conn.add("Accounts", Account_Name="Acme")
    for i in range(4):
        conn.add("Contacts", Last_Name=f"C{i}", Account_Name={"id": acc})
    conn.root = acc
    job = create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"})
    writes = []

    def cancel_after_two():
        writes.append(1)
        if len(writes) == 2:
            CopyJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    conn.on_write = cancel_after_two
    job = run_job(connector=conn, job=job)
    assert job.status == CopyJob.Status.CANCELLED
    assert job.succeeded_count == 2 and job.results.filter(status=S.SKIPPED).count() == 3


def test_undo_deletes_children_first_and_restores(memory, engine_profile, owner):
    before = {o: set(v) for o, v in memory.data.items()}
    job = run_job(connector=memory, job=create(memory, engine_profile, owner, overrides={"Account_Name": "Acme 2"}))
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    assert undo.mode == CopyJob.Mode.UNDO and undo.parent_job == job and undo.planned_count == 7
    undo = run_job(connector=memory, job=undo)
    assert undo.status == CopyJob.Status.SUCCEEDED
    assert {o: set(v) for o, v in memory.data.items()} == before
    deletes = [c[1] for c in memory.calls if c[0] == "delete"]
    assert deletes[-1] == "Accounts"


def test_vault_native_deep_copy_matches_hierarchy_and_undo_cascades(engine_profile, owner, settings):
    settings.VAULT_JOB_POLL_SECONDS = 0
    conn = MemoryConnector(native=True)
    acc = conn.add("Accounts", Account_Name="Acme")
    for i in range(3):
        conn.add("Contacts", Last_Name=f"C{i}", Account_Name=acc)
    conn.root = acc
    before = {o: set(v) for o, v in conn.data.items()}
    job = run_job(connector=conn, job=create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}))
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.remote_job_id == "J1"
    new_root = job.results.get(depth=0).new_id
    for r in job.results.filter(object_name="Contacts"):
        assert conn.data["Contacts"][r.new_id]["Account_Name"] == new_root
        assert conn.data["Contacts"][r.new_id]["Last_Name"] == conn.data["Contacts"][r.source_id]["Last_Name"]
    undo = run_job(connector=conn, job=copy_job_undo(job=job, user=owner, enqueue=False))
    assert undo.status == CopyJob.Status.SUCCEEDED
    assert {o: set(v) for o, v in conn.data.items()} == before


def test_an_unexpected_error_ends_the_job_failed(memory, engine_profile, owner):
    def boom():
        raise RuntimeError("disk on fire")

    memory.on_write = boom
    job = run_job(connector=memory, job=create(memory, engine_profile, owner))
    assert job.status == CopyJob.Status.FAILED and "disk on fire" in job.error_summary
    assert job.lease_owner == ""


@pytest.mark.redis
def test_resume_stale_requeues_expired_leases(
    memory, engine_profile, owner, django_capture_on_commit_callbacks, redis_url
):
    """Re-queued onto the real (test) Redis queue: one RQ job that runs this copy job."""
    import django_rq

    job = create(memory, engine_profile, owner)
    _claim(job.pk, "dead")
    CopyJob.objects.filter(pk=job.pk).update(lease_expires_at="2000-01-01T00:00:00Z")
    queue = django_rq.get_queue("default")
    assert queue.count == 0
    with django_capture_on_commit_callbacks(execute=True):
        resumed = jobs_resume_stale()
    assert [j.pk for j in resumed] == [job.pk]
    assert resumed[0].status == CopyJob.Status.QUEUED
    assert queue.job_ids == [resumed[0].rq_job_id]
    rq_job = queue.fetch_job(resumed[0].rq_job_id)
    assert rq_job.func_name == "records.jobs.run_copy_job" and rq_job.args == (job.pk,)


def test_plan_summary_names_every_object_a_record_kind_is_reached_through():
    from records.copying.tree import Node, summarize

    nodes = [
        Node("Accounts", "A", 0),
        Node("Contacts", "C1", 1, parent_source_id="A"),
        Node("Deals", "D1", 1, parent_source_id="A"),
        Node("Tasks", "T1", 2, parent_source_id="C1"),
        Node("Tasks", "T2", 2, parent_source_id="D1"),
        Node("Tasks", "T3", 2, parent_source_id="C1"),
    ]
    objects = {(o.object_name, o.depth): o for o in summarize(nodes, {"Tasks": "Task"})}
    assert objects[("Tasks", 2)].count == 3 and objects[("Tasks", 2)].parent_object == "Contacts, Deals"
    assert objects[("Contacts", 1)].parent_object == "Accounts" and objects[("Accounts", 0)].parent_object == ""
    assert objects[("Tasks", 2)].label == "Task"


def test_source_payload_repoints_in_tree_references_and_clears_unique_values():
    from records.connectors.base import FieldInfo, FieldType
    from records.copying.engine_deep_copy import source_payload
    from records.copying.tree import Node

    fields = [
        FieldInfo("formulation__c", "Formulation", FieldType.REFERENCE, required=True),
        FieldInfo("sibling__c", "Sibling", FieldType.REFERENCE),
        FieldInfo("country__c", "Country", FieldType.REFERENCE),
        FieldInfo("code__c", "Code", FieldType.TEXT, unique=True),
        FieldInfo("size__c", "Size", FieldType.NUMBER),
    ]
    node = Node(
        "packaging__c",
        "P1",
        2,
        parent_source_id="F1",
        parent_field="formulation__c",
        fields={"formulation__c": "F1", "sibling__c": "P0", "country__c": "C9", "code__c": "X", "size__c": 3},
    )
    payload = source_payload(node, fields, {"F1": "F1new", "P0": "P0new"}, "F1new")
    assert payload == {"source_record_id": "P1", "formulation__c": "F1new", "sibling__c": "P0new", "code__c": None}
