"""A lost answer in a vault or org without copy-key fields (the sandbox served as real systems are):
the copy is found by its values, its creation after the row was marked sending, the API user and an
id no job knows — never the source, never another job's copy. Real RQ worker processes run the
jobs against the sandbox over HTTP; the sandbox loses exactly the answer a test names
(`hooks(...).lose(..., applied=...)`)."""

import re

import pytest

from records.connectors.base import NotFound
from records.copying import services
from records.copying.plan import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import worker_running
from tests.fixtures.sandbox import find_record

S = RecordResult.Status
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ZOHO_CLONE = r"^/crm/v\d+/Accounts/\d+/actions/clone$"
ZOHO_INSERT = r"^/crm/v\d+/(?!coql$)\w+$"  # POST /crm/{v}/{module}: a batch insert (COQL aside)
INITECH = "5725767000000200045"


def in_worker(job, redis_url, **env):
    """`job` (already queued) run by a real burst worker to its end; read again."""
    with worker_running(redis_url, "--burst", **env) as worker:
        worker.wait(180)
    job.refresh_from_db()
    return job


def copy_in_worker(profile, owner, redis_url, ids, mode, **kw):
    job = services.copy_job_create(profile=profile, object_name="Accounts", source_ids=ids, mode=mode, user=owner, **kw)
    return in_worker(job, redis_url)


def undo_in_worker(job, owner, redis_url):
    undo = services.copy_job_undo(job=CopyJob.objects.get(pk=job.pk), user=owner)
    return in_worker(undo, redis_url)


def writes(sb, path):
    return [e for e in sb.log("zoho") if e.method == "POST" and re.search(path, e.path.split("?")[0])]


def exists(conn, object_name, record_id):
    try:
        conn.get(object_name, record_id)
    except NotFound:
        return False
    return True


def test_a_lost_clone_not_applied_never_claims_the_source_and_undo_keeps_it(bare_zoho, owner, redis_url):
    sb, profile, conn = bare_zoho
    assert find_record(conn, "Accounts", "Initech") == INITECH
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=False)
    job = copy_in_worker(profile, owner, redis_url, [INITECH], "clone", overrides={"Account_Name": "{Account_Name}"})
    row = job.results.get()
    assert row.new_id and row.new_id != INITECH
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert [e.outcome for e in writes(sb, ZOHO_CLONE)] == ["lost_not_applied", "ok"]  # sent again once
    assert {r.id for r in conn.find("Accounts", {"Account_Name": "Initech"})} == {INITECH, row.new_id}
    undo = undo_in_worker(job, owner, redis_url)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert exists(conn, "Accounts", INITECH) and not exists(conn, "Accounts", row.new_id)


def test_a_deep_copy_whose_root_clone_was_lost_hangs_its_children_under_the_copy(bare_zoho, owner, redis_url):
    """Hooli, nothing changed, only the root's clone lost: the children go under the copy, and undo
    leaves the source account and its own contacts in place."""
    sb, profile, conn = bare_zoho
    src = find_record(conn, "Accounts", "Hooli")
    before = {(n.object_name, n.source_id) for n in read_tree(conn, "Accounts", src)}
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=False)
    job = copy_in_worker(profile, owner, redis_url, [src], "deep_copy")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    assert new_root and new_root != src
    assert len(read_tree(conn, "Accounts", new_root)) == job.planned_count == len(before)
    assert not job.results.filter(new_id__in=[s for _, s in before]).exists()  # no row holds a source
    undo = undo_in_worker(job, owner, redis_url)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert {(n.object_name, n.source_id) for n in read_tree(conn, "Accounts", src)} == before
    assert not exists(conn, "Accounts", new_root)


def test_a_plain_clone_applied_but_unanswered_makes_exactly_one_copy(bare_zoho, owner, redis_url):
    """Nothing changed (the clone's body carries no name): the copy Zoho made is found by the name
    it inherits, its creation time and the API user; nothing is sent again."""
    sb, profile, conn = bare_zoho
    src = find_record(conn, "Accounts", "Globex")
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=True)
    job = copy_in_worker(profile, owner, redis_url, [src], "clone")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copies = [r.id for r in conn.find("Accounts", {"Account_Name": "Globex"}) if r.id != src]
    assert len(copies) == 1 and job.results.get().new_id == copies[0]
    assert [e.outcome for e in writes(sb, ZOHO_CLONE)] == ["lost_applied"]
    undo = undo_in_worker(job, owner, redis_url)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert [r.id for r in conn.find("Accounts", {"Account_Name": "Globex"})] == [src]
