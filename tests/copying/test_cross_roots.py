"""A copy by query into another profile, over HTTP between two sandbox orgs: records of one copy
that point at records under another of its top records point at those records' copies (top
records at each other, children across trees, a polymorphic What_Id), never matched by key in the
target; a re-run with `skip` points new records at the copies found there; and the children of
every top record are inserted together, one level of one object ⌈n/batch⌉ calls."""

import re

import pytest

from records.models import RecordResult
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import assert_each_record_copied_once

S = RecordResult.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_zoho_any(request):
    return request.getfixturevalue("cross_zoho" if request.param == "copy-key" else "bare_cross_zoho")


@pytest.fixture(params=["copy-key", "no-copy-key"])
def cross_vault_any(request):
    return request.getfixturevalue("cross_vault" if request.param == "copy-key" else "bare_cross_vault")


def _ok(results):
    assert all(r.ok for r in results), results
    return [r.new_id for r in results]


def zoho_trees(conn):
    """Two source accounts (not in the target org) that point at each other, a contact under the
    first reporting to one under the second, a task under the first about a deal of the second."""
    a, b = _ok(conn.create("Accounts", [{"Account_Name": "Tree Alpha"}, {"Account_Name": "Tree Beta"}]))
    conn.update("Accounts", [{"id": a, "Parent_Account": {"id": b}}, {"id": b, "Parent_Account": {"id": a}}])
    (boss,) = _ok(conn.create("Contacts", [{"Last_Name": "Boss Beta", "Account_Name": {"id": b}}]))
    (worker,) = _ok(
        conn.create("Contacts", [{"Last_Name": "Worker Alpha", "Account_Name": {"id": a}, "Reports_To": {"id": boss}}])
    )
    (deal,) = _ok(conn.create("Deals", [{"Deal_Name": "Deal Beta", "Account_Name": {"id": b}, "Stage": "Closed Won"}]))
    (task,) = _ok(
        conn.create(
            "Tasks",
            [{"Subject": "Task Alpha", "What_Id": {"id": a}, "$se_module": "Accounts", "Who_Id": {"id": worker}}],
        )
    )
    return {"a": a, "b": b, "boss": boss, "worker": worker, "deal": deal, "task": task}


def _ref(value):
    return value.get("id") if isinstance(value, dict) else value


QUERY = "(Account_Name:starts_with:Tree )"


def test_zoho_query_copy_points_references_between_its_trees_at_the_copies(cross_zoho_any, owner):
    source, target = cross_zoho_any
    ids = zoho_trees(source.connector)
    job = copy_across(cross_zoho_any, owner, "Accounts", [], "deep_copy", source_filter=QUERY, source_limit=10)
    assert_each_record_copied_once(job)
    assert "Accounts" not in job.plan["cross"]["references"]  # nothing looked up by key in the target
    copies = dict(job.results.values_list("source_id", "new_id"))
    state = target.sandbox.zoho.state.records
    a, b = state["Accounts"][copies[ids["a"]]], state["Accounts"][copies[ids["b"]]]
    assert _ref(a["Parent_Account"]) == b["id"] and _ref(b["Parent_Account"]) == a["id"]
    worker = state["Contacts"][copies[ids["worker"]]]
    assert _ref(worker["Reports_To"]) == copies[ids["boss"]]
    task = state["Tasks"][copies[ids["task"]]]
    assert _ref(task["What_Id"]) == copies[ids["a"]] and _ref(task["Who_Id"]) == copies[ids["worker"]]


def test_zoho_task_about_a_deal_under_another_top_record_points_at_its_copy(cross_zoho, owner):
    """A polymorphic What_Id ($se_module Deals) to a record of the same level under another tree."""
    source, target = cross_zoho
    ids = zoho_trees(source.connector)
    source.connector.update("Tasks", [{"id": ids["task"], "What_Id": {"id": ids["deal"]}, "$se_module": "Deals"}])
    job = copy_across(cross_zoho, owner, "Accounts", [], "deep_copy", source_filter=QUERY, source_limit=10)
    assert_each_record_copied_once(job)
    copies = dict(job.results.values_list("source_id", "new_id"))
    task = target.sandbox.zoho.state.records["Tasks"][copies[ids["task"]]]
    assert _ref(task["What_Id"]) == copies[ids["deal"]]


def test_zoho_rerun_with_skip_points_new_records_at_the_copies_found(cross_zoho, owner):
    source, target = cross_zoho
    ids = zoho_trees(source.connector)
    first = copy_across(cross_zoho, owner, "Accounts", [ids["b"]], "clone", unmatched={"*": "blank"})
    assert_each_record_copied_once(first)
    b_copy = first.results.get().new_id
    job = copy_across(cross_zoho, owner, "Accounts", [], "clone", source_filter=QUERY, source_limit=10, existing="skip")
    rows = {r.source_id: r for r in job.results.all()}
    assert rows[ids["b"]].action == RecordResult.Action.SKIP and rows[ids["b"]].new_id == b_copy
    assert rows[ids["a"]].status == S.SUCCEEDED
    state = target.sandbox.zoho.state.records["Accounts"]
    assert _ref(state[rows[ids["a"]].new_id]["Parent_Account"]) == b_copy
    assert not state[b_copy].get("Parent_Account")  # a skipped record is never changed


