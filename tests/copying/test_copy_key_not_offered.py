"""The copy-key field is Record Copier's own (it holds each copy's key, how a lost answer is found
again): no page, file or command offers it for a value, a template, a clear, "make unique" or the
lineage stamp, and one aimed at it anyway is refused naming it, before anything is queued. Web
pages through the Django client, the command in-process, both over the sandbox's HTTP."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from records.models import CopyJob, CopyPlan
from records.profiles import services as profile_services
from tests.copying.test_stored_plans import burst
from tests.fixtures.web import put_draft

pytestmark = pytest.mark.django_db(transaction=True)
OWN = "is Record Copier's own field"


def page(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_the_fields_step_offers_no_copy_key(owner_client, globex):
    _, profile, _, src = globex
    body = page(owner_client.get(reverse("copy_record", args=[profile.code, "Accounts", src])))
    assert 'name="f_Account_Name"' in body and 'name="f_Description"' in body
    assert 'name="f_Copy_Key"' not in body and 'name="clear_Copy_Key"' not in body


@pytest.mark.redis
@pytest.mark.plans_on_worker
def test_the_previews_field_pickers_offer_no_copy_key(owner_client, globex, redis_url):
    _, profile, _, src = globex
    put_draft(owner_client, profile, "Accounts", [src], overrides={"Account_Name": "Globex P"})
    owner_client.get(reverse("copy_preview", args=["d1"]))
    burst()
    body = page(owner_client.get(reverse("copy_preview", args=["d1"])))
    assert "What will be copied" in body and 'value="Description"' in body
    assert 'value="Copy_Key"' not in body  # neither the rows' fields nor the lineage rows' text fields
    for module in ("Accounts", "Contacts"):
        listed = owner_client.get(reverse("copy_object_fields", args=[profile.code, module])).json()["fields"]
        names = {f["name"] for f in listed}
        assert "Description" in names and "Copy_Key" not in names


@pytest.mark.redis
@pytest.mark.plans_on_worker
def test_a_lineage_stamp_on_the_copy_key_typed_on_the_preview_is_refused(owner_client, globex, redis_url):
    """As a new user met it: the stamp was shown everywhere as "Copied from ... job 14" while
    the record held the internal key. Now the next plan refuses it and Confirm makes nothing."""
    _, profile, _, src = globex
    put_draft(owner_client, profile, "Accounts", [src], overrides={"Account_Name": "Globex P"})
    url = reverse("copy_preview", args=["d1"])
    owner_client.get(url)
    burst()
    plan = CopyPlan.objects.get()
    owner_client.post(reverse("copy_choices", args=["d1"]), {"plan": str(plan.code), "lineage": "Accounts:Copy_Key"})
    owner_client.get(url)
    burst()
    body = page(owner_client.get(url))
    assert "The preview failed" in body and f"Copy Key (Copy_Key) {OWN}" in body
    owner_client.post(reverse("copy_confirm", args=["d1"]), {"plan": str(CopyPlan.objects.latest("created_at").code)})
    assert not CopyJob.objects.exists()


def test_the_bulk_template_has_no_copy_key_column_and_an_upload_with_one_is_refused(owner_client, globex):
    sb, profile, _, src = globex
    template = owner_client.get(reverse("bulk_template") + f"?profile={profile.code}&object=Accounts")
    header = template.content.decode().splitlines()[0].split(",")
    assert "Description" in header and "Copy_Key" not in header
    upload = SimpleUploadedFile("rows.csv", f"id,Copy_Key\n{src},mine\n".encode(), content_type="text/csv")
    answer = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "Accounts", "file": upload}
    )
    body = page(answer)
    assert answer.status_code == 200 and f"Column 'Copy_Key': Copy Key (Copy_Key) {OWN}" in body
    assert "copy_drafts" not in owner_client.session


@pytest.mark.parametrize(
    "args",
    [
        ["--lineage", "Accounts:Copy_Key"],
        ["--deep", "--lineage", "Contacts:Copy_Key"],
        ["--set", "Copy_Key=mine"],
        ["--clear", "Copy_Key"],
        ["--unique", "Copy_Key"],
    ],
    ids=["lineage", "lineage_child", "set", "clear", "unique"],
)
def test_the_copy_command_refuses_the_copy_key_naming_it_the_tools_own(globex, args):
    sb, profile, _, src = globex
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as ended:
        call_command("copy", profile.name, "Accounts", src, "--sync", *args, stdout=out, stderr=err)
    assert ended.value.code == 2
    assert f"Copy Key (Copy_Key) {OWN}" in err.getvalue()
    assert not CopyJob.objects.exists()


def test_a_profiles_default_lineage_field_may_not_be_the_copy_key(globex, owner, client, staff):
    sb, profile, _, _ = globex
    with pytest.raises(profile_services.ValidationError, match=OWN):
        profile_services.profile_update(profile=profile, actor=owner, lineage_fields={"Accounts": "Copy_Key"})
    client.force_login(staff)
    data = {
        "name": profile.name,
        "system": "zoho",
        "base_url": profile.base_url,
        "accounts_url": profile.accounts_url,
        "api_version": "",
        "username": profile.username,
        "concurrency": "5",
        "owner": profile.owner_id,
        "lineage_fields": '{"Contacts": "Copy_Key"}',
    }
    answer = client.post(reverse("admin:records_connectionprofile_change", args=[profile.pk]), data)
    assert answer.status_code == 200 and OWN in page(answer)
    profile.refresh_from_db()
    assert profile.lineage_fields == {}
    data["lineage_fields"] = '{"Contacts": "Description"}'
    assert client.post(reverse("admin:records_connectionprofile_change", args=[profile.pk]), data).status_code == 302
    profile.refresh_from_db()
    assert profile.lineage_fields == {"Contacts": "Description"}
