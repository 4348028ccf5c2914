"""The Zoho sandbox checked with Zoho's official Python SDK for API v7 (tests/fixtures/zoho_sdk.py):
every kind of call the connector makes (records/connectors/zoho_*.py), with its paths and parameters,
made through the SDK, parses into the SDK's model objects; the SDK logs no error; each answer's
JSON holds only what the SDK's model spec describes (or what Zoho documents beyond it)."""

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.coql import BodyWrapper as CoqlBody
from zohocrmsdk.src.com.zoho.crm.api.coql import CoqlOperations
from zohocrmsdk.src.com.zoho.crm.api.coql import ResponseWrapper as CoqlWrapper
from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
from zohocrmsdk.src.com.zoho.crm.api.fields import ResponseWrapper as FieldsWrapper
from zohocrmsdk.src.com.zoho.crm.api.modules import ModulesOperations
from zohocrmsdk.src.com.zoho.crm.api.modules import ResponseWrapper as ModulesWrapper
from zohocrmsdk.src.com.zoho.crm.api.record import (
    ActionHandler,
    ActionWrapper,
    BodyWrapper,
    DeleteRecordsParam,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.record import APIException as RecordError
from zohocrmsdk.src.com.zoho.crm.api.related_lists import GetRelatedListsParam, RelatedListsOperations
from zohocrmsdk.src.com.zoho.crm.api.related_lists import ResponseWrapper as RelatedListsWrapper
from zohocrmsdk.src.com.zoho.crm.api.related_records import GetRelatedRecordsParam, RelatedRecordsOperations
from zohocrmsdk.src.com.zoho.crm.api.related_records import ResponseWrapper as RelatedWrapper
from zohocrmsdk.src.com.zoho.crm.api.users import APIException as UsersError
from zohocrmsdk.src.com.zoho.crm.api.users import GetUsersParam, MinifiedUser, UsersOperations
from zohocrmsdk.src.com.zoho.crm.api.users import ResponseWrapper as UsersWrapper
from zohocrmsdk.src.com.zoho.crm.api.util import Choice, CommonAPIHandler, Constants, Utility

from sandbox.zoho_state import DATA_USER, ORG, REP, USER
from tests.fixtures.zoho_sdk import LogCapture, ZohoSdk, no_content, parsed

# The connector's read page (READ_PAGE) and its search/list page size.
PER_PAGE = 200


@pytest.fixture(scope="module", params=["bare_sandbox", "sandbox"])
def org(request):
    """The demo org without copy-key fields (as real orgs are), then with them."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def sdk(org, tmp_path_factory):
    """One SDK session for the module and org (importing and initialising the SDK is the slow part),
    on fresh demo data; the data is fresh again afterwards for whoever uses that sandbox next."""
    org.reset()
    session = ZohoSdk(org.zoho_url, tmp_path_factory.mktemp("zoho-sdk"))
    session.start()
    session.start_calls = [(e.method, e.path, e.status) for e in org.log("zoho")]
    yield session
    session.close()
    org.reset()


def params(*pairs):
    out = ParameterMap()
    for param, value in pairs:
        out.add(param, value)
    return out


def record_id(sandbox, module, field, value):
    return next(r["id"] for r in sandbox.zoho.state.records[module].values() if r.get(field) == value)


def success(sdk, response):
    """The one SuccessResponse of a write's ActionWrapper, with the new or changed record's id."""
    answer = parsed(sdk, response, ActionWrapper)
    (entry,) = answer.get_data()
    assert isinstance(entry, SuccessResponse), f"{entry.get_code().get_value()}: {entry.get_message()}"
    assert entry.get_status().get_value() == "success" and entry.get_code().get_value() == "SUCCESS"
    details = entry.get_details()
    assert details["id"].isdigit() and details["Created_By"].get_id() == int(USER["id"])
    return entry, details["id"]


def write_body(*records, trigger=()):
    body = BodyWrapper()
    body.set_data(list(records))
    body.set_trigger(list(trigger))
    return body


def new_record(**values):
    record = Record()
    for key, value in values.items():
        record.add_key_value(key, value)
    return record


# -- token refresh and the current user --------------------------------------------------------------
def test_start_refreshes_a_token_and_names_it_by_the_current_user(org, sdk):
    assert sdk.start_calls == [
        ("POST", "/oauth/v2/token", 200),
        ("GET", "/crm/v7/users?type=CurrentUser", 200),
        ("GET", "/crm/v7/org", 200),
    ]
    (stored,) = sdk.stored_tokens()
    # The SDK names the token "{email of the current user}:{zgid of the org}": both answers parsed.
    assert stored["user_name"] == f"{USER['email']}:{ORG['zgid']}" and stored["access_token"].startswith("1000.")
    assert stored["api_domain"] == org.zoho_url
    assert not LogCapture.trouble(sdk.log.records)


def test_a_token_about_to_expire_is_refreshed_before_the_call(org, sdk):
    """The SDK refreshes a token with under 5 s left: with 3-second tokens, the call after the
    start refreshes again (the same refresh-token form post) and then succeeds."""
    before = org.zoho.settings
    org.zoho.settings = before.updated(token_lifetime=3.0)
    try:
        org.clear_log("zoho")
        sdk.start(store="short-tokens.csv")
        parsed(sdk, ModulesOperations().get_modules(), ModulesWrapper)
    finally:
        org.zoho.settings = before
        sdk.start()  # back to the module's store: its token is still valid, nothing is minted
    calls = [(e.method, e.path.split("?")[0]) for e in org.log("zoho")]
    assert calls == [
        ("POST", "/oauth/v2/token"),
        ("GET", "/crm/v7/users"),
        ("GET", "/crm/v7/org"),
        ("POST", "/oauth/v2/token"),
        ("GET", "/crm/v7/settings/modules"),
    ]
    (stored,) = sdk.stored_tokens("short-tokens.csv")
    assert stored["user_name"] == f"{USER['email']}:{ORG['zgid']}"


# -- metadata ------------------------------------------------------------------------------------------
def test_module_list_parses(org, sdk):
    answer = parsed(sdk, ModulesOperations().get_modules(), ModulesWrapper)
    names = {m.get_api_name(): m for m in answer.get_modules()}
    assert set(names) == set(org.zoho.state.modules)
    assert names["Accounts"].get_api_supported() is True and names["Accounts"].get_creatable() is True
    assert names["Accounts"].get_generated_type().get_value() == "default"


def test_field_metadata_of_every_module_parses(org, sdk):
    for module in org.zoho.state.modules:
        answer = parsed(sdk, FieldsOperations().get_fields(params((GetFieldsParam.module, module))), FieldsWrapper)
        fields = {f.get_api_name(): f for f in answer.get_fields()}
        assert set(fields) == {f["api_name"] for f in org.zoho.state.modules[module].fields}, module
    fields = FieldsOperations().get_fields(params((GetFieldsParam.module, "Accounts")))
    account = {f.get_api_name(): f for f in parsed(sdk, fields, FieldsWrapper).get_fields()}
    assert account["Account_Number"].get_unique().get_casesensitive() == "false"
    assert account["Industry"].get_data_type() == "picklist" and account["Industry"].get_pick_list_values()
    assert account["Parent_Account"].get_lookup().get_module().get_api_name() == "Accounts"


def test_related_list_metadata_of_every_module_parses(org, sdk):
    for module, meta in org.zoho.state.modules.items():
        response = RelatedListsOperations().get_related_lists(params((GetRelatedListsParam.module, module)))
        answer = parsed(sdk, response, RelatedListsWrapper)
        assert [r.get_api_name() for r in answer.get_related_lists()] == [r.api_name for r in meta.related]


# -- reading records -----------------------------------------------------------------------------------
def test_one_record_parses_and_an_unknown_id_is_no_content_or_invalid_data(org, sdk):
    initech = record_id(org, "Accounts", "Account_Name", "Initech")
    answer = parsed(sdk, RecordOperations("Accounts").get_record(int(initech)), ResponseWrapper)
    (record,) = answer.get_data()
    assert record.get_id() == int(initech) and record.get_key_value("Account_Name") == "Initech"
    assert record.get_created_by().get_id() == int(DATA_USER["id"]) and record.get_created_time().year == 2024
    # An unknown id (the connector's NotFound): no content by default, INVALID_DATA with the knob.
    no_content(sdk, RecordOperations("Accounts").get_record(5725767000999999999))
    before = org.zoho.settings
    org.zoho.settings = before.updated(missing_record="invalid_data")
    try:
        error = parsed(sdk, RecordOperations("Accounts").get_record(5725767000999999999), RecordError)
    finally:
        org.zoho.settings = before
    assert error.get_code().get_value() == "INVALID_DATA"


# The class the SDK gives a value of each data_type (its Utility.set_data_type).
SDK_TYPES = {
    "lookup": Record,
    "ownerlookup": MinifiedUser,
    "userlookup": MinifiedUser,
    "picklist": Choice,
    "date": date,
    "datetime": datetime,
    "boolean": bool,
    "integer": int,
    "currency": float,
    "double": float,
    "multiselectpicklist": list,
    "subform": list,
    "fileupload": list,
}


def test_a_whole_record_of_every_module_parses_into_the_types_its_fields_declare(org, sdk):
    """A single GET returns every field, subforms and files included; the SDK converts each value
    by the field's data_type in the field metadata, so a value of another shape fails here."""
    for module, meta in org.zoho.state.modules.items():
        records = org.zoho.state.records[module]
        if meta.generated_type == "subform" or not records:
            continue
        richest = max(records.values(), key=lambda r: sum(v not in (None, "", []) for v in r.values()))
        (record,) = parsed(sdk, RecordOperations(module).get_record(int(richest["id"])), ResponseWrapper).get_data()
        assert record.get_id() == int(richest["id"])
        assert str(record.get_key_value("Owner").get_id()) in org.zoho.state.users
        for f in meta.fields:
            value, kind = record.get_key_value(f["api_name"]), SDK_TYPES.get(f["data_type"])
            if value is not None and kind is not None:
                assert isinstance(value, kind), (module, f["api_name"], f["data_type"], type(value).__name__)


def test_a_page_of_records_and_records_by_ids_parse(org, sdk):
    fields = "id,Account_Name,Created_Time,Modified_Time,Created_By,Owner,Industry,Parent_Account"
    response = RecordOperations("Accounts").get_records(
        params((GetRecordsParam.fields, fields), (GetRecordsParam.page, 1), (GetRecordsParam.per_page, 5))
    )
    answer = parsed(sdk, response, ResponseWrapper)
    assert len(answer.get_data()) == 5 and answer.get_info().get_more_records() is True
    ids = [str(r.get_id()) for r in answer.get_data()[:3]]
    response = RecordOperations("Accounts").get_records(
        params(
            (GetRecordsParam.ids, ",".join(ids)), (GetRecordsParam.fields, fields), (GetRecordsParam.per_page, PER_PAGE)
        )
    )
    assert sorted(str(r.get_id()) for r in parsed(sdk, response, ResponseWrapper).get_data()) == sorted(ids)


def test_search_by_word_and_by_criteria_parse_and_no_match_is_no_content(sdk):
    fields = "id,Account_Name,Created_Time,Modified_Time,Created_By"
    page = ((SearchRecordsParam.fields, fields), (SearchRecordsParam.page, 1), (SearchRecordsParam.per_page, 50))
    by_word = RecordOperations("Accounts").search_records(params((SearchRecordsParam.word, "Initech"), *page))
    assert [r.get_key_value("Account_Name") for r in parsed(sdk, by_word, ResponseWrapper).get_data()] == ["Initech"]
    criteria = "(Account_Name:starts_with:I)"
    by_criteria = RecordOperations("Accounts").search_records(params((SearchRecordsParam.criteria, criteria), *page))
    assert "Initech" in [r.get_key_value("Account_Name") for r in parsed(sdk, by_criteria, ResponseWrapper).get_data()]
    no_content(sdk, RecordOperations("Accounts").search_records(params((SearchRecordsParam.word, "Zzyzx"), *page)))


def coql(query):
    body = CoqlBody()
    body.set_select_query(query)
    return CoqlOperations().get_records(body)


def test_coql_finds_by_name_creation_time_and_creator_and_reads_children(org, sdk):
    # The connector's reconcile look-up: the name, created at or after a moment, by the API user.
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    name = f"SDK Find {time.monotonic_ns()}"
    _, made = success(sdk, RecordOperations("Accounts").create_records(write_body(new_record(Account_Name=name))))
    query = (
        "select id, Account_Name, Created_Time, Modified_Time, Created_By from Accounts where "
        f"(Account_Name = '{name}' and Created_Time >= '{since.isoformat()}') and Created_By = '{USER['id']}'"
        " limit 2000 offset 0"
    )
    (found,) = parsed(sdk, coql(query), CoqlWrapper).get_data()
    assert str(found.get_id()) == made and found.get_created_by().get_id() == int(USER["id"])
    # The connector's children read: the parent field `in` a list of parent ids.
    initech = record_id(org, "Accounts", "Account_Name", "Initech")
    query = f"select id, Subject, What_Id, Who_Id, Status from Tasks where What_Id in ('{initech}') limit 2000 offset 0"
    tasks = parsed(sdk, coql(query), CoqlWrapper).get_data()
    assert tasks and all(t.get_key_value("What_Id")["id"] == initech for t in tasks)
    # None of the demo data was made by the API user: no content.
    query = (
        f"select id from Accounts where Account_Name = 'Initech' and Created_By = '{USER['id']}' limit 2000 offset 0"
    )
    no_content(sdk, coql(query))


def related(module, record, list_name, *pairs):
    return RelatedRecordsOperations(list_name, module).get_related_records(int(record), params(*pairs))


def test_related_records_of_every_related_list_parse(org, sdk):
    page = ((GetRelatedRecordsParam.page, 1), (GetRelatedRecordsParam.per_page, PER_PAGE))
    parents = {
        "Accounts": record_id(org, "Accounts", "Account_Name", "Initech"),
        "Contacts": next(iter(org.zoho.state.records["Contacts"])),
        "Deals": next(iter(org.zoho.state.records["Deals"])),
    }
    for module, parent in parents.items():
        for rl in org.zoho.state.modules[module].related:
            fields = (GetRelatedRecordsParam.fields, "id,Created_Time,Modified_Time,Created_By")
            response = related(module, parent, rl.api_name, fields, *page)
            if response.get_status_code() == 204:
                no_content(sdk, response)
                continue
            rows = parsed(sdk, response, RelatedWrapper).get_data()
            assert rows and all(r.get_created_by().get_id() for r in rows), (module, rl.api_name)


def test_related_records_page_on_by_page_token(org, sdk):
    huge = record_id(org, "Accounts", "Account_Name", "Huge Account")
    fields = (GetRelatedRecordsParam.fields, "id,Last_Name")
    first = parsed(
        sdk,
        related(
            "Accounts",
            huge,
            "Contacts",
            fields,
            (GetRelatedRecordsParam.page, 1),
            (GetRelatedRecordsParam.per_page, PER_PAGE),
        ),
        RelatedWrapper,
    )
    token = first.get_info().get_next_page_token()
    assert first.get_info().get_more_records() is True and token
    # The SDK's related-records call has no page_token parameter (Zoho's docs give it one): the
    # records call's, which validates the same string, is sent instead.
    page_token = GetRecordsParam.page_token
    second = parsed(
        sdk,
        related("Accounts", huge, "Contacts", fields, (page_token, token), (GetRelatedRecordsParam.per_page, PER_PAGE)),
        RelatedWrapper,
    )
    assert {r.get_id() for r in second.get_data()}.isdisjoint(r.get_id() for r in first.get_data())


# -- users ---------------------------------------------------------------------------------------------
def test_users_current_active_and_one_by_id_parse(sdk):
    current = UsersOperations().get_users(params((GetUsersParam.type, Choice("CurrentUser"))))
    assert [u.get_id() for u in parsed(sdk, current, UsersWrapper).get_users()] == [int(USER["id"])]
    active = UsersOperations().get_users(params((GetUsersParam.type, Choice("ActiveUsers"))))
    assert {u.get_email() for u in parsed(sdk, active, UsersWrapper).get_users()} >= {USER["email"], REP["email"]}
    (one,) = parsed(sdk, UsersOperations().get_user(int(REP["id"])), UsersWrapper).get_users()
    assert one.get_full_name() == REP["name"]
    error = parsed(sdk, UsersOperations().get_user(5725767000999999999), UsersError)
    assert error.get_code().get_value() == "INVALID_DATA"


# -- writing -------------------------------------------------------------------------------------------
def test_insert_of_an_account_a_note_and_a_task_parses(org, sdk):
    account = new_record(Account_Name=f"SDK Insert {time.monotonic_ns()}", Industry=Choice("Finance"))
    _, account_id = success(sdk, RecordOperations("Accounts").create_records(write_body(account)))
    parent = Record()
    parent.set_id(int(account_id))
    parent.add_key_value("module", {"api_name": "Accounts"})  # v7: Parent_Id {module: {api_name}, id}
    note = new_record(Note_Title="SDK note", Note_Content="Written by the SDK.", Parent_Id=parent)
    _, note_id = success(sdk, RecordOperations("Notes").create_records(write_body(note)))
    assert org.zoho.state.get("Notes", note_id)["Parent_Id"] == account_id
    what = Record()
    what.set_id(int(account_id))
    task = new_record(Subject="SDK task", What_Id=what, **{"$se_module": "Accounts"})
    _, task_id = success(sdk, RecordOperations("Tasks").create_records(write_body(task)))
    assert org.zoho.state.get("Tasks", task_id)["$se_module"] == "Accounts"


def test_update_and_upsert_parse(org, sdk):
    name = f"SDK Upsert {time.monotonic_ns()}"
    body = write_body(new_record(Account_Name=name, Description="inserted"))
    body.set_duplicate_check_fields(["Account_Name"])
    inserted, account_id = success(sdk, RecordOperations("Accounts").upsert_records(body))
    assert inserted.get_action().get_value() == "insert"
    again = write_body(new_record(Account_Name=name, Description="upserted"))
    again.set_duplicate_check_fields(["Account_Name"])
    updated, same_id = success(sdk, RecordOperations("Accounts").upsert_records(again))
    assert updated.get_action().get_value() == "update" and same_id == account_id
    change = new_record(Description="updated")
    change.set_id(int(account_id))
    _, changed_id = success(sdk, RecordOperations("Accounts").update_records(write_body(change)))
    assert changed_id == account_id and org.zoho.state.get("Accounts", account_id)["Description"] == "updated"
    # A row the org refuses is a per-record error in the answer's data (the connector's update_result).
    unknown = new_record(Description="nobody")
    unknown.set_id(5725767000999999999)
    (refused,) = parsed(sdk, RecordOperations("Accounts").update_records(write_body(unknown)), ActionWrapper).get_data()
    assert isinstance(refused, RecordError) and refused.get_code().get_value() == "INVALID_DATA"


def clone_with(module, source_id, overrides):
    """POST /{module}/{id}/actions/clone with {"data": [overrides]}, as the connector sends it:
    the SDK's own clone_record sends no body, so this is its method with the body added."""
    handler = CommonAPIHandler()
    handler.set_api_path(f"/crm/v7/{module}/{source_id}/actions/clone")
    handler.set_http_method(Constants.REQUEST_METHOD_POST)
    handler.set_category_method(Constants.REQUEST_CATEGORY_CREATE)
    handler.set_content_type("application/json")
    handler.set_request(write_body(overrides))
    handler.set_module_api_name(module)
    Utility.get_fields(module, handler)
    return handler.api_call(ActionHandler.__module__, "application/json")


def test_clone_with_and_without_a_body_parses_and_a_duplicate_names_the_field(org, sdk):
    deal = next(iter(org.zoho.state.records["Deals"]))
    _, copy_id = success(sdk, RecordOperations("Deals").clone_record(int(deal)))
    assert org.zoho.state.get("Deals", copy_id)["Deal_Name"] == org.zoho.state.get("Deals", deal)["Deal_Name"]
    initech = record_id(org, "Accounts", "Account_Name", "Initech")
    overrides = new_record(Account_Name="Initech (SDK copy)", Account_Number=f"SDK-{time.monotonic_ns() % 10**9}")
    _, copy_id = success(sdk, clone_with("Accounts", initech, overrides))
    assert org.zoho.state.get("Accounts", copy_id)["Account_Name"] == "Initech (SDK copy)"
    # Initech's Account_Number is unique: a plain clone clashes (the connector's DUPLICATE_DATA).
    (error,) = parsed(sdk, RecordOperations("Accounts").clone_record(int(initech)), ActionWrapper).get_data()
    assert isinstance(error, RecordError) and error.get_code().get_value() == "DUPLICATE_DATA"
    assert error.get_details()["api_name"] == "Account_Number"


def test_delete_parses_and_a_second_delete_is_a_per_record_error(org, sdk):
    _, account_id = success(
        sdk, RecordOperations("Accounts").create_records(write_body(new_record(Account_Name="SDK Delete")))
    )
    delete = params((DeleteRecordsParam.ids, account_id), (DeleteRecordsParam.wf_trigger, False))
    (deleted,) = parsed(sdk, RecordOperations("Accounts").delete_records(delete), ActionWrapper).get_data()
    assert isinstance(deleted, SuccessResponse) and deleted.get_details()["id"] == account_id
    assert org.zoho.state.get("Accounts", account_id) is None
    (again,) = parsed(sdk, RecordOperations("Accounts").delete_records(delete), ActionWrapper).get_data()
    assert isinstance(again, RecordError) and again.get_status().get_value() == "error"


# -- containment ---------------------------------------------------------------------------------------
def test_every_request_of_the_sdk_went_to_the_sandbox(org, sdk):
    parsed(sdk, ModulesOperations().get_modules(), ModulesWrapper)
    urls = sdk.log.request_urls()
    assert urls and all(url.startswith(f"{org.zoho_url}/crm/v7/") for url in urls)
    # Its files: the token stores and its field cache in the temporary folder, none in the project.
    written = {p.relative_to(sdk.workdir).parts[0] for p in sdk.workdir.rglob("*")}
    assert written <= {"tokens.csv", "short-tokens.csv", Constants.FIELD_DETAILS_DIRECTORY}
    assert not (Path.cwd() / Constants.TOKEN_FILE).exists()
    assert not (Path.cwd() / Constants.FIELD_DETAILS_DIRECTORY).exists()
