"""Vault emulator: delete, cascade delete and the deleted-id log (api-notes vault.md §8)."""

import csv
import io


def _packaging_ids(api, n):
    return api.ids(f"SELECT id FROM packaging__c PAGESIZE {n}")


def test_8_1_delete_json_rows_in_input_order(vault_api):
    ids = _packaging_ids(vault_api, 2)
    body = vault_api.request(
        "DELETE", "vobjects/packaging__c", json=[{"id": ids[0]}, {"id": "V2P999999999999"}, {"id": ids[1]}]
    ).json()
    assert [r["responseStatus"] for r in body["data"]] == ["SUCCESS", "FAILURE", "SUCCESS"]
    assert body["data"][0]["data"]["id"] == ids[0]
    assert vault_api.get(f"vobjects/packaging__c/{ids[0]}")["responseStatus"] == "FAILURE"


def test_8_1_post_method_delete_alias_with_csv(vault_api):
    ids = _packaging_ids(vault_api, 2)
    body = vault_api.post(
        "vobjects/packaging__c?_method=DELETE",
        data="id\n" + "\n".join(ids) + "\n",
        headers={"Content-Type": "text/csv"},
    )
    assert [r["responseStatus"] for r in body["data"]] == ["SUCCESS", "SUCCESS"]


def test_8_1_delete_blocked_by_child_records(vault_api):
    pid = vault_api.product_id("Cardiostat")
    row = vault_api.request("DELETE", "vobjects/product__v", json=[{"id": pid}]).json()["data"][0]
    assert row["responseStatus"] == "FAILURE" and row["errors"][0]["type"] == "OPERATION_NOT_ALLOWED"


def test_8_1_more_than_500_rows_fails_the_request(vault_api):
    ids = _packaging_ids(vault_api, 501)
    body = vault_api.request("DELETE", "vobjects/packaging__c", json=[{"id": i} for i in ids]).json()
    assert body["responseStatus"] == "FAILURE"


def test_8_2_cascade_delete_job_and_results(vault_api):
    pid = vault_api.product_id("Cardiostat")
    body = vault_api.post(f"vobjects/product__v/{pid}/actions/cascadedelete")
    assert isinstance(body["job_id"], int)
    assert vault_api.wait_job(body["job_id"])["status"] == "SUCCESS"
    assert vault_api.ids(f"SELECT id FROM formulation__c WHERE product__c = '{pid}'") == []
    text = vault_api.request("GET", f"vobjects/cascadedelete/results/product__v/success/{body['job_id']}").text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Source Object", "Record Id"] and rows[1] == ["product__v", pid]
    assert len(rows) == 1 + 1 + 5 + 30


def test_8_3_deleted_ids_log(vault_api):
    ids = _packaging_ids(vault_api, 1)
    vault_api.request("DELETE", "vobjects/packaging__c", json=[{"id": ids[0]}])
    body = vault_api.get("objects/deletions/vobjects/packaging__c")
    assert body["responseDetails"]["total"] == 1 and body["data"][0]["id"] == ids[0]
    assert body["data"][0]["date_deleted"].endswith("Z")
