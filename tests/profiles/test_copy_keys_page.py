"""The profile's "Copy keys" page: everyone who may use the profile sees which objects have a
copy-key field; staff who may change profiles pick objects, see what will be created, confirm.
Against the sandbox over HTTP."""

import pytest
from django.urls import reverse

from records.models import AuditEvent

pytestmark = pytest.mark.django_db


def page(profile):
    return reverse("profile_copy_keys", args=[profile.code])


def country_fields(sb):
    return {f.name for f in sb.vault.state.schema["country__v"].fields}


def test_the_profile_list_links_to_it(owner_client, vault_profile):
    assert page(vault_profile) in owner_client.get(reverse("profile_list")).content.decode()


def test_a_business_user_sees_the_guards_but_no_form(fresh_sandbox, owner_client, vault_profile):
    response = owner_client.get(page(vault_profile))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-object="product__v"' in body and 'copy key <span class="mono">copy_key__c</span>' in body
    assert "name, parent and creation time" in body  # country__v has none
    assert 'name="object"' not in body and "Show what will be created" not in body
    assert "--add OBJECT" in body  # how staff add one


def test_a_business_user_cannot_add(fresh_sandbox, owner_client, vault_profile):
    response = owner_client.post(page(vault_profile), {"object": "country__v", "confirm": "1"})
    assert response.status_code == 403
    assert "copy_key__c" not in country_fields(fresh_sandbox)
    assert not AuditEvent.objects.filter(action="profile.copy_key_add").exists()


def test_someone_elses_profile_is_not_found(client, other_user, vault_profile):
    client.force_login(other_user)
    assert client.get(page(vault_profile)).status_code == 404


def test_staff_see_what_will_be_created_then_confirm(fresh_sandbox, client, profile_admin, vault_profile):
    client.force_login(profile_admin)
    body = client.get(page(vault_profile)).content.decode()
    assert body.count('name="object"') == 1 and 'value="country__v"' in body  # only the one without a key
    shown = client.post(page(vault_profile), {"object": "country__v"}).content.decode()
    assert 'id="copy-key-plan"' in shown
    for text in ("country__v", "copy_key__c", "Copy Key", "String", "100", "yes", "ALTER Object country__v"):
        assert text in shown
    assert "copy_key__c" not in country_fields(fresh_sandbox)  # nothing written by showing it
    done = client.post(page(vault_profile), {"object": "country__v", "confirm": "1"}, follow=True)
    assert "country__v: copy_key__c added." in done.content.decode()
    assert "copy_key__c" in country_fields(fresh_sandbox)
    event = AuditEvent.objects.get(action="profile.copy_key_add")
    assert event.actor == profile_admin and event.details["object_name"] == "country__v" and event.details["ok"]
    assert 'name="object"' not in client.get(page(vault_profile)).content.decode()  # every object has one now


def test_staff_are_told_why_an_object_is_refused(fresh_sandbox, client, profile_admin, zoho_profile):
    client.force_login(profile_admin)
    body = client.post(page(zoho_profile), {"object": "Accounts"}).content.decode()
    assert "Accounts already has the copy-key field Copy_Key." in body
    assert 'id="copy-key-plan"' not in body


def test_the_filter_narrows_the_objects(fresh_sandbox, owner_client, zoho_profile):
    body = owner_client.get(page(zoho_profile), {"q": "note"}).content.decode()
    assert 'data-object="Notes"' in body and 'data-object="Accounts"' not in body
