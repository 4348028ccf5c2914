"""A lost answer found again (records/copying/reconcile.py) in a vault or org without copy-key
fields. Real RQ worker processes run the jobs against the sandbox served as real systems are; the
sandbox loses exactly the answer a test names (`hooks(...).lose(..., applied=...)`); the copy is
found by its values, its creation after the row was marked sending, the API user and an id no job
knows — never the source, never another job's copy. Then the rules one by one over the in-memory
connector (the seam): several records that could be the copy hold the row for review, which only a
person resolves."""

import re

import pytest
from django.core.exceptions import ValidationError

from records.connectors.errors import NotFound, OutcomeUnknown
from records.copying.job_actions import copy_job_resume, copy_job_undo
from records.copying.job_create import copy_job_create
from records.copying.job_rules import can_resume, can_undo
from records.copying.job_words import status_words
from records.copying.review import copy_row_resolve
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import MEMORY_API_USER, MemoryConnector, copy_request, run_job, worker_running
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
    job = copy_job_create(request=copy_request(profile, "Accounts", ids, mode, **kw), user=owner)
    return in_worker(job, redis_url)


def undo_in_worker(job, owner, redis_url):
    undo = copy_job_undo(job=CopyJob.objects.get(pk=job.pk), user=owner)
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


# -- the matrix: a lost answer applied or not, for each kind of write, on both systems ----------------
# Every case ends with exactly one copy per source record, no row holding a record that was there
# before (a source, an earlier job's copy), every record that was there before still there, and the
# lost write sent again only when it was not applied.

LOST = pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])


def account_ids(conn):
    return {r.id for r in conn.search("Accounts", "", per_page=200).records}


def assert_nothing_there_before_was_claimed_or_lost(conn, job, before):
    held = set(job.results.exclude(new_id="").values_list("new_id", flat=True))
    assert not held & before, held & before
    assert before <= account_ids(conn)


@LOST
@pytest.mark.parametrize("name", ["source's", "earlier copy's", "new"])
def test_zoho_clone(bare_zoho, owner, redis_url, applied, name):
    sb, profile, conn = bare_zoho
    src = find_record(conn, "Accounts", "Vandelay Imports")
    if name == "earlier copy's":
        earlier = copy_in_worker(profile, owner, redis_url, [src], "clone")
        assert earlier.status == CopyJob.Status.SUCCEEDED
    overrides = {"Account_Name": "Vandelay New"} if name == "new" else {}
    before = account_ids(conn)
    clones_before = len(writes(sb, ZOHO_CLONE))
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=applied)
    job = copy_in_worker(profile, owner, redis_url, [src], "clone", overrides=overrides)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert_nothing_there_before_was_claimed_or_lost(conn, job, before)
    assert account_ids(conn) - before == {job.results.get().new_id}  # exactly one copy
    assert len(writes(sb, ZOHO_CLONE)) - clones_before == (1 if applied else 2)


@LOST
def test_zoho_bulk_clone(bare_zoho, owner, redis_url, applied):
    """Three clones in one batch (sent in parallel); one answer lost: the batch is reconciled."""
    sb, profile, conn = bare_zoho
    ids = [find_record(conn, "Accounts", n) for n in ("Globex", "Stark Industries", "Wayne Enterprises")]
    before = account_ids(conn)
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=applied)
    job = copy_in_worker(profile, owner, redis_url, ids, "clone")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert_nothing_there_before_was_claimed_or_lost(conn, job, before)
    new = account_ids(conn) - before
    assert new == set(job.results.values_list("new_id", flat=True)) and len(new) == 3
    for row in job.results.all():  # each copy is its own source's
        assert conn.get("Accounts", row.new_id).name == conn.get("Accounts", row.source_id).name
    assert len(writes(sb, ZOHO_CLONE)) == (3 if applied else 4)


