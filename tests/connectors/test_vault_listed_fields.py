"""Vault: what needs only an object's field names (a query's columns, the related lists, the
fields' labels) reads its metadata alone, never the picklists' values (a call per picklist)."""

import dataclasses

import pytest


@pytest.fixture
def sb(fresh_sandbox):
    yield fresh_sandbox
    fresh_sandbox.faults("vault").clear()


def picklist_calls(sb):
    return [e.path for e in sb.log("vault") if "/picklists/" in e.path]


def test_a_tree_is_read_without_reading_a_picklist(vault_connector, sb):
    top = next(r for r in vault_connector.search("product__v", "").records)
    sb.clear_log("vault")
    formulations = next(r for r in vault_connector.related_lists("product__v") if r.child_object == "formulation__c")
    kids = list(vault_connector.children(formulations, [top.id]))
    (packagings,) = vault_connector.related_lists("formulation__c")
    list(vault_connector.children(packagings, [k.id for k in kids]))
    assert vault_connector.describe_listed("packaging__c")
    assert any("/query" in e.path for e in sb.log("vault"))
    assert picklist_calls(sb) == []


def test_describe_listed_is_describe_without_the_picklists_values(vault_connector, sb):
    listed = {f.name: f for f in vault_connector.describe_listed("formulation__c")}
    described = {f.name: f for f in vault_connector.describe("formulation__c")}
    valued = [f for f in described.values() if f.picklist_values]
    assert valued, "the demo's formulations have a picklist field"
    assert listed == {n: dataclasses.replace(f, picklist_values=(), picklist_labels=()) for n, f in described.items()}
    assert len(picklist_calls(sb)) == len({f.name for f in valued})  # read once, by describe()
