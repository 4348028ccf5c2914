"""ZohoConnector: who made a record and when (Created_Time, Modified_Time, Created_By), find()
bounded by creation time and creator (COQL, and Notes compared here), stamps(), api_user_id() and
clock_offset(), over real HTTP against the Zoho sandbox (whose demo data another user loaded)."""

import datetime as dt
import itertools
import time

import pytest

from records.connectors import zoho_parse as zp
from records.connectors.base import CloneRequest
from records.connectors.zoho_reads import GET_IDS_MAX
from sandbox.zoho_state import DATA_USER, DEMO_TIME, USER
from tests.fixtures.connectors import make_zoho_connector

API_USER = USER["id"]


def calls(sb, contains):
    return [e for e in sb.log("zoho") if contains in e.path]


def now():
    return dt.datetime.now(dt.UTC)


def account(conn, name):
    return next(r for r in conn.search("Accounts", name).records if r.name == name)


NUMBERS = itertools.count(1)


def clone(conn, module, source, **overrides):
    if module == "Accounts":  # Account_Number is unique
        overrides.setdefault("Account_Number", f"STAMP-{next(NUMBERS)}")
    [result] = conn.clone(module, [CloneRequest(source, overrides)])
    assert result.ok, result.error_message
    return result.new_id


def test_a_demo_record_says_it_was_made_by_the_data_user_long_ago(zoho_connector):
    record = zoho_connector.get("Accounts", account(zoho_connector, "Initech").id)
    assert record.created == record.modified == DEMO_TIME.astimezone(dt.UTC)
    assert record.created_by == DATA_USER["id"] != API_USER
    assert record.created.tzinfo == dt.UTC


def test_a_clone_says_it_was_made_by_the_api_user_just_now(zoho_connector):
    before = now().replace(microsecond=0)
    copy = clone(zoho_connector, "Accounts", account(zoho_connector, "Initech").id)
    record = zoho_connector.get("Accounts", copy)
    assert record.created_by == API_USER
    assert before <= record.created <= now()


def test_a_clone_without_changes_is_told_from_its_source_only_by_creator_and_time(zoho_connector):
    initech = account(zoho_connector, "Initech").id
    source = zoho_connector.find("Deals", {"Account_Name": initech})[0]
    bound = now()
    copy = clone(zoho_connector, "Deals", source.id)  # nothing changed: the same name and account

    same = {"Deal_Name": source.name, "Account_Name": initech}
    same_name = zoho_connector.find("Deals", same)
    ours = zoho_connector.find("Deals", same, created_since=bound, created_by=API_USER)

    assert {r.id for r in same_name} == {source.id, copy}
    assert [r.id for r in ours] == [copy]


def test_find_keeps_only_records_created_since_the_bound(zoho_connector):
    source = account(zoho_connector, "Globex").id
    early = clone(zoho_connector, "Accounts", source, Account_Name="Twin")
    time.sleep(1.05)  # Zoho keeps whole seconds
    bound = now()
    late = clone(zoho_connector, "Accounts", source, Account_Name="Twin")

    found = zoho_connector.find("Accounts", {"Account_Name": "Twin"}, created_since=bound)

    assert [r.id for r in found] == [late]
    assert early != late


def test_a_record_created_in_the_bounds_own_second_is_found(zoho_connector):
    source = account(zoho_connector, "Hooli").id
    while now().microsecond < 600_000:  # a bound late in its second
        time.sleep(0.05)
    bound = now()
    copy = clone(zoho_connector, "Accounts", source, Account_Name="Same second")
    assert [r.id for r in zoho_connector.find("Accounts", {"Account_Name": "Same second"}, created_since=bound)] == [
        copy
    ]


def test_find_by_creator_alone_lists_only_what_the_api_user_made(zoho_connector):
    assert zoho_connector.find("Accounts", {}, created_by=API_USER) == []
    copy = clone(zoho_connector, "Accounts", account(zoho_connector, "Acme Corp").id)
    found = zoho_connector.find("Accounts", {}, created_by=API_USER)
    assert [r.id for r in found] == [copy]
    assert found[0].created_by == API_USER and found[0].created is not None
    assert zoho_connector.find("Accounts", {}) == []  # no condition at all: nothing is asked


def test_find_values_stay_literal_beside_the_bounds(zoho_connector):
    hostile = "x' or Created_By != '0"
    assert zoho_connector.find("Accounts", {"Account_Name": hostile}, created_since=DEMO_TIME) == []
    assert zoho_connector.find("Accounts", {}, created_by=hostile) == []


def test_notes_are_filtered_by_creator_and_time_here(fresh_sandbox, zoho_connector):
    parent = account(zoho_connector, "Umbrella Health").id
    demo_notes = zoho_connector.find("Notes", {"Parent_Id": parent})
    bound = now()
    [note] = zoho_connector.create("Notes", [{"Note_Title": "mine", "Note_Content": "c", "Parent_Id": {"id": parent}}])

    mine = zoho_connector.find("Notes", {"Parent_Id": parent}, created_by=API_USER)
    recent = zoho_connector.find("Notes", {"Parent_Id": parent}, created_since=bound)
    later = zoho_connector.find("Notes", {"Parent_Id": parent}, created_since=now() + dt.timedelta(seconds=5))

    assert demo_notes and all(r.created_by == DATA_USER["id"] for r in demo_notes)
    assert [r.id for r in mine] == [r.id for r in recent] == [note.new_id]
    assert later == []
    assert not calls(fresh_sandbox, "/coql")  # Notes cannot be read with COQL


