"""Connector.match_ids: the records of a target whose field equals each value, in batches (Vault
1,000 values a VQL IN, Zoho 100 a COQL in), mapped back by exact value; and the match keys a copy
between profiles uses by default (copying/matching.py)."""

import pytest
from django.core.exceptions import ValidationError

from records.copying.matching import check_match_options, match_key
from tests.fixtures.sandbox import find_record


def queries(sb, name, path):
    return [e for e in sb.log(name) if e.method == "POST" and e.path.endswith(path)]


@pytest.mark.django_db
def test_vault_match_ids_asks_a_thousand_values_a_query(vault):
    sb, _, conn = vault
    conn.describe("country__v")
    sb.clear_log()
    values = ["Germany", "Japan", *(f"Nowhere {i}" for i in range(2_498))]
    found = conn.match_ids("country__v", "name__v", values)
    assert set(found) == {"Germany", "Japan"} and all(len(ids) == 1 for ids in found.values())
    assert len(queries(sb, "vault", "/query")) == 3


@pytest.mark.django_db
def test_zoho_match_ids_asks_a_hundred_values_a_query_and_keeps_several_hits(zoho):
    sb, _, conn = zoho
    conn.describe("Accounts")
    conn.create("Accounts", [{"Account_Name": "Globex"}])  # a second Globex: ambiguous
    sb.clear_log()
    values = ["Acme Corp", "Globex", *(f"Nobody {i}" for i in range(248))]
    found = conn.match_ids("Accounts", "Account_Name", values)
    assert found["Acme Corp"] == [find_record(conn, "Accounts", "Acme Corp")]
    assert len(found["Globex"]) == 2
    assert len(queries(sb, "zoho", "/coql")) == 3


@pytest.mark.django_db
def test_default_match_keys(vault, zoho):
    assert match_key(target=vault.connector, object_name="country__v").field == "name__v"
    assert match_key(target=vault.connector, object_name="formulation__c") is None  # numbered names, no unique text
    assert match_key(target=zoho.connector, object_name="Accounts").field == "Account_Name"  # Zoho matches by name
    assert match_key(target=vault.connector, object_name="country__v", chosen="code__v").field == "code__v"


@pytest.mark.django_db
def test_match_options_name_a_unique_field_the_target_has(vault, zoho):
    check_match_options(target=vault.connector, match={"country__v": "code__v"})
    check_match_options(target=zoho.connector, match={"Accounts": "Account_Name"})
    with pytest.raises(ValidationError, match="not unique"):
        check_match_options(target=vault.connector, match={"product__v": "description__c"})
    with pytest.raises(ValidationError, match="has no field"):
        check_match_options(target=vault.connector, match={"country__v": "nope__c"})
    with pytest.raises(ValidationError, match="no object"):
        check_match_options(target=zoho.connector, match={"Nothing": "Name"})


@pytest.mark.django_db
def test_a_match_override_moves_both_the_references_and_the_records_found_there(cross_vault):
    """One rule (matching.match_key) for both passes: Germany is "Deutschland" in the target, so by
    name neither the product's country nor Germany itself is found there; by code__v both are."""
    from records.copying.options import CopyOptions
    from records.copying.preview import copy_preview
    from records.copying.request import CopyRequest

    source, target = cross_vault
    germany = find_record(source.connector, "country__v", "Germany")
    target.connector.update(
        "country__v", [{"id": find_record(target.connector, "country__v", "Germany"), "name__v": "Deutschland"}]
    )
    product = find_record(source.connector, "product__v", "Neurolax")
    source.connector.update("product__v", [{"id": product, "country__c": germany}])

    def preview(object_name, record_id, **options):
        opts = CopyOptions(existing="skip", unmatched={"country__v": "blank"}, **options)
        request = CopyRequest(
            profile=source.profile,
            target=target.profile,
            object_name=object_name,
            source_ids=(record_id,),
            mode="clone",
            options=opts,
        )
        return copy_preview(request=request, connector=source.connector).cross

    by_code = {"country__v": "code__v"}
    assert preview("product__v", product)["references"]["country__v"]["unmatched"] == 1
    assert preview("product__v", product, match=by_code)["references"]["country__v"]["matched"] == 1
    assert preview("country__v", germany)["existing"]["found"] == {}
    assert list(preview("country__v", germany, match=by_code)["existing"]["found"]["country__v"]) == [germany]
