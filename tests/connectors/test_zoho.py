"""The Zoho CRM connector against the Zoho sandbox over real HTTP (api-notes zoho.md)."""

import datetime as dt

import pytest

from records.connectors.base import Automation, CloneRequest, FieldType, MemoryTokenStore, RelatedList
from records.connectors.errors import AuthFailed, ConfigurationError, NotFound, OutcomeUnknown, RateLimited, Unavailable
from sandbox import demo
from tests.fixtures.connectors import make_zoho_connector
from tests.fixtures.sandbox import find_record


def mints(sb):
    return [e for e in sb.log("zoho") if e.path.startswith("/oauth/v2/token")]


def account_id(sb, name):
    conn = make_zoho_connector(sb)
    return next(r.id for r in conn.search("Accounts", name).records if r.name == name)


def test_it_mints_one_token_with_credentials_in_the_body(fresh_sandbox, zoho_connector):
    assert "modules" in zoho_connector.test_connection()
    zoho_connector.list_objects()
    calls = mints(fresh_sandbox)
    assert len(calls) == 1
    assert calls[0].method == "POST" and calls[0].path == "/oauth/v2/token"  # nothing in the query string
    assert demo.ZOHO_CLIENT_SECRET not in calls[0].path


def test_it_refuses_a_wrong_client_secret_without_leaking_it(fresh_sandbox):
    conn = make_zoho_connector(fresh_sandbox, secret="wrong-secret-value")
    with pytest.raises(AuthFailed) as info:
        conn.test_connection()
    assert info.value.error_type == "invalid_client"
    assert "wrong-secret-value" not in str(info.value) + repr(info.value) + repr(conn)


def test_it_refuses_a_wrong_refresh_token(fresh_sandbox):
    with pytest.raises(AuthFailed) as info:
        make_zoho_connector(fresh_sandbox, refresh_token="1000.bad.token").test_connection()
    assert info.value.error_type == "invalid_code"
    assert "1000.bad.token" not in str(info.value)


def test_two_connectors_sharing_a_store_mint_once(fresh_sandbox):
    store = MemoryTokenStore()
    make_zoho_connector(fresh_sandbox, store).test_connection()
    make_zoho_connector(fresh_sandbox, store).list_objects()
    assert len(mints(fresh_sandbox)) == 1


def test_an_expired_token_is_refreshed_once_mid_run(fresh_sandbox, zoho_connector):
    zoho_connector.describe("Accounts")
    fresh_sandbox.zoho.expire_tokens()
    assert zoho_connector.search("Accounts", page=1, per_page=5).records
    assert len(mints(fresh_sandbox)) == 2
    assert [e.status for e in fresh_sandbox.log("zoho")].count(401) == 1


def test_it_refreshes_proactively_when_less_than_a_minute_remains(fresh_sandbox):
    store = MemoryTokenStore()
    conn = make_zoho_connector(fresh_sandbox, store)
    conn.test_connection()
    token, _ = store.get()
    store._token, store._expires = token, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    conn.describe("Deals")
    assert len(mints(fresh_sandbox)) == 2
    assert store.get()[0] != token
    assert not [e for e in fresh_sandbox.log("zoho") if e.status == 401]


def test_a_token_that_stays_invalid_is_auth_failed(fresh_sandbox, zoho_connector):
    zoho_connector.test_connection()
    fresh_sandbox.zoho.settings = fresh_sandbox.zoho.settings.updated(token_lifetime=0.0)
    fresh_sandbox.zoho.expire_tokens()
    with pytest.raises(AuthFailed) as info:
        zoho_connector.describe("Deals")
    assert info.value.error_type == "INVALID_TOKEN"


@pytest.mark.parametrize(
    "base_url",
    ["http://www.zohoapis.com", "https://evil.example.com", "https://127.0.0.1", "https://u:p@www.zohoapis.com"],
)
def test_it_refuses_base_urls_outside_zoho(fresh_sandbox, base_url):
    with pytest.raises(ConfigurationError):
        make_zoho_connector(
            fresh_sandbox, base_url=base_url, accounts_url="https://accounts.zoho.com", allow_loopback=False
        )


