"""A Zoho deep copy whose level holds thousands of records: the plan chooses Bulk Write where it
costs fewer credits and less time, the run makes exactly one job and maps every row to its copy,
and a run stopped after the job was made finds that job again by its stored id (sandbox over HTTP)."""

import pytest

from records.copying.job_actions import jobs_resume_stale
from records.models import CopyJob
from tests.fixtures.engine import assert_each_record_copied_once, copy_now, run_job, start_job

pytestmark = pytest.mark.django_db(transaction=True)

LEVEL = 10_000  # at concurrency 1: 1,000 credits and ~20 s of inserts against 503 credits, ~16 s
ONLY_CONTACTS = {"exclude": ("Deals", "Tasks", "Notes")}


@pytest.fixture
def big_account(zoho):
    sb, profile, conn = zoho
    profile.concurrency = 1
    profile.save()
    sb.zoho.settings = sb.zoho.settings.updated(bulk_job_delay=0.1)
    with sb.zoho.state.lock:
        account = sb.zoho.state.add("Accounts", {"Account_Name": "Bulk Account"})["id"]
        for i in range(LEVEL):
            sb.zoho.state.add("Contacts", {"Last_Name": f"Bulk {i}", "Account_Name": account})
    return sb, profile, account


def options():
    from records.copying.options import CopyOptions

    return CopyOptions(exclude=ONLY_CONTACTS["exclude"])


def copies_of(sb, account_name):
    accounts = [a for a in sb.zoho.state.records["Accounts"].values() if a["Account_Name"] == account_name]
    assert len(accounts) == 1
    return [c for c in sb.zoho.state.records["Contacts"].values() if c.get("Account_Name") == accounts[0]["id"]]


def test_a_level_of_10000_is_written_by_one_bulk_write_job(big_account, owner):
    sb, profile, account = big_account
    job = copy_now(
        profile, owner, "Accounts", [account], "deep_copy", overrides={"Account_Name": "Bulk Copy"}, options=options()
    )
    (level,) = job.plan["levels"]
    assert level["object"] == "Contacts" and level["write"]["path"] == "bulk", level
    assert_each_record_copied_once(job)
    assert len(sb.zoho.bulk.write_jobs()) == 1 and list(job.state["bulk_jobs"].values()) == [
        sb.zoho.bulk.write_jobs()[0]["id"]
    ]
    copies = copies_of(sb, "Bulk Copy")
    assert len(copies) == LEVEL
    rows = dict(job.results.filter(object_name="Contacts").values_list("idempotency_key", "new_id"))
    assert {c["Copy_Key"]: c["id"] for c in copies} == rows


def test_a_run_stopped_after_the_job_was_made_finds_it_again_by_its_id(big_account, owner):
    sb, profile, account = big_account
    # Every status poll's answer is lost: the run stops (waiting) after the job was made and stored.
    sb.hooks("zoho").lose("GET", r"/crm/bulk/v\d+/write/\d+$", applied=True, times=1000)
    job = start_job(
        profile, owner, "Accounts", [account], "deep_copy", overrides={"Account_Name": "Bulk Copy"}, options=options()
    )
    job = run_job(job, worker="first")
    assert job.status == CopyJob.Status.WAITING, (job.status, job.error_summary)
    assert len(job.state["bulk_jobs"]) == 1
    sb.hooks("zoho").clear()
    assert [j.pk for j in jobs_resume_stale(now=job.resume_at)] == [job.pk]
    job = run_job(job, worker="second")
    assert_each_record_copied_once(job)
    assert len(sb.zoho.bulk.write_jobs()) == 1 and len(copies_of(sb, "Bulk Copy")) == LEVEL
