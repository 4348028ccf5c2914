"""The connectors add the copy-key field through each system's metadata API (Vault MDL, Zoho's
Create Custom Fields), against the sandbox over HTTP."""

import pytest

from records.connectors.errors import NotFound, Rejected
from records.copying.tree import DEFAULT_COPY_KEY_FIELDS, copy_key_field
from tests.fixtures.connectors import make_vault_connector, make_zoho_connector


def test_the_fields_the_connectors_create_are_those_the_engine_looks_for(vault_connector, zoho_connector):
    assert vault_connector.copy_key_fields[0] in DEFAULT_COPY_KEY_FIELDS
    assert zoho_connector.copy_key_fields[0] in DEFAULT_COPY_KEY_FIELDS


def test_vault_definition_shows_the_mdl_statement_without_writing(fresh_sandbox, vault_connector):
    definition = vault_connector.copy_key_definition("country__v")
    assert (definition.name, definition.label, definition.type, definition.length, definition.unique) == (
        "copy_key__c",
        "Copy Key",
        "String",
        100,
        True,
    )
    assert definition.call.startswith("POST /api/mdl/execute\nALTER Object country__v (")
    assert "ADD Field copy_key__c (" in definition.call and "no_copy(true)" in definition.call
    assert not any(e.path.endswith("/mdl/execute") for e in fresh_sandbox.log("vault"))


def test_vault_adds_the_field_and_records_carry_it(fresh_sandbox, vault_connector):
    assert vault_connector.add_copy_key("country__v") == "copy_key__c"
    fields = vault_connector.describe("country__v")  # read again: the cache was dropped
    assert copy_key_field(fields, vault_connector.copy_key_fields) == "copy_key__c"
    info = {f.name: f for f in fields}["copy_key__c"]
    assert info.unique and info.no_copy and info.max_length == 100
    created = vault_connector.create("country__v", [{"name__v": "Keyland", "copy_key__c": "rc-1"}])[0]
    assert created.ok
    assert [r.id for r in vault_connector.find("country__v", {"copy_key__c": "rc-1"})] == [created.new_id]
    clash = vault_connector.create("country__v", [{"name__v": "Keyland 2", "copy_key__c": "rc-1"}])[0]
    assert not clash.ok  # unique


def test_vault_refuses_an_object_that_has_the_field(vault_connector):
    with pytest.raises(Rejected) as refused:
        vault_connector.add_copy_key("product__v")
    assert refused.value.error_type == "ALREADY_EXISTS"


def test_vault_unknown_object_is_not_found(vault_connector):
    with pytest.raises(NotFound):
        vault_connector.copy_key_definition("nothing__c")


def test_vault_without_configuration_permission_says_so(fresh_sandbox, vault_connector):
    fresh_sandbox.vault.configure(mdl_permission=False)
    with pytest.raises(Rejected) as refused:
        vault_connector.add_copy_key("country__v")
    assert refused.value.error_type == "INSUFFICIENT_ACCESS"
    assert "permission to change object configuration" in refused.value.message
    assert "copy_key__c" not in {f.name for f in vault_connector.describe("country__v")}


def test_vault_lost_answer_is_settled_by_reading_the_metadata(fresh_sandbox):
    conn = make_vault_connector(fresh_sandbox.vault_url)
    conn.describe("country__v")
    fresh_sandbox.faults("vault").set(p_drop_after_write=1.0, drop_method="POST", seed=1)
    assert conn.add_copy_key("country__v") == "copy_key__c"
    fresh_sandbox.faults("vault").set(p_drop_after_write=0.0)
    mdl = [e for e in fresh_sandbox.log("vault") if e.path.endswith("/mdl/execute")]
    assert [e.outcome for e in mdl] == ["dropped_after_write"]  # sent once, never again
    assert "copy_key__c" in {f.name for f in conn.describe("country__v")}


def test_zoho_definition_shows_the_fields_call(zoho_connector):
    definition = zoho_connector.copy_key_definition("Notes")
    assert (definition.name, definition.label, definition.length, definition.unique) == (
        "Copy_Key",
        "Copy Key",
        100,
        True,
    )
    assert definition.call.startswith("POST /crm/v7/settings/fields?module=Notes\n")
    assert '"field_label": "Copy Key"' in definition.call and '"data_type": "text"' in definition.call


def test_zoho_adds_the_field_with_the_api_name_the_engine_uses(zoho_connector):
    assert zoho_connector.add_copy_key("Notes") == "Copy_Key"
    fields = zoho_connector.describe("Notes")
    assert copy_key_field(fields, zoho_connector.copy_key_fields) == "Copy_Key"
    info = {f.name: f for f in fields}["Copy_Key"]
    assert info.unique and info.max_length == 100


def test_zoho_refuses_a_module_that_has_the_field(zoho_connector):
    with pytest.raises(Rejected) as refused:
        zoho_connector.add_copy_key("Accounts")
    assert refused.value.error_type == "ALREADY_EXISTS"


@pytest.mark.parametrize("refusal", ["NO_PERMISSION", "OAUTH_SCOPE_MISMATCH"])
def test_zoho_without_permission_or_scope_says_what_is_needed(fresh_sandbox, refusal):
    fresh_sandbox.zoho.settings = fresh_sandbox.zoho.settings.updated(fields_create_error=refusal)
    conn = make_zoho_connector(fresh_sandbox)
    with pytest.raises(Rejected) as refused:
        conn.add_copy_key("Notes")
    assert refused.value.error_type == refusal
    assert "ZohoCRM.settings.fields.CREATE" in refused.value.message


def test_zoho_lost_answer_is_settled_by_reading_the_fields(fresh_sandbox):
    conn = make_zoho_connector(fresh_sandbox)
    conn.describe("Notes")
    fresh_sandbox.faults("zoho").set(p_drop_after_write=1.0, drop_method="POST", seed=1)
    try:
        assert conn.add_copy_key("Notes") == "Copy_Key"
    finally:
        fresh_sandbox.faults("zoho").set(p_drop_after_write=0.0)
    posts = [e for e in fresh_sandbox.log("zoho") if "/settings/fields" in e.path and e.method == "POST"]
    assert [e.outcome for e in posts] == ["dropped_after_write"]