def test_it_derives_the_accounts_server_and_record_links_from_the_data_centre(fresh_sandbox):
    conn = make_zoho_connector(fresh_sandbox, base_url="https://www.zohoapis.eu", accounts_url="", allow_loopback=False)
    assert conn.accounts_url == "https://accounts.zoho.eu"
    assert conn.record_url("Deals", "123") == "https://crm.zoho.eu/crm/tab/Deals/123"
    ca = make_zoho_connector(fresh_sandbox, base_url="https://www.zohoapis.ca", accounts_url="", allow_loopback=False)
    assert ca.accounts_url == "https://accounts.zohocloud.ca"
    assert (
        make_zoho_connector(fresh_sandbox).record_url("Accounts", "9") == f"{fresh_sandbox.zoho_url}/crm/tab/Accounts/9"
    )


# -- metadata ----------------------------------------------------------------------------------


def test_it_lists_creatable_modules_without_subforms(zoho_connector):
    names = {o.name for o in zoho_connector.list_objects()}
    assert {"Accounts", "Contacts", "Deals", "Tasks", "Notes"} <= names
    assert "Branches" not in names


def test_it_describes_fields_with_normalised_types(zoho_connector):
    contacts = {f.name: f for f in zoho_connector.describe("Contacts")}
    assert contacts["Last_Name"].required and contacts["Last_Name"].type == FieldType.TEXT
    assert contacts["Email"].unique
    assert contacts["Account_Name"].type == FieldType.REFERENCE and contacts["Account_Name"].reference_to == "Accounts"
    assert contacts["Photo_File"].type == FieldType.FILE and contacts["Photo_File"].no_copy
    assert not contacts["Lead_Score"].editable and contacts["Lead_Score"].no_copy
    assert contacts["Description"].type == FieldType.LONG_TEXT
    accounts = {f.name: f for f in zoho_connector.describe("Accounts")}
    assert accounts["Branches"].type == FieldType.SUBFORM
    assert accounts["Industry"].type == FieldType.PICKLIST and "Retail" in accounts["Industry"].picklist_values
    assert accounts["Regions"].type == FieldType.MULTI_PICKLIST
    assert accounts["Annual_Revenue"].type == FieldType.DECIMAL and accounts["Employees"].type == FieldType.NUMBER
    assert not accounts["ERP_Id"].editable and accounts["ERP_Id"].no_copy  # external


def test_an_unknown_module_is_not_found(zoho_connector):
    with pytest.raises(NotFound):
        zoho_connector.describe("Spaceships")
    with pytest.raises(NotFound):
        zoho_connector.search("Spaceships")


def test_related_lists_name_the_lookup_that_points_back(zoho_connector):
    accounts = {r.name: r for r in zoho_connector.related_lists("Accounts")}
    assert accounts["Contacts"].parent_field == "Account_Name" and accounts["Contacts"].deep_copy
    assert accounts["Tasks"].parent_field == "What_Id"
    assert accounts["Notes"].parent_field == "Parent_Id"
    contacts = {r.name: r for r in zoho_connector.related_lists("Contacts")}
    assert contacts["Tasks"].parent_field == "Who_Id"
    assert contacts["Deals"].parent_field == "Contact_Name"


# -- reading -----------------------------------------------------------------------------------


def test_search_pages_with_more_records(fresh_sandbox, zoho_connector):
    first = zoho_connector.search("Accounts", page=1, per_page=5)
    second = zoho_connector.search("Accounts", page=2, per_page=5)
    assert len(first.records) == 5 and first.more
    assert not {r.id for r in first.records} & {r.id for r in second.records}
    listing = [e for e in fresh_sandbox.log("zoho") if e.path.startswith("/crm/v7/Accounts?")]
    assert all("fields=" in e.path for e in listing)


