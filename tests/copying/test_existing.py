"""Re-runs of a copy into another profile: the records already in the target, found through the job
ledger first, then by the match key (a child only under its parent's existing copy; a key value
naming several records names none), the default choice per kind of copy, and the new job's rows
marked skipped or to update. Two MemoryConnectors stand for the source and the target org."""

from dataclasses import replace

import pytest

from records.connectors.base import FieldInfo, FieldType
from records.connectors.errors import Rejected
from records.copying import existing
from records.copying.matching import match_key
from records.copying.options import CopyOptions
from records.copying.preview import plan_copy
from records.copying.tree import Plan
from records.models import ConnectionProfile, CopyJob, RecordResult
from tests.fixtures.engine import ZOHO_FIELDS, MemoryConnector, copy_request

pytestmark = pytest.mark.django_db
DEEP, CLONE = CopyJob.Mode.DEEP_COPY, CopyJob.Mode.CLONE
SECRETS = {"secret": "s", "refresh_token": "r"}  # the target's links are built by its connector


@pytest.fixture
def profiles(owner):
    def make(name):
        return ConnectionProfile.objects.create(
            name=name, system="zoho", base_url="https://www.zohoapis.eu", username="x", owner=owner, **SECRETS
        )

    return make("Source"), make("Target")


@pytest.fixture
def source():
    conn = MemoryConnector()
    acme = conn.add("Accounts", Account_Name="Acme", Phone="1")
    for i in range(3):
        conn.add("Contacts", Last_Name=f"C{i}", Account_Name={"id": acme})
    conn.root = acme
    return conn


@pytest.fixture
def target():
    conn = MemoryConnector()
    conn.match_by_name = True  # as Zoho: records are told apart by their name there
    return conn


def cross_request(profiles, ids, mode=DEEP, **options):
    source_profile, target_profile = profiles
    return copy_request(source_profile, "Accounts", ids, mode, target=target_profile, options=CopyOptions(**options))


def found_existing(profiles, source, target, **options):
    request = cross_request(profiles, [source.root], **options)
    # The trees, read in the source as a copy within it (which takes no choice about a target).
    within = replace(
        request, target=None, options=replace(request.options, match={}, unmatched={}, existing="", user_map={})
    )
    _, trees = plan_copy(request=within, connector=source)
    plan = Plan("Accounts", DEEP, [source.root])
    existing.plan_existing(plan=plan, trees=trees, request=request, source=source, target=target)
    return plan.cross["existing"]


def earlier_job(profiles, owner, rows):
    source_profile, target_profile = profiles
    job = CopyJob.objects.create(
        profile=source_profile, target_profile=target_profile, object_name="Accounts", mode=DEEP, requested_by=owner
    )
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name=o, source_id=s, new_id=n, status=RecordResult.Status.SUCCEEDED)
        for o, s, n in rows
    )
    return job


def contact(source, name):
    return next(rid for rid, v in source.data["Contacts"].items() if v["Last_Name"] == name)


def test_default_choice_per_kind_of_copy(profiles):
    source_profile, _ = profiles
    assert existing.policy(request=copy_request(source_profile, "Accounts", ["1"], DEEP)) == "create"  # in-system
    assert existing.policy(request=cross_request(profiles, ["1"], CLONE)) == "create"  # one clone
    assert existing.policy(request=cross_request(profiles, ["1", "2"], CLONE)) == "skip"  # a bulk clone
    assert existing.policy(request=cross_request(profiles, ["1"], DEEP)) == "skip"
    assert existing.policy(request=cross_request(profiles, [], CLONE, source_filter="(a:equals:b)")) == "skip"
    assert existing.policy(request=cross_request(profiles, ["1"], DEEP, existing="update")) == "update"


def test_ledger_first_then_key_a_child_only_under_its_parents_copy(profiles, source, target, owner):
    copied = target.add("Accounts", Account_Name="Acme")
    target.add("Accounts", Account_Name="Acme")  # by name alone Acme is ambiguous: the ledger decides
    c0 = target.add("Contacts", Last_Name="C0", Account_Name={"id": copied})
    target.add("Contacts", Last_Name="C1", Account_Name={"id": "elsewhere"})  # not under Acme's copy
    earlier_job(profiles, owner, [("Accounts", source.root, copied)])
    found = found_existing(profiles, source, target)
    assert found["found"] == {"Accounts": {source.root: copied}, "Contacts": {contact(source, "C0"): c0}}
    assert (found["ledger"], found["key"], found["policy"]) == (1, 1, "skip")


