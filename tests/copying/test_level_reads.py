"""A level of the copy tree is read with its related lists overlapping, over real HTTP."""

import threading
import time

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