def test_search_by_word_by_id_and_204(zoho_connector):
    found = zoho_connector.search("Accounts", "Big Account")
    assert [r.name for r in found.records] == ["Big Account"]
    by_id = zoho_connector.search("Accounts", found.records[0].id)
    assert [r.id for r in by_id.records] == [found.records[0].id]
    empty = zoho_connector.search("Accounts", "nothing-matches-this")
    assert empty.records == [] and not empty.more


def test_get_returns_subforms_and_not_found(zoho_connector):
    record = zoho_connector.get("Accounts", zoho_connector.search("Accounts", "Big Account").records[0].id)
    assert record.name == "Big Account" and len(record.fields["Branches"]) >= 1
    with pytest.raises(NotFound):
        zoho_connector.get("Accounts", "5725767999999999999")


def test_children_read_every_related_record(fresh_sandbox, zoho_connector):
    huge = account_id(fresh_sandbox, "Huge Account")
    related = {r.name: r for r in zoho_connector.related_lists("Accounts")}
    contacts = list(zoho_connector.children(related["Contacts"], [huge]))
    assert len(contacts) == 250 and len({c.id for c in contacts}) == 250
    assert all(c.fields["Account_Name"]["id"] == huge for c in contacts)
    notes = list(zoho_connector.children(related["Notes"], [huge]))  # no COQL: per parent, two pages of 200
    assert len(notes) == 250
    pages = [e for e in fresh_sandbox.log("zoho") if "/Notes?" in e.path]
    assert len(pages) == 2
    tasks = list(zoho_connector.children(related["Tasks"], [huge]))
    assert tasks and all(t.fields["$se_module"] == "Accounts" for t in tasks)


def test_children_chunk_parent_ids_by_100(fresh_sandbox, zoho_connector):
    huge = account_id(fresh_sandbox, "Huge Account")
    accounts = {r.name: r for r in zoho_connector.related_lists("Accounts")}
    contact_ids = [c.id for c in zoho_connector.children(accounts["Contacts"], [huge])]
    tasks_of_contacts = {r.name: r for r in zoho_connector.related_lists("Contacts")}["Tasks"]
    tasks = list(zoho_connector.children(tasks_of_contacts, contact_ids))
    assert tasks and all(t.fields["Who_Id"]["id"] in set(contact_ids) for t in tasks)
    queries = [e for e in fresh_sandbox.log("zoho") if e.path == "/crm/v7/coql" and "from Tasks" in e.body_summary]
    assert len(queries) >= 3  # 250 ids → 100 + 100 + 50


def test_coql_values_are_quoted_so_an_id_cannot_change_the_query(fresh_sandbox, zoho_connector):
    hostile = "1') or (Account_Name != '0"
    related = RelatedList("Contacts", "Contacts", "Contacts", "Account_Name", parent_object="Accounts")
    assert list(zoho_connector.children(related, [hostile])) == []
    assert zoho_connector.find("Contacts", {"Last_Name": "x' or Last_Name != 'y"}) == []
    assert zoho_connector.find("Contacts", {"Last_Name": "\\' or id != '"}) == []


def test_find_by_copy_key(fresh_sandbox, zoho_connector):
    source = account_id(fresh_sandbox, "Big Account")
    [result] = zoho_connector.clone(
        "Accounts",
        [CloneRequest(source, {"Account_Name": "Big Copy", "Account_Number": "C-1", "Copy_Key": "rc-key-1"})],
    )
    found = zoho_connector.find("Accounts", {"Copy_Key": "rc-key-1"})
    assert [r.id for r in found] == [result.new_id]


# -- writing -----------------------------------------------------------------------------------


def test_clone_with_and_without_overrides(fresh_sandbox, zoho_connector):
    contact = zoho_connector.children(
        RelatedList("Contacts", "Contacts", "Contacts", "Account_Name", parent_object="Accounts"),
        [account_id(fresh_sandbox, "Big Account")],
    )
    source = next(iter(contact))
    results = zoho_connector.clone(
        "Contacts", [CloneRequest(source.id, {"Email": "copy@demo.example", "Last_Name": "Copy"})]
    )
    assert results[0].ok and results[0].new_id != source.id
    copy = zoho_connector.get("Contacts", results[0].new_id)
    assert copy.fields["Last_Name"] == "Copy" and copy.fields["Email"] == "copy@demo.example"
    deal = zoho_connector.search("Deals", per_page=1).records[0]
    [plain] = zoho_connector.clone("Deals", [CloneRequest(deal.id)])
    assert plain.ok
    clone_calls = [e for e in fresh_sandbox.log("zoho") if e.path.endswith("/actions/clone")]
    assert clone_calls[-1].body_summary == ""  # no body without overrides


