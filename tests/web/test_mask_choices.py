"""The preview's masking table with the Django client over the sandbox (plans read in the request):
suggestions pre-selected, the policy locked, a bad rule refused, counts and samples, Confirm
refused across profiles until the suggestions are confirmed, and the job page without a value."""

import re

import pytest
from django.urls import reverse

from records.models import CopyJob, CopyPlan
from sandbox import demo
from sandbox.zoho_state import REP
from tests.fixtures.sandbox import find_record
from tests.fixtures.web import put_draft

pytestmark = pytest.mark.django_db
PREVIEW = reverse("copy_preview", args=["d1"])
MASK = reverse("copy_mask_choices", args=["d1"])
CONFIRM = reverse("copy_confirm", args=["d1"])


@pytest.fixture
def globex(zoho, owner_client):
    """A deep copy of Globex (its Contacts below it) within the Zoho sandbox."""
    src = find_record(zoho.connector, "Accounts", "Globex")
    put_draft(owner_client, zoho.profile, "Accounts", [src], overrides={"Account_Name": "Globex M"})
    return owner_client, zoho


def page_of(client):
    return client.get(PREVIEW).content.decode()


def row_of(page, obj, field):
    """The masking table's row of one field."""
    table = page[page.index(f'id="mask-{obj}"') :]
    table = table[: table.index("</table>")]
    return next(r for r in table.split("<tr") if f">{field}</span>" in r)


def selected(row):
    found = re.search(r'<option value="(\w+)" selected', row)
    return found.group(1) if found else None


def apply_masking(client, rows, added=None):
    """POST the table: `rows` {"Obj:Field": rule}, `added` {obj: (field, rule)}."""
    plan = CopyPlan.objects.latest("pk")
    data = {"plan": str(plan.code), "mask_row": list(rows), **{f"mask-{k}": v for k, v in rows.items()}}
    for obj, (field, rule) in (added or {}).items():
        data.setdefault("mask_add_object", []).append(obj)
        data[f"mask-add-field-{obj}"], data[f"mask-add-rule-{obj}"] = field, rule
    return client.post(MASK, data, follow=True)


def test_zoho_suggestions_are_preselected_on_every_object_of_the_plan(globex):
    client, _ = globex
    page = page_of(client)
    assert 'id="masking"' in page and "Within Sandbox Zoho nothing is masked unless you apply" in page
    email = row_of(page, "Contacts", "Email")
    assert selected(email) == "email" and "suggested" in email and "shown once applied" in email
    assert selected(row_of(page, "Contacts", "Date_of_Birth")) == "date"
    assert selected(row_of(page, "Accounts", "Phone")) == "phone"
    # Only the rules that fit: a date field offers no e-mail rule, an e-mail field no date rule.
    assert 'value="email"' not in row_of(page, "Contacts", "Date_of_Birth")
    assert 'value="date"' not in email
    # Nothing is masked until the table is applied.
    assert CopyPlan.objects.latest("pk").plan["masking"] == {}


def test_applying_the_table_masks_with_a_count_and_one_sample_and_the_job_shows_no_value(globex):
    client, zoho = globex
    page = page_of(client)
    source_email = row_of(page, "Contacts", "Email")
    page = apply_masking(client, {"Contacts:Email": "email", "Contacts:Phone": "keep"}).content.decode()
    row = row_of(page, "Contacts", "Email")
    assert selected(row) == "email" and "suggested" not in row
    count = int(re.search(r'class="num">(\d+)<', row).group(1))
    assert count >= 1
    sample = re.search(r"“([^”]+)” → “([^”]+)”", row)
    assert sample and "@" in sample.group(1) and "@example." in sample.group(2)
    assert sample.group(1) != sample.group(2) and source_email
    assert selected(row_of(page, "Contacts", "Phone")) == "keep"
    plan = CopyPlan.objects.latest("pk")
    client.post(CONFIRM, {"plan": str(plan.code)})
    job = CopyJob.objects.get()
    shown = client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert 'id="job-masking"' in shown and "masked (email)" in shown
    assert sample.group(1) not in shown and sample.group(2) not in shown


def test_the_policy_is_locked_and_a_post_cannot_remove_it(globex):
    client, zoho = globex
    zoho.profile.masking_policy = {"Contacts": {"Email": "email"}}
    zoho.profile.save()
    page = page_of(client)
    row = row_of(page, "Contacts", "Email")
    assert "required by Sandbox Zoho" in row and "policy</span>" in row and "<select" not in row
    apply_masking(client, {"Contacts:Email": "keep"})
    masked = CopyPlan.objects.latest("pk").plan["masking"]["Contacts"]
    assert [r["rule"] for r in masked if r["field"] == "Email"] == ["email"]


