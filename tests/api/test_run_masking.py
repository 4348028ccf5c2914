"""A template run through the API into another profile, over HTTP against the two sandboxes: the
preview says which masking suggestions are unconfirmed, a confirm is refused 400 naming them (no
job) until `mask_suggested` (or the template's rules) covers them; the same rule as the web's and
the command's (copying/mask_choices.py)."""

import json

import pytest

from records.copy_templates import services
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.models import CopyJob
from sandbox import demo
from tests.fixtures.api import bearer
from tests.fixtures.engine import run_job
from tests.fixtures.sandbox import find_record

CONTACT = "product_contact__c"


def post(client, template, secret, body, **headers):
    path = f"/api/v1/templates/{template.code}/run/"
    return client.post(path, json.dumps(body), content_type="application/json", **bearer(secret), **headers)


def template_across(cross, owner, **options):
    source, target = cross
    src = find_record(source.connector, "product__v", demo.CONTACT_PRODUCT)
    request = CopyRequest(
        profile=source.profile,
        target=target.profile,
        object_name="product__v",
        source_ids=(src,),
        mode="deep_copy",
        options=CopyOptions(existing="create", **options),
    )
    return services.save_from_request(request=request, name=f"Contacts across {len(options)}", user=owner), src


@pytest.mark.django_db
def test_a_confirm_is_refused_400_naming_the_unconfirmed_suggestions_until_mask_suggested(
    client, cross_vault, owner, make_token
):
    template, src = template_across(cross_vault, owner)
    _, secret = make_token()
    preview = post(client, template, secret, {"ids": [src], "preview": True}).json()
    assert f"{CONTACT}: name__v (Contact Name): name, email__c (Email): email" in preview["mask_unconfirmed"]
    assert "mask_suggested" in preview["mask_unconfirmed"]
    taken = post(client, template, secret, {"ids": [src], "preview": True, "mask_suggested": True}).json()
    assert taken["mask_unconfirmed"] == ""

    refused = post(client, template, secret, {"ids": [src]}, HTTP_IDEMPOTENCY_KEY="m-1")
    assert refused.status_code == 400
    assert "Confirm the masking first" in refused.json()["detail"] and "birth_date__c" in refused.json()["detail"]
    assert not CopyJob.objects.exists()

    made = post(client, template, secret, {"ids": [src], "mask_suggested": True}, HTTP_IDEMPOTENCY_KEY="m-2")
    assert made.status_code == 201, made.json()
    job = run_job(CopyJob.objects.get(code=made.json()["code"]))
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    sources = cross_vault.source.sandbox.vault.state.records[CONTACT]
    copies = cross_vault.target.sandbox.vault.state.records[CONTACT]
    assert len(copies) == len(sources)
    assert not {c["email__c"] for c in copies.values()} & {s["email__c"] for s in sources.values()}


@pytest.mark.django_db
def test_a_template_whose_rules_cover_the_suggestions_confirms_without_more(client, cross_vault, owner, make_token):
    rules = {"name__v": "keep", "email__c": "email", "phone__c": "phone", "street__c": "address"}
    rules |= {"city__c": "address", "birth_date__c": "blank"}
    template, src = template_across(cross_vault, owner, mask={CONTACT: rules})
    _, secret = make_token()
    assert post(client, template, secret, {"ids": [src], "preview": True}).json()["mask_unconfirmed"] == ""
    made = post(client, template, secret, {"ids": [src]}, HTTP_IDEMPOTENCY_KEY="m-3")
    assert made.status_code == 201, made.json()
