"""A Vault related list's pages read at once by PAGEOFFSET (vault_pages), against the sandbox over
real HTTP: every row once, each page one call, up to the profile's concurrency in flight, and the
cursor again when the result changes between the pages."""

from __future__ import annotations

import math

import pytest

from records.connectors.vault import VaultConnector
from tests.fixtures.connectors import make_vault_connector

PAGE = 200


@pytest.fixture
def sb(fresh_sandbox):
    fresh_sandbox.vault.configure(query_pagesize=PAGE)
    yield fresh_sandbox
    fresh_sandbox.faults("vault").clear()
    fresh_sandbox.hooks("vault").clear()


def connector(sb, concurrency: int) -> VaultConnector:
    return make_vault_connector(sb.vault_url, concurrency=concurrency)


def packagings_of_large_product(sb, conn):
    """The packagings list and the Large Product's formulation ids (40 of them, 1,960 packagings)."""
    large = next(r for r in conn.search("product__v", "Large Product").records if r.name == "Large Product")
    formulations = next(r for r in conn.related_lists("product__v") if r.child_object == "formulation__c")
    ids = [f.id for f in conn.children(formulations, [large.id])]
    (packagings,) = conn.related_lists("formulation__c")
    return packagings, ids


def stored_children(sb, parent_ids):
    wanted = set(parent_ids)
    records = sb.vault.state.records["packaging__c"].values()
    return {r["id"] for r in records if r.get("formulation__c") in wanted}


def queries(sb):
    return [e for e in sb.log("vault") if e.method == "POST" and "/query" in e.path]


def test_a_large_lists_later_pages_are_read_at_once_up_to_the_concurrency(sb):
    conn = connector(sb, concurrency=3)
    packagings, parents = packagings_of_large_product(sb, conn)
    expected = stored_children(sb, parents)
    sb.clear_log("vault")
    sb.faults("vault").set(latency=0.05)
    sb.in_flight("vault").reset_peak()
    ids = [r.id for r in conn.children(packagings, parents)]
    assert sorted(ids) == ids and set(ids) == expected and len(ids) == len(expected)  # each once, by id
    made = queries(sb)
    assert len(made) == math.ceil(len(expected) / PAGE)  # one call a page, none read twice
    assert not [e for e in made if "/query/" in e.path]  # no cursor followed
    assert sb.in_flight("vault").peak == 3


def test_a_list_that_changes_between_pages_is_read_again_by_cursor_each_row_once(sb):
    conn = connector(sb, concurrency=3)
    packagings, parents = packagings_of_large_product(sb, conn)
    gone = sorted(stored_children(sb, parents))[-1]  # on the last page

    def delete_one():  # after the first page: the later pages count one row fewer
        with sb.vault.state.lock:
            sb.vault.state.delete("packaging__c", gone)

    sb.clear_log("vault")
    sb.hooks("vault").after("POST", r"/query$", delete_one, times=1)
    ids = [r.id for r in conn.children(packagings, parents)]
    assert len(ids) == len(set(ids))
    assert set(ids) == stored_children(sb, parents)
    assert [e for e in queries(sb) if "/query/" in e.path]  # the cursor took over


def test_a_list_of_one_page_is_one_query(sb):
    conn = connector(sb, concurrency=3)
    packagings, parents = packagings_of_large_product(sb, conn)
    sb.clear_log("vault")
    ids = [r.id for r in conn.children(packagings, parents[:2])]
    assert set(ids) == stored_children(sb, parents[:2])
    assert len(queries(sb)) == 1