def test_ledger_copy_deleted_since_is_not_there(profiles, source, target, owner):
    earlier_job(profiles, owner, [("Accounts", source.root, "4040404")])  # no longer in the target
    found = found_existing(profiles, source, target)
    assert found["found"] == {} and found["ledger"] == 0


def test_newest_ledger_row_wins_and_other_profiles_ledgers_do_not_count(profiles, source, target, owner):
    old = target.add("Accounts", Account_Name="Acme old")
    new = target.add("Accounts", Account_Name="Acme new")
    earlier_job(profiles, owner, [("Accounts", source.root, old)])
    earlier_job(profiles, owner, [("Accounts", source.root, new)])
    other = ConnectionProfile.objects.create(
        name="Other", system="zoho", base_url="https://www.zohoapis.eu", username="x", owner=owner
    )
    earlier_job((profiles[0], other), owner, [("Accounts", source.root, old)])
    assert found_existing(profiles, source, target)["found"]["Accounts"] == {source.root: new}


def test_a_key_value_naming_several_records_names_none(profiles, source, target):
    target.add("Accounts", Account_Name="Acme")
    target.add("Accounts", Account_Name="Acme")
    assert found_existing(profiles, source, target)["found"] == {}


def test_match_key_chosen_by_the_user(profiles, source, target):
    target.match_by_name = False  # names alone don't identify records here
    assert found_existing(profiles, source, target)["found"] == {}
    phone = target.add("Accounts", Account_Name="Acme Inc", Phone="1")
    assert found_existing(profiles, source, target, match={"Accounts": "Phone"})["found"] == {
        "Accounts": {source.root: phone}
    }


def test_create_looks_for_nothing(profiles, source, target):
    target.add("Accounts", Account_Name="Acme")
    found = found_existing(profiles, source, target, existing="create")
    assert found == {"policy": "create", "found": {}, "ledger": 0, "key": 0}
    assert target.calls == []


@pytest.mark.parametrize("choice", ["skip", "update"])
def test_new_jobs_rows_marked_before_they_are_saved(profiles, owner, choice):
    source_profile, target_profile = profiles
    job = CopyJob.objects.create(
        profile=source_profile,
        target_profile=target_profile,
        object_name="Accounts",
        mode=DEEP,
        requested_by=owner,
        plan={"cross": {"existing": {"policy": choice, "found": {"Accounts": {"1": "7001"}}}}},
    )
    rows = [RecordResult(job=job, object_name="Accounts", source_id=s) for s in ("1", "2")]
    existing.apply_to_rows(job=job, rows=rows)
    found, new = rows
    assert found.new_id == "7001" and "7001" in found.link
    if choice == "skip":
        assert (found.status, found.action) == (RecordResult.Status.SUCCEEDED, RecordResult.Action.SKIP)
    else:
        assert (found.status, found.action) == (RecordResult.Status.PENDING, RecordResult.Action.UPDATE)
    assert (new.status, new.action, new.new_id) == (RecordResult.Status.PENDING, RecordResult.Action.CREATE, "")


class CountingTarget(MemoryConnector):
    """The target org, counting look-ups by value per object; Contacts can't be looked up (as Zoho's Notes)."""

    def __init__(self):
        super().__init__()
        self.match_by_name = True
        self.looked_up = []

    def match_ids(self, object_name, field, values):
        self.looked_up.append(object_name)
        if object_name == "Contacts":
            raise Rejected("Contacts can only be looked up by their parent record.", error_type="NOT_SUPPORTED")
        return super().match_ids(object_name, field, values)


def test_children_looked_up_only_under_a_found_parent_and_unsearchable_ones_are_not_there(profiles, source):
    target = CountingTarget()
    assert found_existing(profiles, source, target)["found"] == {}
    assert target.looked_up == ["Accounts"]  # Acme isn't there: its contacts can't be either
    target.add("Accounts", Account_Name="Acme")
    found = found_existing(profiles, source, target)
    assert list(found["found"]) == ["Accounts"] and target.looked_up[-2:] == ["Accounts", "Contacts"]


def test_a_name_the_system_numbers_is_no_match_key(profiles, source):
    """Vault numbers some names itself (FOR-000001): the same name in another vault is another record."""
    numbered = FieldInfo("Account_Name", "Name", FieldType.TEXT, unique=True, system_managed_name=True)
    fields = {**ZOHO_FIELDS, "Accounts": [numbered, *ZOHO_FIELDS["Accounts"][2:]]}
    target = MemoryConnector(fields=fields)
    target.add("Accounts", Account_Name="Acme")
    assert match_key(target=target, object_name="Accounts") is None
    assert found_existing(profiles, source, target)["found"] == {}
