"""`manage.py profile copy-keys NAME [--json] [--add OBJECT... --user STAFF [--yes]]`: which objects
have a copy-key field, and staff adding one through the system's metadata API (the sandbox over
HTTP), shown before it is created and audited."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from records.connectors import connector_for
from records.models import AuditEvent, CopyJob
from tests.fixtures.engine import run_job, start_job
from tests.fixtures.sandbox import fast, find_record, small_account

pytestmark = pytest.mark.django_db


def copy_keys(*args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    call_command("profile", "copy-keys", *args, stdout=out, stderr=err, stdin=stdin)
    return out.getvalue(), err.getvalue()


def vault_fields(sb, object_name):
    return {f.name for f in sb.vault.state.schema[object_name].fields}


def zoho_fields(sb, module):
    return set(sb.zoho.state.modules[module].by_name)


def test_lists_each_object_and_its_copy_key(fresh_sandbox, vault_profile):
    out, _ = copy_keys(vault_profile.name)
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert "copy_key__c" in lines["product__v"]
    assert "none (found by name, parent and creation time)" in lines["country__v"]
    assert "4 of 5 objects have a copy key." in out and "--add OBJECT" in out  # 5: product_contact__c too


def test_lists_as_json(fresh_sandbox, zoho_profile):
    out, _ = copy_keys(zoho_profile.name, "--json")
    data = json.loads(out)
    keys = {o["object"]: o["copy_key"] for o in data["objects"]}
    assert data["system"] == "zoho" and data["copy_keys_off"] is False
    assert keys["Accounts"] == "Copy_Key" and keys["Notes"] is None
    assert "Branches" not in keys  # a subform module: not an object the app copies


def test_staff_adds_the_field_after_seeing_what_it_creates(fresh_sandbox, vault_profile, profile_admin):
    out, _ = copy_keys(vault_profile.name, "--add", "country__v", "--user", "paula", "--yes")
    assert "country__v: field copy_key__c, label 'Copy Key', type String, length 100, unique." in out
    assert "POST /api/mdl/execute" in out and "ALTER Object country__v (" in out
    assert out.rstrip().endswith("country__v: added copy_key__c")
    assert "copy_key__c" in vault_fields(fresh_sandbox, "country__v")
    event = AuditEvent.objects.get(action="profile.copy_key_add")
    assert event.actor == profile_admin and event.profile == vault_profile
    assert (event.details["object_name"], event.details["field"], event.details["ok"]) == (
        "country__v",
        "copy_key__c",
        True,
    )
    out, _ = copy_keys(vault_profile.name)
    assert "5 of 5 objects have a copy key." in out


def test_asks_before_creating_and_no_creates_nothing(fresh_sandbox, zoho_profile, profile_admin):
    with pytest.raises(CommandError, match="Nothing was created"):
        copy_keys(zoho_profile.name, "--add", "Notes", "--user", "paula", stdin=io.StringIO("n\n"))
    assert "Copy_Key" not in zoho_fields(fresh_sandbox, "Notes")
    assert not AuditEvent.objects.filter(action="profile.copy_key_add").exists()
    out, _ = copy_keys(zoho_profile.name, "--add", "Notes", "--user", "paula", stdin=io.StringIO("y\n"))
    assert "Create these fields? [y/N]" in out and "Notes: added Copy_Key" in out
    assert "Copy_Key" in zoho_fields(fresh_sandbox, "Notes")


def test_adds_as_json(fresh_sandbox, zoho_profile, profile_admin):
    out, err = copy_keys(zoho_profile.name, "--add", "Notes", "--user", "paula", "--yes", "--json")
    assert json.loads(out)["added"] == [{"object_name": "Notes", "field": "Copy_Key", "error": ""}]
    assert "Notes: field Copy_Key, label 'Copy Key'" in err  # what it creates, out of the JSON


@pytest.mark.parametrize("username", ["alice", "dora"])
def test_only_staff_who_may_change_profiles_add(fresh_sandbox, vault_profile, bare_staff, username):
    with pytest.raises(CommandError) as refused:
        copy_keys(vault_profile.name, "--add", "country__v", "--user", username, "--yes")
    assert refused.value.returncode == 2 and "Only staff" in str(refused.value)
    assert "copy_key__c" not in vault_fields(fresh_sandbox, "country__v")


def test_add_needs_a_user(fresh_sandbox, vault_profile):
    with pytest.raises(CommandError, match="Give --user"):
        copy_keys(vault_profile.name, "--add", "country__v", "--yes")


def test_an_object_that_has_one_or_is_unknown_is_refused_before_anything(fresh_sandbox, vault_profile, profile_admin):
    with pytest.raises(CommandError) as refused:
        copy_keys(vault_profile.name, "--add", "country__v", "product__v", "nothing__c", "--user", "paula", "--yes")
    message = str(refused.value)
    assert "product__v already has the copy-key field copy_key__c." in message
    assert "nothing__c: not an object this profile copies." in message
    assert "copy_key__c" not in vault_fields(fresh_sandbox, "country__v")  # all or nothing checked first


def test_a_refusal_of_the_remote_is_reported_and_audited(fresh_sandbox, vault_profile, profile_admin):
    fresh_sandbox.vault.configure(mdl_permission=False)
    with pytest.raises(CommandError) as failed:
        copy_keys(vault_profile.name, "--add", "country__v", "--user", "paula", "--yes")
    assert failed.value.returncode == 1
    event = AuditEvent.objects.get(action="profile.copy_key_add")
    assert event.details["ok"] is False and "permission to change object configuration" in event.details["error"]


def test_with_copy_keys_turned_off_nothing_is_offered(fresh_sandbox, vault_profile, profile_admin, settings):
    settings.COPY_KEY_FIELDS = ()
    out, _ = copy_keys(vault_profile.name)
    assert out.startswith("COPY_KEY_FIELDS is set empty")
    with pytest.raises(CommandError, match="COPY_KEY_FIELDS is set empty"):
        copy_keys(vault_profile.name, "--add", "country__v", "--user", "paula", "--yes")


# A vault and an org without copy-key fields (the bare sandbox, as real ones are): none listed,
# `--add` creates them, and a copy made afterwards carries the key, so a lost create answer is
# reconciled by it: one copy, sent once, never the source.
CASES = {
    # system: (profile fixture, object, the key field, how the create is sent)
    "vault": ("bare_vault_profile", "product__v", "copy_key__c", ("POST", "/vobjects/product__v")),
    "zoho": ("bare_zoho_profile", "Accounts", "Copy_Key", ("POST", "/actions/clone")),
}


def source_of(system, conn):
    return find_record(conn, "product__v", "Neurolax") if system == "vault" else small_account(conn)


@pytest.mark.parametrize("system", CASES)
def test_a_bare_system_gets_copy_keys_and_a_lost_answer_is_found_by_the_key(
    system, fresh_bare_sandbox, profile_admin, owner, request
):
    fixture, object_name, key, (method, path) = CASES[system]
    sb, profile = fresh_bare_sandbox, request.getfixturevalue(fixture)
    listed = json.loads(copy_keys(profile.name, "--json")[0])["objects"]
    assert listed and all(o["copy_key"] is None for o in listed)

    out, _ = copy_keys(profile.name, "--add", object_name, "--user", profile_admin.username, "--yes")
    assert f"{object_name}: added {key}" in out
    assert AuditEvent.objects.filter(action="profile.copy_key_add", details__ok=True).count() == 1
    assert {o["object"]: o["copy_key"] for o in json.loads(copy_keys(profile.name, "--json")[0])["objects"]}[
        object_name
    ] == key

    conn = fast(connector_for(profile))
    source = source_of(system, conn)
    overrides = {"name__v": "Neurolax Keyed"} if system == "vault" else {}  # Vault's names are unique
    job = start_job(profile, owner, object_name, [source], "clone", overrides=overrides)
    sb.clear_log()
    sb.faults(system).set(p_drop_after_write=1.0, drop_method=method, seed=4)  # every create's answer lost
    try:
        job = run_job(job, worker="t")
    finally:
        sb.faults(system).clear()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get()
    assert row.new_id and row.new_id != source
    sent = [e for e in sb.log(system) if e.method == method and path in e.path]
    assert [e.outcome for e in sent] == ["dropped_after_write"]  # sent once, found, not sent again
    [copy] = conn.find(object_name, {key: row.idempotency_key})
    assert copy.id == row.new_id
