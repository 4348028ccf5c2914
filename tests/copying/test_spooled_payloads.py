"""A gathered bulk job's payloads kept in a temporary file: read back as they were put, streamed
without being kept, and one asked for by key kept with its changes (what "make unique" relies on)."""

import datetime as dt

import pytest

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


def test_a_spooled_payload_is_read_afresh_at_each_peek_and_popped_from_the_file():
    spool = spooled([(1, {"Name": "A"}), (2, {"Name": "B"}), (3, {"Name": "C"})])
    first = spool.peek(2)
    first["Name"] = "changed, not kept"
    assert spool.peek(2) == {"Name": "B"} and spool.peek(2) is not spool.peek(2)
    assert spool.pop(2) == {"Name": "B"}
    assert list(spool) == [1, 3] and len(spool) == 2 and 2 not in spool
    with pytest.raises(KeyError):
        spool.peek(2)
    spool.close()


def test_a_payload_set_by_key_is_held_in_memory_peeked_popped_and_iterated_as_a_spooled_one():
    spool = spooled([(1, {"Name": "A"})])
    held = {"Name": "Z", "Due": dt.date(2026, 12, 6)}
    spool[7] = held  # set by key: held only, never written to the file
    assert spool.peek(7) is held and spool[7] is held
    assert list(spool) == [1, 7] and len(spool) == 2
    assert list(spool.stream([7, 1])) == [held, {"Name": "A"}]
    assert dict(spool) == {1: {"Name": "A"}, 7: held}
    spool.put(7, {"Name": "spooled again"})  # put: the file's copy is the one read from now on
    assert spool.peek(7) == {"Name": "spooled again"} and spool.peek(7) is not spool.peek(7)
    spool[7] = held
    assert spool.pop(7) is held
    assert list(spool) == [1] and len(spool) == 1
    with pytest.raises(KeyError):
        spool.peek(7)
    spool.close()
