"""A copy by query's source records: a person's filter checked and rebuilt (Vault VQL WHERE, Zoho
criteria run as COQL), then `query_ids` over HTTP against the sandbox, newest first, capped."""

import json
import re
from urllib.parse import unquote_plus

import pytest

from records.connectors import vault_filter, zoho_filter
from records.connectors.base import FieldInfo, FieldType
from records.connectors.errors import Rejected

PRODUCT_FIELDS = {"id", "name__v", "status__v", "price__c", "description__c"}


@pytest.mark.parametrize(
    ("text", "rebuilt"),
    [
        ("status__v = 'active__v'", "status__v = 'active__v'"),
        ("name__v LIKE 'Card%' and price__c >= 12.5", "name__v LIKE 'Card%' AND price__c >= 12.5"),
        (
            "(status__v != 'x' OR id IN ('1','2')) AND price__c<>3",
            "(status__v != 'x' OR id IN ('1', '2')) AND price__c <> 3",
        ),
        ("name__v not like 'A%' and description__c = null", "name__v NOT LIKE 'A%' AND description__c = NULL"),
        (r"name__v = 'it\'s a \\ test'", r"name__v = 'it\'s a \\ test'"),
        ("   ", ""),
    ],
)
def test_vault_filter_rebuilt_with_names_and_literals_escaped(text, rebuilt):
    assert vault_filter.rebuild_where(text, PRODUCT_FIELDS) == rebuilt


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("colour__c = 'red'", "no field 'colour__c'"),
        ("product__vr.name__v = 'x'", "cannot be read"),
        ("status__v = 'a' PAGESIZE 5", "more than one condition"),
        ("status__v = 'a' ORDER BY name__v", "more than one condition"),
        ("id IN (SELECT id FROM product__v)", "Values in the filter"),
        ("1 = 1", "starts with a field name"),
        ("name__v = 'open", "not closed"),
        ("name__v NOT = 'x'", "NOT is only"),
        ("(name__v = 'x'", "expects ')'"),
        ("name__v = 'x'; DELETE", "cannot be read"),
    ],
)
def test_vault_filter_refused_saying_why(text, says):
    with pytest.raises(Rejected, match=re.escape(says)) as caught:
        vault_filter.rebuild_where(text, PRODUCT_FIELDS)
    assert caught.value.error_type == "INVALID_FILTER"


ACCOUNT_FIELDS = {
    f.name: f
    for f in (
        FieldInfo("Account_Name", "Account Name", FieldType.TEXT),
        FieldInfo("Industry", "Industry", FieldType.PICKLIST),
        FieldInfo("Employees", "Employees", FieldType.NUMBER),
        FieldInfo("Annual_Revenue", "Annual Revenue", FieldType.DECIMAL),
        FieldInfo("Is_Key_Account", "Key", FieldType.BOOLEAN),
    )
}


@pytest.mark.parametrize(
    ("text", "coql"),
    [
        ("(Industry:equals:Retail)", "Industry = 'Retail'"),
        ("Industry:not_equal:Retail", "Industry != 'Retail'"),
        (
            "((Industry:equals:Retail)and(Employees:greater_than:50))",
            "Industry = 'Retail' and Employees > 50",
        ),
        (
            "((Industry:equals:Retail)or(Employees:less_equal:5))and(Is_Key_Account:equals:TRUE)",
            "(Industry = 'Retail' or Employees <= 5) and Is_Key_Account = true",
        ),
        ("(Account_Name:starts_with:Acme)", "Account_Name like 'Acme%'"),
        (r"(Account_Name:in:O'Hara,Smith\, Jones,A\(B\))", r"Account_Name in ('O\'Hara', 'Smith, Jones', 'A(B)')"),
        (
            "((Annual_Revenue:between:1000,2500.5)and(Industry:equals:Retail))",
            "(Annual_Revenue >= 1000 and Annual_Revenue <= 2500.5) and Industry = 'Retail'",
        ),
        ("", ""),
    ],
)
def test_zoho_criteria_become_coql_with_values_quoted(text, coql):
    assert zoho_filter.criteria_to_coql(text, ACCOUNT_FIELDS) == coql


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("(Colour:equals:red)", "no field 'Colour'"),
        ("(Industry:like:Retail)", "Unknown operator 'like'"),
        ("(Employees:equals:many)", "takes a number"),
        ("(Is_Key_Account:equals:maybe)", "true or false"),
        ("(Annual_Revenue:between:5)", "takes 2 values"),
        ("(Industry:equals:Retail", "expect ')'"),
        ("(Industry:equals:Retail))", "after their end"),
        ("(Industry:equals:Retail)xor(Employees:equals:1)", "after their end"),
        ("(Account_Name:starts_with:50%)", "cannot take %"),
        ("(Industry equals Retail)", "expect ':'"),
    ],
)
def test_zoho_criteria_refused_saying_why(text, says):
    with pytest.raises(Rejected, match=re.escape(says)) as caught:
        zoho_filter.criteria_to_coql(text, ACCOUNT_FIELDS)
    assert caught.value.error_type == "INVALID_FILTER"