def test_clone_duplicate_reports_the_existing_record(fresh_sandbox, zoho_connector):
    source = account_id(fresh_sandbox, "Big Account")
    [result] = zoho_connector.clone("Accounts", [CloneRequest(source, {"Account_Name": "Dup copy"})])
    assert not result.ok and result.error_type == "DUPLICATE_DATA"
    assert result.existing_id == source  # Account_Number is unique


def test_clone_of_an_unknown_record_is_a_row_failure(zoho_connector):
    [result] = zoho_connector.clone("Accounts", [CloneRequest("5725767999999999999", {"Account_Name": "X"})])
    assert not result.ok and result.error_type == "INVALID_DATA"


def test_create_batches_of_100_in_input_order(fresh_sandbox, zoho_connector):
    rows = [{"Last_Name": f"Bulk {i}"} for i in range(150)]
    rows[120] = {"First_Name": "no last name"}
    results = zoho_connector.create("Contacts", rows)
    assert len(results) == 150 and sum(r.ok for r in results) == 149
    assert results[120].error_type == "MANDATORY_NOT_FOUND" and "Last_Name" in results[120].error_message
    assert zoho_connector.get("Contacts", results[7].new_id).fields["Last_Name"] == "Bulk 7"
    posts = [e for e in fresh_sandbox.log("zoho") if e.method == "POST" and e.path == "/crm/v7/Contacts"]
    assert len(posts) == 2


def test_create_notes_fills_in_the_parent_module(fresh_sandbox, zoho_connector):
    account = account_id(fresh_sandbox, "Big Account")
    zoho_connector.get("Accounts", account)
    [note] = zoho_connector.create("Notes", [{"Note_Title": "n", "Note_Content": "c", "Parent_Id": {"id": account}}])
    assert note.ok
    fresh = make_zoho_connector(fresh_sandbox)  # knows nothing about the parent: finds its module by asking
    [other] = fresh.create("Notes", [{"Note_Content": "c2", "Parent_Id": {"id": account}}])
    assert other.ok
    found = fresh.find("Notes", {"Note_Title": "n", "Parent_Id": account})
    assert [r.id for r in found] == [note.new_id]


def test_delete_reports_each_id(zoho_connector):
    [made] = zoho_connector.create("Contacts", [{"Last_Name": "Doomed"}])
    results = zoho_connector.delete("Contacts", [made.new_id, "5725767999999999999"])
    assert results[0].ok and not results[1].ok
    with pytest.raises(NotFound):
        zoho_connector.get("Contacts", made.new_id)


# -- faults ------------------------------------------------------------------------------------


def test_a_429_storm_is_retried_then_rate_limited(fresh_sandbox, zoho_connector):
    zoho_connector.test_connection()
    fresh_sandbox.faults("zoho").set(p429=0.5, seed=3)
    assert len(zoho_connector.search("Accounts", per_page=5).records) == 5
    fresh_sandbox.faults("zoho").set(p429=1.0)
    with pytest.raises(RateLimited):
        zoho_connector.describe("Tasks")
    assert zoho_connector.http.max_attempts >= 4


def test_5xx_is_unavailable_on_reads_and_outcome_unknown_on_writes(fresh_sandbox, zoho_connector):
    zoho_connector.describe("Contacts")
    fresh_sandbox.faults("zoho").set(p500=1.0)
    with pytest.raises(Unavailable):
        zoho_connector.search("Contacts", per_page=5)
    with pytest.raises(OutcomeUnknown):
        zoho_connector.create("Contacts", [{"Last_Name": "Maybe"}])
    creates = [e for e in fresh_sandbox.log("zoho") if e.method == "POST" and e.path == "/crm/v7/Contacts"]
    assert len(creates) == 1  # never resent


