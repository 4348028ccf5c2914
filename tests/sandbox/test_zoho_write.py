"""Zoho emulator: clone, insert, upsert, update, notes and delete (api-notes zoho.md §2, §3, §7, §8)."""


def contact_of(zoho_api, account_name):
    acc = zoho_api.account_id(account_name)
    return zoho_api.coql(f"select Last_Name from Contacts where Account_Name = '{acc}' limit 1").json()["data"][0]["id"]


def test_2_clone_without_body_returns_201_success(zoho_api):
    src = contact_of(zoho_api, "Acme Corp")
    zoho_api.request("PUT", f"Contacts/{src}", json={"data": [{"Email": None}]})  # nothing unique left to clash
    r = zoho_api.post(f"Contacts/{src}/actions/clone")
    assert r.status_code == 201
    entry = r.json()["data"][0]
    assert entry["code"] == "SUCCESS" and entry["message"] == "record added" and entry["status"] == "success"
    assert len(entry["details"]["id"]) == 19 and entry["details"]["Created_By"]["id"]
    assert (
        zoho_api.record("Contacts", entry["details"]["id"])["Last_Name"]
        == zoho_api.record("Contacts", src)["Last_Name"]
    )


def test_2_clone_excludes_read_only_and_file_fields(zoho_api):
    state = zoho_api.sb.zoho.state
    src = next(c for c in state.records["Contacts"].values() if c.get("Photo_File"))
    r = zoho_api.post(f"Contacts/{src['id']}/actions/clone", {"data": [{"Email": "clone@demo.example"}]})
    new = zoho_api.record("Contacts", r.json()["data"][0]["details"]["id"])
    assert new["Photo_File"] is None and new["Lead_Score"] is None
    assert new["Account_Name"]["id"] == src["Account_Name"] and new["First_Name"] == src["First_Name"]
    assert new["Email"] == "clone@demo.example"


def test_2_clone_excludes_external_and_copies_subform_rows(zoho_api):
    acc = zoho_api.account_id("Globex")
    r = zoho_api.post(f"Accounts/{acc}/actions/clone", {"data": [{"Account_Name": "Globex 2", "Account_Number": None}]})
    assert r.status_code == 201
    new_id = r.json()["data"][0]["details"]["id"]
    src, new = zoho_api.record("Accounts", acc), zoho_api.record("Accounts", new_id)
    assert new["ERP_Id"] is None and src["ERP_Id"]
    assert new["Last_Activity_Time"] is None and new["Industry"] == src["Industry"]
    assert [b["Branch_Name"] for b in new["Branches"]] == [b["Branch_Name"] for b in src["Branches"]]
    assert {b["id"] for b in new["Branches"]}.isdisjoint(b["id"] for b in src["Branches"])
    assert all(b["Parent_Id"]["id"] == new_id for b in new["Branches"])
    assert len(zoho_api.record("Accounts", acc)["Branches"]) == 2  # the source keeps its rows


def test_2_clone_override_subform_array_replaces_rows(zoho_api):
    acc = zoho_api.account_id("Initech")
    body = {
        "data": [
            {
                "Account_Name": "Initech 2",
                "Account_Number": "ACC-NEW",
                "Branches": [{"Branch_Name": "Only", "City": "Lyon"}],
            }
        ]
    }
    new_id = zoho_api.post(f"Accounts/{acc}/actions/clone", body).json()["data"][0]["details"]["id"]
    assert [(b["Branch_Name"], b["City"]) for b in zoho_api.record("Accounts", new_id)["Branches"]] == [
        ("Only", "Lyon")
    ]


def test_2_clone_unique_field_clash_is_duplicate_data(zoho_api):
    acc = zoho_api.account_id("Hooli")
    r = zoho_api.post(f"Accounts/{acc}/actions/clone")
    assert r.status_code == 400
    err = r.json()["data"][0]
    assert err["code"] == "DUPLICATE_DATA" and err["details"]["api_name"] == "Account_Number"
    assert err["details"]["duplicate_record"]["id"] == acc


def test_2_clone_copy_key_rerun_finds_the_first_copy(zoho_api):
    acc = zoho_api.account_id("Hooli")
    body = {"data": [{"Account_Number": None, "Copy_Key": "job-1-row-1"}]}
    first = zoho_api.post(f"Accounts/{acc}/actions/clone", body).json()["data"][0]["details"]["id"]
    again = zoho_api.post(f"Accounts/{acc}/actions/clone", body).json()["data"][0]
    assert again["code"] == "DUPLICATE_DATA" and again["details"]["duplicate_record"]["id"] == first
    assert again["details"]["api_name"] == "Copy_Key"


