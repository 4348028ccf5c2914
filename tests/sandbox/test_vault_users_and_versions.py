"""Vault emulator: API versions through v26.3, its users (the API user, the one who loaded the
demo data, a rep who manages some products), who made each record and when, a user field, and VQL on those fields (api-notes vault.md §1, §3, §9)."""

import datetime as dt

import pytest
import requests

from sandbox import demo
from tests.fixtures.sandbox import VaultApi

CREDS = {"username": demo.VAULT_USERNAME, "password": demo.VAULT_PASSWORD}


def test_versions_run_to_v26_3(fresh_sandbox):
    values = requests.get(f"{fresh_sandbox.vault_url}/api/", timeout=5).json()["values"]
    assert list(values)[-6:] == ["v25.1", "v25.2", "v25.3", "v26.1", "v26.2", "v26.3"]


@pytest.mark.parametrize("version", ["v26.1", "v26.3"])
def test_a_client_logs_in_and_queries_at_v26(fresh_sandbox, version):
    api = VaultApi(fresh_sandbox, version=version)
    assert api.query("SELECT id FROM country__v")["responseStatus"] == "SUCCESS"


def test_a_version_after_v26_3_is_a_malformed_url(fresh_sandbox):
    body = requests.post(f"{fresh_sandbox.vault_url}/api/v26.4/auth", data=CREDS, timeout=5).json()
    assert body["errors"][0]["type"] == "MALFORMED_URL"


def test_the_demo_profiles_still_use_the_demo_version(fresh_sandbox):
    assert demo.profile_values("vault", fresh_sandbox.vault_url)["api_version"] == demo.VAULT_API_VERSION


def test_users_me_is_the_api_user_and_the_list_has_every_user(vault_api):
    [me] = vault_api.get("objects/users/me")["users"]
    listed = vault_api.get("objects/users")
    assert me["user"]["id"] == demo.VAULT_USER_ID
    assert {u["user"]["id"] for u in listed["users"]} == set(demo.VAULT_USERS)
    assert listed["size"] == 3
    [other] = vault_api.get(f"objects/users/{demo.VAULT_DATA_USER_ID}")["users"]
    assert other["user"]["user_name__v"] == demo.VAULT_DATA_USER_NAME
    assert vault_api.get("objects/users/1")["errors"][0]["type"] == "INVALID_DATA"


def test_demo_records_were_made_by_the_data_user_and_creates_by_the_api_user(vault_api):
    source = vault_api.product_id("Cardiostat")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = vault_api.request(
        "POST",
        "vobjects/product__v",
        json=[{"source_record_id": source, "name__v": "Cardio Two"}],
        headers={"Content-Type": "application/json"},
    ).json()
    new_id = made["data"][0]["data"]["id"]

    old = vault_api.get(f"vobjects/product__v/{source}")["data"]
    new = vault_api.get(f"vobjects/product__v/{new_id}")["data"]

    assert old["created_by__v"] == old["modified_by__v"] == demo.VAULT_DATA_USER_ID
    assert old["created_date__v"] == demo.DEMO_TIMESTAMP
    assert new["created_by__v"] == demo.VAULT_USER_ID
    assert new["created_date__v"] == new["modified_date__v"] and new["created_date__v"].endswith(".000Z")
    created = dt.datetime.fromisoformat(new["created_date__v"].replace("Z", "+00:00"))
    assert before <= created <= dt.datetime.now(dt.UTC)


def test_an_update_moves_the_modified_time_and_names_the_api_user(vault_api):
    source = vault_api.product_id("Neurolax")
    vault_api.request(
        "PUT",
        "vobjects/product__v",
        json=[{"id": source, "description__c": "changed"}],
        headers={"Content-Type": "application/json"},
    )
    record = vault_api.get(f"vobjects/product__v/{source}")["data"]
    assert record["modified_date__v"] > record["created_date__v"] == demo.DEMO_TIMESTAMP
    assert record["modified_by__v"] == demo.VAULT_USER_ID and record["created_by__v"] == demo.VAULT_DATA_USER_ID


def test_vql_compares_creation_times_as_instants_and_creators_as_numbers(vault_api):
    total = len(vault_api.ids("SELECT id FROM country__v"))
    q = "SELECT id FROM country__v WHERE "
    assert len(vault_api.ids(q + "created_date__v >= '2024-01-15T09:30:00.000Z'")) == total
    assert len(vault_api.ids(q + "created_date__v >= '2024-01-15T09:30:00.5Z'")) == 0
    assert len(vault_api.ids(q + "created_date__v < '2024-01-15T09:30:01.000Z'")) == total
    assert len(vault_api.ids(q + "created_date__v > '2024-01-15T09:30:00.000Z'")) == 0
    assert len(vault_api.ids(q + "created_date__v <= '2024-01-15T09:29:59.999Z'")) == 0
    assert len(vault_api.ids(q + f"created_by__v = '{demo.VAULT_DATA_USER_ID}'")) == total
    assert len(vault_api.ids(q + f"created_by__v = {demo.VAULT_DATA_USER_ID}")) == total
    assert vault_api.ids(q + f"created_by__v = '{demo.VAULT_USER_ID}'") == []


def test_a_user_field_is_an_object_reference_to_user_sys_answered_as_an_integer(vault_api):
    fields = {f["name"]: f for f in vault_api.get("metadata/vobjects/product__v")["object"]["fields"]}
    manager = fields["product_manager__c"]
    assert manager["type"] == "Object" and manager["object"]["name"] == "user__sys"
    row = vault_api.query("SELECT id, product_manager__c FROM product__v WHERE name__v = 'Osteofirm'")["data"][0]
    assert row["product_manager__c"] == demo.VAULT_REP_USER_ID


def test_a_user_field_takes_a_user_id_and_refuses_one_that_is_no_user(vault_api):
    source = vault_api.product_id("Neurolax")

    def put(value):
        return vault_api.request(
            "PUT",
            "vobjects/product__v",
            json=[{"id": source, "product_manager__c": value}],
            headers={"Content-Type": "application/json"},
        ).json()["data"][0]

    assert put(str(demo.VAULT_REP_USER_ID))["responseStatus"] == "SUCCESS"
    assert vault_api.get(f"vobjects/product__v/{source}")["data"]["product_manager__c"] == demo.VAULT_REP_USER_ID
    assert put("12345")["errors"][0]["type"] == "INVALID_DATA"
