"""Zoho emulator: the `reject_values` setting (an org's validation rule, for partial failures) refuses
a record per record on insert, clone and update, and nothing else."""


def rule(zoho_api, *triples):
    sb = zoho_api.sb
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=tuple(triples))


def test_insert_refuses_only_the_matching_record(zoho_api):
    rule(zoho_api, ("Contacts", "Last_Name", "Refused"))
    r = zoho_api.post("Contacts", {"data": [{"Last_Name": "Refused"}, {"Last_Name": "Fine"}], "trigger": []})
    assert r.status_code == 207
    bad, good = r.json()["data"]
    assert bad["code"] == "INVALID_DATA" and bad["details"]["api_name"] == "Last_Name" and bad["status"] == "error"
    assert good["status"] == "success"
    names = {c["Last_Name"] for c in zoho_api.sb.zoho.state.records["Contacts"].values()}
    assert "Fine" in names and "Refused" not in names


def test_update_and_clone_are_refused_too(zoho_api):
    acc = zoho_api.account_id("Globex")
    rule(zoho_api, ("Accounts", "Account_Name", "Globex 2"))
    r = zoho_api.request("PUT", "Accounts", json={"data": [{"id": acc, "Account_Name": "Globex 2"}]})
    assert r.status_code == 400 and r.json()["data"][0]["code"] == "INVALID_DATA"
    assert zoho_api.record("Accounts", acc)["Account_Name"] == "Globex"
    r = zoho_api.post(f"Accounts/{acc}/actions/clone", {"data": [{"Account_Name": "Globex 2", "Account_Number": None}]})
    assert r.status_code == 400 and r.json()["data"][0]["details"]["api_name"] == "Account_Name"
    # The rule looks at the record as it would be stored: an update of another field of a record
    # already holding the value is refused as well; other modules are untouched.
    rule(zoho_api, ("Accounts", "Account_Name", "Globex"))
    r = zoho_api.request("PUT", "Accounts", json={"data": [{"id": acc, "Phone": "1"}]})
    assert r.json()["data"][0]["code"] == "INVALID_DATA"
    assert zoho_api.post("Contacts", {"data": [{"Last_Name": "Globex"}]}).status_code == 201