def test_a_rule_that_cannot_fit_its_field_is_refused_with_the_services_words(globex):
    client, _ = globex
    page_of(client)
    page = apply_masking(client, {}, added={"Accounts": ("Employees", "email")}).content.decode()
    assert "Accounts.Employees = email" in page and "the email rule can&#x27;t give it a value" in page
    assert client.session["copy_drafts"]["d1"].get("options", {}).get("mask", {}) == {}


def test_a_rule_added_on_another_field_is_applied(globex):
    client, _ = globex
    page_of(client)
    page = apply_masking(client, {}, added={"Accounts": ("Description", "text")}).content.decode()
    row = row_of(page, "Accounts", "Description")
    assert selected(row) == "text" and "suggested" not in row


def test_the_choices_form_keeps_the_masking(globex):
    client, _ = globex
    page_of(client)
    apply_masking(client, {"Contacts:Email": "email"})
    plan = CopyPlan.objects.latest("pk")
    client.post(reverse("copy_choices", args=["d1"]), {"plan": str(plan.code), "object": [], "include": []})
    assert client.session["copy_drafts"]["d1"]["options"]["mask"] == {"Contacts": {"Email": "email"}}


def test_vault_products_suggest_nothing_and_a_rule_can_be_added(vault, owner_client):
    product = find_record(vault.connector, "product__v", "Dermacalm")
    put_draft(owner_client, vault.profile, "product__v", [product], mode="clone", overrides={"name__v": "Dermacalm M"})
    page = page_of(owner_client)
    assert 'id="mask-product__v"' in page and 'data-mask-why="suggested"' not in page
    page = apply_masking(owner_client, {}, added={"product__v": ("description__c", "text")}).content.decode()
    row = row_of(page, "product__v", "description__c")
    assert selected(row) == "text" and "→" in row


def test_vault_contacts_suggestions_are_preselected_in_a_products_deep_copy(vault, owner_client):
    product = find_record(vault.connector, "product__v", demo.CONTACT_PRODUCT)
    put_draft(owner_client, vault.profile, "product__v", [product], overrides={"name__v": "Gastrozen M"})
    page = page_of(owner_client)
    suggested = {"name__v": "name", "email__c": "email", "phone__c": "phone", "street__c": "address"}
    suggested |= {"city__c": "address", "birth_date__c": "date"}
    for field, rule in suggested.items():
        row = row_of(page, "product_contact__c", field)
        assert selected(row) == rule and "suggested" in row, field
    contacts = page[page.index('id="mask-product_contact__c"') :]
    assert ">role__c</span>" not in contacts[: contacts.index("</table>")]  # not personal: not a row


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_confirm_across_profiles_is_refused_until_the_suggestions_are_confirmed(cross_zoho, owner_client, redis_url):
    source, target = cross_zoho
    target.profile.protected = True  # the approval box shows the masking too
    target.profile.save()
    globex = find_record(source.connector, "Accounts", "Globex")
    source.sandbox.zoho.state.records["Accounts"][globex]["Owner"] = REP["id"]
    put_draft(owner_client, source.profile, "Accounts", [globex], overrides={"Account_Name": "Globex X"})
    owner_client.post(reverse("copy_target", args=["d1"]), {"target": str(target.profile.code)})
    owner_client.post(reverse("copy_cross_choices", args=["d1"]), {"user_email": [REP["email"]], "user-0": "@api"})
    page = page_of(owner_client)
    assert 'id="mask-unconfirmed"' in page and "Confirm the masking first" in page
    refused = owner_client.post(CONFIRM, {"plan": str(CopyPlan.objects.latest("pk").code)}, follow=True)
    assert "Contacts: " in refused.content.decode() and not CopyJob.objects.exists()
    suggested = re.findall(r'name="mask_row" value="([^"]+)"', page)
    rows = {k: selected(row_of(page, *k.split(":"))) for k in suggested}
    page = apply_masking(owner_client, rows).content.decode()
    assert 'id="mask-unconfirmed"' not in page
    sample = re.search(r"“([^”]+@[^”]+)” → “([^”]+)”", row_of(page, "Contacts", "Email"))
    owner_client.post(CONFIRM, {"plan": str(CopyPlan.objects.latest("pk").code)})
    job = CopyJob.objects.get()
    assert job.options["mask"]["Contacts"]["Email"] == "email" and job.status == CopyJob.Status.AWAITING_APPROVAL
    shown = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    box = shown[shown.index('id="approval-masking"') :]
    box = box[: box.index("</div>")]
    assert "Email" in box and "masked (email)" in box and "<select" not in box
    assert sample.group(1) not in shown and sample.group(2) not in shown
