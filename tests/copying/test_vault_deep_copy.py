"""The whole Vault path: engine + Vault connector + the Vault sandbox over HTTP.

Clone with overrides, bulk clone in batches of 500, native deep copy (results per record, the
fallback when the success file has no new ids), the 10,000 limit refused in the preview, cancel,
undo, an expired session mid-job, and a worker crash after the deep-copy job was started (the
resumed run polls the same remote job); Vault's own deep copy shows its phases (started, Vault job N
running, polled k times, results read, n of N matched).

Events at a moment come from real parts (docs/reliability.md): cancels and crashes hit a real RQ
worker while the sandbox holds an answer; expiries are sandbox hooks; nothing of ours is patched.
"""

import django_rq
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from records.connectors import connector_for
from records.copying.job_actions import copy_job_cancel, copy_job_run, copy_job_undo, jobs_resume_stale
from records.copying.job_create import copy_job_create
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from records.web import job_state
from tests.fixtures.engine import (
    copy_now,
    copy_request,
    kill_worker,
    preview,
    run_job,
    start_job,
    wait_for,
    wait_for_end,
    worker_running,
)

S = RecordResult.Status
PARENT_FIELD = {"formulation__c": "product__c", "packaging__c": "formulation__c"}


def product(conn, name):
    found = conn.find("product__v", {"name__v": name})
    assert len(found) == 1, name
    return found[0].id


def counts(sb):
    return {o: len(r) for o, r in sb.vault.state.records.items()}


def deep_copy_posts(sb):
    return [e for e in sb.log("vault") if e.method == "POST" and e.path.endswith("/actions/deepcopy")]


def assert_hierarchy_copied(conn, job, src, new_root):
    """One succeeded row per source record; each copy's parent is the copy of the source's parent."""
    source_tree = read_tree(conn, "product__v", src)
    copy_tree = read_tree(conn, "product__v", new_root)
    rows = list(job.results.all())
    assert len(rows) == len(source_tree) == len(copy_tree) == job.planned_count
    assert {(r.object_name, r.source_id) for r in rows} == {(n.object_name, n.source_id) for n in source_tree}
    assert all(r.status == S.SUCCEEDED and r.new_id for r in rows)
    assert {r.new_id for r in rows} == {n.source_id for n in copy_tree}  # exactly the new hierarchy
    new_of = {r.source_id: r.new_id for r in rows}
    copies = {n.source_id: n for n in copy_tree}
    for node in source_tree[1:]:
        copy = copies[new_of[node.source_id]]
        assert copy.object_name == node.object_name
        assert copy.fields[PARENT_FIELD[node.object_name]] == new_of[node.parent_source_id]
        row = next(r for r in rows if r.source_id == node.source_id)
        assert row.parent_source_id == node.parent_source_id
        if node.object_name == "formulation__c":
            assert copy.fields["strength__c"] == node.fields["strength__c"]
        else:
            assert copy.fields["pack_size__c"] == node.fields["pack_size__c"]
            assert not copy.fields.get("gtin__c")  # no_copy


