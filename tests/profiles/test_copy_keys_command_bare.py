"""A vault and an org without copy-key fields (the bare sandbox, as real ones are): `profile
copy-keys` lists none, `--add` creates them through the metadata APIs, and a copy made afterwards
carries the key, so a lost create answer is reconciled by it: one copy, sent once, never the source."""

import io
import json

import pytest
from django.core.management import call_command

from records.connectors import connector_for
from records.models import AuditEvent, CopyJob
from tests.fixtures.engine import run_job, start_job
from tests.fixtures.sandbox import fast, find_record, small_account

pytestmark = pytest.mark.django_db

CASES = {
    # system: (profile fixture, object, the key field, how the create is sent)
    "vault": ("bare_vault_profile", "product__v", "copy_key__c", ("POST", "/vobjects/product__v")),
    "zoho": ("bare_zoho_profile", "Accounts", "Copy_Key", ("POST", "/actions/clone")),
}


def copy_keys(*args):
    out = io.StringIO()
    call_command("profile", "copy-keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def source_of(system, conn):
    return find_record(conn, "product__v", "Neurolax") if system == "vault" else small_account(conn)


@pytest.mark.parametrize("system", CASES)
def test_a_bare_system_gets_copy_keys_and_a_lost_answer_is_found_by_the_key(
    system, fresh_bare_sandbox, profile_admin, owner, request
):
    fixture, object_name, key, (method, path) = CASES[system]
    sb, profile = fresh_bare_sandbox, request.getfixturevalue(fixture)
    listed = json.loads(copy_keys(profile.name, "--json"))["objects"]
    assert listed and all(o["copy_key"] is None for o in listed)

    out = copy_keys(profile.name, "--add", object_name, "--user", profile_admin.username, "--yes")
    assert f"{object_name}: added {key}" in out
    assert AuditEvent.objects.filter(action="profile.copy_key_add", details__ok=True).count() == 1
    assert {o["object"]: o["copy_key"] for o in json.loads(copy_keys(profile.name, "--json"))["objects"]}[
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
