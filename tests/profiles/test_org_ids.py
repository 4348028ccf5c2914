"""A profile learns the id of the org or vault it reaches (Zoho's Organization API, Vault's login
`vaultId`) over HTTP, at the connection test or a copy into another profile's plan, and keeps it;
the ids the app knows are scoped by it: two Zoho orgs of one data centre (the same base URL) are
two scopes once both profiles know their org, one while either doesn't."""

import pytest

from records.copying.known import known_ids, same_org
from records.models import ConnectionProfile, CopyJob, RecordResult
from records.profiles.services import profile_test, profile_update
from sandbox import demo, target_org
from sandbox.zoho_state import ORG
from tests.fixtures.cross import copy_across
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
OTHER_ORG = "7001234000000000101"


def zoho_twin(sandbox, owner, name):
    """Another profile in the same data centre: the same API domain as `zoho_profile`."""
    return ConnectionProfile.objects.create(name=name, **demo.profile_values("zoho", sandbox.zoho_url), owner=owner)


def created_copy(owner, profile, new_id):
    job = CopyJob.objects.create(
        profile=profile,
        object_name="Accounts",
        mode=CopyJob.Mode.CLONE,
        requested_by=owner,
        status=CopyJob.Status.SUCCEEDED,
        source_ids=["111"],
    )
    RecordResult.objects.create(
        job=job, object_name="Accounts", source_id="111", new_id=new_id, status=RecordResult.Status.SUCCEEDED
    )
    return job


def test_the_connection_test_stores_each_zoho_orgs_id(zoho_profile, zoho_target_profile, fresh_sandbox, owner):
    assert profile_test(profile=zoho_profile, actor=owner)[0]
    assert profile_test(profile=zoho_target_profile, actor=owner)[0]
    zoho_profile.refresh_from_db()
    zoho_target_profile.refresh_from_db()
    assert zoho_profile.org_id == ORG["id"]
    assert zoho_target_profile.org_id == target_org.ZOHO_ORG_IDS["id"] != ORG["id"]


def test_zoho_orgs_of_one_data_centre_with_other_org_ids_are_other_scopes(zoho_profile, fresh_sandbox, owner):
    other = zoho_twin(fresh_sandbox, owner, "Other org, same data centre")
    untested = zoho_twin(fresh_sandbox, owner, "Not tested yet")
    assert profile_test(profile=zoho_profile, actor=owner)[0]
    fresh_sandbox.hooks("zoho").answer("GET", r"/org$", {"org": [{**ORG, "id": OTHER_ORG}]})
    assert profile_test(profile=other, actor=owner)[0]
    other.refresh_from_db()
    assert other.org_id == OTHER_ORG
    job = created_copy(owner, zoho_profile, "5725767000000999001")
    assert set(known_ids(["5725767000000999001"], org=zoho_profile.pk)) == {"5725767000000999001"}
    assert known_ids(["5725767000000999001"], org=other.pk) == {}  # another org: not its copy
    # A profile that doesn't know its org yet shares the data centre's scope (kept, never taken).
    assert known_ids(["5725767000000999001"], org=untested.pk)["5725767000000999001"].job_id == job.pk
    assert set(same_org(untested.pk)) == {zoho_profile.pk, other.pk, untested.pk}


def test_new_credentials_forget_the_org_id(zoho_profile, fresh_sandbox, owner):
    assert profile_test(profile=zoho_profile, actor=owner)[0]
    zoho_profile.refresh_from_db()
    assert zoho_profile.org_id
    profile_update(profile=zoho_profile, actor=owner, refresh_token="1000.another.refresh.token")
    zoho_profile.refresh_from_db()
    assert zoho_profile.org_id == ""


def test_a_copy_into_another_vault_learns_both_vault_ids(cross_vault, owner):
    source, target = cross_vault
    src = find_record(source.connector, "product__v", "Dermacalm")
    copy_across(cross_vault, owner, "product__v", [src], "clone")
    source.profile.refresh_from_db()
    target.profile.refresh_from_db()
    assert (source.profile.org_id, target.profile.org_id) == (str(demo.VAULT_ID), str(target_org.VAULT_ID))
