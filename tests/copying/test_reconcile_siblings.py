"""A lost batch of many children whose names the system makes (Vault's auto-numbered packagings)
in a vault without copy-key fields (records/copying/reconcile.py, reconcile_groups.py): they can't
be looked for by name, so the siblings under one parent are told apart by the values each copy
inherits from its source (the plan's snapshots, compared with the values the look-up's own query
brings), however many they are. Real RQ workers against the bare sandbox, as test_reconcile.py."""

import pytest

from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.copying.test_reconcile import in_worker, vault_writes
from tests.fixtures.engine import copy_request
from tests.fixtures.sandbox import find_record

S = RecordResult.Status
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PACKAGINGS = r"^/api/v\d+\.\d+/vobjects/packaging__c$"
EXTRA = 30  # more siblings under one parent than reconcile ever reads one by one (MAX_FULL_READS)


def add_packagings(conn, product, sizes):
    """Packagings of the product's first formulation, one per pack size given (the demo's own have
    ten sizes between them: siblings alike in every value a copy inherits)."""
    formulation = sorted(conn.find("formulation__c", {"product__c": product}), key=lambda r: r.name)[0].id
    results = conn.create("packaging__c", [{"formulation__c": formulation, "pack_size__c": s} for s in sizes])
    assert all(r.ok for r in results), results
    return formulation


def deep_copy_losing_packagings(sb, profile, owner, redis_url, product, *, applied, after_plan=()):
    job = copy_job_create(
        request=copy_request(
            profile,
            "product__v",
            [product],
            "deep_copy",
            overrides={"name__v": "Cardiostat Siblings"},
            options=CopyOptions(engine=True),
        ),
        user=owner,
    )
    sb.clear_log("vault")
    sb.hooks("vault").lose("POST", PACKAGINGS, applied=applied)
    for method, path, payload in after_plan:  # answers the run gets instead of the sandbox's
        sb.hooks("vault").answer(method, path, payload, times=1)
    return in_worker(job, redis_url)


def vault_reads(sb):
    """(queries, packaging records read one by one) the job made."""
    log = [e for e in sb.log("vault") if e.method in ("GET", "POST")]
    queries = [e for e in log if e.path.split("?")[0].endswith("/query")]
    reads = [e for e in log if e.method == "GET" and "/vobjects/packaging__c/" in e.path]
    return queries, reads


def assert_each_copy_is_its_own_sources(conn, rows):
    for row in rows:
        copy, source = conn.get("packaging__c", row.new_id), conn.get("packaging__c", row.source_id)
        assert copy.fields["pack_size__c"] == source.fields["pack_size__c"], row.source_id
        assert copy.fields["formulation__c"] != source.fields["formulation__c"]


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_a_lost_batch_of_many_auto_named_siblings_is_told_apart_by_what_each_inherits(
    bare_vault, owner, redis_url, applied
):
    """Cardiostat with 36 packagings under its first formulation, each its own pack size, copied
    level by level; the packagings' batch answer lost. Applied: each row claims the copy that
    inherited its source's pack size, none held for review, none sent again, in a few queries and
    no packaging read one by one. Not applied: nothing found, all sent again once."""
    sb, profile, conn = bare_vault
    src = find_record(conn, "product__v", "Cardiostat")
    add_packagings(conn, src, [1000 + i for i in range(EXTRA)])
    size = len(read_tree(conn, "product__v", src))
    job = deep_copy_losing_packagings(sb, profile, owner, redis_url, src, applied=applied)
    queries, reads = vault_reads(sb)  # the job's, before this test reads anything
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert not job.results.filter(status=S.REVIEW).exists()
    new_root = job.results.get(depth=0).new_id
    tree = read_tree(conn, "product__v", new_root)
    assert len(tree) == size == job.planned_count  # exactly one copy of each record
    assert {n.source_id for n in tree} == set(job.results.values_list("new_id", flat=True))
    assert len(read_tree(conn, "product__v", src)) == size
    packagings = job.results.filter(object_name="packaging__c")
    assert packagings.count() > EXTRA
    assert_each_copy_is_its_own_sources(conn, packagings)
    assert len(vault_writes(sb, PACKAGINGS)) == (1 if applied else 2)
    assert not reads, [e.path for e in reads[:3]]
    assert len(queries) <= 2, [e.body_summary for e in queries]  # the five parents in one look-up


def test_siblings_alike_in_every_inherited_value_are_held_for_review_and_the_rest_claimed(bare_vault, owner, redis_url):
    """Two of the many packagings share their pack size: their copies can't be told apart, so
    those two rows are held for review (each listing both copies); every other row claims its own."""
    sb, profile, conn = bare_vault
    src = find_record(conn, "product__v", "Cardiostat")
    add_packagings(conn, src, [1000 + i for i in range(EXTRA - 1)] + [1000])
    job = deep_copy_losing_packagings(sb, profile, owner, redis_url, src, applied=True)
    assert job.status == CopyJob.Status.PARTIAL, job.error_summary
    held = list(job.results.filter(status=S.REVIEW))
    assert len(held) == 2 and not any(r.new_id for r in held)
    assert {conn.get("packaging__c", r.source_id).fields["pack_size__c"] for r in held} == {1000}
    twins = {c["id"] for c in held[0].candidates}
    assert len(twins) == 2 and twins == {c["id"] for c in held[1].candidates}
    assert {conn.get("packaging__c", t).fields["pack_size__c"] for t in twins} == {1000}
    claimed = job.results.filter(object_name="packaging__c", status=S.SUCCEEDED)
    assert claimed.count() == job.results.filter(object_name="packaging__c").count() - 2
    assert not twins & set(claimed.values_list("new_id", flat=True))
    assert_each_copy_is_its_own_sources(conn, claimed)
    assert len(vault_writes(sb, PACKAGINGS)) == 1  # nothing sent again


def test_siblings_whose_list_the_vault_refuses_are_held_for_review_not_guessed(bare_vault, owner, redis_url):
    """The look-up's list refused (a field a vault takes no IN on): each parent is asked alone,
    whose answer carries no pack sizes, so the 36 siblings can't be told apart and are held for
    review (none claimed by a guess, none sent again); the smaller families are read and claimed."""
    sb, profile, conn = bare_vault
    src = find_record(conn, "product__v", "Cardiostat")
    formulation = add_packagings(conn, src, [1000 + i for i in range(EXTRA)])
    refusal = {"responseStatus": "FAILURE", "errors": [{"type": "INVALID_DATA", "message": "No IN on this field."}]}
    refused = [("POST", r"/query$", refusal)]  # the run's first query: the look-up
    job = deep_copy_losing_packagings(sb, profile, owner, redis_url, src, applied=True, after_plan=refused)
    assert job.status == CopyJob.Status.PARTIAL, job.error_summary
    held = job.results.filter(status=S.REVIEW)
    assert {r.object_name for r in held} == {"packaging__c"} and held.count() == EXTRA + 6
    assert {conn.get("packaging__c", r.source_id).fields["formulation__c"] for r in held} == {formulation}
    assert not held.exclude(new_id="").exists()
    claimed = job.results.filter(object_name="packaging__c", status=S.SUCCEEDED)
    assert claimed.count() == job.results.filter(object_name="packaging__c").count() - held.count()
    assert_each_copy_is_its_own_sources(conn, claimed)
    assert len(vault_writes(sb, PACKAGINGS)) == 1
