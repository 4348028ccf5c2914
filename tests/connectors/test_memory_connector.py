"""The in-memory stand-in connector answers the provenance calls as the real connectors do: records
carry created/modified/created_by, the test's own data is another user's, find() takes the
creation bounds, stamps() reads many ids, api_user_id() and clock_offset() answer."""

import datetime as dt

from records.connectors.base import CloneRequest
from tests.fixtures.engine import MEMORY_API_USER, MEMORY_OTHER_USER, MemoryConnector


def test_added_records_are_another_users_and_writes_the_api_users(memory):
    [result] = memory.clone("Accounts", [CloneRequest(memory.root, {})])
    source, copy = memory.get("Accounts", memory.root), memory.get("Accounts", result.new_id)
    assert source.created_by == MEMORY_OTHER_USER and copy.created_by == MEMORY_API_USER == memory.api_user_id()
    assert source.created <= copy.created == copy.modified


def test_find_takes_the_creation_bounds(memory):
    bound = memory.now()
    [result] = memory.clone("Accounts", [CloneRequest(memory.root, {})])
    same_name = {"Account_Name": "Acme"}
    assert {r.id for r in memory.find("Accounts", same_name)} == {memory.root, result.new_id}
    assert [r.id for r in memory.find("Accounts", same_name, created_since=bound)] == [result.new_id]
    assert [r.id for r in memory.find("Accounts", {}, created_by=MEMORY_API_USER)] == [result.new_id]
    assert memory.find("Accounts", {}) == []


def test_stamps_edits_and_a_skewed_clock():
    conn = MemoryConnector()
    conn.skew = dt.timedelta(minutes=5)
    rid = conn.add("Accounts", Account_Name="A")
    created = conn.get("Accounts", rid).created
    conn.edit("Accounts", rid, Phone="2")
    [stamp] = conn.stamps("Accounts", [rid, "missing"]).values()
    assert stamp.modified >= created and stamp.fields["Phone"] == "2"
    assert conn.clock_offset() == dt.timedelta(minutes=5)
    assert created - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=4)
