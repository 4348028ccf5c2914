"""Vault emulator: create, copy, upsert and update (api-notes vault.md §4)."""

NEW = {"name__v": "Fresh", "status__v": "active__v", "price__c": 9.5, "launch_date__c": "2025-01-02"}


def test_4_1_create_json(vault_api):
    row = vault_api.post("vobjects/product__v", json=[NEW])["data"][0]
    assert row["responseStatus"] == "SUCCESS" and row["data"]["event"] == "created__sys"
    rid = row["data"]["id"]
    assert row["data"]["url"] == f"/api/v26.3/vobjects/product__v/{rid}"
    data = vault_api.get(f"vobjects/product__v/{rid}")["data"]
    assert data["status__v"] == ["active__v"] and data["price__c"] == 9.5


def test_4_1_create_csv(vault_api):
    body = "name__v,status__v,price__c\nCsv One,active__v,3\nCsv Two,inactive__v,\n"
    resp = vault_api.post("vobjects/product__v", data=body, headers={"Content-Type": "text/csv"})
    assert [r["responseStatus"] for r in resp["data"]] == ["SUCCESS", "SUCCESS"]


def test_4_1_results_in_input_order(vault_api):
    rows = [dict(NEW, name__v="A"), {"name__v": "B"}, dict(NEW, name__v="C")]
    results = vault_api.post("vobjects/product__v", json=rows)["data"]
    assert [r["responseStatus"] for r in results] == ["SUCCESS", "FAILURE", "SUCCESS"]


def test_4_1_missing_required_field(vault_api):
    row = vault_api.post("vobjects/product__v", json=[{"name__v": "No status"}])["data"][0]
    assert row["errors"] == [{"type": "PARAMETER_REQUIRED", "message": "Missing required parameter [status__v]"}]


def test_4_1_non_editable_field_is_rejected(vault_api):
    row = vault_api.post("vobjects/product__v", json=[dict(NEW, regulatory_status__c="x")])["data"][0]
    assert row["responseStatus"] == "FAILURE" and row["errors"][0]["type"] == "INVALID_DATA"


def test_4_1_unique_violation(vault_api):
    row = vault_api.post("vobjects/product__v", json=[dict(NEW, name__v="Cardiostat")])["data"][0]
    assert row["errors"] == [
        {"type": "OPERATION_NOT_ALLOWED", "message": "Another resource already exists with [name__v=Cardiostat]"}
    ]


def test_4_1_create_with_source_record_id_skips_no_copy_fields(vault_api):
    src_id = vault_api.product_id("Cardiostat")
    row = vault_api.post("vobjects/product__v", json=[{"source_record_id": src_id, "name__v": "Cardiostat copy"}])
    copy = vault_api.get(f"vobjects/product__v/{row['data'][0]['data']['id']}")["data"]
    src = vault_api.get(f"vobjects/product__v/{src_id}")["data"]
    assert copy["external_id__v"] is None and copy["internal_code__c"] is None
    assert copy["description__c"] == src["description__c"] and copy["country__c"] == src["country__c"]
    assert copy["name__v"] == "Cardiostat copy"


def test_4_1_source_record_override_with_empty_string_blanks_field(vault_api):
    src_id = vault_api.product_id("Cardiostat")
    row = vault_api.post(
        "vobjects/product__v", json=[{"source_record_id": src_id, "name__v": "C2", "description__c": ""}]
    )["data"][0]
    assert vault_api.get(f"vobjects/product__v/{row['data']['id']}")["data"]["description__c"] is None


def test_4_1_unknown_source_record(vault_api):
    row = vault_api.post("vobjects/product__v", json=[{"source_record_id": "00P999999999999"}])["data"][0]
    assert row["errors"][0]["type"] == "INVALID_DATA"


def test_4_1_invalid_reference_and_picklist_values(vault_api):
    rows = [dict(NEW, name__v="R1", country__c="00C999999999999"), dict(NEW, name__v="R2", status__v="bogus__v")]
    results = vault_api.post("vobjects/product__v", json=rows)["data"]
    assert [r["errors"][0]["type"] for r in results] == ["INVALID_DATA", "INVALID_DATA"]


def test_4_1_unknown_field_rejected_or_ignored_by_setting(vault_api):
    row = vault_api.post("vobjects/product__v", json=[dict(NEW, bogus__c="x")])["data"][0]
    assert row["errors"][0]["type"] == "INVALID_DATA"
    vault_api.sb.vault.configure(unknown_fields="ignore")
    assert (
        vault_api.post("vobjects/product__v", json=[dict(NEW, bogus__c="x")])["data"][0]["responseStatus"] == "SUCCESS"
    )


