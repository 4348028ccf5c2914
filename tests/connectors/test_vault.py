"""VaultConnector against the Vault sandbox over real HTTP (and a tiny recording fake for headers
and result-file shapes the sandbox can't vary)."""

import dataclasses
import json
import logging
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from records.connectors.base import CloneRequest, FieldType, MemoryTokenStore
from records.connectors.errors import (
    AuthFailed,
    ConfigurationError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Unavailable,
)
from records.connectors.vault_jobs import PollTimes
from records.connectors.vault_parse import vql_string
from sandbox import demo
from tests.fixtures.connectors import make_vault_connector


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)
        time.sleep(min(seconds, 0.05))


@pytest.fixture
def sb(fresh_sandbox):
    yield fresh_sandbox
    fresh_sandbox.faults("vault").clear()


def calls(sb, method=None, contains=""):
    return [e for e in sb.log("vault") if (method is None or e.method == method) and contains in e.path]


def product(conn, name):
    return next(r for r in conn.search("product__v", name).records if r.name == name)


# -- auth and session ---------------------------------------------------------------------------


def test_it_connects_and_describes_the_vault(vault_connector, sb):
    text = vault_connector.test_connection()
    assert "1776" in text and demo.VAULT_USERNAME in text
    assert len(calls(sb, "POST", "/auth")) == 1


def test_a_wrong_password_is_auth_failed_without_the_password(sb):
    conn = make_vault_connector(sb.vault_url, password="wrong-secret-123")
    with pytest.raises(AuthFailed) as info:
        conn.test_connection()
    assert info.value.error_type == "USERNAME_OR_PASSWORD_INCORRECT"
    assert "wrong-secret-123" not in str(info.value) + repr(info.value) + repr(conn) + repr(conn.config)


def test_the_session_is_cached_and_shared_through_the_token_store(sb):
    tokens = MemoryTokenStore()
    a, b = make_vault_connector(sb.vault_url, tokens=tokens), make_vault_connector(sb.vault_url, tokens=tokens)
    a.list_objects()
    b.describe("product__v")
    assert len(calls(sb, "POST", "/auth")) == 1


def test_an_expired_session_is_renewed_once_mid_run(vault_connector, sb):
    vault_connector.list_objects()
    sb.vault.expire_sessions()
    source = product(vault_connector, "Neurolax")
    sb.vault.expire_sessions()
    result = vault_connector.clone("product__v", [CloneRequest(source.id, {"name__v": "After Expiry"})])
    assert result[0].ok
    assert len(calls(sb, "POST", "/auth")) == 3
    assert len(vault_connector.find("product__v", {"name__v": "After Expiry"})) == 1  # sent once, applied once


def test_a_session_refused_again_after_the_new_login_is_auth_failed(vault_connector, sb):
    sb.vault.configure(idle_timeout=-1)
    with pytest.raises(AuthFailed) as info:
        vault_connector.list_objects()
    assert info.value.error_type == "INVALID_SESSION_ID"
    assert len(calls(sb, "POST", "/auth")) == 2


@pytest.mark.django_db
def test_the_profile_token_store_keeps_one_session_for_every_worker(sb, vault_profile):
    from records.connectors import connector_for

    connector_for(vault_profile).list_objects()
    connector_for(vault_profile).list_objects()
    assert len(calls(sb, "POST", "/auth")) == 1
    vault_profile.refresh_from_db()
    assert vault_profile.session_token and "vault1 1776 1 " in vault_profile.session_token


def test_it_refuses_to_write_to_another_vault(vault_connector, sb):
    sb.vault.base_url = "https://other.veevavault.com"  # the session's Vault lives elsewhere
    try:
        source = product(vault_connector, "Neurolax")  # reading is allowed
        with pytest.raises(ConfigurationError) as info:
            vault_connector.clone("product__v", [CloneRequest(source.id, {"name__v": "Wrong Vault"})])
        assert info.value.error_type == "WRONG_VAULT"
        with pytest.raises(ConfigurationError):
            vault_connector.start_deep_copy("product__v", source.id, {})
        with pytest.raises(ConfigurationError):
            vault_connector.test_connection()
    finally:
        sb.vault.base_url = sb.vault_url
    assert not calls(sb, "POST", "/vobjects/")


