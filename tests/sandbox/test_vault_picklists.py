"""Vault emulator: picklists (Retrieve All Picklists / Retrieve Picklist Values, and picklist values on
create). Reference: https://limited.veevavault.dev/vault-api/api-reference/25.2/picklists/retrieve-picklist-values/"""

NEW = {"name__v": "Picklist Test", "status__v": "active__v"}


def test_picklist_fields_name_their_picklist(vault_api):
    fields = {f["name"]: f for f in vault_api.get("metadata/vobjects/product__v")["object"]["fields"]}
    assert fields["status__v"]["type"] == "Picklist" and fields["status__v"]["picklist"] == "product_status__c"
    assert fields["status__v"]["multi_value"] is False
    assert fields["markets__c"]["picklist"] == "market__c" and fields["markets__c"]["multi_value"] is True
    assert "picklist" not in fields["name__v"]
    field = vault_api.get("metadata/vobjects/formulation__c/fields/dosage_form__c")["field"]
    assert field["picklist"] == "dosage_form__c"


def test_retrieve_picklist_values_lists_active_values_in_order(vault_api):
    body = vault_api.get("objects/picklists/dosage_form__c")
    assert body["responseStatus"] == "SUCCESS" and body["responseMessage"] == "Success"
    assert body["picklistValues"] == [
        {"name": "tablet__c", "label": "Tablet"},
        {"name": "capsule__c", "label": "Capsule"},
        {"name": "syrup__c", "label": "Syrup"},
    ]  # powder__c is inactive: not listed
    names = [v["name"] for v in vault_api.get("objects/picklists/product_status__c")["picklistValues"]]
    assert names == ["active__v", "inactive__v"]


def test_every_picklist_a_field_names_can_be_read(vault_api):
    for obj in ("product__v", "formulation__c", "packaging__c", "country__v"):
        for f in vault_api.get(f"metadata/vobjects/{obj}")["object"]["fields"]:
            if f["type"] == "Picklist":
                assert vault_api.get(f"objects/picklists/{f['picklist']}")["picklistValues"], f["name"]


def test_unknown_picklist_is_a_failure(vault_api):
    body = vault_api.get("objects/picklists/nope__c")
    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "INVALID_DATA"


def test_retrieve_all_picklists_says_where_each_is_used(vault_api):
    body = vault_api.get("objects/picklists")
    lists = {p["name"]: p for p in body["picklists"]}
    assert {"product_status__c", "dosage_form__c", "market__c"} <= set(lists)
    assert lists["market__c"]["usedIn"] == [{"objectName": "product__v", "propertyName": "markets__c"}]
    assert lists["market__c"]["label"] == "Market" and lists["market__c"]["kind"] == "global"


def test_picklist_endpoints_need_a_session(vault_api):
    r = vault_api.http.get(
        f"{vault_api.base}/objects/picklists/market__c", headers={"Authorization": "nope"}, timeout=10
    )
    assert r.json()["errors"][0]["type"] == "INVALID_SESSION_ID"


def test_create_takes_value_names_of_the_picklist_only(vault_api):
    rows = [
        dict(NEW, name__v="P1", status__v="bogus__v"),
        dict(NEW, name__v="P2", status__v="Active"),  # a label, not a name
        dict(NEW, name__v="P3", status__v="ACTIVE__V"),  # names are matched exactly
        dict(NEW, name__v="P4", status__v="withdrawn__c"),  # inactive
        dict(NEW, name__v="P5", status__v=["active__v", "inactive__v"]),  # one value only
        dict(NEW, name__v="P6", status__v="inactive__v"),
    ]
    results = vault_api.post("vobjects/product__v", json=rows)["data"]
    assert [r["responseStatus"] for r in results] == ["FAILURE"] * 5 + ["SUCCESS"]
    for r in results[:5]:
        assert r["errors"][0]["type"] == "INVALID_DATA" and "[status__v]" in r["errors"][0]["message"]


def test_multi_value_picklist_takes_a_list_or_comma_separated_names(vault_api):
    rows = [
        dict(NEW, name__v="M1", markets__c=["us__c", "jp__c"]),
        dict(NEW, name__v="M2", markets__c="eu__c,cn__c"),
        dict(NEW, name__v="M3", markets__c=["us__c", "mars__c"]),
    ]
    results = vault_api.post("vobjects/product__v", json=rows)["data"]
    assert [r["responseStatus"] for r in results] == ["SUCCESS", "SUCCESS", "FAILURE"]
    assert results[2]["errors"][0]["type"] == "INVALID_DATA"
    record = vault_api.get(f"vobjects/product__v/{results[1]['data']['id']}")["data"]
    assert record["markets__c"] == ["eu__c", "cn__c"] and record["status__v"] == ["active__v"]
