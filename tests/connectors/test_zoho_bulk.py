"""Zoho's Bulk Read and Bulk Write through the connector, against the sandbox over real HTTP
(docs/zoho-bulk-api.md): a level of 3,000 read in one job, 3,000 inserts mapped row by row to their
new ids, and a job that is never made twice."""

from collections.abc import Sequence

import pytest

from tests.fixtures.connectors import make_zoho_connector

LEVEL = 3000


class MemoryLedger:
    """A ledger as the engine keeps one: a job id per key, kept before the job is polled."""

    def __init__(self):
        self.ids = {}

    def job_id(self, key):
        return self.ids.get(key)

    def save(self, key, job_id):
        assert key not in self.ids, "a second job for one key"
        self.ids[key] = job_id


@pytest.fixture
def bulk_conn(fresh_sandbox):
    conn = make_zoho_connector(fresh_sandbox)
    conn.bulk.poll_seconds = 0.05
    conn.bulk.wait_seconds = 30
    return conn


def new_account(sb, name="Bulk Account"):
    with sb.zoho.state.lock:
        return sb.zoho.state.add("Accounts", {"Account_Name": name})["id"]


def contacts_of(sb, account):
    return [r for r in sb.zoho.state.records["Contacts"].values() if r.get("Account_Name") == account]


def rows_for(account, n=LEVEL):
    return [{"Copy_Key": f"key-{i}", "Last_Name": f"Bulk {i}", "Account_Name": {"id": account}} for i in range(n)]


def bulk_posts(sb, kind):
    return [e for e in sb.log("zoho") if e.method == "POST" and e.path.rstrip("/").endswith(f"/bulk/v7/{kind}")]


