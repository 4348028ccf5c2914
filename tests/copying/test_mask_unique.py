"""A unique masked field's stand-ins checked against the target in the plan (copying/mask_unique.py),
over HTTP into a second sandbox org: a stand-in a record there holds already is passed over."""

import json

import pytest

from records.masking import keys as masking_keys
from records.models import CopyJob
from tests.copying.test_masking import CONTACT_MASKS, EMAIL, a_contact, copy_across

pytestmark = pytest.mark.django_db


def test_a_standin_another_record_holds_in_the_target_gives_way_to_the_next(cross_zoho, owner):
    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    first = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone")
    held = target.sandbox.zoho.state.records["Contacts"][first.results.get().new_id]["Email"]
    # A second job copies the same contact anew ("create"): the target's record holds its stand-in.
    again = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone", existing="create")
    assert again.status == CopyJob.Status.SUCCEEDED, list(again.results.values("status", "error_message"))
    made = target.sandbox.zoho.state.records["Contacts"][again.results.get().new_id]["Email"]
    assert EMAIL.fullmatch(made) and made != held and made != contact["Email"]
    # The job keeps digests of the held stand-ins, never one of them.
    row = next(r for r in again.plan["masking"]["Contacts"] if r["field"] == "Email")
    assert row["held"] and held not in json.dumps(again.plan)


def test_the_same_sources_copy_that_is_skipped_keeps_its_standin(cross_zoho, owner):
    source, target = cross_zoho
    masking_keys.masking_policy_set(profile=target.profile, policy=CONTACT_MASKS, user=owner)
    target.profile.refresh_from_db()
    contact = a_contact(source.sandbox)
    first = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone")
    again = copy_across(cross_zoho, owner, "Contacts", [contact["id"]], "clone", existing="update")
    assert again.results.get().new_id == first.results.get().new_id
    assert not any(r.get("held") for r in again.plan["masking"]["Contacts"])
