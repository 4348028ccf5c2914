"""Zoho emulator: get records, one record, related records, search and COQL (api-notes zoho.md §4, §6)."""


def test_4_1_fields_param_is_required(zoho_api):
    r = zoho_api.get("Accounts")
    assert r.status_code == 400
    assert r.json() == {
        "code": "REQUIRED_PARAM_MISSING",
        "details": {"param": "fields"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }


def test_4_1_more_than_50_fields_is_limit_exceeded(zoho_api):
    r = zoho_api.get("Accounts", fields=",".join(f"F{i}" for i in range(51)))
    assert r.status_code == 400 and r.json()["code"] == "LIMIT_EXCEEDED"


def test_4_1_paging_info_and_requested_fields_only(zoho_api):
    body = zoho_api.get("Contacts", fields="Last_Name,Email,Account_Name", per_page=150, page=2).json()
    assert body["info"]["per_page"] == 150 and body["info"]["page"] == 2
    assert body["info"]["count"] == 150 and body["info"]["more_records"] is True
    row = body["data"][0]
    assert set(row) == {"id", "Last_Name", "Email", "Account_Name"}
    assert len(row["id"]) == 19 and row["id"].isdigit()
    assert set(row["Account_Name"]) == {"name", "id"}
    assert zoho_api.get("Contacts", fields="Last_Name", per_page=500).json()["info"]["per_page"] == 200


def test_4_1_past_2000_needs_page_token(zoho_api):
    r = zoho_api.get("Notes", fields="Note_Title", per_page=200, page=11)
    assert r.status_code == 400 and r.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    seen, token, calls = set(), None, 0
    while True:
        params = {"fields": "Note_Title", "per_page": 200, **({"page_token": token} if token else {})}
        body = zoho_api.get("Notes", **params).json()
        seen.update(row["id"] for row in body["data"])
        calls += 1
        token = body["info"]["next_page_token"]
        if not body["info"]["more_records"]:
            break
    assert len(seen) == len(zoho_api.sb.zoho.state.records["Notes"]) and calls == 8
    r = zoho_api.get("Notes", fields="Note_Title", page=1, page_token="x")
    assert r.json()["code"] == "AMBIGUITY_DURING_PROCESSING"


def test_4_1_no_records_is_204_without_body(zoho_api):
    r = zoho_api.get("Accounts", fields="Account_Name", ids="1")
    assert r.status_code == 204 and r.content == b""


class _Scanned(dict):
    """A module's records that count the ones read by going through them all."""

    read = 0

    def values(self):  # type: ignore[override]
        self.read += len(self)
        return super().values()


def test_4_1_ids_answers_those_records_sorted_without_reading_the_module(zoho_api):
    state = zoho_api.sb.zoho.state
    stored = list(state.records["Tasks"])
    scanned = state.records["Tasks"] = _Scanned(state.records["Tasks"])
    asked = [stored[3], stored[1], stored[3], "5725767000009999999", stored[2]]
    body = zoho_api.get("Tasks", fields="Subject", ids=",".join(asked)).json()
    assert [r["id"] for r in body["data"]] == sorted(stored[1:4], key=int, reverse=True)  # §4.1: id, desc
    assert body["info"]["count"] == 3 and scanned.read == 0


def test_4_2_single_record_includes_subform_rows_and_no_info(zoho_api):
    acc = zoho_api.account_id("Acme Corp")
    body = zoho_api.get(f"Accounts/{acc}").json()
    assert "info" not in body
    rec = body["data"][0]
    assert rec["Account_Name"] == "Acme Corp" and rec["$approval_state"] == "approved"
    assert len(rec["Branches"]) == 2
    row = rec["Branches"][0]
    assert row["Parent_Id"] == {"name": "Acme Corp", "id": acc} and row["Branch_Name"] and row["City"]
    assert rec["Owner"]["email"] and rec["Created_Time"].endswith("+05:30")


def test_4_2_unknown_id_is_204_by_default_setting_for_invalid_data(zoho_api):
    r = zoho_api.get("Accounts/5725767000009999999")
    assert r.status_code == 204 and r.content == b""
    zoho_api.settings(missing_record="invalid_data")
    r = zoho_api.get("Accounts/5725767000009999999")
    assert r.status_code == 400
    assert r.json()["code"] == "INVALID_DATA" and r.json()["message"] == "the id given seems to be invalid"


def test_6_related_records_of_big_account(zoho_api):
    big = zoho_api.account_id("Big Account")
    counts = {}
    for name in ("Contacts", "Deals", "Tasks", "Notes"):
        body = zoho_api.get(f"Accounts/{big}/{name}", fields="id", per_page=200).json()
        counts[name] = body["info"]["count"]
    assert counts == {"Contacts": 120, "Deals": 60, "Tasks": 120, "Notes": 120}
    note = zoho_api.get(f"Accounts/{big}/Notes", fields="Note_Title,Parent_Id", per_page=1).json()["data"][0]
    assert note["Parent_Id"]["id"] == big and note["Parent_Id"]["module"]["api_name"] == "Accounts"


def test_6_related_records_need_fields_and_page(zoho_api):
    huge = zoho_api.account_id("Huge Account")
    assert zoho_api.get(f"Accounts/{huge}/Contacts").json()["code"] == "REQUIRED_PARAM_MISSING"
    page2 = zoho_api.get(f"Accounts/{huge}/Contacts", fields="Last_Name", page=2).json()
    assert page2["info"]["count"] == 50 and page2["info"]["more_records"] is False
    assert zoho_api.get(f"Accounts/{huge}/Nope", fields="id").json()["code"] == "INVALID_DATA"


def test_6_empty_related_list_is_204(zoho_api):
    acc = zoho_api.post("Accounts", {"data": [{"Account_Name": "Lonely"}]}).json()["data"][0]["details"]["id"]
    r = zoho_api.get(f"Accounts/{acc}/Contacts", fields="Last_Name")
    assert r.status_code == 204 and r.content == b""


def test_6_tasks_open_only_setting(zoho_api):
    acc = zoho_api.account_id("Big Account")
    all_tasks = zoho_api.get(f"Accounts/{acc}/Tasks", fields="Status").json()["data"]
    zoho_api.settings(tasks_open_only=True)
    r = zoho_api.get(f"Accounts/{acc}/Tasks", fields="Status")
    open_tasks = r.json()["data"] if r.status_code == 200 else []
    assert len(open_tasks) == len([t for t in all_tasks if t["Status"] != "Completed"]) < len(all_tasks)


def test_4_3_search_criteria_and_or(zoho_api):
    body = zoho_api.get("Deals/search", criteria="((Stage:equals:Proposal)and(Account_Name:equals:Big Account))").json()
    assert body["data"] and all(
        d["Stage"] == "Proposal" and d["Account_Name"]["name"] == "Big Account" for d in body["data"]
    )
    either = zoho_api.get("Accounts/search", criteria="((Account_Name:equals:Acme Corp)or(Account_Name:equals:Globex))")
    assert sorted(a["Account_Name"] for a in either.json()["data"]) == ["Acme Corp", "Globex"]
    assert either.json()["info"]["more_records"] is False


def test_4_3_search_email_word_and_204(zoho_api):
    assert zoho_api.get("Contacts/search", email="contact7@demo.example").json()["data"][0]["Last_Name"] == "Contact 7"
    assert zoho_api.get("Accounts/search", word="Initech").json()["data"][0]["Account_Name"] == "Initech"
    r = zoho_api.get("Accounts/search", criteria="(Account_Name:equals:No Such Co)")
    assert r.status_code == 204 and r.content == b""
    assert zoho_api.get("Accounts/search").json()["code"] == "EXPECTED_PARAM_MISSING"
    assert zoho_api.get("Accounts/search", criteria="Account_Name:equals").json()["code"] == "INVALID_QUERY"


def test_4_3_search_equals_exact_setting(zoho_api):
    assert len(zoho_api.get("Accounts/search", criteria="(Account_Name:equals:Account)").json()["data"]) == 2
    zoho_api.settings(search_equals_contains=False)
    assert zoho_api.get("Accounts/search", criteria="(Account_Name:equals:Account)").status_code == 204


def test_4_3_search_caps_at_2000(zoho_api):
    r = zoho_api.get("Notes/search", criteria="(Note_Content:starts_with:Demo)", page=11)
    assert r.status_code == 400 and r.json()["code"] == "LIMIT_REACHED"


def test_4_4_coql_recipe_filters(zoho_api):
    big = zoho_api.account_id("Big Account")
    contacts = zoho_api.coql(
        f"select Last_Name, Account_Name from Contacts where Account_Name = '{big}' limit 2000"
    ).json()
    assert contacts["info"] == {"count": 120, "more_records": False}
    assert contacts["data"][0]["Account_Name"]["id"] == big
    tasks = zoho_api.coql(f"select Subject, What_Id from Tasks where What_Id = '{big}' limit 2000").json()
    assert tasks["info"]["count"] == 120 and tasks["data"][0]["$se_module"] == "Accounts"
    ids = [c["id"] for c in contacts["data"][:100]]
    quoted = ", ".join(f"'{i}'" for i in ids)
    who = zoho_api.coql(
        f"select Subject from Tasks where Who_Id in ({quoted}) and Subject is not null limit 500"
    ).json()
    assert who["info"]["count"] == 100
    page = zoho_api.coql(f"select Last_Name from Contacts where Account_Name = '{big}' limit 100 offset 100").json()
    assert page["info"] == {"count": 20, "more_records": False}
    joined = zoho_api.coql("select Last_Name from Contacts where Account_Name.Account_Name = 'Globex'").json()
    assert joined["info"]["count"] == 3


def test_4_4_coql_count_answers_the_number_of_matches(zoho_api):
    big = zoho_api.account_id("Big Account")
    counted = zoho_api.coql(f"select COUNT(id) from Contacts where Account_Name in ('{big}')").json()
    assert counted == {"data": [{"COUNT(id)": 120}], "info": {"count": 1, "more_records": False}}
    none = zoho_api.coql("select COUNT(id) from Contacts where Last_Name = 'Nobody'").json()
    assert none["data"] == [{"COUNT(id)": 0}]
    assert zoho_api.coql("select SUM(id) from Contacts").json()["code"] == "SYNTAX_ERROR"
    assert zoho_api.coql("select COUNT(Nope) from Contacts").json()["code"] == "INVALID_QUERY"


def test_4_4_coql_limits_errors_and_204(zoho_api):
    r = zoho_api.coql("select Last_Name from Contacts where Last_Name = 'x' limit 2001")
    assert r.status_code == 400 and r.json()["code"] == "LIMIT_EXCEEDED"
    assert zoho_api.coql("select Note_Title from Notes where Note_Title = 'x'").json()["code"] == "INVALID_QUERY"
    assert zoho_api.coql("select from Contacts").json()["code"] == "SYNTAX_ERROR"
    assert zoho_api.coql("select Nope from Contacts").json()["code"] == "INVALID_QUERY"
    r = zoho_api.coql("select Last_Name from Contacts where Last_Name = 'Nobody'")
    assert r.status_code == 204 and r.content == b""


def test_demo_data_sizes(zoho_api):
    state = zoho_api.sb.zoho.state

    def related_count(name):
        acc = zoho_api.account_id(name)
        direct = {rl.api_name: state.related("Accounts", acc, rl) for rl in state.modules["Accounts"].related}
        grand = sum(
            len(state.related(m, c["id"], rl))
            for m in ("Contacts", "Deals")
            for c in direct[m]
            for rl in state.modules[m].related
            if rl.module != "Deals"
        )
        return sum(len(v) for v in direct.values()) + grand

    assert related_count("Big Account") == 1020
    assert related_count("Huge Account") == 2100
    assert 10 <= related_count("Acme Corp") <= 30