def vql_sent(sb):
    return [unquote_plus(e.body_summary[2:]) for e in sb.log("vault") if e.path.endswith("/query")]


def test_vault_query_ids_newest_first_capped_in_one_query(vault):
    sb, _, conn = vault
    conn.describe("product__v")
    sb.clear_log("vault")
    found = conn.query_ids("product__v", "status__v = 'active__v'", limit=3)
    assert vql_sent(sb) == [
        "SELECT id, name__v, created_date__v FROM product__v WHERE status__v = 'active__v'"
        " ORDER BY created_date__v DESC PAGESIZE 3"
    ]
    active = [r for r in sb.vault.state.records["product__v"].values() if r["status__v"] == ["active__v"]]
    newest = sorted(active, key=lambda r: (r["created_date__v"], r["id"]), reverse=True)
    assert len(found) == 3 and len(active) > 3
    assert [r.created for r in found] == sorted((r.created for r in found), reverse=True)
    assert {r.id for r in found} <= {r["id"] for r in active}
    assert found[0].created.isoformat()[:19] == newest[0]["created_date__v"][:19] and all(r.name for r in found)


def test_vault_query_ids_quote_in_a_value_stays_a_value(vault):
    sb, _, conn = vault
    with pytest.raises(Rejected, match="more than one condition"):  # '' is no escape in VQL
        conn.query_ids("product__v", "name__v = 'x'' OR name__v LIKE ''%'", limit=5)
    assert conn.query_ids("product__v", r"name__v = 'Cardiostat\' OR name__v LIKE \'%'", limit=5) == []
    assert [r.name for r in conn.query_ids("product__v", "name__v = 'Cardiostat'", limit=5)] == ["Cardiostat"]


def test_vault_query_ids_unknown_field_refused_before_any_query(vault):
    sb, _, conn = vault
    conn.describe("product__v")
    sb.clear_log("vault")
    with pytest.raises(Rejected, match="no field 'nope__c'"):
        conn.query_ids("product__v", "nope__c = 'x'", limit=5)
    assert vql_sent(sb) == []


def coql_sent(sb):
    return [json.loads(e.body_summary)["select_query"] for e in sb.log("zoho") if e.path.endswith("/coql")]


def test_zoho_query_ids_criteria_run_as_coql_newest_first(zoho):
    sb, _, conn = zoho
    conn.describe("Accounts")
    sb.clear_log("zoho")
    found = conn.query_ids("Accounts", "(Industry:equals:Retail)", limit=2)
    assert coql_sent(sb) == [
        "select id, Account_Name, Created_Time from Accounts where Industry = 'Retail'"
        " order by Created_Time desc limit 2"
    ]
    retail = [r for r in conn.search("Accounts", "", per_page=200).records if r.fields.get("Industry") == "Retail"]
    assert len(found) == 2 and len(retail) > 2
    assert {r.id for r in found} <= {r.id for r in retail} and all(r.name for r in found)
    assert [r.created for r in found] == sorted((r.created for r in found), reverse=True)


def test_zoho_query_ids_quote_in_a_value_and_no_match(zoho):
    sb, _, conn = zoho
    assert conn.query_ids("Accounts", "(Account_Name:equals:O'Hara' or Account_Name != ')", limit=5) == []
    assert [r.name for r in conn.query_ids("Accounts", "(Account_Name:equals:Acme Corp)", limit=5)] == ["Acme Corp"]


def test_zoho_query_ids_without_criteria_reads_every_record_newest_first(zoho):
    sb, _, conn = zoho
    sb.clear_log("zoho")
    found = conn.query_ids("Accounts", "", limit=4)
    assert len(found) == 4 and coql_sent(sb)[-1].startswith(
        "select id, Account_Name, Created_Time from Accounts where id is not null"
    )
