"""The preview names records, objects and fields as a person knows them: a reference's record by
its name, the object a branch is reached through by its label, the samples' records and fields by
name and label, an unticked branch by its label; over the sandbox (real HTTP)."""

import pytest
from django.urls import reverse

from records.connectors import connector_for
from tests.fixtures.web import put_draft

pytestmark = pytest.mark.django_db


def _id_of(conn, object_name, name):
    return next(r.id for r in conn.search(object_name, name).records if r.name == name)


def test_a_changed_reference_reads_as_the_records_name(owner_client, zoho_profile, fresh_sandbox):
    conn = connector_for(zoho_profile)
    globex, acme = _id_of(conn, "Accounts", "Globex"), _id_of(conn, "Accounts", "Acme Corp")
    put_draft(
        owner_client, zoho_profile, "Accounts", [globex], overrides={"Account_Name": "G2", "Parent_Account": acme}
    )
    page = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()
    changed = page.split("<dt>Changed fields</dt>")[1].split("</dd>")[0]
    assert "Acme Corp" in changed and f"“{acme}”" not in changed


def test_the_plan_names_branches_samples_and_unticked_objects_by_label(owner_client, vault_profile, fresh_sandbox):
    conn = connector_for(vault_profile)
    owner_client.get(reverse("copy_objects", args=[vault_profile.code]))  # the object step keeps the labels
    src = _id_of(conn, "product__v", "Cardiostat")
    put_draft(
        owner_client,
        vault_profile,
        "product__v",
        [src],
        overrides={"name__v": "Cardiostat N"},
        options={"exclude": ["packaging__c"], "fields": {"formulation__c": {"strength__c": "{strength__c} v2"}}},
    )
    page = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()
    objects = page.split('id="plan-objects"')[1].split("</table>")[0]
    formulations = objects.split('data-object="formulation__c"')[1].split("</tr>")[0]
    assert "<td>product__v</td>" not in formulations and "Product" in formulations
    samples = page.split('id="copy-samples"')[1].split("</table>")[0]
    assert "Formulation" in samples and "Strength" in samples
    unticked = page.split('name="include" value="packaging__c"')[1].split("<br>")[0]
    assert "packaging__c</span>" in unticked and "> packaging__c <" not in unticked
