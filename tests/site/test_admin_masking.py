"""The profile admin's masking: the policy shown read-only and edited as JSON, each rule checked
against the profile's metadata (over HTTP from the sandbox), changes audited, the key never shown."""

import json

import pytest
from django.urls import reverse

from records.masking import keys as masking_keys
from records.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def change(profile, policy):
    return {
        "name": profile.name,
        "system": profile.system,
        "base_url": profile.base_url,
        "accounts_url": profile.accounts_url,
        "api_version": profile.api_version,
        "username": profile.username,
        "concurrency": str(profile.concurrency),
        "owner": profile.owner_id,
        "lineage_fields": "{}",
        "masking_policy": json.dumps(policy),
    }


def test_the_policy_is_shown_edited_and_audited_and_the_key_never_shown(staff_client, fresh_sandbox, zoho_profile):
    url = reverse("admin:records_connectionprofile_change", args=[zoho_profile.pk])
    policy = {"Contacts": {"Email": "email", "Phone": "phone"}}
    response = staff_client.post(url, change(zoho_profile, policy))
    assert response.status_code == 302
    zoho_profile.refresh_from_db()
    assert zoho_profile.masking_policy == policy
    event = AuditEvent.objects.get(action="profile.masking_policy")
    assert event.details == {"before": {}, "after": policy}
    key = masking_keys.masking_key(zoho_profile)
    page = staff_client.get(url).content.decode()
    assert "&quot;Email&quot;: &quot;email&quot;" in page and "made " in page
    assert zoho_profile.masking_key not in page and key.hex() not in page


def test_a_rule_that_doesnt_fit_is_refused_on_the_form(staff_client, fresh_sandbox, zoho_profile):
    url = reverse("admin:records_connectionprofile_change", args=[zoho_profile.pk])
    response = staff_client.post(url, change(zoho_profile, {"Contacts": {"Account_Name": "name"}}))
    assert response.status_code == 200
    assert "reference to another record" in response.content.decode()
    zoho_profile.refresh_from_db()
    assert zoho_profile.masking_policy == {}
