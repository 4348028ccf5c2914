"""Zoho's Owner (a lookup to Users) is checked before anything is queued
(records/copying/remote_checks.py): the sandbox serves the Users API's "a specific user" (GET
/users/{user_id}), the connector reads users by it, and a bogus Owner id is refused on the fields
step, by the services and by the CLI."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.connectors.errors import NotFound
from records.copying.job_create import copy_job_create
from records.copying.preview import copy_preview
from records.copying.request import CopyRequest
from records.models import CopyJob
from sandbox.zoho_state import REP, USER
from tests.web.test_new_copy import _errors, _post

BOGUS = "5725767000000159999"


def test_the_sandbox_serves_a_user_by_id_as_the_users_api_does(zoho_api):
    body = zoho_api.get(f"users/{REP['id']}").json()
    assert body["users"][0]["id"] == REP["id"] and body["users"][0]["full_name"] == REP["name"]
    missing = zoho_api.get(f"users/{BOGUS}")
    assert missing.status_code == 400 and missing.json()["code"] == "INVALID_DATA"


def test_the_connector_reads_users_through_the_users_api(zoho):
    sb, _, conn = zoho
    assert conn.get("Users", USER["id"]).name == USER["name"]
    with pytest.raises(NotFound):
        conn.get("Users", BOGUS)
    assert any(e.path.endswith(f"/users/{BOGUS}") for e in sb.log("zoho"))
    owner = {f.name: f for f in conn.describe("Accounts")}["Owner"]
    assert owner.reference_to == "Users" and owner.editable


@pytest.mark.django_db
def test_a_bogus_owner_is_refused_on_the_fields_step(owner_client, zoho_profile, zoho_api):
    acme = zoho_api.account_id("Acme Corp")
    response = _post(owner_client, zoho_profile, "Accounts", acme, f_Owner=BOGUS)
    assert "f_Owner" in _errors(response), _errors(response)
    assert "No user has the id" in response.content.decode()
    assert "copy_drafts" not in owner_client.session and not CopyJob.objects.exists()
    ok = _post(owner_client, zoho_profile, "Accounts", acme, f_Owner=REP["id"])
    assert ok.status_code == 302, _errors(ok)


@pytest.mark.django_db
def test_a_bogus_owner_is_refused_by_the_services_and_the_cli_before_any_job(zoho_profile, zoho_api, owner):
    acme = zoho_api.account_id("Acme Corp")
    kwargs = dict(profile=zoho_profile, object_name="Accounts", source_ids=[acme], mode="clone")
    with pytest.raises(ValidationError, match="No user has the id"):
        copy_preview(request=CopyRequest(**kwargs, overrides={"Account_Name": "Acme 9", "Owner": BOGUS}))
    with pytest.raises(ValidationError, match="No user has the id"):
        request = CopyRequest(**kwargs, overrides={"Account_Name": "Acme 9"}, row_overrides={acme: {"Owner": BOGUS}})
        copy_job_create(request=request, user=owner, enqueue=False)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "copy",
            zoho_profile.name,
            "Accounts",
            acme,
            "--set",
            "Account_Name=Acme 9",
            "--set",
            f"Owner={BOGUS}",
            "--sync",
            stdout=out,
            stderr=err,
        )
    assert exc.value.code == 2 and "No user has the id" in err.getvalue(), (out.getvalue(), err.getvalue())
    assert not CopyJob.objects.exists()
    plan = copy_preview(request=CopyRequest(**kwargs, overrides={"Account_Name": "Acme 9", "Owner": REP["id"]}))
    assert not plan.refused_reason


@pytest.mark.django_db
def test_references_of_a_bulk_csv_are_read_in_one_batch_and_a_bad_one_names_its_row(vault, owner):
    sb, profile, conn = vault
    products = [r for r in conn.search("product__v", "", per_page=100).records][:3]
    countries = [r.id for r in conn.search("country__v", "", per_page=10).records][:3]
    rows = {p.id: {"name__v": f"{p.name} CSV", "country__c": c} for p, c in zip(products, countries, strict=True)}
    kwargs = dict(profile=profile, object_name="product__v", source_ids=[p.id for p in products], mode="clone")
    sb.clear_log("vault")
    plan = copy_preview(request=CopyRequest(**kwargs, row_overrides=rows))
    assert not plan.refused_reason
    country_reads = [e for e in sb.log("vault") if e.path.endswith("/query") and "country__v" in e.body_summary]
    assert len(country_reads) == 1  # three distinct countries, one VQL read
    rows[products[1].id]["country__c"] = "00C999999999999"
    with pytest.raises(ValidationError, match=f"Record {products[1].id}: .*No Country record"):
        copy_preview(request=CopyRequest(**kwargs, row_overrides=rows))
