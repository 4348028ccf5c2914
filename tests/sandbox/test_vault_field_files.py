"""The Vault emulator's attachment fields and file staging (sandbox/vault_field_files.py): the
documented staging answer, and staged and field files kept across a saved state."""

import json

from sandbox.vault import VaultApp, VaultSettings


def _staging(api, path, data, overwrite="true"):
    form = {"kind": "file", "path": path, "overwrite": overwrite}
    return api.request("POST", "services/file_staging/items", data=form, files={"file": ("x", data)})


def test_staging_answers_the_documented_shape_and_refuses_a_taken_path_without_overwrite(vault_api):
    first = _staging(vault_api, "/folder/art.pdf", b"12345").json()
    again = _staging(vault_api, "/folder/art.pdf", b"678", overwrite="false").json()

    assert first["responseStatus"] == "SUCCESS"
    assert {k: first["data"][k] for k in ("kind", "path", "name", "size")} == {
        "kind": "file",
        "path": "/folder/art.pdf",
        "name": "art.pdf",
        "size": 5,
    }
    assert again["responseStatus"] == "FAILURE"


def test_staged_and_field_files_come_back_from_a_saved_state(tmp_path):
    first = VaultApp(VaultSettings(files_dir=str(tmp_path)))
    fields = first.files.fields
    obj, field = "packaging__c", "artwork__c"
    rid = next(iter(first.state.records[obj]))
    fields.staged["/a/new.pdf"] = {"name": "new.pdf", "blob": first.store.put([b"staged bytes"])}
    fields.attach(obj, rid, {field: "/a/new.pdf"})
    fields.staged["/b/left.txt"] = {"name": "left.txt", "blob": first.store.put([b"still staged"])}
    saved = json.loads(json.dumps(first.files.to_json()))

    second = VaultApp(VaultSettings(files_dir=str(tmp_path)))
    second.files.load_json(saved)

    assert second.files.fields.held(obj, rid, field) == fields.held(obj, rid, field)
    assert second.files.fields.staged_paths() == ["/b/left.txt"]
