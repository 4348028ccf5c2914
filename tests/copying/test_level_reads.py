"""A level of the copy tree is read with its related lists overlapping, over real HTTP."""

import threading
import time
import weakref
from collections import Counter

import pytest

from records.copying.tree import read_tree
from tests.fixtures.sandbox import find_record

COQL = r"^/crm/v\d+/coql$"


def _reads_after(sb, count: int) -> list:
    return [e for e in sb.log("zoho")[count:] if e.method == "GET" and "/settings/" not in e.path or "coql" in e.path]


@pytest.mark.django_db(transaction=True)  # threads need rows they can see (no test transaction)
def test_other_related_lists_are_read_while_one_is_slow(zoho):
    sb, _profile, conn = zoho
    root = find_record(conn, "Accounts", "Acme Corp")
    alone = [(n.object_name, n.source_id, n.depth) for n in read_tree(conn, "Accounts", root)]
    before = len(sb.log("zoho"))
    hold = sb.hooks("zoho").hold("POST", COQL)  # the level's first COQL read: its answer held
    result: list = []
    reader = threading.Thread(target=lambda: result.append(read_tree(conn, "Accounts", root)))
    reader.start()
    try:
        assert hold.wait(10)
        deadline = time.monotonic() + 10
        while len(_reads_after(sb, before)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        others = _reads_after(sb, before)
    finally:
        hold.release()
        reader.join(30)
    assert len(others) >= 3, [e.path for e in others]  # the held read and others besides it
    # Handed back in the order asked: the same tree as read one list after another.
    assert [(n.object_name, n.source_id, n.depth) for n in result[0]] == alone


CONTACTS_INSERT = r"^/crm/v\d+/Contacts$"


@pytest.mark.django_db(transaction=True)
def test_the_modules_of_one_wave_are_inserted_at_once(zoho, owner):
    from records.models import CopyJob
    from tests.fixtures.engine import run_job, start_job

    sb, profile, conn = zoho
    root = find_record(conn, "Accounts", "Acme Corp")
    job = start_job(profile, owner, "Accounts", [root], "deep_copy", overrides={"Account_Name": "Acme Overlap"})
    before = len(sb.log("zoho"))
    hold = sb.hooks("zoho").hold("POST", CONTACTS_INSERT)  # the contacts' insert answered late
    done: list = []
    runner = threading.Thread(target=lambda: done.append(run_job(job)))
    runner.start()
    try:
        assert hold.wait(20)
        deadline = time.monotonic() + 10
        others: list = []
        while not others and time.monotonic() < deadline:
            time.sleep(0.05)
            others = [
                e for e in sb.log("zoho")[before:] if e.method == "POST" and e.path.endswith(("/Deals", "/Notes"))
            ]
    finally:
        hold.release()
        runner.join(60)
    assert others, "another module of the wave waited for the contacts' insert"
    assert done[0].status == CopyJob.Status.SUCCEEDED, done[0].error_summary
    assert done[0].results.filter(new_id="").count() == 0  # every record copied once, each recorded


class _AliveCount:
    """The records a connector handed out that are still alive (each counted until garbage), and
    the most alive at once: a delegating connector, the reads themselves real HTTP."""

    def __init__(self, conn):
        self.conn, self.alive, self.most = conn, 0, 0
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.conn, name)

    def children(self, related, parent_ids):
        for record in self.conn.children(related, parent_ids):
            with self.lock:
                self.alive += 1
                self.most = max(self.most, self.alive)
            weakref.finalize(record, self._gone)
            yield record

    def _gone(self):
        with self.lock:
            self.alive -= 1


@pytest.mark.django_db(transaction=True)  # threads need rows they can see (no test transaction)
def test_a_level_read_in_threads_holds_no_more_records_than_each_list_may_read_ahead(zoho, settings):
    from records.copying.options import CopyOptions
    from records.copying.plan_compact import compactor

    _sb, _profile, conn = zoho
    root = find_record(conn, "Accounts", "Huge Account")
    alone = [(n.object_name, n.source_id, n.depth) for n in read_tree(conn, "Accounts", root)]
    settings.LEVEL_READ_AHEAD_RECORDS = 40
    counted = _AliveCount(conn)
    # Each record kept compacted, as a plan stored in pieces keeps it (plan_pieces.PieceWriter).
    nodes = read_tree(counted, "Accounts", root, keep=compactor(conn, CopyOptions()))
    assert [(n.object_name, n.source_id, n.depth) for n in nodes] == alone  # the same tree, in order
    largest = max(Counter((n.object_name, n.depth, n.parent_field) for n in nodes).values())
    assert largest > 200  # a list far larger than what may be held
    # At most the profile's concurrency of lists read ahead, each holding its share, and the record
    # being kept; every record was handed over and let go.
    assert counted.most <= conn.config.concurrency * 40 + 1, counted.most
    assert counted.alive == 0


@pytest.mark.django_db(transaction=True)
def test_a_read_stopped_at_the_limit_leaves_no_list_reader_waiting(zoho, settings):
    from records.copying.tree import TooLarge

    _sb, _profile, conn = zoho
    root = find_record(conn, "Accounts", "Huge Account")
    settings.LEVEL_READ_AHEAD_RECORDS = 40
    before = set(threading.enumerate())
    with pytest.raises(TooLarge) as stopped:
        read_tree(conn, "Accounts", root, limit=50)
    assert len(stopped.value.nodes) == 52  # the top, the 50 allowed and the one past the limit
    # The exception (and its traceback) still held: the lists read ahead ended all the same.
    readers = [t for t in threading.enumerate() if t not in before and t.name.startswith("ThreadPoolExecutor")]
    assert readers == []
