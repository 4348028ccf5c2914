"""Connector.find_among: the records whose field is one of many values, with find's creation
conditions, in batches (Vault 1,000 values a VQL IN, Zoho 100 a COQL in): a batch of lost answers
looked for at once (copying/reconcile.py picks each row's records from the answer)."""

import datetime as dt

import pytest

from records.connectors.errors import Rejected

LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def queries(sb, name, path):
    return [e for e in sb.log(name) if e.method == "POST" and e.path.endswith(path)]


@pytest.mark.django_db
def test_vault_find_among_asks_a_thousand_values_a_query_with_the_creation_bound(vault):
    sb, _, conn = vault
    conn.describe("product__v")
    sb.clear_log()
    values = ["Cardiostat", "Neurolax", *(f"Nothing {i}" for i in range(1_500))]
    found = conn.find_among("product__v", "name__v", values, also=["status__v"], created_since=LONG_AGO)
    assert sorted(r.name for r in found) == ["Cardiostat", "Neurolax"]
    assert all(r.created and r.created_by and "status__v" in r.fields for r in found)
    assert len(queries(sb, "vault", "/query")) == 2
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert conn.find_among("product__v", "name__v", values[:2], created_since=later) == []
    user = found[0].created_by
    assert len(conn.find_among("product__v", "name__v", values[:2], created_by=user)) == 2
    assert conn.find_among("product__v", "name__v", values[:2], created_by=user + "9") == []


@pytest.mark.django_db
def test_zoho_find_among_asks_a_hundred_values_a_query_with_the_creation_bound(zoho):
    sb, _, conn = zoho
    conn.describe("Accounts")
    sb.clear_log()
    values = ["Acme Corp", "Globex", *(f"Nobody {i}" for i in range(150))]
    found = conn.find_among("Accounts", "Account_Name", values, created_since=LONG_AGO)
    assert sorted(r.name for r in found) == ["Acme Corp", "Globex"]
    assert all(r.created and "Account_Name" in r.fields for r in found)
    assert len(queries(sb, "zoho", "/coql")) == 2
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert conn.find_among("Accounts", "Account_Name", values[:2], created_since=later) == []


@pytest.mark.django_db
def test_zoho_notes_are_not_listed_but_looked_for_by_parent(zoho):
    _, _, conn = zoho
    with pytest.raises(Rejected) as refused:
        conn.find_among("Notes", "Note_Title", ["a", "b"])
    assert refused.value.error_type == "NOT_SUPPORTED"
