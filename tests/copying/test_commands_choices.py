"""`copy` with issue 16's choices, against the sandbox over HTTP (--sync: no worker needed)."""

import io
import json

import pytest
from django.core.management import call_command

from records.connectors import connector_for
from records.models import CopyJob


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


@pytest.fixture
def zoho(fresh_sandbox, zoho_profile):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Accounts", "Globex").records if r.name == "Globex")
    return fresh_sandbox, zoho_profile, conn, src


def test_preview_prints_samples_and_leaves_out_the_excluded(zoho):
    sb, profile, conn, src = zoho
    code, out, err = cmd(
        "copy",
        profile.name,
        "Accounts",
        src,
        "--deep",
        "--preview",
        "--exclude",
        "Deals",
        "--set",
        "Account_Name={Account_Name} (copy)",
        "--set",
        "Contacts:Last_Name={Last_Name} (test)",
    )
    assert code == 0, err
    assert "Deals" not in out and "Contacts: 3" in out
    assert "Account_Name = 'Globex (copy)'" in out
    assert "Contacts " in out and "(test)'" in out


def test_sync_copy_with_set_clear_lineage_and_skip_cadences(zoho):
    sb, profile, conn, src = zoho
    profile.lineage_fields = {"Contacts": "Description"}
    profile.save()
    code, out, err = cmd(
        "copy",
        profile.name,
        "Accounts",
        src,
        "--deep",
        "--sync",
        "--json",
        "--set",
        "Account_Name=Globex {job}",
        "--clear",
        "Contacts:First_Name",
        "--lineage",
        "Contacts",
        "--skip-cadences",
    )
    assert code == 0, err
    job = CopyJob.objects.get(pk=json.loads(out)["id"])
    assert job.status == CopyJob.Status.SUCCEEDED
    assert conn.get("Accounts", job.results.get(depth=0).new_id).fields["Account_Name"] == f"Globex {job.pk}"
    for row in job.results.filter(object_name="Contacts"):
        copy = conn.get("Contacts", row.new_id).fields
        assert not copy.get("First_Name")
        assert copy["Description"] == f"Copied from {row.source_id} by Record Copier job {job.pk}"
    assert all(a["skip_feature_execution"] for a in sb.zoho.state.actions if a["op"] in ("clone", "insert"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "Contacts:Last_Name={Last_Name"], "Unmatched"),
        (["--exclude", "Accounts"], "only related objects"),
        (["--lineage", "Deals"], "the profile has no default"),
        (["--set", "Contacts:Last_Name={Last_Name}" + "x" * 80], "the field holds 80"),
    ],
)
def test_bad_choices_exit_2_with_one_line(zoho, args, message):
    sb, profile, conn, src = zoho
    code, out, err = cmd("copy", profile.name, "Accounts", src, "--deep", "--sync", *args)
    assert code == 2 and message in err and err.strip().count("\n") == 0, err
    assert not CopyJob.objects.exists()


@pytest.fixture
def mega(fresh_sandbox, vault_profile, settings):
    conn = connector_for(vault_profile)
    return vault_profile, next(
        r.id for r in conn.search("product__v", "Mega Product").records if r.name == "Mega Product"
    )


def test_vault_past_10000_needs_engine_and_the_preview_says_which_way(mega):
    profile, src = mega
    code, out, err = cmd("copy", profile.name, "product__v", src, "--deep", "--preview", "--set", "name__v=Mega 3")
    assert code == 2 and "--engine" in err
    code, out, err = cmd(
        "copy", profile.name, "product__v", src, "--deep", "--preview", "--engine", "--set", "name__v=Mega 3"
    )
    assert code == 0, err
    assert "How: Built level by level by Record Copier (more than 10,000 related records)" in out
    assert "23 write calls" in out