# -- metadata -----------------------------------------------------------------------------------


def test_list_objects(vault_connector):
    names = {o.name for o in vault_connector.list_objects()}
    assert {"product__v", "formulation__c", "packaging__c", "country__v"} <= names


def test_describe_maps_types_and_flags(vault_connector):
    fields = {f.name: f for f in vault_connector.describe("product__v")}
    assert fields["name__v"].type == FieldType.TEXT and fields["name__v"].required and fields["name__v"].unique
    assert fields["description__c"].type == FieldType.LONG_TEXT
    assert fields["launch_date__c"].type == FieldType.DATE
    assert fields["price__c"].type in (FieldType.DECIMAL, FieldType.NUMBER)
    assert fields["status__v"].type == FieldType.PICKLIST
    assert fields["country__c"].type == FieldType.REFERENCE and fields["country__c"].reference_to == "country__v"
    assert fields["external_id__v"].no_copy and fields["internal_code__c"].no_copy
    assert not fields["regulatory_status__c"].editable and not fields["id"].editable
    formulation = {f.name: f for f in vault_connector.describe("formulation__c")}
    assert formulation["name__v"].system_managed_name and not formulation["name__v"].editable


def test_describe_fills_picklist_values_from_the_picklist_api(vault_connector, sb):
    fields = {f.name: f for f in vault_connector.describe("product__v")}
    assert fields["status__v"].picklist_values == ("active__v", "inactive__v")  # withdrawn__c is inactive
    assert fields["markets__c"].type == FieldType.MULTI_PICKLIST
    assert fields["markets__c"].picklist_values == ("us__c", "eu__c", "jp__c", "cn__c")
    assert fields["name__v"].picklist_values == ()
    # Only the picklists this object uses, each read once.
    assert sorted(e.path.rsplit("/", 1)[-1] for e in calls(sb, "GET", "/objects/picklists/")) == [
        "market__c",
        "product_status__c",
    ]
    vault_connector.describe("product__v")
    assert {f.name: f for f in vault_connector.describe("formulation__c")}["dosage_form__c"].picklist_values == (
        "tablet__c",
        "capsule__c",
        "syrup__c",
    )
    assert len(calls(sb, "GET", "/objects/picklists/")) == 3


def test_describe_listed_gives_what_a_clone_needs_without_a_picklist_call(vault_connector, sb):
    listed = {f.name: f for f in vault_connector.describe_listed("product__v")}
    assert listed["status__v"].type == FieldType.PICKLIST and listed["status__v"].picklist_values == ()
    assert listed["name__v"].unique  # what a clone's run needs: the unique fields, the copy key
    assert calls(sb, "GET", "/objects/picklists/") == []


def test_a_picklist_shared_by_two_objects_is_read_once_per_connector(vault_connector, sb, monkeypatch):
    schema = sb.vault.state.schema
    shared = next(f for f in schema["product__v"].fields if f.name == "status__v")
    formulation = schema["formulation__c"]
    stage_def = dataclasses.replace(shared, name="stage__c", label="Stage", required=False)
    monkeypatch.setitem(
        schema, "formulation__c", dataclasses.replace(formulation, fields=formulation.fields + (stage_def,), by_name={})
    )
    vault_connector.describe("product__v")
    stage = {f.name: f for f in vault_connector.describe("formulation__c")}["stage__c"]
    assert stage.picklist_values == ("active__v", "inactive__v")
    assert len(calls(sb, "GET", "/objects/picklists/product_status__c")) == 1


PICKLISTS = r"/objects/picklists/[^/]+$"