def test_stamps_reads_a_hundred_ids_a_call(fresh_sandbox, zoho_connector):
    ids = [r.id for r in zoho_connector.find("Contacts", {}, created_by=DATA_USER["id"])][: GET_IDS_MAX * 2 + 10]
    assert len(ids) == GET_IDS_MAX * 2 + 10
    fresh_sandbox.clear_log()

    found = zoho_connector.stamps("Contacts", [*ids, "5725767999999999999", "not-an-id"])

    assert set(found) == set(ids)
    reads = [e for e in calls(fresh_sandbox, "/crm/v7/Contacts?") if e.method == "GET"]
    assert len(reads) == 3 and all("ids=" in e.path for e in reads)
    record = found[ids[0]]
    assert record.name and record.created_by == DATA_USER["id"] and record.modified is not None


def test_stamps_calls_are_made_at_once_up_to_the_profiles_concurrency(fresh_sandbox):
    """Each call of 100 ids needs nothing from another: an undo's check of 100,000 copies makes
    1,000 of them, so they overlap as Vault's batched reads do (measured where Zoho limits them)."""
    conn = make_zoho_connector(fresh_sandbox, concurrency=3)
    ids = [r.id for r in conn.find("Contacts", {}, created_by=DATA_USER["id"])][: GET_IDS_MAX * 3 + 10]
    fresh_sandbox.faults("zoho").set(latency=0.05)
    fresh_sandbox.in_flight("zoho").reset_peak()
    fresh_sandbox.clear_log()

    found = conn.stamps("Contacts", ids)

    assert set(found) == set(ids)
    reads = [e for e in calls(fresh_sandbox, "/crm/v7/Contacts?") if e.method == "GET"]
    assert len(reads) == 4  # each id asked once
    assert fresh_sandbox.in_flight("zoho").peak == 3


def test_stamps_of_notes_read_them_as_records(zoho_connector):
    parent = account(zoho_connector, "Stark Industries").id
    [note] = zoho_connector.create("Notes", [{"Note_Title": "n", "Note_Content": "c", "Parent_Id": {"id": parent}}])
    found = zoho_connector.stamps("Notes", [note.new_id])
    assert found[note.new_id].created_by == API_USER


def test_api_user_id_is_the_current_user_read_once(fresh_sandbox, zoho_connector):
    assert zoho_connector.api_user_id() == API_USER
    assert zoho_connector.api_user_id() == API_USER
    [call] = calls(fresh_sandbox, "/crm/v7/users")
    assert call.path == "/crm/v7/users?type=CurrentUser"


def test_clock_offset_is_zero_before_any_answer_then_follows_the_date_header(fresh_sandbox):
    conn = make_zoho_connector(fresh_sandbox)
    assert conn.clock_offset() == dt.timedelta(0)
    conn.test_connection()
    assert abs(conn.clock_offset()) < dt.timedelta(seconds=2)

    fresh_sandbox.set_clock_skew(90, "zoho")
    conn.list_objects()
    conn.describe("Accounts")

    assert abs(conn.clock_offset() - dt.timedelta(seconds=90)) < dt.timedelta(seconds=2)


def test_a_skewed_org_stamps_its_records_on_its_own_clock(fresh_sandbox, zoho_connector):
    fresh_sandbox.set_clock_skew(-600, "zoho")
    copy = clone(zoho_connector, "Accounts", account(zoho_connector, "Soylent Foods").id)
    created = zoho_connector.get("Accounts", copy).created
    remote_now = now() + zoho_connector.clock_offset()

    assert abs(created - remote_now) < dt.timedelta(seconds=3)
    # Found with a bound on the org's clock; missed with one on ours.
    assert zoho_connector.find("Accounts", {}, created_since=remote_now - dt.timedelta(seconds=5), created_by=API_USER)
    assert zoho_connector.find("Accounts", {}, created_since=now() - dt.timedelta(seconds=5)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-06T07:33:04+05:30", dt.datetime(2026, 12, 6, 2, 3, 4, tzinfo=dt.UTC)),
        ("2026-12-06T02:03:04Z", dt.datetime(2026, 12, 6, 2, 3, 4, tzinfo=dt.UTC)),
        ("2026-12-06", dt.datetime(2026, 12, 6, tzinfo=dt.UTC)),
        ("soon", None),
        ("", None),
        (None, None),
        ({"id": "1"}, None),
    ],
)
def test_datetimes_parse_to_utc_or_none(value, expected):
    assert zp.parse_datetime(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"name": "A", "id": "57"}, "57"), ("57", "57"), ({"name": "A"}, ""), (None, ""), (False, "")],
)
def test_lookup_ids(value, expected):
    assert zp.lookup_id(value) == expected


def test_the_coql_datetime_literal_is_utc_floored_to_the_second():
    value = dt.datetime(2026, 12, 6, 7, 33, 4, 999999, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert zp.coql_datetime(value) == "'2026-12-06T02:03:04+00:00'"
