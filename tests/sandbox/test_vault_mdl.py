"""Vault emulator: Execute MDL Script (POST /api/mdl/execute), the ALTER Object ... ADD Field a
client adds its copy-key field with; the answer's shape and its documented kinds of failure."""

ADD_KEY = """ALTER Object country__v (
   ADD Field copy_key__c (
      label('Copy Key'), type('String'), active(true), required(false),
      unique(true), max_length(100), no_copy(true), list_column(false)
   )
);"""


def _execute(vault_api, script, path="/api/mdl/execute"):
    return vault_api.request("POST", path, data=script.encode(), headers={"Content-Type": "application/json"}).json()


def test_alter_object_add_field_creates_it(vault_api):
    body = _execute(vault_api, ADD_KEY)
    assert body["responseStatus"] == "SUCCESS"
    assert body["script_execution"]["code"] == "GEN-S-0" and body["script_execution"]["components_affected"] == 1
    [statement] = body["statement_execution"]
    assert statement["command"] == "ALTER" and statement["component"] == "Object.country__v"
    assert statement["response"] == "SUCCESS" and statement["message"] == "[SUCCESS] ALTER Object country__v"
    field = vault_api.get("metadata/vobjects/country__v/fields/copy_key__c")["field"]
    assert field["unique"] and field["no_copy"] and field["max_length"] == 100 and field["label"] == "Copy Key"


def test_records_carry_the_new_field_and_it_is_unique(vault_api):
    _execute(vault_api, ADD_KEY)
    rows = [{"name__v": "Keyland", "copy_key__c": "k1"}, {"name__v": "Keyland 2", "copy_key__c": "k1"}]
    answer = vault_api.post("vobjects/country__v", json=rows)["data"]
    assert [r["responseStatus"] for r in answer] == ["SUCCESS", "FAILURE"]
    assert vault_api.ids("SELECT id FROM country__v WHERE copy_key__c = 'k1'") == [answer[0]["data"]["id"]]


def test_the_versioned_path_is_served_too(vault_api):
    assert _execute(vault_api, ADD_KEY, path="mdl/execute")["responseStatus"] == "SUCCESS"


def _failure(body):
    assert body["responseStatus"] == "FAILURE"
    assert body["script_execution"]["failures"] == 1
    [statement] = body["statement_execution"]
    assert statement["response"] == "FAILURE"
    return statement["errors"][0]


def test_an_existing_field_is_a_failure_and_changes_nothing(vault_api):
    error = _failure(_execute(vault_api, ADD_KEY.replace("country__v", "product__v")))
    assert "already exists" in error["message"] and error["context"] == "name"


def test_an_unknown_object_is_a_failure(vault_api):
    error = _failure(_execute(vault_api, ADD_KEY.replace("country__v", "nothing__c")))
    assert "does not exist" in error["message"]


def test_bad_syntax_is_a_failure(vault_api):
    error = _failure(_execute(vault_api, "ALTER Object country__v (ADD Field copy_key__c (label('Copy Key')"))
    assert "Syntax error" in error["message"]
    assert "copy_key__c" not in {f["name"] for f in vault_api.get("metadata/vobjects/country__v")["object"]["fields"]}


def test_an_unknown_attribute_is_a_failure(vault_api):
    error = _failure(_execute(vault_api, ADD_KEY.replace("list_column(false)", "colour('red')")))
    assert error["context"] == "colour"


def test_a_script_must_start_with_a_command(vault_api):
    assert "must start with" in _failure(_execute(vault_api, "ADD Field x__c (label('X'));"))["message"]


def test_without_permission_the_request_fails(fresh_sandbox, vault_api):
    fresh_sandbox.vault.configure(mdl_permission=False)
    body = _execute(vault_api, ADD_KEY)
    assert body["responseStatus"] == "FAILURE" and body["errors"][0]["type"] == "INSUFFICIENT_ACCESS"