def test_4_1_more_than_500_rows_fails_the_request(vault_api):
    rows = [dict(NEW, name__v=f"Bulk {i}") for i in range(501)]
    body = vault_api.post("vobjects/product__v", json=rows)
    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "INVALID_DATA"
    assert vault_api.ids("SELECT id FROM product__v WHERE name__v LIKE 'Bulk%'") == []


def test_4_1_upsert_with_id_param_updates_existing(vault_api):
    rows = [{"external_id__v": "EXT-0001", "price__c": 1}, dict(NEW, external_id__v="EXT-NEW")]
    results = vault_api.post("vobjects/product__v?idParam=external_id__v", json=rows)["data"]
    assert results[0]["data"]["event"] == "updated__sys" and results[0]["data"]["id_param_value"] == "EXT-0001"
    assert results[1]["data"]["event"] == "created__sys"
    assert vault_api.get(f"vobjects/product__v/{results[0]['data']['id']}")["data"]["price__c"] == 1


def test_4_1_upsert_duplicate_id_param_values_fail_the_batch(vault_api):
    rows = [dict(NEW, copy_key__c="k1"), dict(NEW, name__v="Other", copy_key__c="k1")]
    body = vault_api.post("vobjects/product__v?idParam=copy_key__c", json=rows)
    assert body["responseStatus"] == "FAILURE"
    assert vault_api.ids("SELECT id FROM product__v WHERE copy_key__c = 'k1'") == []


def test_4_1_upsert_without_changes_is_a_warning(vault_api):
    body = vault_api.post("vobjects/product__v?idParam=external_id__v", json=[{"external_id__v": "EXT-0001"}])
    assert body["responseStatus"] == "WARNING"
    assert body["data"][0]["warnings"][0]["warning_type"] == "NO_DATA_CHANGES"


def test_4_2_update_by_id(vault_api):
    pid = vault_api.product_id("Neurolax")
    body = vault_api.request("PUT", "vobjects/product__v", json=[{"id": pid, "description__c": "new"}]).json()
    assert body["data"][0]["data"]["event"] == "updated__sys"
    assert vault_api.get(f"vobjects/product__v/{pid}")["data"]["description__c"] == "new"


def test_4_1_copies_in_one_call_are_stamped_in_whole_seconds_of_the_call(vault_api):
    import datetime as dt

    src_id = vault_api.product_id("Cardiostat")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = [{"source_record_id": src_id, "name__v": f"Stamped {i}"} for i in range(300)]
    answer = vault_api.post("vobjects/product__v", json=rows)["data"]
    after = dt.datetime.now(dt.UTC)
    ids = [r["data"]["id"] for r in answer]
    listed = ", ".join(f"'{i}'" for i in ids)
    made = vault_api.query(f"SELECT id, created_date__v, modified_date__v FROM product__v WHERE id IN ({listed})")
    stamps = {r["created_date__v"] for r in made["data"]} | {r["modified_date__v"] for r in made["data"]}
    assert len(made["data"]) == 300
    for stamp in stamps:
        assert stamp.endswith(".000Z")
        assert before <= dt.datetime.fromisoformat(stamp[:-1] + "+00:00") <= after


def test_4_1_a_field_added_later_is_required_and_not_copied_when_no_copy(vault_api):
    script = """ALTER Object product__v (
   ADD Field batch_code__c (
      label('Batch Code'), type('String'), active(true), required(true),
      unique(false), max_length(20), no_copy(true), list_column(false)
   )
);"""
    added = vault_api.request(
        "POST", "/api/mdl/execute", data=script.encode(), headers={"Content-Type": "application/json"}
    ).json()
    assert added["responseStatus"] == "SUCCESS"
    src_id = vault_api.product_id("Cardiostat")
    missing = vault_api.post("vobjects/product__v", json=[{"source_record_id": src_id, "name__v": "No code"}])
    assert missing["data"][0]["errors"] == [
        {"type": "PARAMETER_REQUIRED", "message": "Missing required parameter [batch_code__c]"}
    ]
    first = vault_api.post("vobjects/product__v", json=[dict(NEW, name__v="Coded", batch_code__c="B-1")])
    coded = first["data"][0]["data"]["id"]
    copied = vault_api.post(
        "vobjects/product__v", json=[{"source_record_id": coded, "name__v": "Coded copy", "batch_code__c": "B-2"}]
    )
    copy = vault_api.get(f"vobjects/product__v/{copied['data'][0]['data']['id']}")["data"]
    assert copy["batch_code__c"] == "B-2" and copy["price__c"] == 9.5
    blank = vault_api.post("vobjects/product__v", json=[{"source_record_id": coded, "name__v": "Coded blank"}])
    assert blank["data"][0]["errors"][0]["message"] == "Missing required parameter [batch_code__c]"