@LOST
@pytest.mark.parametrize("lost", ["root", "child"])
def test_zoho_deep_copy(bare_zoho, owner, redis_url, applied, lost):
    """Umbrella Health copied once before (same names everywhere), then again, nothing changed,
    with the root's clone or the first children batch's answer lost."""
    sb, profile, conn = bare_zoho
    src = find_record(conn, "Accounts", "Umbrella Health")
    earlier = copy_in_worker(profile, owner, redis_url, [src], "deep_copy")
    assert earlier.status == CopyJob.Status.SUCCEEDED
    size = len(read_tree(conn, "Accounts", src))
    before = account_ids(conn)
    earlier_ids = set(earlier.results.values_list("new_id", flat=True))
    sb.hooks("zoho").lose("POST", ZOHO_CLONE if lost == "root" else ZOHO_INSERT, applied=applied)
    job = copy_in_worker(profile, owner, redis_url, [src], "deep_copy")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert_nothing_there_before_was_claimed_or_lost(conn, job, before)
    held = set(job.results.values_list("new_id", flat=True))
    assert not held & earlier_ids and not held & {n.source_id for n in read_tree(conn, "Accounts", src)}
    new_root = job.results.get(depth=0).new_id
    tree = read_tree(conn, "Accounts", new_root)
    assert len(tree) == size == job.planned_count and {n.source_id for n in tree} == held
    assert len(read_tree(conn, "Accounts", src)) == size  # the source's tree as it was
    outcomes = [e.outcome for e in sb.log("zoho") if e.outcome.startswith("lost")]
    assert outcomes == ["lost_applied" if applied else "lost_not_applied"]


VAULT_CREATE = r"^/api/v\d+\.\d+/vobjects/product__v$"
VAULT_DEEP_COPY = r"^/api/v\d+\.\d+/vobjects/product__v/[^/]+/actions/deepcopy$"


def vault_writes(sb, path):
    return [e for e in sb.log("vault") if e.method == "POST" and re.search(path, e.path.split("?")[0])]


def product_ids(conn):
    return {r.id for r in conn.search("product__v", "", per_page=200).records}


@LOST
def test_vault_clone(bare_vault, owner, redis_url, applied):
    sb, profile, conn = bare_vault
    src = find_record(conn, "product__v", "Neurolax")
    before = product_ids(conn)
    sb.hooks("vault").lose("POST", VAULT_CREATE, applied=applied)
    job = copy_job_create(
        request=copy_request(profile, "product__v", [src], "clone", overrides={"name__v": "Neurolax Lost"}), user=owner
    )
    job = in_worker(job, redis_url)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new = product_ids(conn) - before
    assert new == {job.results.get().new_id} and before <= product_ids(conn)
    assert len(vault_writes(sb, VAULT_CREATE)) == (1 if applied else 2)


