"""Zoho emulator: Create Custom Fields (POST /settings/fields?module=), the unique text field a
client adds to mark its copies; afterwards the fields metadata lists it and records carry it."""

COPY_KEY = {
    "fields": [{"field_label": "Copy Key", "data_type": "text", "length": 100, "unique": {"casesensitive": "false"}}]
}


def _create(zoho_api, module, body):
    return zoho_api.request("POST", "settings/fields", params={"module": module}, json=body)


def test_creates_the_field_named_from_its_label(zoho_api):
    answer = _create(zoho_api, "Notes", COPY_KEY)
    assert answer.status_code == 201
    [entry] = answer.json()["fields"]
    assert entry["code"] == "SUCCESS" and entry["status"] == "success" and entry["details"]["id"]
    fields = {f["api_name"]: f for f in zoho_api.get("settings/fields", module="Notes").json()["fields"]}
    created = fields["Copy_Key"]
    assert created["id"] == entry["details"]["id"] and created["field_label"] == "Copy Key"
    assert created["unique"] == {"casesensitive": "false"} and created["length"] == 100 and created["custom_field"]


def test_records_carry_the_new_field_and_it_is_unique(zoho_api):
    _create(zoho_api, "Products", {"fields": [{"field_label": "Batch Key", "data_type": "text", "unique": {}}]})
    rows = [{"Product_Name": "P1", "Batch_Key": "k1"}, {"Product_Name": "P2", "Batch_Key": "k1"}]
    answer = zoho_api.post("Products", {"data": rows}).json()["data"]
    assert [r["status"] for r in answer] == ["success", "error"]
    assert answer[1]["code"] == "DUPLICATE_DATA" and answer[1]["details"]["api_name"] == "Batch_Key"


def test_a_label_in_use_is_refused(zoho_api):
    answer = _create(zoho_api, "Accounts", COPY_KEY)
    assert answer.status_code == 400
    [entry] = answer.json()["fields"]
    assert entry["code"] == "DUPLICATE_DATA" and entry["details"]["api_name"] == "field_label"


def test_bad_input_is_refused(zoho_api):
    assert _create(zoho_api, "Notes", {"fields": [{"field_label": "X", "data_type": "rocket"}]}).status_code == 400
    assert _create(zoho_api, "Notes", {"fields": [{"data_type": "text"}]}).json()["fields"][0]["code"] == (
        "MANDATORY_NOT_FOUND"
    )
    assert _create(zoho_api, "Notes", {"nope": []}).json()["code"] == "MANDATORY_NOT_FOUND"
    assert _create(zoho_api, "Nothing", COPY_KEY).json()["code"] == "INVALID_MODULE"


def test_without_permission_or_scope(fresh_sandbox, zoho_api):
    fresh_sandbox.zoho.settings = fresh_sandbox.zoho.settings.updated(fields_create_error="NO_PERMISSION")
    answer = _create(zoho_api, "Notes", COPY_KEY)
    assert answer.status_code == 403 and answer.json()["code"] == "NO_PERMISSION"
    fresh_sandbox.zoho.settings = fresh_sandbox.zoho.settings.updated(fields_create_error="OAUTH_SCOPE_MISMATCH")
    assert _create(zoho_api, "Notes", COPY_KEY).status_code == 401
    assert "Copy_Key" not in {f["api_name"] for f in zoho_api.get("settings/fields", module="Notes").json()["fields"]}


def _metadata_ids(state):
    ids = []
    for module in state.modules.values():
        for f in module.fields:
            ids.append(f["id"])
            ids.extend(v["id"] for v in f.get("pick_list_values", ()))
    return ids


def test_a_new_field_id_is_unique_in_its_org_after_a_smaller_org_was_built():
    from sandbox.zoho_fields import create_fields
    from sandbox.zoho_state import ZohoState

    org = ZohoState()
    ZohoState(copy_keys=False)  # another org in the same process numbers its metadata again
    create_fields(org, org.modules["Notes"], COPY_KEY)
    ids = _metadata_ids(org)
    assert len(ids) == len(set(ids))
