"""Zoho's Owner (a lookup to Users) is checked before anything is queued (issue 15): the sandbox
serves the Users API's "a specific user" (GET /users/{user_id}), the connector reads users by it,
and a bogus Owner id is refused on the fields step, by the services and by the CLI."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.connectors.base import NotFound
from records.copying import services
from records.models import CopyJob
from sandbox.zoho_state import REP, USER
from tests.test_views_copy_sandbox import _errors, _post

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
        services.copy_preview(**kwargs, overrides={"Account_Name": "Acme 9", "Owner": BOGUS})
    with pytest.raises(ValidationError, match="No user has the id"):
        services.copy_job_create(
            **kwargs,
            user=owner,
            enqueue=False,
            overrides={"Account_Name": "Acme 9"},
            row_overrides={acme: {"Owner": BOGUS}},
        )
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
    plan = services.copy_preview(**kwargs, overrides={"Account_Name": "Acme 9", "Owner": REP["id"]})
    assert not plan.refused_reason
