"""A gathered bulk job's payloads kept in a temporary file: read back as they were put, streamed
without being kept, and one asked for by key kept with its changes (what "make unique" relies on)."""

import datetime as dt

from records.copying.spooled_payloads import spooled


def test_payloads_come_back_as_they_were_put_values_keeping_their_types():
    payloads = {1: {"Name": "A", "Due": dt.date(2026, 12, 6), "Owner": {"id": "9"}}, 2: {"Name": "B", "Tags": ["x"]}}
    spool = spooled(payloads.items())
    assert dict(spool) == payloads and len(spool) == 2
    assert list(spool.stream([2, 1])) == [payloads[2], payloads[1]]
    assert spool.stream([1, 2])[1:][0] == payloads[2]
    spool.close()


def test_a_payload_asked_for_by_key_keeps_its_changes_and_a_streamed_one_is_read_again():
    spool = spooled([(1, {"Name": "A"}), (2, {"Name": "B"})])
    first = next(iter(spool.stream([1])))
    first["Name"] = "changed, not kept"
    assert spool[1] == {"Name": "A"}  # streamed: not kept
    spool[1]["Name"] = "A 2"  # numbered in place, as "make unique" does
    assert list(spool.stream([1, 2])) == [{"Name": "A 2"}, {"Name": "B"}]
    spool.close()
