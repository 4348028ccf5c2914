"""The `template` command and `copy --template` against the sandbox over HTTP."""

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from records.models import AuditEvent, CopyJob, CopyTemplate
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def saved(globex, owner, redis_url):
    """A deep copy of Globex (Deals left out, a new name), made by `copy` and saved as "Kit"."""
    sb, profile, conn, src = globex
    code, out, err = cmd(
        "copy", profile.name, "Accounts", src, "--deep", "--exclude", "Deals",
        "--set", "Account_Name={Account_Name} (kit)", "--sync", "--json", "--user", owner.username,
    )  # fmt: skip
    assert code == 0, err
    job_id = json.loads(out)["id"]
    code, out, err = cmd("template", "save", "Kit", "--from-job", str(job_id), "--description", "d", "--user", "alice")
    assert code == 0, err
    return globex


def test_copy_with_a_template_runs_it_on_other_records_and_records_its_version(saved):
    sb, profile, conn, src = saved
    acme = find_record(conn, "Accounts", "Acme Corp")
    code, out, err = cmd("copy", "--template", "Kit", acme, "--user", "alice", "--sync", "--json")
    assert code == 0, err
    job = CopyJob.objects.get(pk=json.loads(out)["id"])
    assert job.template_version == CopyTemplate.objects.get().versions.get()
    assert conn.get("Accounts", job.results.get(depth=0).new_id).fields["Account_Name"] == "Acme Corp (kit)"
    assert not job.results.filter(object_name="Deals").exists() and job.results.count() > 1
    run = AuditEvent.objects.get(action="template.run")
    assert (run.job, run.actor.username, run.details["template"], run.details["version"]) == (job, "alice", "Kit", 1)


def test_a_copy_option_on_the_command_line_overrides_the_templates(saved):
    sb, profile, conn, src = saved
    acme = find_record(conn, "Accounts", "Acme Corp")
    code, out, err = cmd(
        "copy", "--template", "Kit", acme, "--user", "alice", "--preview",
        "--set", "Account_Name=Acme run", "--exclude", "Contacts",
    )  # fmt: skip
    assert code == 0, err
    assert "Account_Name: 'Acme Corp' -> 'Acme run'" in out
    assert "Contacts" not in out and "Deals" in out  # --exclude replaced the saved leave-out
    assert not CopyJob.objects.exclude(pk=CopyJob.objects.order_by("pk").first().pk).exists()


def test_copy_with_a_template_refuses_another_user_and_a_missing_user(saved, other_user):
    sb, profile, conn, src = saved
    code, out, err = cmd("copy", "--template", "Kit", src, "--user", "bob", "--sync")
    assert (code, err) == (2, "No template named Kit that you may use.\n")
    code, out, err = cmd("copy", "--template", "Kit", src, "--sync")
    assert code == 2 and "--template needs --user" in err


def test_template_list_show_share_and_diff(saved, other_user):
    code, out, err = cmd("template", "list", "--json")
    assert code == 0, err
    (listed,) = json.loads(out)
    assert listed["name"] == "Kit" and listed["version"] == 1 and listed["owner"] == "alice"
    assert listed["summary"] == "Deep copy of Accounts from Sandbox Zoho"

    code, out, err = cmd("template", "list", "--user", "bob")
    assert (code, out) == (0, "")
    code, out, err = cmd("template", "share", "Kit", "--with", "bob", "--user", "bob")
    assert code == 2 and "No template named Kit" in err
    code, out, err = cmd("template", "share", "Kit", "--with", "bob", "--user", "alice")
    assert code == 0, err
    Group.objects.create(name="Team")
    assert cmd("template", "share", "Kit", "--group", "Team", "--user", "alice")[0] == 0
    code, out, err = cmd("template", "show", "Kit", "--user", "bob", "--json")
    shown = json.loads(out)
    assert shown["shared_with_users"] == ["bob"] and shown["shared_with_groups"] == ["Team"]
    shares = AuditEvent.objects.filter(action="template.share").order_by("pk")
    assert [(e.actor.username, e.details["shared_with"]) for e in shares] == [
        ("alice", "user bob"),
        ("alice", "group Team"),
    ]
    assert [v["number"] for v in shown["versions"]] == [1] and len(shown["versions"][0]["jobs"]) == 0

    code, out, err = cmd("template", "diff", "Kit", "1", "1")
    assert (code, out) == (0, "The two versions make the same copy.\n")
    code, out, err = cmd("template", "diff", "Kit", "1", "3")
    assert (code, err) == (2, "Kit has no version 3.\n")


def test_template_save_refuses_a_job_the_user_may_not_see(saved, other_user):
    job = CopyJob.objects.get()
    code, out, err = cmd("template", "save", "Mine", "--from-job", str(job.pk), "--user", "bob")
    assert (code, err) == (2, "You may not use this job.\n")
    code, out, err = cmd("template", "save", "Kit", "--from-job", str(job.pk), "--user", "alice")
    assert code == 2 and "already have a template named Kit" in err
