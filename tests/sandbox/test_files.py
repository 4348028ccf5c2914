"""The emulators' attachments and files against docs/files-api.md: the documented shapes, Vault's
versions and MD5 rule, Zoho's mandatory `fields`, and the fault knobs on the new routes."""

import requests

from sandbox.files import deterministic_bytes


def _upload(api, path, name, data):
    return api.request("POST", path, files={"file": (name, data)})


def test_vault_same_name_adds_a_version_and_same_md5_adds_nothing(vault_api):
    rid = vault_api.product_id("Neurolax")
    path = f"vobjects/product__v/{rid}/attachments"

    first = _upload(vault_api, path, "label.txt", b"a new label").json()
    again = _upload(vault_api, path, "other-name.txt", b"a new label").json()

    assert first["responseStatus"] == "SUCCESS" and first["data"][0]["version__v"] == 2
    assert again["data"][0]["id"] == first["data"][0]["id"]  # the same bytes: nothing added
    label = next(a for a in vault_api.get(path)["data"] if a["filename__v"] == "label.txt")
    assert label["version__v"] == 2 and len(label["versions"]) == 2 and label["size__v"] == len(b"a new label")
    assert len(vault_api.get(path)["data"]) == 3


def test_vault_refuses_attachments_on_an_object_that_does_not_allow_them(vault_api):
    packaging = vault_api.ids("SELECT id FROM packaging__c")[0]

    body = vault_api.get(f"vobjects/packaging__c/{packaging}/attachments")

    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "INVALID_DATA"
    assert vault_api.get("metadata/vobjects/packaging__c")["object"]["allow_attachments"] is False


def test_vault_download_has_the_file_name_and_the_stored_bytes(vault_api, fresh_sandbox):
    rid = vault_api.product_id("Cardiostat")
    leaflet = vault_api.get(f"vobjects/product__v/{rid}/attachments")["data"][0]

    answer = vault_api.request("GET", f"vobjects/product__v/{rid}/attachments/{leaflet['id']}/file")

    assert answer.headers["Content-Disposition"] == 'attachment;filename="leaflet.pdf"'
    assert len(answer.content) == leaflet["size__v"] == 48_000
    stored = fresh_sandbox.vault.files.by_record[f"product__v/{rid}"][0]["versions"][-1]["blob"]
    assert answer.content == stored.path.read_bytes() == deterministic_bytes(stored.seed, 48_000)


def test_vault_dropped_upload_answer_was_applied(vault_api, fresh_sandbox):
    rid = vault_api.product_id("Cardiostat")
    path = f"vobjects/product__v/{rid}/attachments"
    fresh_sandbox.faults("vault").set(p_drop_after_write=1.0)

    try:
        _upload(vault_api, path, "dropped.txt", b"dropped answer")
        raise AssertionError("the answer should have been dropped")
    except requests.ConnectionError:
        pass

    fresh_sandbox.faults("vault").clear()
    names = [a["filename__v"] for a in vault_api.get(path)["data"]]
    assert names.count("dropped.txt") == 1
    assert fresh_sandbox.log("vault")[-2].outcome == "dropped_after_write"


def test_zoho_attachments_need_fields_and_a_record_without_any_answers_204(zoho_api):
    globex, initech = zoho_api.account_id("Globex"), zoho_api.account_id("Initech")

    missing = zoho_api.get(f"Accounts/{globex}/Attachments")
    empty = zoho_api.get(f"Accounts/{initech}/Attachments", fields="id,File_Name")
    listed = zoho_api.get(f"Accounts/{globex}/Attachments", fields="File_Name,Size").json()

    assert missing.status_code == 400 and missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert empty.status_code == 204 and empty.content == b""
    assert set(listed["data"][0]) == {"id", "File_Name", "Size"} and listed["info"]["more_records"] is False


def test_zoho_upload_answers_the_documented_envelope(zoho_api):
    globex = zoho_api.account_id("Globex")

    answer = _upload(zoho_api, f"Accounts/{globex}/Attachments", "a.txt", b"hello").json()["data"][0]
    stored = _upload(zoho_api, "files", "b.png", b"png").json()["data"][0]

    assert answer["code"] == "SUCCESS" and answer["message"] == "attachment uploaded successfully"
    assert set(answer["details"]) >= {"id", "Created_Time", "Created_By"}
    assert stored["details"]["name"] == "b.png" and len(stored["details"]["id"]) == 64
    assert zoho_api.get("files", id=stored["details"]["id"]).content == b"png"