def test_2_clone_mandatory_null_is_mandatory_not_found(zoho_api):
    acc = zoho_api.account_id("Hooli")
    r = zoho_api.post(f"Accounts/{acc}/actions/clone", {"data": [{"Account_Name": None, "Account_Number": None}]})
    assert r.status_code == 400
    assert r.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    assert r.json()["data"][0]["details"]["api_name"] == "Account_Name"


def test_2_clone_unknown_source_id_is_invalid_data(zoho_api):
    r = zoho_api.post("Accounts/5725767000009999999/actions/clone")
    assert r.status_code == 400
    assert r.json() == {
        "code": "INVALID_DATA",
        "details": {"id": "5725767000009999999"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }


def test_2_clone_does_not_copy_related_list_children(zoho_api):
    acc = zoho_api.account_id("Acme Corp")
    body = {"data": [{"Account_Number": None}], "skip_feature_execution": [{"name": "cadences"}]}
    new_id = zoho_api.post(f"Accounts/{acc}/actions/clone", body).json()["data"][0]["details"]["id"]
    for name in ("Contacts", "Deals", "Tasks", "Notes"):
        assert zoho_api.get(f"Accounts/{new_id}/{name}", fields="id").status_code == 204
    assert zoho_api.sb.zoho.state.actions[-1]["skip_feature_execution"] == [{"name": "cadences"}]


def test_3_1_insert_per_record_results_and_207(zoho_api):
    acc = zoho_api.account_id("Acme Corp")
    body = {
        "data": [
            {"Last_Name": "New", "Account_Name": {"id": acc}, "Email": "new@demo.example"},
            {"First_Name": "No last name"},
            {"Last_Name": "Dup", "Email": "contact1@demo.example"},
            {"Last_Name": "Bad", "Date_of_Birth": "15/01/1990"},
            {"Last_Name": "Ghost", "Account_Name": {"id": "5725767000009999999"}},
        ],
        "trigger": [],
    }
    r = zoho_api.post("Contacts", body)
    assert r.status_code == 207
    ok, missing, dup, bad, ghost = r.json()["data"]
    assert ok["code"] == "SUCCESS" and ok["message"] == "record added"
    assert missing == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "Last_Name"},
        "message": "required field not found",
        "status": "error",
    }
    assert dup["code"] == "DUPLICATE_DATA" and dup["details"]["api_name"] == "Email"
    assert (
        dup["details"]["duplicate_record"]["id"]
        == zoho_api.get("Contacts/search", email="contact1@demo.example").json()["data"][0]["id"]
    )
    assert bad["code"] == "INVALID_DATA" and bad["details"] == {
        "api_name": "Date_of_Birth",
        "expected_data_type": "date",
    }
    assert ghost["code"] == "INVALID_DATA" and ghost["details"]["api_name"] == "Account_Name"
    assert zoho_api.record("Contacts", ok["details"]["id"])["Account_Name"]["id"] == acc
    action = zoho_api.sb.zoho.state.actions[-1]
    assert action["trigger"] == [] and action["automations_ran"] is False


def test_3_1_insert_status_201_all_ok_400_all_failed_and_limit(zoho_api):
    assert zoho_api.post("Deals", {"data": [{"Deal_Name": "D", "Stage": "Proposal", "Amount": 5.5}]}).status_code == 201
    assert zoho_api.sb.zoho.state.actions[-1]["automations_ran"] is True  # trigger omitted → automations run
    r = zoho_api.post("Deals", {"data": [{"Deal_Name": "D"}, {"Stage": "Proposal"}]})
    assert r.status_code == 400 and [e["code"] for e in r.json()["data"]] == ["MANDATORY_NOT_FOUND"] * 2
    r = zoho_api.post("Deals", {"data": [{"Deal_Name": f"D{i}", "Stage": "Proposal"} for i in range(101)]})
    assert r.status_code == 400 and r.json()["code"] == "LIMIT_EXCEEDED" and "data" not in r.json()
    r = zoho_api.post(
        "Deals", {"data": [{"Deal_Name": "D", "Stage": "Proposal", "Amount": "lots", "Probability": 1.5}]}
    )
    assert r.json()["data"][0]["details"] == {"api_name": "Amount", "expected_data_type": "currency"}


def test_3_1_tasks_what_id_with_se_module(zoho_api):
    deal = zoho_api.coql("select Deal_Name from Deals where Deal_Name like '%deal 1' limit 1").json()["data"][0]["id"]
    before = zoho_api.coql(f"select Subject from Tasks where What_Id = '{deal}'").json()["info"]["count"]
    r = zoho_api.post(
        "Tasks",
        {
            "data": [
                {
                    "Subject": "Call",
                    "What_Id": {"id": deal},
                    "$se_module": "Deals",
                    "Status": "Not Started",
                    "Due_Date": "2024-05-01",
                }
            ]
        },
    )
    new = zoho_api.record("Tasks", r.json()["data"][0]["details"]["id"])
    assert new["What_Id"]["id"] == deal and new["$se_module"] == "Deals"
    assert zoho_api.coql(f"select Subject from Tasks where What_Id = '{deal}'").json()["info"]["count"] == before + 1


