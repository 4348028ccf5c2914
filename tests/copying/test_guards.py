"""The preview says, per object of the plan, which guard finds a copy whose create answer was lost:
its copy key, or its name, parent and creation time; read from the describes the plan stored, with
no remote call of its own. Against the sandbox over HTTP."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from records.copying import guards
from tests.fixtures.sandbox import find_record, small_account
from tests.fixtures.web import put_draft

pytestmark = pytest.mark.django_db


def rows(body):
    """{object: guard} from the page's guards table."""
    table = body.split('id="plan-guards"', 1)[1].split("</table>", 1)[0]
    return {
        part.split('"', 1)[0]: part.split('data-guard="', 1)[1].split('"', 1)[0]
        for part in table.split('data-object="')[1:]
    }


def preview(client, profile, object_name, ids, mode):
    put_draft(client, profile, object_name, ids, mode=mode)
    response = client.get(reverse("copy_preview", args=["d1"]))
    assert response.status_code == 200
    return response.content.decode()


def test_every_object_of_a_vault_deep_copy_is_guarded_by_its_copy_key(owner_client, vault):
    sb, profile, conn = vault
    body = preview(owner_client, profile, "product__v", [find_record(conn, "product__v", "Cardiostat")], "deep_copy")
    assert rows(body) == {"product__v": "copy key", "formulation__c": "copy key", "packaging__c": "copy key"}
    assert escape(guards.MEANING[guards.COPY_KEY]) in body
    assert 'id="plan-guards-hint"' not in body


def test_an_object_without_a_copy_key_is_guarded_by_its_values(owner_client, zoho):
    sb, profile, conn = zoho
    body = preview(owner_client, profile, "Accounts", [small_account(conn)], "deep_copy")
    found = rows(body)
    assert found["Accounts"] == "copy key" and found["Contacts"] == "copy key"
    assert found["Notes"] == guards.VALUES  # the demo's Notes have no Copy_Key
    assert escape(guards.MEANING[guards.VALUES]) in body
    assert reverse("profile_copy_keys", args=[profile.code]) in body  # where to add one


def test_the_guards_come_from_the_stored_plan_without_a_remote_call(owner_client, zoho):
    sb, profile, conn = zoho
    preview(owner_client, profile, "Accounts", [small_account(conn)], "clone")  # reads the plan
    sb.zoho.state.modules["Accounts"].fields[:] = [
        f for f in sb.zoho.state.modules["Accounts"].fields if f["api_name"] != "Copy_Key"
    ]  # changed after the plan was read: the page still shows what the plan read
    before = len(sb.log("zoho"))
    body = owner_client.get(reverse("copy_preview", args=["d1"])).content.decode()
    assert rows(body) == {"Accounts": "copy key"}
    assert len(sb.log("zoho")) == before


def test_a_field_added_before_the_preview_is_the_guard(owner_client, vault):
    sb, profile, conn = vault
    conn.add_copy_key("country__v")
    country = sb.vault.state.records["country__v"]
    body = preview(owner_client, profile, "country__v", [next(iter(country))], "clone")
    assert rows(body) == {"country__v": "copy key"}


def test_in_a_vault_without_copy_keys_every_object_is_guarded_by_its_values(
    owner_client, fresh_bare_sandbox, bare_vault_profile
):
    from records.connectors import connector_for

    conn = connector_for(bare_vault_profile)
    body = preview(
        owner_client, bare_vault_profile, "product__v", [find_record(conn, "product__v", "Cardiostat")], "deep_copy"
    )
    assert set(rows(body).values()) == {guards.VALUES}
    assert set(rows(body)) == {"product__v", "formulation__c", "packaging__c"}
    assert 'id="plan-guards-hint"' in body
