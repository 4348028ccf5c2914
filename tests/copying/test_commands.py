"""The `copy` and `job` commands against the sandbox over HTTP (mostly the "Sandbox Zoho" profile):
whole copies, bad input, `job` resume, undo and show, and `copy` with the preview's choices."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from records.connectors import connector_for
from records.copying.tree import read_tree
from records.models import CopyJob
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
PROFILE = "Sandbox Zoho"


@pytest.fixture
def acme(fresh_sandbox, zoho_profile, redis_url):
    # Commands that queue work check that Redis answers (one line on stderr if not).
    return find_record(connector_for(zoho_profile), "Accounts", "Acme Corp")


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def tree_size(profile, root):
    return len(read_tree(connector_for(profile), "Accounts", root))


def test_copy_sync_json_deep(acme, zoho_profile, fresh_sandbox):
    code, out, err = cmd(
        "copy",
        PROFILE,
        "Accounts",
        acme,
        "--deep",
        "--set",
        "Account_Name=Acme 2",
        "--set",
        "Employees=12",
        "--sync",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"id", "status", "mode", "object", "source_ids", "counts", "results"}
    assert data["status"] == "succeeded" and data["mode"] == "deep_copy"
    assert len(data["results"]) == tree_size(zoho_profile, acme) > 1
    assert set(data["results"][0]) >= {
        "object",
        "source_id",
        "new_id",
        "parent_source_id",
        "status",
        "error_type",
        "error_message",
    }
    new = fresh_sandbox.zoho.state.get("Accounts", data["results"][0]["new_id"])
    assert new["Account_Name"] == "Acme 2" and new["Employees"] == 12


def test_copy_bad_input_exits_2_with_one_line(acme):
    code, out, err = cmd("copy", PROFILE, "Accounts", acme, "--set", "Nope=1", "--sync")
    assert code == 2 and "Nope" in err and err.strip().count("\n") == 0
    code, _, err = cmd("copy", "Nobody", "Accounts", "1", "--sync")
    assert code == 2 and "profile" in err
    code, _, err = cmd("copy", PROFILE, "Accounts", acme, "--clear", "Account_Name", "--sync")
    assert code == 2 and "required" in err
    assert not CopyJob.objects.exists()


def test_copy_preview_queues_nothing(acme, zoho_profile):
    code, out, _ = cmd("copy", PROFILE, "Accounts", acme, "--deep", "--preview", "--json")
    assert code == 0 and json.loads(out)["total"] == tree_size(zoho_profile, acme) and not CopyJob.objects.exists()


def test_partial_failure_exits_1_then_job_retry_and_show(acme, fresh_sandbox):
    sb = fresh_sandbox
    # The org's validation rule refuses a contact called "Contact 1" (Acme Corp's first contact).
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=(("Contacts", "Last_Name", "Contact 1"),))
    code, out, _ = cmd("copy", PROFILE, "Accounts", acme, "--deep", "--set", "Account_Name=X", "--sync", "--json")
    assert code == 1 and json.loads(out)["status"] == "partial"
    job = CopyJob.objects.get()
    refused = job.results.get(object_name="Contacts", status="failed", error_type="INVALID_DATA")
    assert sb.zoho.state.get("Contacts", refused.source_id)["Last_Name"] == "Contact 1"
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=())
    code, _, _ = cmd("job", "retry", str(job.pk))
    assert code == 0
    from records.copying.job_actions import copy_job_run

    copy_job_run(job_id=job.pk, worker_id="w")
    code, out, _ = cmd("job", "show", str(job.pk), "--json")
    assert code == 0 and json.loads(out)["counts"]["failed"] == 0


def test_job_undo_and_unknown_job(acme, fresh_sandbox):
    before = len(fresh_sandbox.zoho.state.records["Accounts"])
    cmd("copy", PROFILE, "Accounts", acme, "--set", "Account_Name=X", "--sync")
    job = CopyJob.objects.get()
    assert len(fresh_sandbox.zoho.state.records["Accounts"]) == before + 1
    code, out, _ = cmd("job", "undo", str(job.pk), "--json")
    assert code == 0 and json.loads(out)["mode"] == "undo"
    assert cmd("job", "show", "99999")[0] == 2
    assert cmd("job", "resume-stale")[0] == 0


@pytest.mark.parametrize("name", ["resume", "retry"])
def test_job_resume_and_its_older_name_retry_queue_the_unfinished_rows(name, make_job, redis_url):
    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    code, out, _ = cmd("job", name, str(job.pk), "--json")
    assert code == 0 and json.loads(out)["status"] == "queued"
    assert job.results.filter(status="pending").count() == 1 and not job.results.filter(status="failed").exists()


# `copy` with the preview's choices: leave out a branch, set and clear, the lineage stamp, the
# automation flags (--sync: no worker needed).


@pytest.fixture
def mega(fresh_sandbox, vault_profile, settings):
    conn = connector_for(vault_profile)
    return vault_profile, next(
        r.id for r in conn.search("product__v", "Mega Product").records if r.name == "Mega Product"
    )


def test_preview_prints_samples_and_leaves_out_the_excluded(globex):
    sb, profile, conn, src = globex
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


def test_sync_copy_with_set_clear_lineage_and_skip_cadences(globex):
    sb, profile, conn, src = globex
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
def test_bad_choices_exit_2_with_one_line(globex, args, message):
    sb, profile, conn, src = globex
    code, out, err = cmd("copy", profile.name, "Accounts", src, "--deep", "--sync", *args)
    assert code == 2 and message in err and err.strip().count("\n") == 0, err
    assert not CopyJob.objects.exists()


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


def test_job_fix_sets_a_failed_rows_value_and_resumes(acme, fresh_sandbox):
    sb = fresh_sandbox
    sb.zoho.settings = sb.zoho.settings.updated(reject_values=(("Contacts", "Last_Name", "Contact 1"),))
    cmd("copy", PROFILE, "Accounts", acme, "--deep", "--set", "Account_Name=X", "--sync")
    job = CopyJob.objects.get()
    refused = job.results.get(status="failed", error_type="INVALID_DATA")  # its children: PARENT_NOT_COPIED
    code, out, err = cmd("job", "fix", str(job.pk), "--row", refused.source_id, "--set", "Last_Name=Contact One")
    assert code == 0, err
    assert "Last_Name 'Contact 1' → 'Contact One'" in out
    code, out, _ = cmd(
        "job", "fix", str(job.pk), "--all-failed", "--set", "Last_Name={Last_Name} B", "--resume", "--json"
    )
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "queued"
    assert next(r for r in shown["results"] if r["row"] == refused.pk)["fixes"] == {"Last_Name": "Contact 1 B"}
    from records.copying.job_actions import copy_job_run

    job = copy_job_run(job_id=job.pk, worker_id="w")
    refused.refresh_from_db()
    assert job.status == "succeeded" and sb.zoho.state.get("Contacts", refused.new_id)["Last_Name"] == "Contact 1 B"


def test_job_fix_refuses_without_rows_or_on_a_finished_job(acme, fresh_sandbox, capsys):
    cmd("copy", PROFILE, "Accounts", acme, "--set", "Account_Name=X", "--sync")
    job = CopyJob.objects.get()
    code, _, err = cmd("job", "fix", str(job.pk), "--all-failed", "--make-unique", "Account_Name")
    assert code == 2 and "nothing to fix" in err
    with pytest.raises(CommandError, match="--row"):  # one of --row and --all-failed is required
        call_command("job", "fix", str(job.pk), "--set", "Account_Name=Y")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        call_command("job", "--help")
    usage = capsys.readouterr().out
    assert "fix" in usage and "retry" not in usage


# A copy into a protected profile waits for approval: `copy --sync` exits 1 printing the waiting
# job; `job approve --sync` runs it, `job reject` ends it.


@pytest.fixture
def protected_acme(acme, zoho_profile, django_user_model):
    from django.contrib.auth.models import Permission

    zoho_profile.protected = True
    zoho_profile.save(update_fields=["protected"])
    dora = django_user_model.objects.create_user("dora", password="dora-pass-123")
    dora.user_permissions.add(Permission.objects.get(codename="approve_copy"))
    zoho_profile.shared_with_users.add(dora)
    zoho_profile.owner.user_permissions.add(Permission.objects.get(codename="approve_copy"))  # an approver too
    return acme


def test_copy_into_a_protected_profile_exits_1_printing_the_awaiting_job(protected_acme, fresh_sandbox):
    before = len(fresh_sandbox.zoho.state.records["Accounts"])
    code, out, _ = cmd("copy", PROFILE, "Accounts", protected_acme, "--sync", "--json")
    assert code == 1
    assert json.loads(out)["status"] == "awaiting_approval"
    assert len(fresh_sandbox.zoho.state.records["Accounts"]) == before


def test_job_approve_sync_runs_the_copy_and_self_approval_exits_2(protected_acme, fresh_sandbox):
    cmd("copy", PROFILE, "Accounts", protected_acme, "--set", "Account_Name=Approved", "--sync")
    job = CopyJob.objects.get()
    code, _, err = cmd("job", "approve", str(job.pk), "--user", "alice")  # alice, an approver, asked for it
    assert code == 2 and "other than the requester" in err
    code, out, err = cmd("job", "approve", str(job.pk), "--user", "dora", "--sync", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "succeeded"
    assert fresh_sandbox.zoho.state.get("Accounts", data["results"][0]["new_id"])["Account_Name"] == "Approved"


@override_settings(COPY_APPROVAL_EXPIRY_DAYS=7)
def test_job_approve_of_a_request_past_its_expiry_exits_2(protected_acme, fresh_sandbox):
    cmd("copy", PROFILE, "Accounts", protected_acme, "--sync")
    job = CopyJob.objects.get()
    CopyJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(days=7, minutes=1))
    before = len(fresh_sandbox.zoho.state.records["Accounts"])
    code, _, err = cmd("job", "approve", str(job.pk), "--user", "dora", "--sync")
    assert code == 2 and "expired" in err
    assert CopyJob.objects.get().status == "awaiting_approval"
    assert len(fresh_sandbox.zoho.state.records["Accounts"]) == before


def test_job_reject_with_a_reason(protected_acme):
    cmd("copy", PROFILE, "Accounts", protected_acme, "--sync")
    job = CopyJob.objects.get()
    code, out, _ = cmd("job", "reject", str(job.pk), "--user", "dora", "--reason", "Freeze week")
    assert code == 0
    assert "Rejected by dora: Freeze week" in out
    assert CopyJob.objects.get().status == "rejected"


@pytest.mark.parametrize("run", ["--sync", "--wait"])
def test_copy_to_a_protected_target_exits_1_printing_the_awaiting_job(cross_zoho, redis_url, run):
    source, target = cross_zoho
    target.profile.protected = True
    target.profile.save(update_fields=["protected"])
    globex = find_record(source.connector, "Accounts", "Globex")
    before = {m: len(r) for m, r in target.sandbox.zoho.state.records.items()}
    code, out, _ = cmd(
        "copy", PROFILE, "Accounts", globex, "--deep", "--to", "Target Zoho", "--mask-suggested", run, "--json"
    )
    assert code == 1
    data = json.loads(out)
    assert (data["status"], data["target"]) == ("awaiting_approval", "Target Zoho")
    assert {m: len(r) for m, r in target.sandbox.zoho.state.records.items()} == before
    # Without --json the job is printed in words: what it waits for and where it would write.
    code, out, _ = cmd("copy", PROFILE, "Accounts", globex, "--deep", "--to", "Target Zoho", "--mask-suggested", run)
    assert code == 1 and "Awaiting approval: nothing is written into Target Zoho" in out
    assert CopyJob.objects.filter(status="awaiting_approval", rq_job_id="").count() == 2


def test_the_command_names_its_flags_where_the_preview_names_its_boxes():
    from records.management.commands.copy import in_flags

    assert in_flags(
        "Copy smaller parts, or have Record Copier build it: tick “Build the hierarchy level by level”."
    ) == ("Copy smaller parts, or have Record Copier build it: add --engine.")
    assert in_flags("Built level by level (asked for: “Build the hierarchy level by level” is ticked)") == (
        "Built level by level (asked for: --engine)"
    )
    assert "add --run-workflows to let them fire" in in_flags(
        "tick “Let workflows, approvals and blueprints fire on inserted copies” to let them fire."
    )