def test_vault_query_copy_points_a_formulation_at_its_copy_under_another_product(cross_vault_any, owner):
    source, target = cross_vault_any
    conn = source.connector
    p1, p2 = _ok(
        conn.create(
            "product__v",
            [{"name__v": f"Tree {n}", "status__v": ["active__v"]} for n in ("One", "Two")],
        )
    )
    (f2,) = _ok(conn.create("formulation__c", [{"product__c": p2}]))
    (f1,) = _ok(conn.create("formulation__c", [{"product__c": p1, "based_on__c": f2}]))
    job = copy_across(
        cross_vault_any, owner, "product__v", [], "deep_copy", source_filter="name__v LIKE 'Tree %'", source_limit=5
    )
    assert_each_record_copied_once(job)
    copies = dict(job.results.values_list("source_id", "new_id"))
    state = target.sandbox.vault.state.records["formulation__c"]
    assert state[copies[f1]]["based_on__c"] == copies[f2]
    assert state[copies[f1]]["product__c"] == copies[p1]


def test_vault_rerun_with_skip_points_a_new_formulation_at_the_copy_found_under_another_product(cross_vault, owner):
    source, target = cross_vault
    conn = source.connector
    p1, p2 = _ok(
        conn.create("product__v", [{"name__v": f"Tree {n}", "status__v": ["active__v"]} for n in ("One", "Two")])
    )
    (f2,) = _ok(conn.create("formulation__c", [{"product__c": p2}]))
    (f1,) = _ok(conn.create("formulation__c", [{"product__c": p1, "based_on__c": f2}]))
    conn.update("formulation__c", [{"id": f2, "based_on__c": f1}])  # a cycle across the two trees
    first = copy_across(cross_vault, owner, "product__v", [p2], "deep_copy", unmatched={"formulation__c": "blank"})
    assert_each_record_copied_once(first)
    f2_copy = first.results.get(source_id=f2).new_id
    state = target.sandbox.vault.state.records["formulation__c"]
    before = dict(state[f2_copy])
    job = copy_across(
        cross_vault,
        owner,
        "product__v",
        [],
        "deep_copy",
        source_filter="name__v LIKE 'Tree %'",
        source_limit=5,
        existing="skip",
    )
    rows = {r.source_id: r for r in job.results.all()}
    assert {rows[p2].action, rows[f2].action} == {RecordResult.Action.SKIP}
    assert rows[f1].status == S.SUCCEEDED and rows[f1].action == RecordResult.Action.CREATE
    assert state[rows[f1].new_id]["based_on__c"] == f2_copy
    assert state[f2_copy] == before  # found there: pointed at, never changed (not even its based_on__c)


def insert_calls(sandbox, system, path):
    return [e for e in sandbox.log(system) if e.method == "POST" and re.search(path, e.path.split("?")[0])]


def thirty_accounts(conn, prefix="Wide"):
    accounts = _ok(conn.create("Accounts", [{"Account_Name": f"{prefix} {i:02}"} for i in range(30)]))
    contacts = [
        {"Last_Name": f"{prefix} Contact {i:02}-{k}", "Account_Name": {"id": a}}
        for i, a in enumerate(accounts)
        for k in range(3)
    ]
    _ok(conn.create("Contacts", contacts[:50]) + conn.create("Contacts", contacts[50:]))
    return accounts


ACCOUNTS_INSERT, CONTACTS_INSERT = r"^/crm/v\d+/Accounts$", r"^/crm/v\d+/Contacts$"


def test_zoho_query_copy_inserts_the_children_of_every_top_record_together(cross_zoho_any, owner):
    source, target = cross_zoho_any
    thirty_accounts(source.connector)
    target.sandbox.clear_log()
    job = copy_across(
        cross_zoho_any,
        owner,
        "Accounts",
        [],
        "deep_copy",
        source_filter="(Account_Name:starts_with:Wide )",
        source_limit=30,
    )
    assert_each_record_copied_once(job)
    assert job.results.filter(object_name="Contacts").count() == 90
    assert len(insert_calls(target.sandbox, "zoho", ACCOUNTS_INSERT)) == 1
    assert len(insert_calls(target.sandbox, "zoho", CONTACTS_INSERT)) == 1  # ⌈90/100⌉, not one per account


def test_a_lost_answer_of_a_batch_across_top_records_is_found_and_not_sent_again(cross_zoho_any, owner):
    source, target = cross_zoho_any
    thirty_accounts(source.connector)
    target.sandbox.hooks("zoho").lose("POST", CONTACTS_INSERT, applied=True)
    target.sandbox.clear_log()
    job = copy_across(
        cross_zoho_any,
        owner,
        "Accounts",
        [],
        "deep_copy",
        source_filter="(Account_Name:starts_with:Wide )",
        source_limit=30,
    )
    assert_each_record_copied_once(job)
    outcomes = [e.outcome for e in insert_calls(target.sandbox, "zoho", CONTACTS_INSERT)]
    assert outcomes == ["lost_applied"]  # reconciled in the target, never sent again
    made = [c for c in target.sandbox.zoho.state.records["Contacts"].values() if c["Last_Name"].startswith("Wide")]
    assert len(made) == 90


def test_vault_query_copy_inserts_the_formulations_of_every_product_in_one_call(cross_vault, owner):
    source, target = cross_vault
    conn = source.connector
    products = _ok(
        conn.create("product__v", [{"name__v": f"Wide {i:02}", "status__v": ["active__v"]} for i in range(10)])
    )
    _ok(conn.create("formulation__c", [{"product__c": p} for p in products for _ in range(3)]))
    target.sandbox.clear_log()
    job = copy_across(
        cross_vault, owner, "product__v", [], "deep_copy", source_filter="name__v LIKE 'Wide %'", source_limit=10
    )
    assert_each_record_copied_once(job)
    assert job.results.filter(object_name="formulation__c").count() == 30
    assert len(insert_calls(target.sandbox, "vault", r"/vobjects/product__v$")) == 1
    assert len(insert_calls(target.sandbox, "vault", r"/vobjects/formulation__c$")) == 1