def test_read_timeouts(fresh_sandbox, zoho_connector):
    zoho_connector.describe("Contacts")
    zoho_connector.http.timeout = (2.0, 0.3)
    fresh_sandbox.faults("zoho").set(p_timeout=1.0, timeout_hold=1.0)
    with pytest.raises(Unavailable):
        zoho_connector.search("Contacts", per_page=5)
    with pytest.raises(OutcomeUnknown):
        zoho_connector.create("Contacts", [{"Last_Name": "Timed out"}])


def test_a_connection_dropped_after_the_write_is_outcome_unknown(fresh_sandbox, zoho_connector):
    zoho_connector.describe("Contacts")
    fresh_sandbox.faults("zoho").set(p_drop_after_write=1.0)
    with pytest.raises(OutcomeUnknown):
        zoho_connector.create("Contacts", [{"Last_Name": "Dropped answer", "Copy_Key": "rc-dropped"}])
    fresh_sandbox.faults("zoho").clear()
    assert len(zoho_connector.find("Contacts", {"Copy_Key": "rc-dropped"})) == 1  # it was applied


def test_an_expired_token_on_a_write_is_refreshed_and_the_write_sent_once_more(fresh_sandbox, zoho_connector):
    zoho_connector.describe("Contacts")
    fresh_sandbox.zoho.expire_tokens()
    [made] = zoho_connector.create("Contacts", [{"Last_Name": "After refresh", "Copy_Key": "rc-refresh"}])
    assert made.ok
    assert len(zoho_connector.find("Contacts", {"Copy_Key": "rc-refresh"})) == 1  # the refused first try wrote nothing


def test_connectors_of_one_profile_share_the_concurrency_limit(fresh_sandbox):
    a, b = make_zoho_connector(fresh_sandbox, concurrency=3), make_zoho_connector(fresh_sandbox, concurrency=3)
    assert a._slots is b._slots
    assert make_zoho_connector(fresh_sandbox, concurrency=3, refresh_token="1000.other")._slots is not a._slots


def test_the_access_token_stays_out_of_errors_and_reprs(fresh_sandbox):
    store = MemoryTokenStore()
    conn = make_zoho_connector(fresh_sandbox, store)
    conn.test_connection()
    token = store.get()[0]
    fresh_sandbox.faults("zoho").set(p500=1.0)
    with pytest.raises(Unavailable) as info:
        conn.describe("Deals")
    assert token not in str(info.value) + repr(info.value.details) + repr(conn)


# Update Records `PUT /{module}` (api-notes zoho.md §3.3): <= 100 rows a call, each with its id,
# per-row results in input order, `trigger: []` unless workflows may run, a lost answer is
# OutcomeUnknown (the engine sends the update again on resume).


def contacts(sb, n):
    return sorted(sb.zoho.state.records["Contacts"])[:n]


def puts(sb):
    return [e for e in sb.log("zoho") if e.method == "PUT"]


