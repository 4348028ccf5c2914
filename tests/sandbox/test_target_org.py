"""The target vault and Zoho org (sandbox/target_org.py): other ids, part of the reference data,
a field and a picklist value missing, the same users' e-mails with other ids, one user missing."""

import requests

from sandbox import demo, target_org
from tests.fixtures.sandbox import VaultApi, ZohoApi


def test_the_target_vault_has_other_ids_and_part_of_the_reference_data(fresh_target_sandbox, fresh_sandbox):
    target, main = VaultApi(fresh_target_sandbox), VaultApi(fresh_sandbox)
    countries = {r["name__v"]: r["id"] for r in target.query("SELECT id, name__v FROM country__v")["data"]}
    main_countries = {r["name__v"]: r["id"] for r in main.query("SELECT id, name__v FROM country__v")["data"]}
    assert set(countries) == {"United States", "Germany", "Japan"}
    assert not set(countries.values()) & set(main_countries.values())
    products = [r["name__v"] for r in target.query("SELECT id, name__v FROM product__v")["data"]]
    assert products == ["Cardiostat"]


def test_the_target_vault_lacks_a_field_and_a_picklist_value(fresh_target_sandbox):
    api = VaultApi(fresh_target_sandbox)
    fields = {f["name"]: f for f in api.get("metadata/vobjects/product__v")["object"]["fields"]}
    assert "launch_date__c" not in fields
    assert fields["description__c"]["max_length"] == 2000
    values = [v["name"] for v in api.get("objects/picklists/dosage_form__c")["picklistValues"]]
    assert values == ["tablet__c", "capsule__c"]


def test_the_target_vault_has_the_same_users_e_mails_with_other_ids_and_no_rep(fresh_target_sandbox):
    api = VaultApi(fresh_target_sandbox)
    users = {u["user"]["user_email__v"]: u["user"]["id"] for u in api.get("objects/users")["users"]}
    assert users == {
        demo.VAULT_USERNAME: target_org.vault_user_id(demo.VAULT_USER_ID),
        demo.VAULT_DATA_USER_NAME: target_org.vault_user_id(demo.VAULT_DATA_USER_ID),
    }
    assert demo.VAULT_USER_ID not in users.values()
    assert api.get("objects/users/me")["users"][0]["user"]["id"] == target_org.vault_user_id(demo.VAULT_USER_ID)
    [product] = api.query("SELECT created_by__v, product_manager__c FROM product__v")["data"]
    assert product["created_by__v"] == product["product_manager__c"] == users[demo.VAULT_DATA_USER_NAME]


def test_the_target_zoho_org_has_other_ids_users_and_reference_data(fresh_target_sandbox):
    api = ZohoApi(fresh_target_sandbox)
    accounts = api.coql("select Account_Name from Accounts where Account_Name is not null").json()["data"]
    assert sorted(a["Account_Name"] for a in accounts) == ["Acme Corp", "Globex"]
    assert all(a["id"].startswith("68368780") for a in accounts)
    users = {u["email"]: u["id"] for u in api.get("users", type="AllUsers").json()["users"]}
    assert users == {
        "admin@sandbox.zoho.example": "6836878000000150001",
        "data.migration@sandbox.zoho.example": "6836878000000150003",
    }
    assert api.get("users", type="CurrentUser").json()["users"][0]["id"] == "6836878000000150001"


def test_the_target_zoho_org_lacks_a_field_and_a_picklist_value(fresh_target_sandbox):
    api = ZohoApi(fresh_target_sandbox)
    accounts = {f["api_name"] for f in api.get("settings/fields", module="Accounts").json()["fields"]}
    assert "Regions" not in accounts and "Account_Name" in accounts
    stage = next(f for f in api.get("settings/fields", module="Deals").json()["fields"] if f["api_name"] == "Stage")
    assert "Negotiation" not in [v["actual_value"] for v in stage["pick_list_values"]]


def test_the_main_org_is_unchanged(fresh_sandbox):
    api = ZohoApi(fresh_sandbox)
    users = {u["email"] for u in api.get("users", type="AllUsers").json()["users"]}
    assert "rep@sandbox.zoho.example" in users
    assert requests.get(f"{fresh_sandbox.vault_url}/api/{demo.VAULT_API_VERSION}", timeout=5).status_code < 500
