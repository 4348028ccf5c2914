"""The `copy` and `job` commands over the in-memory connector (put in the connector registry)."""

import io
import json
import sys
import types

import pytest
from django.core.management import call_command

from records.models import CopyJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(memory, monkeypatch, redis_url):
    # Commands that queue work check that Redis answers (one line on stderr if not).
    module = types.ModuleType("tests_memory_connector")
    module.make = lambda config, tokens: memory
    monkeypatch.setitem(sys.modules, "tests_memory_connector", module)
    from records import connectors

    monkeypatch.setitem(connectors.REGISTRY, "zoho", "tests_memory_connector:make")
    return memory


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


def test_copy_sync_json_deep(registered, engine_profile):
    code, out, err = cmd(
        "copy",
        "Memory",
        "Accounts",
        registered.root,
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
    assert data["status"] == "succeeded" and data["mode"] == "deep_copy" and len(data["results"]) == 7
    assert set(data["results"][0]) >= {
        "object",
        "source_id",
        "new_id",
        "parent_source_id",
        "status",
        "error_type",
        "error_message",
    }
    new = registered.data["Accounts"][data["results"][0]["new_id"]]
    assert new["Account_Name"] == "Acme 2" and new["Employees"] == 12


def test_copy_bad_input_exits_2_with_one_line(registered, engine_profile):
    code, out, err = cmd("copy", "Memory", "Accounts", registered.root, "--set", "Nope=1", "--sync")
    assert code == 2 and "Nope" in err and err.strip().count("\n") == 0
    code, _, err = cmd("copy", "Nobody", "Accounts", "1", "--sync")
    assert code == 2 and "profile" in err
    code, _, err = cmd("copy", "Memory", "Accounts", registered.root, "--clear", "Account_Name", "--sync")
    assert code == 2 and "required" in err
    assert not CopyJob.objects.exists()


def test_copy_preview_queues_nothing(registered, engine_profile):
    code, out, _ = cmd("copy", "Memory", "Accounts", registered.root, "--deep", "--preview", "--json")
    assert code == 0 and json.loads(out)["total"] == 7 and not CopyJob.objects.exists()


def test_partial_failure_exits_1_then_job_retry_and_show(registered, engine_profile):
    registered.reject_names = {"C1"}
    code, out, _ = cmd(
        "copy", "Memory", "Accounts", registered.root, "--deep", "--set", "Account_Name=X", "--sync", "--json"
    )
    assert code == 1 and json.loads(out)["status"] == "partial"
    job = CopyJob.objects.get()
    registered.reject_names = set()
    code, _, _ = cmd("job", "retry", str(job.pk))
    assert code == 0
    from records.copying.services import copy_job_run

    copy_job_run(job_id=job.pk, worker_id="w")
    code, out, _ = cmd("job", "show", str(job.pk), "--json")
    assert code == 0 and json.loads(out)["counts"]["failed"] == 0


def test_job_undo_and_unknown_job(registered, engine_profile):
    cmd("copy", "Memory", "Accounts", registered.root, "--set", "Account_Name=X", "--sync")
    job = CopyJob.objects.get()
    code, out, _ = cmd("job", "undo", str(job.pk), "--json")
    assert code == 0 and json.loads(out)["mode"] == "undo"
    assert cmd("job", "show", "99999")[0] == 2
    assert cmd("job", "resume-stale")[0] == 0