def test_updates_in_calls_of_100_with_per_row_results(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    ids = contacts(sb, 150)
    boss = ids[0]
    results = zoho_connector.update("Contacts", [{"id": i, "Reports_To": {"id": boss}} for i in ids])
    assert [r.ok for r in results] == [True] * 150 and [r.new_id for r in results] == ids
    assert len(puts(sb)) == 2
    assert all(sb.zoho.state.get("Contacts", i)["Reports_To"] == boss for i in ids)
    assert [a["trigger"] for a in sb.zoho.state.actions if a["op"] == "update"] == [[], []]


def test_a_refused_row_is_its_own_typed_result(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    a, b = contacts(sb, 2)
    results = zoho_connector.update(
        "Contacts", [{"id": a, "Reports_To": {"id": "1"}}, {"id": b, "Mailing_City": "Lyon"}]
    )
    assert not results[0].ok and results[0].error_type == "INVALID_DATA" and results[0].field == "Reports_To"
    assert results[1].ok and results[1].new_id == b
    assert sb.zoho.state.get("Contacts", b)["Mailing_City"] == "Lyon"
    assert sb.zoho.state.get("Contacts", a).get("Reports_To") is None


def test_an_unknown_module_is_not_found_and_a_row_without_id_never_sent(fresh_sandbox, zoho_connector):
    with pytest.raises(NotFound):  # INVALID_MODULE
        zoho_connector.update("Nope", [{"id": "1", "Name": "x"}])
    with pytest.raises(ValueError):
        zoho_connector.update("Contacts", [{"Last_Name": "x"}])
    assert len(puts(fresh_sandbox)) == 1  # only the unknown module's call


def test_workflows_run_when_the_user_lets_them(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    zoho_connector.automation = Automation(run_workflows=True)
    acc = find_record(zoho_connector, "Accounts", "Globex")
    assert zoho_connector.update("Accounts", [{"id": acc, "Phone": "+1 555 9999"}])[0].ok
    action = next(a for a in sb.zoho.state.actions if a["op"] == "update")
    assert action["trigger"] is None and action["automations_ran"]


def test_a_lost_answer_is_outcome_unknown(fresh_sandbox, zoho_connector):
    sb = fresh_sandbox
    (a,) = contacts(sb, 1)
    sb.faults("zoho").set(p_drop_after_write=1.0, drop_method="PUT", seed=1)
    with pytest.raises(OutcomeUnknown):
        zoho_connector.update("Contacts", [{"id": a, "Mailing_City": "Lyon"}])
    assert sb.zoho.state.get("Contacts", a)["Mailing_City"] == "Lyon"  # applied, answer lost
    assert len(puts(sb)) == 1  # not resent by the connector


def test_update_result_parsing():
    from records.connectors import zoho_parse as zp

    ok = {"code": "SUCCESS", "details": {"id": "42"}, "message": "record updated", "status": "success"}
    assert zp.update_result(ok, "42").new_id == "42"
    other = zp.update_result(ok, "43")
    assert not other.ok and other.error_type == "NO_RESULT"
    bare = {"code": "SUCCESS", "details": {}, "message": "record updated", "status": "success"}
    assert zp.update_result(bare, "7").ok and zp.update_result(bare, "7").new_id == "7"
    refused = {"code": "INVALID_DATA", "details": {"id": "9"}, "message": "the id given seems to be invalid"}
    assert zp.update_result({**refused, "status": "error"}, "9").error_type == "INVALID_DATA"
    assert zp.update_result(None, "9").error_type == "NO_RESULT"


def test_notes_of_many_parents_are_read_a_window_of_parents_ahead_of_the_reader(fresh_sandbox, zoho_connector):
    import time

    huge = account_id(fresh_sandbox, "Huge Account")
    accounts = {r.name: r for r in zoho_connector.related_lists("Accounts")}
    contact_ids = [c.id for c in zoho_connector.children(accounts["Contacts"], [huge])]
    notes_of_contacts = {r.name: r for r in zoho_connector.related_lists("Contacts")}["Notes"]
    before = len(fresh_sandbox.log("zoho"))

    def notes_calls():
        return len([e for e in fresh_sandbox.log("zoho")[before:] if "/Notes" in e.path])

    reader = zoho_connector.children(notes_of_contacts, contact_ids)
    try:
        next(reader)  # the reader takes one note and waits
        seen, deadline = -1, time.monotonic() + 5
        while seen != notes_calls() and time.monotonic() < deadline:  # until the reads ahead stop
            seen = notes_calls()
            time.sleep(0.3)
        concurrency = zoho_connector.config.concurrency
        assert len(contact_ids) == 250 and seen <= 2 * concurrency + 1, seen  # not one call per contact
    finally:
        reader.close()
    rest = list(zoho_connector.children(notes_of_contacts, contact_ids))
    assert len(rest) == 2 * 250 and notes_calls() >= 250 + seen  # then every parent's notes, in order
    parents = [n.fields["Parent_Id"]["id"] for n in rest]
    assert list(dict.fromkeys(parents)) == contact_ids