@pytest.mark.django_db
def test_clone_holds_overrides_not_no_copy_fields(vault, owner):
    sb, profile, conn = vault
    src = product(conn, "Cardiostat")
    job = copy_now(
        profile,
        owner,
        "product__v",
        [src],
        "clone",
        overrides={"name__v": "Cardiostat B", "price__c": 99, "description__c": None},
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get()
    assert row.link and row.new_id in row.link
    source, copy = conn.get("product__v", src).fields, conn.get("product__v", row.new_id).fields
    assert copy["name__v"] == "Cardiostat B" and float(copy["price__c"]) == 99 and not copy.get("description__c")
    assert source["external_id__v"] and not copy.get("external_id__v")
    assert source["internal_code__c"] and not copy.get("internal_code__c")
    assert copy["country__c"] == source["country__c"]


@pytest.mark.django_db
def test_bulk_clone_sends_batches_of_500(vault, owner):
    sb, profile, conn = vault
    large = product(conn, "Large Product")
    formulations = [r.id for r in conn.children(conn.related_lists("product__v")[0], [large])]
    ids = [r.id for r in conn.children(conn.related_lists("formulation__c")[0], formulations)][:1100]
    assert len(ids) == 1100
    before = counts(sb)["packaging__c"]
    sb.clear_log("vault")
    job = copy_now(profile, owner, "packaging__c", ids, "clone", overrides={"pack_size__c": 7})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.succeeded_count == 1100 == job.results.exclude(new_id="").count()
    assert counts(sb)["packaging__c"] == before + 1100
    writes = [e for e in sb.log("vault") if e.method == "POST" and e.path.endswith("/vobjects/packaging__c")]
    assert len(writes) == 3  # 500 + 500 + 100
    copy = conn.get("packaging__c", job.results.first().new_id).fields
    assert float(copy["pack_size__c"]) == 7 and not copy.get("gtin__c")


@pytest.mark.parametrize("flag", [True, False], ids=["hierarchical-flag", "no-flag"])
@pytest.mark.django_db
def test_deep_copy_children_and_grandchildren_point_at_new_parents(vault, owner, flag):
    sb, profile, conn = vault
    if not flag:  # `hierarchical_copy` in relationships[] is the sandbox's invention: work without it
        sb.vault.configure(relationship_hierarchical_flag=False)
        conn = connector_for(profile)
        assert all("hierarchical_copy" not in r for r in conn._metadata("product__v")[1]["relationships"])
    src = product(conn, "Dermacalm")
    job = copy_now(
        profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Dermacalm Deep", "price__c": 1}
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.remote_job_id and len(deep_copy_posts(sb)) == 1
    new_root = job.results.get(depth=0).new_id
    top = conn.get("product__v", new_root).fields
    assert top["name__v"] == "Dermacalm Deep" and float(top["price__c"]) == 1
    assert not top.get("external_id__v") and not top.get("internal_code__c")
    assert_hierarchy_copied(conn, job, src, new_root)


@pytest.mark.parametrize("copy_key", [True, False], ids=["copy-key", "no-copy-key"])
@pytest.mark.django_db
def test_deep_copy_when_success_file_has_no_new_ids(vault, owner, settings, copy_key):
    """§5.3 success columns are unconfirmed: with no target ids the engine queries the new hierarchy."""
    sb, profile, conn = vault
    if not copy_key:  # an emulator / Vault without the optional copy_key__c marker field
        settings.COPY_KEY_FIELDS = ()
    sb.vault.configure(deepcopy_success_columns=("line number", "vobject", "sourceRecordId"))
    src = product(conn, "Pulmoflow")
    job = copy_now(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Pulmoflow Fallback"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    assert new_root == product(conn, "Pulmoflow Fallback")
    assert_hierarchy_copied(conn, job, src, new_root)
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert conn.find("product__v", {"name__v": "Pulmoflow Fallback"}) == []


@pytest.mark.django_db
def test_deep_copy_over_10000_related_is_refused_in_the_preview(vault, owner):
    sb, profile, conn = vault
    src = product(conn, "Mega Product")
    plan = preview(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Mega Copy"})
    assert plan.refused and "10,000" in plan.refused_reason
    # The way out is named by the preview's box (the copy command says --engine: test_commands.py).
    assert "“Build the hierarchy level by level”" in plan.refused_reason and "--engine" not in plan.refused_reason
    with pytest.raises(ValidationError, match="10,000"):
        start_job(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Mega Copy"})
    assert not CopyJob.objects.exists() and not deep_copy_posts(sb)
    large = product(conn, "Large Product")  # 2,000 related records: allowed
    plan = preview(profile, "product__v", [large], "deep_copy", overrides={"name__v": "Large Copy"})
    assert not plan.refused and plan.related_total == 2000


def _cancel_while_held(sb, job, owner, redis_url, method, path):
    """Run `job` in a real worker; cancel it through the service while the sandbox holds the answer
    to the first `method` `path` call (done in Vault, not yet heard by the worker); the ended job."""
    hold = sb.hooks("vault").hold(method, path)
    with worker_running(redis_url):
        try:
            assert hold.wait(60), f"no {method} {path}"
            copy_job_cancel(job=CopyJob.objects.get(pk=job.pk), user=owner)
        finally:
            hold.release()
        return wait_for_end(job)


def _one_call_at_a_time(profile):
    """A worker sends up to the profile's concurrency at once; these tests count calls in flight."""
    profile.concurrency = 1
    profile.save(update_fields=["concurrency"])


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_bulk_clone_within_one_batch(vault, owner, redis_url):
    sb, profile, conn = vault
    _one_call_at_a_time(profile)
    large = product(conn, "Large Product")
    formulations = [r.id for r in conn.children(conn.related_lists("product__v")[0], [large])]
    ids = [r.id for r in conn.children(conn.related_lists("formulation__c")[0], formulations)][:1200]
    job = start_job(profile, owner, "packaging__c", ids, "clone", enqueue=True)
    job = _cancel_while_held(sb, job, owner, redis_url, "POST", r"/vobjects/packaging__c$")
    assert job.status == CopyJob.Status.CANCELLED
    assert job.succeeded_count == 500 and job.results.filter(status=S.SKIPPED).count() == 700


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_cancel_between_deep_copies_of_several_products(vault, owner, redis_url):
    sb, profile, conn = vault
    _one_call_at_a_time(profile)
    ids = [product(conn, n) for n in ("Neurolax", "Dermacalm")]
    job = start_job(
        profile,
        owner,
        "product__v",
        ids,
        "deep_copy",
        enqueue=True,
        row_overrides={ids[0]: {"name__v": "Can A"}, ids[1]: {"name__v": "Can B"}},
    )
    job = _cancel_while_held(sb, job, owner, redis_url, "POST", r"/actions/deepcopy$")
    assert job.status == CopyJob.Status.CANCELLED
    # The started Vault job can't be stopped: its records are all reported; the second never started.
    first = job.results.filter(pk__in=job.state["trees"][ids[0]])
    assert first.filter(status=S.SUCCEEDED).count() == first.count()
    assert job.results.filter(pk__in=job.state["trees"][ids[1]], status=S.SKIPPED).count() > 0
    assert len(deep_copy_posts(sb)) == 1 and conn.find("product__v", {"name__v": "Can B"}) == []


@pytest.mark.django_db
def test_session_expiring_mid_job(vault, owner):
    sb, profile, conn = vault
    src = product(conn, "Osteofirm")
    job = start_job(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Osteofirm Expired"})
    sb.vault.expire_sessions()
    # The sandbox expires every session after answering each job poll: each next poll finds its
    # session gone.
    sb.hooks("vault").after("GET", r"/services/jobs/\d+$", sb.vault.expire_sessions)
    sb.clear_log("vault")
    job = run_job(job, connector=conn, worker="t")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    # Logged in again for the start (expired before it) and after the poll(s), each once.
    assert len([e for e in sb.log("vault") if e.path.endswith("/auth")]) >= 2
    assert_hierarchy_copied(conn, job, src, job.results.get(depth=0).new_id)
    # And a clone right after another expiry.
    sb.vault.expire_sessions()
    clone = copy_now(profile, owner, "product__v", [src], "clone", overrides={"name__v": "Osteofirm Clone"})
    assert clone.status == CopyJob.Status.SUCCEEDED, clone.error_summary


def _crash_then_resume(sb, profile, owner, redis_url, src, name, *, crash_before_return):
    """A real worker SIGKILLed while the sandbox holds the answer to the deep copy's start (the job
    runs in Vault; its id never reached the worker) or to its first status poll (the id was
    stored); the lease runs out, resume-stale re-queues the job and a second worker finishes it."""
    job = start_job(profile, owner, "product__v", [src], "deep_copy", enqueue=True, overrides={"name__v": name})
    moment = ("POST", r"/actions/deepcopy$") if crash_before_return else ("GET", r"/services/jobs/\d+$")
    hold = sb.hooks("vault").hold(*moment)
    with worker_running(redis_url) as first:
        try:
            assert hold.wait(60), f"no {moment}"
            kill_worker(first)
        finally:
            hold.release()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.RUNNING and bool(job.remote_job_id) != crash_before_return
    assert wait_for(lambda: len(deep_copy_posts(sb)) == 1, 10)  # logged once answered (to nobody)
    CopyJob.objects.filter(pk=job.pk).update(lease_expires_at=job.lease_expires_at.replace(year=2000))
    resumed = jobs_resume_stale()
    assert [j.pk for j in resumed] == [job.pk]
    assert resumed[0].rq_job_id in django_rq.get_queue("default").job_ids  # re-queued on Redis
    remote_before = resumed[0].remote_job_id
    with worker_running(redis_url, "--burst") as second:
        second.wait(120)
    job.refresh_from_db()
    return job, remote_before


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_crash_while_polling_resumes_the_same_remote_job(vault, owner, redis_url):
    sb, profile, conn = vault
    src = product(conn, "Immunova")
    job, remote_before = _crash_then_resume(
        sb, profile, owner, redis_url, src, "Immunova Resumed", crash_before_return=False
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert remote_before and job.remote_job_id == remote_before and job.attempts == 2
    assert len(deep_copy_posts(sb)) == 1  # no second deep copy
    polls = [e for e in sb.log("vault") if e.path.endswith(f"/services/jobs/{remote_before}")]
    assert polls
    assert len(conn.find("product__v", {"name__v": "Immunova Resumed"})) == 1
    assert_hierarchy_copied(conn, job, src, job.results.get(depth=0).new_id)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_crash_before_the_job_id_was_stored_finds_the_copy(vault, owner, redis_url):
    sb, profile, conn = vault
    src = product(conn, "Hepaguard")
    job, _ = _crash_then_resume(sb, profile, owner, redis_url, src, "Hepaguard Resumed", crash_before_return=True)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert len(deep_copy_posts(sb)) == 1
    assert len(conn.find("product__v", {"name__v": "Hepaguard Resumed"})) == 1
    assert_hierarchy_copied(conn, job, src, job.results.get(depth=0).new_id)


def _cmd(*args):
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_cli_preview_and_sync_deep_copy(vault, owner):
    """What the demo runs: `manage.py copy "<Vault profile>" product__v ID --deep --preview | --sync --json`."""
    import json

    sb, profile, conn = vault
    src = product(conn, "Neurolax")
    code, out, err = _cmd("copy", profile.name, "product__v", src, "--deep", "--preview", "--set", "name__v=CLI Copy")
    assert code == 0, err
    assert "formulation__c: 5" in out and "packaging__c: 30" in out and not CopyJob.objects.exists()
    # Without a new name the copy would clash on the unique, required name__v: refused before queueing.
    code, out, err = _cmd("copy", profile.name, "product__v", src, "--deep", "--sync", "--json")
    assert code == 2 and "name__v" in err and not CopyJob.objects.exists()
    code, out, err = _cmd(
        "copy", profile.name, "product__v", src, "--deep", "--sync", "--json", "--set", "name__v=CLI Copy"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "succeeded" and data["mode"] == "deep_copy" and data["counts"]["succeeded"] == 36
    assert len(data["results"]) == 36 and all(r["new_id"] for r in data["results"])


# -- the phases of Vault's own deep copy: the poll count is the engine's own record of its status
# calls, checked against the sandbox's log of them.


def status_calls(sb, remote_id):
    return [e for e in sb.log("vault") if e.method == "GET" and e.path.endswith(f"/services/jobs/{remote_id}")]


@pytest.mark.django_db
def test_each_status_call_is_counted_and_the_job_page_says_how_many(vault, owner, owner_client):
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Cardiostat").records)
    sb.vault.configure(job_min_run_seconds=1.0)  # Vault's job runs long enough for a few polls
    job = copy_job_create(
        request=copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Cardiostat polled"}),
        user=owner,
        enqueue=False,
    )
    job = copy_job_run(job_id=job.pk, worker_id="test")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    st = job.state["roots"][src]
    polls = len(status_calls(sb, job.remote_job_id))
    assert polls >= 3 and st["polls"] == polls

    # The page while Vault's job was running, from the checkpoint as it was then.
    CopyJob.objects.filter(pk=job.pk).update(
        state={**job.state, "roots": {src: {**st, "phase": "polling"}}}, status=CopyJob.Status.RUNNING
    )
    expected = f"Vault job {job.remote_job_id} running, polled {polls} times"
    assert expected in owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    assert expected in owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    # Results read: how many of the records have been matched to their copies so far.
    CopyJob.objects.filter(pk=job.pk).update(state={**job.state, "roots": {src: {**st, "phase": "discover"}}})
    n = job.results.count()
    live = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    assert f"Vault&#x27;s job ended; results read, {n} of {n} matched" in live


def test_phase_texts():
    assert job_state.phase_text({"a": {"phase": "polling", "remote_job_id": "7"}}) == "Vault job 7 running"
    assert job_state.phase_text({"a": {"phase": "polling", "remote_job_id": "7", "polls": 1}}) == (
        "Vault job 7 running, polled 1 time"
    )
    counts = {("product__v", "succeeded"): 1, ("formulation__c", "succeeded"): 1200, ("formulation__c", "pending"): 9}
    assert job_state.phase_text({"a": {"phase": "discover"}}, counts) == (
        "Vault's job ended; results read, 1,201 of 1,210 matched"
    )
    assert job_state.phase_text({"a": {"phase": "starting"}}) == "Started Vault's deep copy"
