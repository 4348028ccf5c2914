"""The preview's spend for a level written by Bulk Write: its job's credits, not its inserts; and a
copy into another org weighs a level's writes with the target profile's concurrency (sandbox over
HTTP)."""

import pytest

from records.copying.options import CopyOptions
from records.copying.preview import copy_preview
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db

LEVEL = 10_000  # at concurrency 1 Bulk Write (503 credits, ~16 s) beats 1,000 credits and ~20 s of inserts
ONLY_CONTACTS = CopyOptions(exclude=("Deals", "Tasks", "Notes"))


def account_with_contacts(sb, name="Bulk Account"):
    with sb.zoho.state.lock:
        account = sb.zoho.state.add("Accounts", {"Account_Name": name})["id"]
        for i in range(LEVEL):
            sb.zoho.state.add("Contacts", {"Last_Name": f"Bulk {i}", "Account_Name": account})
    return account


def with_concurrency(profile, n):
    profile.concurrency = n
    profile.save()
    return profile


def test_the_spend_counts_a_bulk_level_as_its_job(zoho):
    sb, profile, _ = zoho
    account = account_with_contacts(sb)
    request = copy_request(with_concurrency(profile, 1), "Accounts", [account], "deep_copy", options=ONLY_CONTACTS)
    plan = copy_preview(request=request)
    (level,) = plan.levels
    assert level["write"]["path"] == "bulk" and level["write"]["bulk_credits"] == 503
    # The account's insert (1 credit) and one job (500 + its 3 calls): not 1,001 credits of inserts.
    assert plan.budget["spend"] == 1 + 503 and plan.budget["calls"] == 2
    assert plan.budget["line"].startswith("About 2 write calls (504 Zoho API credits), 1 of them a bulk job")


def test_the_spend_of_ordinary_inserts_is_unchanged(zoho):
    sb, profile, _ = zoho
    account = account_with_contacts(sb)
    request = copy_request(with_concurrency(profile, 10), "Accounts", [account], "deep_copy", options=ONLY_CONTACTS)
    plan = copy_preview(request=request)
    (level,) = plan.levels
    assert level["write"]["path"] == "api"
    assert plan.budget["spend"] == 1 + LEVEL // 10 and plan.budget["calls"] == 1 + LEVEL // 100
    assert "bulk job" not in plan.budget["line"]


def test_without_a_copy_key_the_run_inserts_the_level_and_the_spend_says_so(bare_zoho):
    sb, profile, _ = bare_zoho
    account = account_with_contacts(sb)
    request = copy_request(with_concurrency(profile, 1), "Accounts", [account], "deep_copy", options=ONLY_CONTACTS)
    plan = copy_preview(request=request)
    assert plan.levels[0]["write"]["path"] == "bulk"  # the rule's choice; the run needs the key for it
    assert plan.budget["spend"] == 1 + LEVEL // 10 and "bulk job" not in plan.budget["line"]


def test_a_copy_into_another_org_weighs_the_writes_with_the_target_concurrency(cross_zoho):
    source, target = cross_zoho
    account = account_with_contacts(source.sandbox)
    with_concurrency(source.profile, 10)  # alone, its inserts would overlap ten at a time: inserts
    request = copy_request(
        source.profile,
        "Accounts",
        [account],
        "deep_copy",
        options=ONLY_CONTACTS,
        target=with_concurrency(target.profile, 1),
    )
    plan = copy_preview(request=request)
    assert not plan.refused_reason, plan.refused_reason
    (level,) = plan.levels
    assert level["write"]["path"] == "bulk" and level["read"]["path"] == "api"
    assert "1 of them a bulk job" in plan.budget["line"]
