"""Masking on Vault over HTTP against the sandbox, on the demo's personal data (product_contact__c
under Gastrozen): every rule on Vault's field types fits (Vault accepts it), differs from the
source and is the same in a second job; a deep copy into the target vault with the suggested rules
masks the contacts, and the job page shows "masked (rule)" and neither value."""

import datetime
import re

import pytest
from django.urls import reverse

from records.copying.options import CopyOptions
from records.models import CopyJob
from sandbox import demo
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import copy_now
from tests.fixtures.sandbox import find_record

CONTACT = "product_contact__c"
EMAIL = re.compile(r"[a-z]+\.[a-z]+\d*@example\.(com|org|net)")
CONTACT_RULES = {
    "name__v": "name",
    "email__c": "email",
    "phone__c": "phone",
    "street__c": "address",
    "city__c": "address",
    "birth_date__c": "date",
    "role__c": "text",
}
OTHER_RULES = {"role__c": "hash", "city__c": "blank", "street__c": "keep"}


def contacts(sandbox):
    return sandbox.vault.state.records[CONTACT]


def max_lengths(connector, object_name):
    return {f.name: f.max_length for f in connector.describe(object_name)}


def copies(sandbox, job):
    return {r.source_id: contacts(sandbox)[r.new_id] for r in job.results.all()}


def assert_each_fits_and_differs(source, copy, lengths, fields=tuple(CONTACT_RULES)):
    for field in fields:
        assert copy[field] and copy[field] != source[field], field
        assert len(copy[field]) <= (lengths[field] or 10_000), field
    assert EMAIL.fullmatch(copy["email__c"])
    assert re.fullmatch(r"[\d ()+.x-]+", copy["phone__c"])
    assert len(copy["name__v"].split()) >= 2  # a person's name: the object is a contact
    shift = datetime.date.fromisoformat(copy["birth_date__c"]) - datetime.date.fromisoformat(source["birth_date__c"])
    assert 0 < abs(shift.days) <= 366 * 5


@pytest.mark.django_db
def test_every_rule_fits_vaults_fields_differs_and_is_the_same_in_a_second_job(vault, owner):
    ids = list(contacts(vault.sandbox))
    assert len(ids) == len(demo.CONTACTS)
    lengths = max_lengths(vault.connector, CONTACT)
    masked = CopyOptions(mask={CONTACT: CONTACT_RULES})
    first, second = (copy_now(vault.profile, owner, CONTACT, ids, "clone", options=masked) for _ in range(2))
    assert first.status == second.status == CopyJob.Status.SUCCEEDED, first.error_summary
    a, b = copies(vault.sandbox, first), copies(vault.sandbox, second)
    for source_id, copy in a.items():
        assert_each_fits_and_differs(contacts(vault.sandbox)[source_id], copy, lengths)
        assert {f: copy[f] for f in CONTACT_RULES} == {f: b[source_id][f] for f in CONTACT_RULES}
    assert len({c["email__c"] for c in a.values()}) == len(a)  # three people stay three people

    other = copy_now(vault.profile, owner, CONTACT, ids, "clone", options=CopyOptions(mask={CONTACT: OTHER_RULES}))
    assert other.status == CopyJob.Status.SUCCEEDED, other.error_summary
    for source_id, copy in copies(vault.sandbox, other).items():
        source = contacts(vault.sandbox)[source_id]
        assert copy["role__c"] != source["role__c"] and len(copy["role__c"]) <= lengths["role__c"]
        assert not copy.get("city__c") and copy["street__c"] == source["street__c"]
        assert copy["email__c"] == source["email__c"]  # no rule: copied as it is


@pytest.mark.django_db
def test_a_number_and_a_text_rule_fit_a_vault_product_and_differ(vault, owner):
    src = find_record(vault.connector, "product__v", "Gastrozen")
    masks = CopyOptions(mask={"product__v": {"price__c": "number", "description__c": "text"}})
    job = copy_now(vault.profile, owner, "product__v", [src], "clone", options=masks, overrides={"name__v": "Gz"})
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    records = vault.sandbox.vault.state.records["product__v"]
    source, copy = records[src], records[job.results.get().new_id]
    assert copy["price__c"] != source["price__c"] and isinstance(copy["price__c"], (int, float))
    assert copy["description__c"] != source["description__c"]
    assert job.results.get().values["price__c"] == "masked (number)"


@pytest.mark.django_db
def test_a_deep_copy_into_the_target_vault_masks_the_contacts_and_the_job_page_shows_labels(
    cross_vault, owner, owner_client
):
    source, target = cross_vault
    src = find_record(source.connector, "product__v", demo.CONTACT_PRODUCT)
    job = copy_across(cross_vault, owner, "product__v", [src], "deep_copy", mask_suggested=True)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    rows = list(job.results.filter(object_name=CONTACT))
    assert len(rows) == len(demo.CONTACTS)
    lengths = max_lengths(target.connector, CONTACT)
    originals = contacts(source.sandbox)
    for row in rows:
        copy = contacts(target.sandbox)[row.new_id]
        suggested = [f for f in CONTACT_RULES if f != "role__c"]
        assert_each_fits_and_differs(originals[row.source_id], copy, lengths, suggested)
        assert copy["role__c"] == originals[row.source_id]["role__c"]  # not personal: not suggested
        assert row.values["email__c"] == "masked (email)" and row.values["birth_date__c"] == "masked (date)"
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    rows_page = owner_client.get(reverse("job_rows", args=[job.code])).content.decode()
    assert "masked (email)" in page + rows_page
    for text in (page, rows_page):
        for row in rows:
            for value in (originals[row.source_id]["email__c"], contacts(target.sandbox)[row.new_id]["email__c"]):
                assert value not in text
