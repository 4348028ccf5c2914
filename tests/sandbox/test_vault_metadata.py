"""Vault emulator: object metadata (api-notes vault.md §2)."""


def test_2_1_list_objects(vault_api):
    objects = {o["name"]: o for o in vault_api.get("metadata/vobjects")["objects"]}
    assert {"product__v", "formulation__c", "packaging__c", "country__v"} <= set(objects)
    assert objects["product__v"]["prefix"] == "00P"
    assert objects["product__v"]["url"] == "/api/v26.3/metadata/vobjects/product__v"


def test_2_2_object_fields_carry_flags(vault_api):
    obj = vault_api.get("metadata/vobjects/product__v")["object"]
    fields = {f["name"]: f for f in obj["fields"]}
    assert fields["name__v"]["required"] and fields["name__v"]["unique"]
    assert fields["external_id__v"]["unique"] and fields["external_id__v"]["no_copy"]
    assert fields["internal_code__c"]["no_copy"]
    assert fields["status__v"]["type"] == "Picklist"
    assert fields["id"]["editable"] is False
    assert fields["regulatory_status__c"]["editable"] is False
    assert fields["copy_key__c"]["unique"] and fields["copy_key__c"]["editable"]
    country = fields["country__c"]
    assert country["type"] == "Object" and country["object"]["name"] == "country__v"
    assert country["relationship_type"] == "reference"
    assert obj["urls"]["record"] == "/api/v26.3/vobjects/product__v/{id}"


def test_2_2_system_managed_name(vault_api):
    fields = {f["name"]: f for f in vault_api.get("metadata/vobjects/formulation__c")["object"]["fields"]}
    assert fields["name__v"]["system_managed_name"] is True
    assert fields["product__c"]["relationship_outbound_name"] == "product__cr"
    assert fields["product__c"]["relationship_inbound_name"] == "formulations__cr"
    assert fields["product__c"]["relationship_deletion"] == "block"


def test_2_2_relationships_list_inbound_children(vault_api):
    rels = {r["relationship_name"]: r for r in vault_api.get("metadata/vobjects/product__v")["object"]["relationships"]}
    assert rels["formulations__cr"]["relationship_type"] == "child"
    assert rels["formulations__cr"]["object"]["name"] == "formulation__c"
    assert rels["formulations__cr"]["hierarchical_copy"] is True
    assert rels["country__cr"]["relationship_type"] == "reference_outbound"


def test_2_3_field_metadata(vault_api):
    field = vault_api.get("metadata/vobjects/packaging__c/fields/formulation__c")["field"]
    assert field["object"]["name"] == "formulation__c"
    assert field["relationship_inbound_name"] == "packagings__cr"
    missing = vault_api.get("metadata/vobjects/packaging__c/fields/nope__c")
    assert missing["errors"][0]["type"] == "INVALID_DATA"
