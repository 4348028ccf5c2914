"""Suggestions (records/masking/suggest.py) on the demo schemas, described over HTTP from the
sandbox: personal fields by type (Zoho email, phone) and by name; none on things."""

import pytest

from records.masking.suggest import suggest


@pytest.mark.django_db
def test_zoho_contacts_suggestions_by_type_and_by_name(zoho):
    conn = zoho.connector
    found = suggest(object_name="Contacts", fields=conn.describe("Contacts"), key_field="Copy_Key")
    assert found == {
        "First_Name": "name",
        "Last_Name": "name",
        "Email": "email",
        "Phone": "phone",
        "Mailing_City": "address",
        "Date_of_Birth": "date",
    }


@pytest.mark.django_db
def test_zoho_accounts_suggest_the_phone_and_not_the_company_or_its_figures(zoho):
    found = suggest(object_name="Accounts", fields=zoho.connector.describe("Accounts"), key_field="Copy_Key")
    assert found == {"Phone": "phone"}


@pytest.mark.django_db
def test_vault_products_have_nothing_personal(vault):
    conn = vault.connector
    assert suggest(object_name="product__v", fields=conn.describe("product__v"), key_field="copy_key__c") == {}


@pytest.mark.django_db
def test_vault_product_contacts_suggest_every_personal_field_by_its_name(vault):
    conn = vault.connector
    found = suggest(
        object_name="product_contact__c", fields=conn.describe("product_contact__c"), key_field="copy_key__c"
    )
    assert found == {
        "name__v": "name",
        "email__c": "email",
        "phone__c": "phone",
        "street__c": "address",
        "city__c": "address",
        "birth_date__c": "date",
    }  # role__c is not personal; the parent reference and the copy key can't be masked