def test_describe_survives_a_failing_picklist_api(vault_connector, sb, caplog):
    # The sandbox answers every picklist call with Vault's error envelope, as a failing service would.
    down = {"responseStatus": "FAILURE", "errors": [{"type": "UNEXPECTED_ERROR", "message": "picklist service down"}]}
    sb.hooks("vault").answer("GET", PICKLISTS, down)
    del sb.vault.state.picklists["market__c"]  # and one that is gone (INVALID_DATA)
    with caplog.at_level(logging.WARNING, logger="records.connectors.vault"):
        fields = {f.name: f for f in vault_connector.describe("product__v")}
    # No values known: the field is still described, and its overrides are not checked up front.
    assert fields["status__v"].type == FieldType.PICKLIST and fields["status__v"].picklist_values == ()
    assert fields["markets__c"].picklist_values == ()
    assert "not checked" in caplog.text


def test_a_picklist_that_comes_back_empty_or_odd_is_not_checked(vault_connector, sb):
    sb.hooks("vault").answer("GET", PICKLISTS, {"responseStatus": "SUCCESS", "picklistValues": "x"})
    assert {f.name: f for f in vault_connector.describe("product__v")}["status__v"].picklist_values == ()


def test_related_lists_are_the_inbound_child_relationships(vault_connector):
    lists = {r.child_object: r for r in vault_connector.related_lists("product__v")}
    assert set(lists) == {"formulation__c", "product_contact__c"}  # contacts: the demo's personal data
    rel = lists["formulation__c"]
    assert (rel.name, rel.child_object, rel.parent_field, rel.deep_copy) == (
        "formulations__cr",
        "formulation__c",
        "product__c",
        True,
    )
    assert rel.parent_object == "product__v"
    assert [r.child_object for r in vault_connector.related_lists("formulation__c")] == ["packaging__c"]
    assert vault_connector.related_lists("packaging__c") == []
    assert vault_connector.related_lists("country__v") == []  # products reference countries; not children


def test_an_unknown_object_is_not_found(vault_connector):
    with pytest.raises(NotFound):
        vault_connector.describe("nothing__c")
    with pytest.raises(Rejected):
        vault_connector.describe("product__v WHERE 1")


# -- reading ------------------------------------------------------------------------------------


def test_search_by_name_and_by_id(vault_connector):
    found = product(vault_connector, "Neurolax")
    by_id = vault_connector.search("product__v", found.id).records
    assert [r.id for r in by_id] == [found.id]


