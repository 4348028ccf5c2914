"""`copy --mask / --mask-suggested` and `profile masking` against the sandbox over HTTP."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from records.models import AuditEvent, ConnectionProfile, CopyJob

pytestmark = pytest.mark.django_db
PROFILE = "Sandbox Zoho"


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def profile_cmd(*args):
    out = io.StringIO()
    call_command("profile", "masking", PROFILE, *args, stdout=out)
    return out.getvalue()


def a_contact(sandbox):
    return next(c for c in sandbox.zoho.state.records["Contacts"].values() if c.get("Email"))


def test_copy_mask_previews_the_table_then_copies_with_standins(fresh_sandbox, zoho_profile):
    contact = a_contact(fresh_sandbox)
    code, out, err = cmd("copy", PROFILE, "Contacts", contact["id"], "--mask", "Email=email", "--preview")
    assert code == 0, err
    assert f"Mask Contacts.Email (email): 1 value(s), e.g. {contact['Email']!r} -> " in out
    code, out, err = cmd("copy", PROFILE, "Contacts", contact["id"], "--mask", "Email=email", "--sync", "--json")
    assert code == 0, err
    assert contact["Email"] not in out
    copy_id = json.loads(out)["results"][0]["new_id"]
    assert fresh_sandbox.zoho.state.records["Contacts"][copy_id]["Email"].split("@")[1].startswith("example.")


def test_copy_mask_suggested_masks_every_personal_field(fresh_sandbox, zoho_profile):
    contact = a_contact(fresh_sandbox)
    code, out, err = cmd("copy", PROFILE, "Contacts", contact["id"], "--mask-suggested", "--preview")
    assert code == 0, err
    for field in ("Email", "Phone", "First_Name", "Last_Name", "Mailing_City", "Date_of_Birth"):
        assert f"Mask Contacts.{field} " in out


@pytest.mark.parametrize(
    ("item", "words"),
    [("Email=scramble", "unknown rule"), ("Employees=email", "Contacts.Employees"), ("Email", "[OBJECT:]FIELD=RULE")],
)
def test_copy_refuses_a_bad_mask_before_anything_is_queued(fresh_sandbox, zoho_profile, item, words):
    code, _out, err = cmd("copy", PROFILE, "Contacts", a_contact(fresh_sandbox)["id"], "--mask", item, "--sync")
    assert code == 2 and words in err
    assert not CopyJob.objects.exists()


def test_profile_masking_set_show_export_import_and_rotate(fresh_sandbox, zoho_profile, tmp_path, owner):
    out = profile_cmd("--set", "Contacts:Email=email", "Contacts:Phone=phone")
    assert "Contacts:Email=email" in out and "Contacts:Phone=phone" in out
    exported = json.loads(profile_cmd("--export"))
    assert exported == {"Contacts": {"Email": "email", "Phone": "phone"}}
    profile_cmd("--set", "Contacts:Phone=keep")  # keep takes a rule out of the policy
    assert json.loads(profile_cmd("--export")) == {"Contacts": {"Email": "email"}}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"Contacts": {"Mailing_City": "address"}}))
    profile_cmd("--import", str(path))
    assert ConnectionProfile.objects.get(name=PROFILE).masking_policy == {"Contacts": {"Mailing_City": "address"}}
    assert "not made yet" in profile_cmd("--show")
    profile_cmd("--rotate-key")
    assert "Key: made" in profile_cmd("--show")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("profile.masking_policy") == 3 and "profile.masking_key_rotate" in actions


def test_profile_masking_refuses_a_rule_that_doesnt_fit(fresh_sandbox, zoho_profile):
    with pytest.raises(CommandError, match="Contacts.Account_Name = name: .*reference"):
        profile_cmd("--set", "Contacts:Account_Name=name")
    assert ConnectionProfile.objects.get(name=PROFILE).masking_policy == {}