@LOST
def test_vault_deep_copy_whose_start_answer_was_lost(bare_vault, owner, redis_url, applied):
    """The deep copy's start: applied, its copy is found by its name, creation time and the API user
    and its hierarchy matched; not applied, the job stops after the wait and a resume starts it."""
    sb, profile, conn = bare_vault
    src = find_record(conn, "product__v", "Dermacalm")
    size = len(read_tree(conn, "product__v", src))
    before = product_ids(conn)
    sb.hooks("vault").lose("POST", VAULT_DEEP_COPY, applied=applied)
    job = copy_job_create(
        request=copy_request(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Dermacalm Lost"}),
        user=owner,
    )
    wait = {"VAULT_LOST_START_WAIT_SECONDS": "4", "VAULT_JOB_POLL_SECONDS": "0.2"}
    job = in_worker(job, redis_url, **wait)
    if not applied:
        assert job.status != CopyJob.Status.SUCCEEDED and not job.results.exclude(new_id="").exists()
        job = in_worker(copy_job_resume(job=job, user=owner), redis_url, **wait)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    assert product_ids(conn) - before == {new_root} and before <= product_ids(conn)
    assert len(read_tree(conn, "product__v", new_root)) == size == job.planned_count
    assert len(read_tree(conn, "product__v", src)) == size
    assert len(vault_writes(sb, VAULT_DEEP_COPY)) == (1 if applied else 2)


VAULT_FORMULATIONS = r"^/api/v\d+\.\d+/vobjects/formulation__c$"


@LOST
def test_vault_engine_built_deep_copy_child(bare_vault, owner, redis_url, applied):
    """Built level by level (creates from source): the formulations' batch answer lost. Their
    names are the system's own, so siblings are told apart by the values each inherits."""
    from records.copying.options import CopyOptions

    sb, profile, conn = bare_vault
    src = find_record(conn, "product__v", "Cardiostat")
    size = len(read_tree(conn, "product__v", src))
    sb.hooks("vault").lose("POST", VAULT_FORMULATIONS, applied=applied)
    job = copy_job_create(
        request=copy_request(
            profile,
            "product__v",
            [src],
            "deep_copy",
            overrides={"name__v": "Cardiostat Built"},
            options=CopyOptions(engine=True),
        ),
        user=owner,
    )
    job = in_worker(job, redis_url)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    tree = read_tree(conn, "product__v", new_root)
    assert len(tree) == size == job.planned_count
    assert {n.source_id for n in tree} == set(job.results.values_list("new_id", flat=True))
    assert len(read_tree(conn, "product__v", src)) == size
    assert len(vault_writes(sb, VAULT_FORMULATIONS)) == (1 if applied else 2)


def test_a_remote_clock_an_hour_behind_still_finds_the_copy(bare_zoho, owner, redis_url):
    """The creation bound is taken on the remote's clock (its Date header): an org whose clock is an
    hour behind ours still has its copy found, not sent again."""
    sb, profile, conn = bare_zoho
    sb.set_clock_skew(-3600, "zoho")
    src = find_record(conn, "Accounts", "Soylent Foods")
    before = account_ids(conn)
    sb.hooks("zoho").lose("POST", ZOHO_CLONE, applied=True)
    job = copy_in_worker(profile, owner, redis_url, [src], "clone")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert account_ids(conn) - before == {job.results.get().new_id}
    assert [e.outcome for e in writes(sb, ZOHO_CLONE)] == ["lost_applied"]


# -- the rules over the in-memory connector: no worker processes, so no committed transactions ----
# Each test's own `django_db` mark is closer than the module's and keeps it in a rolled-back one.


def bare_memory():
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
            raise OutcomeUnknown("connection dropped before the server read it", error_type="OutcomeUnknown")
        conn.drop_after_write = 1

    conn.on_write = hook


def lose_first_insert(conn):
    """The answer of the first insert (not the top record's clone) is lost after it was applied."""

    def hook():
        conn.on_write = None if conn.calls[-1][0] == "create" else hook
        if conn.calls[-1][0] == "create":
            conn.drop_after_write = 1

    conn.on_write = hook


def stranger_copy(conn, name):
    """A record of the same name the API user makes meanwhile (another job, another tab)."""
    return lambda: conn._store("Accounts", {"Account_Name": name, "Phone": "1"}, MEMORY_API_USER)


def accounts_named(conn, name):
    return sorted(rid for rid, v in conn.data["Accounts"].items() if v.get("Account_Name") == name)


@pytest.mark.django_db
def test_a_lost_clone_not_applied_skips_the_source_and_an_earlier_jobs_copy_of_the_same_name(engine_profile, owner):
    conn = bare_memory()
    first = run_job(create(conn, engine_profile, owner), connector=conn)
    earlier_copy = first.results.get().new_id
    lose_next_write(conn, applied=False)
    job = run_job(create(conn, engine_profile, owner), connector=conn, worker="w2")
    row = job.results.get()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert row.new_id not in (conn.root, earlier_copy)
    assert accounts_named(conn, "Acme") == sorted([conn.root, earlier_copy, row.new_id])
    assert [c for c in conn.calls if c[0] == "clone"] == [("clone", "Accounts", 1)] * 3  # first job, lost, again


@pytest.mark.django_db
def test_a_lost_clone_applied_is_claimed_without_sending_it_again(engine_profile, owner):
    conn = bare_memory()
    lose_next_write(conn, applied=True)
    job = run_job(create(conn, engine_profile, owner), connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED
    assert accounts_named(conn, "Acme") == sorted([conn.root, job.results.get().new_id])
    assert len([c for c in conn.calls if c[0] == "clone"]) == 1


@pytest.mark.django_db
def test_two_records_that_could_be_the_copy_hold_the_row_for_review(engine_profile, owner):
    conn = bare_memory()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    row = job.results.get()
    assert row.status == S.REVIEW and not row.new_id
    assert sorted(c["id"] for c in row.candidates) == accounts_named(conn, "Acme 2")
    assert all(c["created"] and c["link"] for c in row.candidates)
    # Not succeeded; the words and the summary say why.
    assert job.status == CopyJob.Status.PARTIAL
    assert "1 needs review" in status_words(job) and "review" in job.error_summary
    # Nothing to resume: a row in review is never sent again; undo finds nothing to delete.
    assert not can_resume(job, owner)[0] and not can_undo(job, owner)[0]
    assert len([c for c in conn.calls if c[0] == "clone"]) == 1


@pytest.mark.django_db
def test_picking_a_candidate_succeeds_the_row_and_the_job(engine_profile, owner):
    conn = bare_memory()
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


@pytest.mark.django_db
def test_none_of_them_fails_the_row_so_resume_sends_it_again(engine_profile, owner):
    conn = bare_memory()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    copy_row_resolve(job=job, row=job.results.get(), pick=None, user=owner)
    job.refresh_from_db()
    row = job.results.get()
    assert row.status == S.FAILED and "none of the records" in row.error_message
    assert job.status == CopyJob.Status.FAILED and can_resume(job, owner)[0]
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, connector=conn, worker="w2")
    assert job.status == CopyJob.Status.SUCCEEDED
    assert len(accounts_named(conn, "Acme 2")) == 3  # the person said neither was ours: one more


@pytest.mark.django_db
def test_resolving_is_refused_to_a_user_without_access_and_while_the_job_runs(engine_profile, owner, other_user):
    conn = bare_memory()
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "Acme 2"))
    job = run_job(create(conn, engine_profile, owner, overrides={"Account_Name": "Acme 2"}), connector=conn)
    row = job.results.get()
    with pytest.raises(ValidationError, match="no longer have access"):
        copy_row_resolve(job=job, row=row, pick=row.candidates[0]["id"], user=other_user)
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.RUNNING)
    with pytest.raises(ValidationError, match="still running"):
        copy_row_resolve(job=job, row=row, pick=row.candidates[0]["id"], user=owner)
    assert job.results.get().status == S.REVIEW