def test_a_level_of_3000_is_read_in_one_bulk_read_job(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    account = new_account(sb)
    with sb.zoho.state.lock:
        made = {
            sb.zoho.state.add("Contacts", {"Last_Name": f"C{i}", "Account_Name": account})["id"] for i in range(LEVEL)
        }
    before = sb.zoho.credits_used
    rows = list(bulk_conn.bulk_read("Contacts", ["Last_Name", "Account_Name"], field="Account_Name", values=[account]))
    assert {r["Id"] for r in rows} == made and len(rows) == LEVEL
    assert {r["Account_Name"] for r in rows} == {account}
    assert len(bulk_posts(sb, "read")) == 1
    # the job's credits (50, [UNCONFIRMED]) plus a credit a poll and the download: less than COQL's 2 x 3
    assert 50 < sb.zoho.credits_used - before < 60


def test_3000_inserts_in_one_bulk_write_job_each_row_mapped_to_its_id(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    account = new_account(sb)
    ledger = MemoryLedger()
    before = sb.zoho.credits_used
    out = bulk_conn.bulk_insert("Contacts", rows_for(account), ledger=ledger, ledger_key="job-1/Contacts/1")
    assert [r.row for r in out] == list(range(1, LEVEL + 1))
    assert all(r.record_id and not r.error and r.sent for r in out)
    for r in out[:: LEVEL // 30]:
        assert sb.zoho.state.get("Contacts", r.record_id)["Copy_Key"] == r.key
    assert len({r.record_id for r in out}) == LEVEL == len(contacts_of(sb, account))
    assert ledger.ids == {"job-1/Contacts/1": sb.zoho.bulk.write_jobs()[0]["id"]}
    assert 500 <= sb.zoho.credits_used - before < 520  # one job: 500 credits, not 300 for 3,000 inserts... of 10


def test_a_failed_row_comes_back_with_its_error(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=(("Contacts", "Last_Name", "X"),))
    account = new_account(sb)
    rows = rows_for(account, 3)
    rows[1]["Last_Name"] = "X"
    out = bulk_conn.bulk_insert("Contacts", rows, ledger=MemoryLedger(), ledger_key="k")
    assert [bool(r.record_id) for r in out] == [True, False, True]
    assert out[1].error == "INVALID_DATA-Last_Name" and out[1].key == "key-1"


def test_a_crash_after_the_job_was_made_resumes_that_job_never_a_second(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    account = new_account(sb)
    ledger = MemoryLedger()
    bulk_conn.bulk.submit("Contacts", rows_for(account), key_field="Copy_Key", ledger=ledger, ledger_key="k")
    # the worker dies here; another one, with a connector of its own, takes the level up again
    again = make_zoho_connector(sb)
    again.bulk.poll_seconds = 0.05
    out = again.bulk_insert("Contacts", rows_for(account), ledger=ledger, ledger_key="k")
    assert all(r.record_id for r in out) and len(out) == LEVEL
    assert len(bulk_posts(sb, "write")) == 1 and len(sb.zoho.bulk.write_jobs()) == 1
    assert len(contacts_of(sb, account)) == LEVEL


def test_a_lost_answer_to_the_job_creation_is_resumed_to_exactly_one_job(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    account = new_account(sb)
    sb.hooks("zoho").lose("POST", r"/crm/bulk/v\d+/write$", applied=True)
    ledger = MemoryLedger()
    out = bulk_conn.bulk_insert("Contacts", rows_for(account), ledger=ledger, ledger_key="k")
    # found again by copy key: each row once, under the one job the lost call made
    assert all(r.record_id and r.sent for r in out)
    assert len(sb.zoho.bulk.write_jobs()) == 1 and len(bulk_posts(sb, "write")) == 1
    contacts = contacts_of(sb, account)
    assert len(contacts) == LEVEL and len({c["Copy_Key"] for c in contacts}) == LEVEL
    assert {r.record_id for r in out} == {c["id"] for c in contacts}


def test_a_lost_create_that_made_no_job_gives_the_rows_back_unsent(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    account = new_account(sb)
    bulk_conn.bulk.wait_seconds = 1.0
    sb.hooks("zoho").lose("POST", r"/crm/bulk/v\d+/write$", applied=False)
    out = bulk_conn.bulk_insert("Contacts", rows_for(account, 20), ledger=MemoryLedger(), ledger_key="k")
    assert not any(r.sent or r.record_id for r in out)
    assert sb.zoho.bulk.write_jobs() == [] and contacts_of(sb, account) == []


def test_a_lost_job_that_refused_a_row_ends_its_wait_once_no_new_row_turns_up(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=(("Contacts", "Last_Name", "X"),))
    bulk_conn.bulk.quiet_seconds = 0.5
    account = new_account(sb)
    rows = rows_for(account, 3)
    rows[2]["Last_Name"] = "X"
    sb.hooks("zoho").lose("POST", r"/crm/bulk/v\d+/write$", applied=True)
    out = bulk_conn.bulk_insert("Contacts", rows, ledger=MemoryLedger(), ledger_key="k")
    assert [r.sent for r in out] == [True, True, False] and out[2].record_id == ""
    assert len(sb.zoho.bulk.write_jobs()) == 1 and len(contacts_of(sb, account)) == 2


def test_a_lost_upload_answer_is_uploaded_again_and_still_makes_one_job(fresh_sandbox, bulk_conn):
    sb = fresh_sandbox
    account = new_account(sb)
    sb.hooks("zoho").lose("POST", r"/crm/v\d+/upload$", applied=True)
    out = bulk_conn.bulk_insert("Contacts", rows_for(account, 50), ledger=MemoryLedger(), ledger_key="k")
    assert all(r.record_id for r in out)
    uploads = [e for e in sb.log("zoho") if e.method == "POST" and e.path.endswith("/upload")]
    assert len(uploads) == 2 and len(sb.zoho.bulk.write_jobs()) == 1 and len(contacts_of(sb, account)) == 50


class CountedRows(Sequence):
    """Rows as a caller streams them from its own file: each read counted, none kept."""

    def __init__(self, rows):
        self.rows, self.reads = rows, 0

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        row = self.rows[index]  # past the end: IndexError, the end of an iteration (not a read)
        self.reads += 1
        return row


def test_a_bulk_write_reads_its_rows_twice_so_a_caller_may_stream_them(fresh_sandbox, bulk_conn):
    """The job's keys, columns and lookup columns in one pass, the file in a second: rows streamed
    from a spool are read back twice, not once per column and once per key list."""
    sb = fresh_sandbox
    account = new_account(sb)
    rows = CountedRows(rows_for(account, 300))
    out = bulk_conn.bulk_insert("Contacts", rows, ledger=MemoryLedger(), ledger_key="job-1/Contacts/1")
    assert len(out) == 300 and all(r.record_id for r in out)
    assert rows.reads <= 2 * 300 + 1  # bulk_insert's look for the copy key reads the first row
    assert len(contacts_of(sb, account)) == 300  # the lookup column matched by id
    mappings = sb.zoho.bulk.write_jobs()[0]["resource"]["field_mappings"]
    assert {m["api_name"]: m.get("find_by") for m in mappings} == {
        "Copy_Key": None,
        "Last_Name": None,
        "Account_Name": "id",
    }