def test_3_2_upsert_updates_then_inserts_by_copy_key(zoho_api):
    body = {"data": [{"Last_Name": "Keyed", "Copy_Key": "k-1"}], "duplicate_check_fields": ["Copy_Key"], "trigger": []}
    first = zoho_api.post("Contacts/upsert", body)
    assert first.status_code == 201
    entry = first.json()["data"][0]
    assert entry["action"] == "insert" and entry["message"] == "record added" and entry["duplicate_field"] is None
    body["data"][0]["First_Name"] = "Again"
    second = zoho_api.post("Contacts/upsert", body).json()["data"][0]
    assert second["action"] == "update" and second["message"] == "record updated"
    assert second["duplicate_field"] == "Copy_Key" and second["details"]["id"] == entry["details"]["id"]
    assert zoho_api.record("Contacts", entry["details"]["id"])["First_Name"] == "Again"
    bad = zoho_api.post("Contacts/upsert", {"data": [{"Last_Name": "x"}], "duplicate_check_fields": ["Phone"]})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_DATA"


def test_3_3_update_and_subform_rows(zoho_api):
    acc = zoho_api.account_id("Umbrella Health")
    rows = zoho_api.record("Accounts", acc)["Branches"]
    body = {
        "data": [
            {
                "id": acc,
                "Phone": "+1 000",
                "Branches": [{"id": rows[0]["id"], "_delete": None}, {"Branch_Name": "Added", "City": "Rome"}],
            }
        ]
    }
    r = zoho_api.request("PUT", "Accounts", json=body)
    assert r.status_code == 200 and r.json()["data"][0]["message"] == "record updated"
    after = zoho_api.record("Accounts", acc)
    assert after["Phone"] == "+1 000"
    assert [b["Branch_Name"] for b in after["Branches"]] == [rows[1]["Branch_Name"], "Added"]
    missing = zoho_api.request("PUT", "Accounts", json={"data": [{"id": "5725767000009999999", "Phone": "1"}]})
    assert missing.json()["data"][0]["code"] == "INVALID_DATA"


def test_3_4_notes_insert_with_parent_id(zoho_api):
    acc = zoho_api.account_id("Globex")
    deal = zoho_api.coql(f"select Deal_Name from Deals where Account_Name = '{acc}' limit 1").json()["data"][0]["id"]
    body = {
        "data": [
            {
                "Parent_Id": {"module": {"api_name": "Accounts"}, "id": acc},
                "Note_Title": "A",
                "Note_Content": "on account",
            },
            {"Parent_Id": {"module": {"api_name": "Deals"}, "id": deal}, "Note_Title": "D", "Note_Content": "on deal"},
            {"Parent_Id": deal, "$se_module": "Deals", "Note_Content": "v2 style"},
            {"Note_Title": "orphan", "Note_Content": "x"},
        ]
    }
    r = zoho_api.post("Notes", body)
    assert r.status_code == 207
    assert [e["status"] for e in r.json()["data"]] == ["success"] * 3 + ["error"]
    assert r.json()["data"][3]["details"]["api_name"] == "Parent_Id"
    titles = [
        n["Note_Title"] for n in zoho_api.get(f"Deals/{deal}/Notes", fields="Note_Title,Note_Content").json()["data"]
    ]
    assert "D" in titles and None in titles
    via_path = zoho_api.post(f"Accounts/{acc}/Notes", {"data": [{"Note_Content": "by path"}]})
    assert via_path.status_code == 201


def test_8_delete_per_record_and_cascade(zoho_api):
    acc = zoho_api.account_id("Vandelay Imports")
    state = zoho_api.sb.zoho.state
    assert any(r["Parent_Id"] == acc for r in state.records["Branches"].values())
    r = zoho_api.request("DELETE", "Accounts", params={"ids": f"{acc},5725767000009999999"})
    assert r.status_code == 207
    ok, bad = r.json()["data"]
    assert ok == {"code": "SUCCESS", "details": {"id": acc}, "message": "record deleted", "status": "success"}
    assert bad["code"] == "INVALID_DATA" and bad["message"] == "record not deleted"
    assert not any(r["Parent_Id"] == acc for r in state.records["Branches"].values())
    assert zoho_api.get(f"Accounts/{acc}").status_code == 204
    assert zoho_api.request("DELETE", "Accounts").json()["code"] == "REQUIRED_PARAM_MISSING"
    too_many = ",".join(str(5725767000009000000 + i) for i in range(101))
    assert zoho_api.request("DELETE", "Accounts", params={"ids": too_many}).json()["code"] == "LIMIT_EXCEEDED"