@pytest.mark.django_db
def test_a_lost_deep_copy_root_with_a_twin_holds_the_tree(engine_profile, owner):
    """The root's copy can't be told apart: the children wait (not parented under a guess); after
    the pick, a resume copies them under it."""
    conn = bare_memory()
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


@pytest.mark.django_db
def test_equal_children_of_one_batch_are_matched_without_review(engine_profile, owner):
    """Rows whose copies can't differ (all their values sent, and equal) take the copies found in
    order: which one a row gets changes nothing. Sound, so no review."""
    conn = MemoryConnector(key_field=False)
    conn.root = conn.add("Accounts", Account_Name="Acme")
    for _ in range(3):
        conn.add("Contacts", Last_Name="Same", Account_Name={"id": conn.root})
    job = create(conn, engine_profile, owner, mode="deep_copy", overrides={"Account_Name": "Acme 2"})
    lose_first_insert(conn)
    job = run_job(job, connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_ids = list(job.results.filter(depth=1).values_list("new_id", flat=True))
    assert len(set(new_ids)) == 3 and conn.count("Contacts") == 6
    assert len([c for c in conn.calls if c[0] == "create"]) == 1


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_resume_sends_failed_rows_again_but_never_one_in_review_and_undo_spares_candidates(engine_profile, owner):
    conn = MemoryConnector(key_field=False)
    a, b = conn.add("Accounts", Account_Name="A", Phone="1"), conn.add("Accounts", Account_Name="B", Phone="2")
    conn.reject_names = {"B 2"}
    lose_next_write(conn, applied=True, also=stranger_copy(conn, "A 2"))
    rows = {a: {"Account_Name": "A 2"}, b: {"Account_Name": "B 2"}}
    job = run_job(create(conn, engine_profile, owner, ids=[a, b], row_overrides=rows), connector=conn)
    assert dict(job.results.values_list("source_id", "status")) == {a: S.REVIEW, b: S.FAILED}
    assert job.status == CopyJob.Status.PARTIAL
    assert status_words(job) == "Partly done: 0 copied, 1 failed, 1 needs review"
    conn.reject_names = set()
    copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job, connector=conn, worker="w2")
    assert dict(job.results.values_list("source_id", "status")) == {a: S.REVIEW, b: S.SUCCEEDED}
    assert conn.calls[-1] == ("clone", "Accounts", 1)  # b alone
    assert job.status == CopyJob.Status.PARTIAL and "1 record needs review" in job.error_summary
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=conn, worker="u")
    assert undo.status == CopyJob.Status.SUCCEEDED and undo.results.count() == 1
    assert len(accounts_named(conn, "A 2")) == 2 and accounts_named(conn, "B 2") == []


@pytest.mark.django_db
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


VAULT_PACKAGINGS = r"^/api/v\d+\.\d+/vobjects/packaging__c$"


