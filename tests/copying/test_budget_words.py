"""The call budget in words: the preview's spend against what is left, the job page's lines."""

import datetime as dt

from records.copying.budget_words import job_budget, over_warning, plan_budget

AT = dt.datetime(2026, 1, 5, 10, 32, tzinfo=dt.UTC)


def _seen(kind, remaining, wait_until=None):
    until = wait_until.isoformat() if wait_until else None
    return {"kind": kind, "remaining": remaining, "limit": None, "checked_at": AT.isoformat(), "wait_until": until}


def test_zoho_credits_count_one_per_call_and_one_per_ten_inserted_records():
    facts = plan_budget(_seen("credits", 4800), calls=3, records=201)
    assert facts["spend"] == 21 and not facts["over"]
    assert (
        facts["line"]
        == "About 3 write calls (21 Zoho API credits); 4,800 Zoho API credits left today, as of 10:32 UTC."
    )
    assert over_warning(facts) == ""


def test_a_copy_spending_more_than_is_left_is_warned_about():
    facts = plan_budget(_seen("burst", 4), calls=12, records=12)
    assert facts["over"] and facts["line"].startswith("About 12 write calls; 4 calls left in this 5-minute window")
    assert "about 12 calls, more than the 4 left" in over_warning(facts)


def test_zoho_before_half_the_credits_are_used_says_so_and_no_budget_says_nothing():
    facts = plan_budget(_seen("credits", None), calls=1, records=1)
    assert not facts["over"] and facts["line"] == "About 1 write call; more than half of today's credits are left."
    assert plan_budget(None, calls=5, records=5) == {}


def test_the_job_page_says_until_when_only_while_an_unfinished_job_waits():
    until = AT + dt.timedelta(minutes=15)
    stored = _seen("credits", 50, wait_until=until)
    lines = job_budget(stored, resume_at=AT + dt.timedelta(minutes=5), active=True, waiting=True, now=AT)
    assert lines == {
        "left": "API budget: 50 Zoho API credits left today (as of 10:32 UTC).",
        "wait": "Waiting for the API budget until 10:47 UTC.",
    }
    later = job_budget(stored, resume_at=AT + dt.timedelta(minutes=30), active=True, waiting=True, now=AT)
    assert later["wait"] == "Waiting for the API budget until 11:02 UTC."  # the job resumes later still
    assert job_budget(stored, resume_at=None, active=False, waiting=False, now=AT)["wait"] == ""
    assert job_budget(stored, resume_at=None, active=True, waiting=False, now=until)["wait"] == ""  # past
    assert job_budget(None, resume_at=None, active=True, waiting=False, now=AT) == {"left": "", "wait": ""}


def test_levels_written_by_bulk_jobs_count_as_their_jobs():
    facts = plan_budget(_seen("credits", 4800), calls=1, records=1, jobs=1, job_cost=503)
    assert facts["spend"] == 504 and facts["calls"] == 2
    assert facts["line"].startswith("About 2 write calls (504 Zoho API credits), 1 of them a bulk job;")
