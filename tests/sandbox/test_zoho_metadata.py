"""Zoho emulator: modules, fields and related-list metadata (api-notes zoho.md §5)."""


def fields_of(zoho_api, module):
    return {f["api_name"]: f for f in zoho_api.get("settings/fields", module=module).json()["fields"]}


def test_5_1_modules_include_subform_module_with_parent(zoho_api):
    modules = {m["api_name"]: m for m in zoho_api.get("settings/modules").json()["modules"]}
    assert {"Accounts", "Contacts", "Deals", "Tasks", "Notes"} <= set(modules)
    assert modules["Branches"]["generated_type"] == "subform"
    assert modules["Branches"]["parent_module"]["api_name"] == "Accounts"
    assert all(m["api_supported"] for m in modules.values())


def test_5_2_field_types_and_flags(zoho_api):
    acc = fields_of(zoho_api, "Accounts")
    assert acc["Account_Name"]["system_mandatory"] is True
    assert acc["Account_Number"]["unique"] and acc["Copy_Key"]["unique"]
    assert acc["Branches"]["data_type"] == "subform"
    assert acc["Branches"]["associated_module"]["module"] == "Branches"
    assert acc["ERP_Id"]["external"] is not None
    assert acc["Industry"]["data_type"] == "picklist" and acc["Industry"]["pick_list_values"][0]["actual_value"]
    assert acc["Regions"]["data_type"] == "multiselectpicklist"
    assert acc["Created_Time"]["field_read_only"] is True
    assert {f["data_type"] for f in acc.values()} >= {
        "text",
        "textarea",
        "integer",
        "double",
        "currency",
        "boolean",
        "date",
        "datetime",
        "picklist",
        "lookup",
        "ownerlookup",
        "phone",
        "website",
        "subform",
    }
    con = fields_of(zoho_api, "Contacts")
    assert con["Photo_File"]["data_type"] == "fileupload"
    assert con["Lead_Score"]["read_only"] is True and con["Lead_Score"]["data_type"] == "integer"
    assert con["Email"]["data_type"] == "email" and con["Email"]["unique"]
    assert con["Account_Name"]["lookup"]["module"]["api_name"] == "Accounts"
    deals = fields_of(zoho_api, "Deals")
    assert deals["Stage"]["system_mandatory"] and deals["Contact_Name"]["lookup"]["module"]["api_name"] == "Contacts"
    tasks = fields_of(zoho_api, "Tasks")
    assert tasks["What_Id"]["lookup"]["module"]["api_name"] == "se_module"
    assert {"Branch_Name", "City"} <= set(fields_of(zoho_api, "Branches"))


def test_5_2_fields_need_a_known_module(zoho_api):
    assert zoho_api.get("settings/fields").json()["code"] == "REQUIRED_PARAM_MISSING"
    r = zoho_api.get("settings/fields", module="Nope")
    assert r.status_code == 400 and r.json()["code"] == "INVALID_MODULE"


def test_5_3_related_lists_with_href_and_string_sequence(zoho_api):
    lists = zoho_api.get("settings/related_lists", module="Accounts").json()["related_lists"]
    assert [rl["api_name"] for rl in lists] == ["Contacts", "Deals", "Tasks", "Notes"]
    contacts = lists[0]
    assert contacts["module"]["api_name"] == "Contacts" and contacts["type"] == "default"
    assert contacts["href"] == "Accounts/{ENTITYID}/Contacts" and contacts["sequence_number"] == "1"
    assert [
        rl["api_name"] for rl in zoho_api.get("settings/related_lists", module="Contacts").json()["related_lists"]
    ] == ["Deals", "Tasks", "Notes"]
    assert [
        rl["api_name"] for rl in zoho_api.get("settings/related_lists", module="Deals").json()["related_lists"]
    ] == ["Tasks", "Notes"]