def test_a_lost_batch_is_looked_for_in_one_query_not_one_per_record(vault, owner, redis_url):
    """Large Product's 1,960 packagings go in batches of 500; the first batch's answer is lost after
    it was applied. Its copies are looked for by their copy keys together (one query), each claimed
    once, none sent again. One query a record cost a job resumed with 2,500 rows left sending 2,500
    calls (five minutes at 0.12 s a call), more than Vault's burst limit allows in five minutes."""
    from records.copying.options import CopyOptions

    sb, profile, conn = vault
    src = find_record(conn, "product__v", "Large Product")
    size = len(read_tree(conn, "product__v", src))
    job = copy_job_create(
        request=copy_request(
            profile,
            "product__v",
            [src],
            "deep_copy",
            overrides={"name__v": "Large Product Lost"},
            options=CopyOptions(engine=True),
        ),
        user=owner,
    )
    packagings = job.results.filter(object_name="packaging__c").count()
    sb.clear_log("vault")
    sb.hooks("vault").lose("POST", VAULT_PACKAGINGS, applied=True)
    job = in_worker(job, redis_url)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = job.results.get(depth=0).new_id
    tree = read_tree(conn, "product__v", new_root)
    assert len(tree) == size == job.planned_count
    assert {n.source_id for n in tree} == set(job.results.values_list("new_id", flat=True))
    assert len(vault_writes(sb, VAULT_PACKAGINGS)) == -(-packagings // 500)  # none sent again
    queries = [e.body_summary for e in sb.log("vault") if e.path.split("?")[0].endswith("/query")]
    assert len(queries) <= 5, (len(queries), queries[:3])  # the look-up, and what a run reads anyway


def test_a_lost_batch_without_copy_keys_is_looked_for_by_its_names_together(bare_vault, owner, redis_url):
    """Without copy keys: a bulk clone of every product, each given a name of its own, in one
    create whose answer is lost after it was applied. The copies are looked for by their names
    listed in one query (not one query a record), each claimed once, none sent again."""
    sb, profile, conn = bare_vault
    sources = product_ids(conn)
    names = {i: f"Lost clone {n}" for n, i in enumerate(sorted(sources))}
    job = copy_job_create(
        request=copy_request(
            profile, "product__v", sorted(sources), "clone", row_overrides={i: {"name__v": v} for i, v in names.items()}
        ),
        user=owner,
    )
    sb.clear_log("vault")
    sb.hooks("vault").lose("POST", VAULT_CREATE, applied=True)
    job = in_worker(job, redis_url)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copies = {r.source_id: r.new_id for r in job.results.all()}
    assert set(copies) == sources and product_ids(conn) - sources == set(copies.values())
    for source_id, new_id in copies.items():  # each copy its own row's
        assert conn.get("product__v", new_id).name == names[source_id]
    assert len(vault_writes(sb, VAULT_CREATE)) == 1
    queries = [e.body_summary for e in sb.log("vault") if e.path.split("?")[0].endswith("/query")]
    assert len(sources) >= 10 and len(queries) <= 3, (len(queries), queries[:3])


class NoListing(MemoryConnector):
    """A system that refuses a look-up by a list of values (as Zoho's Notes, or a field a vault
    takes no IN on): each row is then looked for alone."""

    def find_among(self, object_name, field, values, **kw):
        from records.connectors.errors import Rejected

        self.calls.append(("find_among", object_name, len(values)))
        raise Rejected("No list here.", error_type="NOT_SUPPORTED")


@pytest.mark.django_db
@pytest.mark.parametrize("listing", [True, False], ids=["listed", "refused"])
def test_lost_children_are_found_whether_or_not_the_system_takes_a_list(engine_profile, owner, listing):
    """Three tasks of one account, each its own subject, inserted in one batch whose answer is lost
    after it was applied: looked for by their subjects listed at once, or, where the system refuses
    a list, one at a time; each claimed for its own row either way, none inserted again."""
    conn = (MemoryConnector if listing else NoListing)(key_field=False)
    conn.root = conn.add("Accounts", Account_Name="Acme")
    for i in range(3):
        conn.add("Tasks", Subject=f"Call {i}", What_Id={"id": conn.root})
    job = create(conn, engine_profile, owner, mode="deep_copy", overrides={"Account_Name": "Acme 2"})
    lose_first_insert(conn)
    job = run_job(job, connector=conn)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copies = {r.source_name: r.new_id for r in job.results.filter(depth=1)}
    assert sorted(conn.data["Tasks"][new]["Subject"] for new in copies.values()) == ["Call 0", "Call 1", "Call 2"]
    assert all(conn.data["Tasks"][new]["Subject"] == name for name, new in copies.items())
    assert conn.count("Tasks") == 6 and len([c for c in conn.calls if c[0] == "create"]) == 1
    assert (("find_among", "Tasks", 3) in conn.calls) is not listing
