"""Zoho emulator: the Users API (GET /users?type=..., /users/{id}), who made each record and when,
and COQL on those fields. Reference: https://www.zoho.com/crm/developer/docs/api/v7/get-users.html"""

import datetime as dt

import pytest

from sandbox.zoho_state import DATA_USER, DEMO_TIME, REP, USER

DEMO = DEMO_TIME.isoformat(timespec="seconds")


def test_the_current_user_is_the_api_user_in_the_documented_shape(zoho_api):
    response = zoho_api.get("users", type="CurrentUser")
    body = response.json()
    [user] = body["users"]
    assert response.status_code == 200
    assert user["id"] == USER["id"] and user["email"] == USER["email"] and user["full_name"] == USER["name"]
    assert user["status"] == "active"
    assert set(user["role"]) == {"name", "id"} and set(user["profile"]) == {"name", "id"}
    assert body["info"] == {"per_page": 200, "count": 1, "page": 1, "more_records": False}


@pytest.mark.parametrize("kind", ["ActiveUsers", "AllUsers", None])
def test_the_users_listing_has_the_api_user_and_the_data_user(zoho_api, kind):
    params = {"type": kind} if kind else {}
    ids = [u["id"] for u in zoho_api.get("users", **params).json()["users"]]
    assert ids == [USER["id"], REP["id"], DATA_USER["id"]]


def test_admin_users_and_paging(zoho_api):
    admins = {u["id"] for u in zoho_api.get("users", type="AdminUsers").json()["users"]}
    assert admins == {USER["id"], DATA_USER["id"]}
    page = zoho_api.get("users", type="AllUsers", per_page=2, page=2).json()
    assert [u["id"] for u in page["users"]] == [DATA_USER["id"]]
    assert zoho_api.get("users", type="DeactiveUsers").status_code == 204
    assert zoho_api.get("users", type="Nobody").json()["code"] == "INVALID_DATA"


def test_one_user_by_id_is_kept(zoho_api):
    [user] = zoho_api.get(f"users/{DATA_USER['id']}").json()["users"]
    assert user["full_name"] == "Data Migration"


def test_demo_records_are_the_data_users_and_inserts_the_api_users(zoho_api):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = zoho_api.post("Accounts", {"data": [{"Account_Name": "Fresh"}]}).json()["data"][0]["details"]
    fresh = zoho_api.record("Accounts", made["id"])
    demo = zoho_api.record("Accounts", zoho_api.account_id("Initech"))

    assert demo["Created_By"]["id"] == demo["Modified_By"]["id"] == DATA_USER["id"]
    assert demo["Created_Time"] == DEMO
    assert fresh["Created_By"]["id"] == USER["id"]
    assert fresh["Created_Time"] == fresh["Modified_Time"] == made["Created_Time"]
    created = dt.datetime.fromisoformat(fresh["Created_Time"])
    assert before <= created <= dt.datetime.now(dt.UTC) and created.microsecond == 0


def test_an_update_moves_the_modified_time_and_names_the_api_user(zoho_api):
    account = zoho_api.account_id("Globex")
    zoho_api.request("PUT", f"Accounts/{account}", json={"data": [{"Description": "changed"}]})
    record = zoho_api.record("Accounts", account)
    assert dt.datetime.fromisoformat(record["Modified_Time"]) > DEMO_TIME
    assert record["Created_Time"] == DEMO
    assert record["Modified_By"]["id"] == USER["id"] and record["Created_By"]["id"] == DATA_USER["id"]


def coql_count(zoho_api, where):
    response = zoho_api.coql(f"select Account_Name from Accounts where {where} limit 2000")
    return 0 if response.status_code == 204 else response.json()["info"]["count"]


def test_coql_compares_creation_times_as_instants_whatever_the_offset(zoho_api):
    total = coql_count(zoho_api, "id is not null")
    utc = DEMO_TIME.astimezone(dt.UTC)
    assert coql_count(zoho_api, f"Created_Time >= '{utc.isoformat()}'") == total  # the same instant
    assert coql_count(zoho_api, f"Created_Time > '{utc.isoformat()}'") == 0
    later = (utc + dt.timedelta(seconds=1)).isoformat()
    assert coql_count(zoho_api, f"Created_Time < '{later}'") == total
    assert coql_count(zoho_api, f"Created_Time <= '{(utc - dt.timedelta(seconds=1)).isoformat()}'") == 0


def test_coql_compares_the_creator_by_id(zoho_api):
    total = coql_count(zoho_api, "id is not null")
    assert coql_count(zoho_api, f"Created_By = '{DATA_USER['id']}'") == total
    assert coql_count(zoho_api, f"Created_By = '{USER['id']}'") == 0
    zoho_api.post("Accounts", {"data": [{"Account_Name": "Mine"}]})
    assert coql_count(zoho_api, f"(Created_By = '{USER['id']}') and Account_Name = 'Mine'") == 1