def test_search_pages(vault_connector):
    everything = vault_connector.search("product__v", "", per_page=1000).records
    first = vault_connector.search("product__v", "", page=1, per_page=2)
    second = vault_connector.search("product__v", "", page=2, per_page=2)
    assert len(first.records) == 2 and first.more
    assert [r.id for r in first.records + second.records] == [r.id for r in everything[:4]]
    last = vault_connector.search("product__v", "", page=len(everything) // 2 + 1, per_page=2)
    assert not last.more


@pytest.mark.parametrize(
    "text",
    [
        "x' OR name__v LIKE '%",
        "' OR id != '",
        "\\' OR 1=1 --",
        "Neurolax' ORDER BY id PAGESIZE 1 --",
        "') FROM country__v WHERE (name__v = '",
        "SELECT id FROM product__v",
        "% _ \\\\ \\",
        "Néurolax ☃ 日本語 \u202e",
        "a" * 10_000,
        "'" * 5_000,
    ],
)
def test_search_text_stays_literal(vault_connector, sb, text):
    page = vault_connector.search("product__v", text)
    assert page.records == []
    queries = calls(sb, "POST", "/query")
    assert len(queries) == 1 and queries[0].status == 200


def test_search_finds_names_with_quotes_and_backslashes(vault_connector):
    source = product(vault_connector, "Neurolax")
    name = "O'Brien \\ Co' OR '1'='1"
    assert vault_connector.clone("product__v", [CloneRequest(source.id, {"name__v": name})])[0].ok
    assert [r.name for r in vault_connector.search("product__v", "O'Brien \\ Co'").records] == [name]
    assert [r.name for r in vault_connector.find("product__v", {"name__v": name})] == [name]


def test_vql_string_escapes():
    assert vql_string("a'b\\c") == "'a\\'b\\\\c'"


def test_get(vault_connector):
    source = product(vault_connector, "Neurolax")
    record = vault_connector.get("product__v", source.id)
    assert record.id == source.id and record.name == "Neurolax" and "status__v" in record.fields


@pytest.mark.parametrize("record_id", ["00P999999999999", "../auth", "00P' OR '1'='1", ""])
def test_get_unknown_or_malformed_ids_are_not_found(vault_connector, sb, record_id):
    with pytest.raises(NotFound):
        vault_connector.get("product__v", record_id)
    assert not calls(sb, "GET", "/auth")


def test_children_follow_pages_and_chunks(vault_connector, sb):
    sb.vault.configure(query_pagesize=50)
    large = product(vault_connector, "Large Product")
    formulations = next(r for r in vault_connector.related_lists("product__v") if r.child_object == "formulation__c")
    kids = list(vault_connector.children(formulations, [large.id, large.id]))
    assert kids and all(k.fields["product__c"] == large.id for k in kids)
    assert len({k.id for k in kids}) == len(kids)
    (packagings,) = vault_connector.related_lists("formulation__c")
    grandkids = list(vault_connector.children(packagings, [k.id for k in kids]))  # more than one IN chunk
    assert len(grandkids) > 50
    assert {g.fields["formulation__c"] for g in grandkids} <= {k.id for k in kids}
    # More pages than IN chunks were read (the later pages by PAGEOFFSET: test_vault_pages.py).
    assert len(calls(sb, "POST", "/query")) > 2 + math.ceil(len(kids) / 200)


def test_find_checks_field_names(vault_connector):
    with pytest.raises(Rejected):
        vault_connector.find("product__v", {"name__v = 'x' OR id": "y"})
    assert vault_connector.find("product__v", {"name__v": "No Such Product"}) == []


# -- writing ------------------------------------------------------------------------------------


def test_clone_applies_overrides_blanks_and_reports_rows_in_order(vault_connector):
    a, b = product(vault_connector, "Neurolax"), product(vault_connector, "Dermacalm")
    results = vault_connector.clone(
        "product__v",
        [
            CloneRequest(a.id, {"name__v": "Clone A", "description__c": None}),
            CloneRequest(b.id, {"name__v": "Neurolax"}),  # name taken
            CloneRequest(b.id, {"name__v": "Clone B"}),
        ],
    )
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error_type == "OPERATION_NOT_ALLOWED" and results[1].error_message
    copy = vault_connector.get("product__v", results[0].new_id)
    assert copy.name == "Clone A" and not copy.fields.get("description__c")
    assert not copy.fields.get("external_id__v")  # no_copy


def test_create_sends_500_rows_per_call(vault_connector, sb):
    rows = [{"name__v": f"Bulk {n}", "status__v": "active__v"} for n in range(501)]
    results = vault_connector.create("product__v", rows)
    assert len(results) == 501 and all(r.ok for r in results)
    assert len(calls(sb, "POST", "/vobjects/product__v")) == 2


def test_create_maps_row_errors(vault_connector):
    results = vault_connector.create(
        "product__v", [{"status__v": "active__v"}, {"name__v": "Fine", "status__v": "active__v"}]
    )
    assert not results[0].ok and results[0].error_type == "PARAMETER_REQUIRED"
    assert results[1].ok


def test_delete(vault_connector):
    new = vault_connector.create("product__v", [{"name__v": "Doomed", "status__v": "active__v"}])[0].new_id
    results = vault_connector.delete("product__v", [new, "00P999999999999"])
    assert results[0].ok and not results[1].ok and results[1].error_type == "INVALID_DATA"
    with pytest.raises(NotFound):
        vault_connector.get("product__v", new)


def test_record_url(vault_connector, sb):
    assert vault_connector.record_url("product__v", "00P1") == f"{sb.vault_url}/ui/#object/product__v/00P1"
    # Anything but letters, digits and "_.-~" is quoted (a plain id is used as it is, without quote's work).
    assert vault_connector.record_url("product__v", "a/b c#") == f"{sb.vault_url}/ui/#object/product__v/a%2Fb%20c%23"


# -- deep copy ----------------------------------------------------------------------------------


def wait(conn, job_id):
    for _ in range(100):
        job = conn.job_status(job_id)
        if job.finished:
            return job
    raise AssertionError("job did not finish")


def test_deep_copy_start_poll_and_results(vault_connector):
    source = product(vault_connector, "Neurolax")
    job_id = vault_connector.start_deep_copy(
        "product__v", source.id, {"name__v": "Deep Neurolax", "internal_code__c": None}
    )
    assert wait(vault_connector, job_id).status == "SUCCESS"
    rows = vault_connector.deep_copy_results("product__v", job_id)
    top = [r for r in rows if r.source_id == source.id]
    assert top[0].ok and top[0].new_id and top[0].object_name == "product__v"
    assert vault_connector.get("product__v", top[0].new_id).name == "Deep Neurolax"
    assert {r.object_name for r in rows} >= {"product__v", "formulation__c"}
    assert all(r.ok and r.new_id for r in rows)


def test_deep_copy_failures_are_parsed(vault_connector):
    source = product(vault_connector, "Neurolax")
    job_id = vault_connector.start_deep_copy("product__v", source.id, {"name__v": "Dermacalm"})  # name taken
    assert wait(vault_connector, job_id).status == "ERRORS_ENCOUNTERED"
    (row,) = vault_connector.deep_copy_results("product__v", job_id)
    assert not row.ok and row.source_id == source.id and row.error_type == "OPERATION_NOT_ALLOWED"
    assert "Dermacalm" in row.error_message


def test_deep_copy_without_a_new_id_column_leaves_new_id_empty(vault_connector, sb):
    sb.vault.configure(deepcopy_success_columns=("vobject", "sourceRecordId"))
    source = product(vault_connector, "Neurolax")
    job_id = vault_connector.start_deep_copy("product__v", source.id, {"name__v": "Deep No Ids"})
    wait(vault_connector, job_id)
    rows = vault_connector.deep_copy_results("product__v", job_id)
    assert rows and all(r.ok and r.new_id == "" for r in rows)


def test_results_of_an_unknown_job_are_an_error(vault_connector):
    with pytest.raises((NotFound, Rejected)):
        vault_connector.deep_copy_results("product__v", "999999")


def test_deep_copy_of_a_missing_record_is_refused(vault_connector):
    with pytest.raises(Rejected):
        vault_connector.start_deep_copy("product__v", "00P999999999999", {})


def test_polling_never_beats_the_interval_and_waits_out_api_limit_exceeded(sb):
    sb.vault.configure(job_poll_interval=0.4, job_min_run_seconds=1.0)
    conn = make_vault_connector(sb.vault_url, poll_interval=0.1)  # shorter than what the Vault enforces
    source = product(conn, "Neurolax")
    job_id = conn.start_deep_copy("product__v", source.id, {"name__v": "Polled"})
    started = time.monotonic()
    assert wait(conn, job_id).status == "SUCCESS"
    assert time.monotonic() - started >= 0.9
    polls = calls(sb, "GET", f"/services/jobs/{job_id}")
    assert len(polls) >= 3


class FakeClock:
    """A clock that moves only when the connector sleeps (or the test says so): the rule is
    checked on the times the connector chose, not on how fast a loaded machine ran it."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_job_status_keeps_the_poll_interval(sb):
    """§5.2: at most one status call per job per poll interval; a call that comes later waits not at all."""
    sb.vault.configure(job_poll_interval=0)  # the sandbox's own spacing is not what is tested here
    clock = FakeClock()
    conn = make_vault_connector(sb.vault_url, polls=PollTimes(clock=clock), sleep=clock.sleep, poll_interval=5.0)
    source = product(conn, "Neurolax")
    job_id = conn.start_deep_copy("product__v", source.id, {"name__v": "Spaced"})
    sent = []
    for _ in range(3):
        conn.job_status(job_id)
        sent.append(clock.now)  # the fake clock stands still during the call: its send time
    assert clock.sleeps == [5.0, 5.0] and sent == [1000.0, 1005.0, 1010.0]
    clock.now += 7.0  # longer than the interval since the last poll
    conn.job_status(job_id)
    assert clock.sleeps == [5.0, 5.0]
    clock.now += 2.0  # sooner than the interval: waits the rest of it
    conn.job_status(job_id)
    assert clock.sleeps == [5.0, 5.0, 3.0]
    assert len(calls(sb, "GET", f"services/jobs/{job_id}")) == 5


def test_poll_times_are_passed_in_and_shared_only_by_connectors_given_the_same(vault_connector, sb):
    """A resumed run's new connector must not poll a job sooner than the old one did (§5.2); the
    record of when is the PollTimes the connector is given (the process's POLL_TIMES by default)."""
    source = product(vault_connector, "Neurolax")
    job_id = vault_connector.start_deep_copy("product__v", source.id, {"name__v": "Polled"})
    shared, sleeps = PollTimes(), {"first": [], "second": [], "own": []}

    def connector(name, polls):
        def sleep(seconds):  # really waits: the sandbox refuses polls closer than its own interval
            sleeps[name].append(seconds)
            time.sleep(seconds)

        return make_vault_connector(sb.vault_url, polls=polls, sleep=sleep, poll_interval=0.3)

    # Both made first: making one takes a while on a loaded machine, which would eat the slot.
    first, second = connector("first", shared), connector("second", shared)
    first.job_status(job_id)
    second.job_status(job_id)
    time.sleep(0.15)  # past the sandbox's own 0.1 s between polls, not the connectors' 0.3 s
    connector("own", PollTimes()).job_status(job_id)  # shared's slot would make it wait
    assert sleeps["first"] == [] and sleeps["own"] == []
    # The first one's slot: what was left of its 0.3 s (less the first call's own time), waited
    # before the second polled, so no poll was refused (unshared, it would poll at once, be refused
    # by the sandbox's interval and poll again).
    assert len(sleeps["second"]) == 1 and 0 < sleeps["second"][0] <= 0.3
    assert len(calls(sb, "GET", f"services/jobs/{job_id}")) == 3


def test_cascade_delete(vault_connector):
    source = product(vault_connector, "Neurolax")
    job_id = vault_connector.start_deep_copy("product__v", source.id, {"name__v": "To Cascade"})
    wait(vault_connector, job_id)
    new_id = next(r.new_id for r in vault_connector.deep_copy_results("product__v", job_id) if r.source_id == source.id)
    delete_id = vault_connector.start_cascade_delete("product__v", new_id)
    assert wait(vault_connector, delete_id).status == "SUCCESS"
    with pytest.raises(NotFound):
        vault_connector.get("product__v", new_id)


# -- faults -------------------------------------------------------------------------------------


def test_reads_are_retried_through_429_and_5xx(vault_connector, sb):
    vault_connector.list_objects()
    sb.faults("vault").set(p429=0.3, p500=0.3, seed=3)
    for _ in range(5):
        assert vault_connector.search("product__v", "Neurolax").records
    assert any(e.outcome != "ok" for e in sb.log("vault"))


def test_a_read_that_keeps_failing_is_unavailable(vault_connector, sb):
    vault_connector.list_objects()
    sb.faults("vault").set(p500=1.0, seed=1)
    with pytest.raises(Unavailable):
        vault_connector.describe("product__v")


def test_a_429_storm_is_rate_limited(vault_connector, sb):
    vault_connector.list_objects()
    sb.faults("vault").set(p429=1.0, seed=1)
    with pytest.raises(RateLimited):
        vault_connector.describe("product__v")


def test_a_read_timeout_is_retried_then_unavailable(sb):
    conn = make_vault_connector(sb.vault_url, timeout=(2.0, 0.3), max_attempts=2)
    conn.list_objects()
    sb.faults("vault").set(p_timeout=1.0, timeout_hold=0.6, seed=1)
    with pytest.raises(Unavailable) as info:
        conn.describe("product__v")
    assert info.value.error_type == "TIMEOUT"


def test_a_write_that_times_out_is_outcome_unknown_and_not_resent(sb):
    conn = make_vault_connector(sb.vault_url, timeout=(2.0, 0.3))
    source = product(conn, "Neurolax")
    conn.describe("product__v")
    sb.faults("vault").set(p_timeout=1.0, timeout_hold=0.6, seed=1)
    with pytest.raises(OutcomeUnknown):
        conn.clone("product__v", [CloneRequest(source.id, {"name__v": "Timed Out"})])
    sb.faults("vault").clear()
    assert len(calls(sb, "POST", "/vobjects/product__v")) == 1


def test_a_dropped_answer_after_the_create_was_applied_is_outcome_unknown(vault_connector, sb):
    source = product(vault_connector, "Neurolax")
    vault_connector.describe("product__v")
    sb.faults("vault").set(p_drop_after_write=1.0, seed=1)
    with pytest.raises(OutcomeUnknown):
        vault_connector.clone("product__v", [CloneRequest(source.id, {"name__v": "Dropped Answer"})])
    sb.faults("vault").clear()
    assert len(calls(sb, "POST", "/vobjects/product__v")) == 1
    assert len(vault_connector.find("product__v", {"name__v": "Dropped Answer"})) == 1  # it was applied


def test_a_5xx_on_a_write_is_outcome_unknown(vault_connector, sb):
    source = product(vault_connector, "Neurolax")
    vault_connector.describe("product__v")
    sb.faults("vault").set(p500=1.0, seed=1)
    with pytest.raises(OutcomeUnknown):
        vault_connector.clone("product__v", [CloneRequest(source.id, {"name__v": "Five Hundred"})])
    assert len(calls(sb, "POST", "/vobjects/product__v")) == 1


def test_it_slows_down_when_the_burst_window_runs_low(sb):
    sb.vault.configure(burst_limit=30)
    sleeps = Sleeps()
    conn = make_vault_connector(sb.vault_url, sleep=sleeps, burst_threshold=20, burst_pause=0.01)
    conn.list_objects()
    assert sleeps == []
    for _ in range(15):
        conn.search("product__v", "Neurolax")
    assert len(sleeps) >= 5 and sleeps[-1] > sleeps[0]


def test_concurrent_calls_meeting_a_spent_burst_window_wait_for_its_end_together_and_no_longer(sb):
    """Four threads of one connector (the profile's concurrency) with the window about spent: they
    take turns on one schedule, so no call goes past the limit (Vault would delay it), and none
    waits beyond the window's end (a new window begins full)."""
    window, limit = 2.5, 12
    sb.vault.configure(burst_limit=limit, burst_window=window, burst_sleep=True, burst_delay_ms=300)
    over = []
    sb.hooks("vault").after("*", ".*", lambda: over.append(sb.vault.state.burst_count > limit))
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        time.sleep(seconds)

    conn = make_vault_connector(sb.vault_url, concurrency=4, sleep=sleep, burst_window=window, burst_threshold=3)
    with sb.vault.state.lock:
        sb.vault.state.burst_window_start, sb.vault.state.burst_count = time.monotonic(), limit - 3
    started = time.monotonic()
    conn.api.call("GET", "metadata/vobjects")  # the login and this call: 1 left

    def two_calls():
        for _ in range(2):
            conn.api.call("GET", "metadata/vobjects")

    threads = [threading.Thread(target=two_calls) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    sb.hooks("vault").clear()
    assert len(over) == 10 and not any(over), over  # no call answered past the limit
    assert sleeps and max(sleeps) <= window  # none slept past the window's end
    assert window * 0.9 <= elapsed < window + 1.5  # waited for the new window, then went on at once


def test_secrets_never_reach_logs_or_errors(sb, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = MemoryTokenStore()
    conn = make_vault_connector(sb.vault_url, tokens=tokens)
    conn.list_objects()
    sb.vault.expire_sessions()
    conn.list_objects()
    session_id = tokens.get()[0].split(" ")[-1]
    sb.faults("vault").set(p500=1.0, seed=1)
    try:
        conn.describe("product__v")
    except Unavailable as exc:
        text = str(exc) + repr(exc)
    for secret in (demo.VAULT_PASSWORD, session_id):
        assert secret not in caplog.text and secret not in text and secret not in repr(conn)


# -- a recording fake: headers, other Vaults' answers -------------------------------------------


class FakeVault(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path.endswith("/auth"):
            return self._json(
                {
                    "responseStatus": "SUCCESS",
                    "sessionId": "S" * 128,
                    "vaultId": 7,
                    "vaultIds": [{"id": 7, "name": "V", "url": f"{base}/api"}],
                }
            )
        if "/deepcopy/results/" in self.path:
            if "/failure/" in self.path:
                return self._json(
                    {
                        "responseStatus": "FAILURE",
                        "errors": [{"type": "INVALID_DATA", "message": "No failures for this job"}],
                    }
                )
            return self._send(self.server.success_csv.encode(), "text/csv")
        return self._json({"responseStatus": "SUCCESS", "objects": []})

    def _json(self, payload):
        self._send(json.dumps(payload).encode(), "application/json")

    def _send(self, body, ctype):
        self.send_response(200)
        # HTTP/2-style lower-case names: the connector must read them case-insensitively.
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-vaultapi-burstlimitremaining", "3")
        self.send_header("x-vaultapi-burstlimit", "2000")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _handle


@pytest.fixture
def fake():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeVault)
    srv.daemon_threads = True
    srv.seen = []
    srv.success_csv = ""
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def test_every_call_carries_the_client_id(fake):
    sleeps = Sleeps()
    conn = make_vault_connector(fake.url, client_id="acme-vault-team-server-copier", sleep=sleeps)
    conn.list_objects()
    assert [m for m, _, _ in fake.seen] == ["POST", "GET"]
    assert all(h.get("X-VaultAPI-ClientID") == "acme-vault-team-server-copier" for _, _, h in fake.seen)
    assert fake.seen[1][2]["Authorization"] == "S" * 128
    budget = conn.api.budget.snapshot()
    assert (budget.remaining, budget.limit) == (3, 2000)  # the lower-case burst headers were read


def test_the_client_id_defaults_and_is_sanitised(fake):
    make_vault_connector(fake.url, client_id="bad id/with:chars", sleep=Sleeps()).list_objects()
    assert {h["X-VaultAPI-ClientID"] for _, _, h in fake.seen} == {"bad-id-with-chars"}


@pytest.mark.parametrize(
    ("header", "new_column"),
    [
        ("vobject,sourceRecordId,targetRecordId", "V2"),
        ("Object,Source Record Id,Record Id", "V2"),
        ("vobject,sourceRecordId,id", "V2"),
        ("line number,vobject,sourceRecordId,newRecordId", "V2"),
        ("vobject,sourceRecordId", ""),
    ],
)
def test_success_file_columns_are_read_by_name(fake, header, new_column):
    values = {
        "vobject": "product__v",
        "object": "product__v",
        "sourcerecordid": "V1",
        "sourcerecordid_": "V1",
        "line number": "1",
    }
    cells = []
    for col in header.split(","):
        key = col.lower().replace(" ", "")
        cells.append(values.get(col.lower(), values.get(key, "V2")))
    fake.success_csv = "\ufeff" + header + "\r\n" + ",".join(cells) + "\r\n"
    (row,) = make_vault_connector(fake.url, sleep=Sleeps()).deep_copy_results("product__v", "5")
    assert (row.object_name, row.source_id, row.ok, row.new_id) == ("product__v", "V1", True, new_column)


def test_calls_made_from_many_threads_stay_within_the_profiles_concurrency(sb):
    conn = make_vault_connector(sb.vault_url, concurrency=2)
    ids = [f"00P9{i:011d}" for i in range(3000)]  # three names chunks, from each of three threads
    conn.describe("product__v")
    lock, now, most = threading.Lock(), [0], [0]

    def in_flight():  # in the server, while a query's answer is not yet sent
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.1)
        with lock:
            now[0] -= 1

    sb.hooks("vault").after("POST", r"/query$", in_flight)
    readers = [threading.Thread(target=conn.names, args=("product__v", ids)) for _ in range(3)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(30)
    assert len(calls(sb, "POST", "/query")) >= 9
    assert most[0] == 2  # they overlapped, never more than the profile allows
