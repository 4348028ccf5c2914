"""Undo of a copy into another profile, over HTTP against the target Zoho org: it deletes only what
the job created there, never a record it skipped or updated; `--restore-updated` writes the updated
records' previous values back (a field changed again since keeps its value), and a lost answer
to that write is simply sent again. The copy job's rows are made here as the cross copy leaves them."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from records.connectors.errors import NotFound
from records.copying import lifecycle
from records.copying.job_actions import copy_job_undo
from records.copying.job_rules import can_undo
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
A, S = RecordResult.Action, RecordResult.Status


@pytest.fixture
def copied(cross_zoho, owner):
    """A finished deep copy into the target org: one account created, Acme Corp skipped (found
    there), Globex updated (Phone and Website; their old values kept on the row)."""
    source, target = cross_zoho
    conn = target.connector
    before = timezone.now() - dt.timedelta(seconds=5)
    created = conn.create("Accounts", [{"Account_Name": "Initech (copy)"}])[0].new_id
    acme, globex = find_record(conn, "Accounts", "Acme Corp"), find_record(conn, "Accounts", "Globex")
    old = conn.get("Accounts", globex).fields
    conn.update("Accounts", [{"id": globex, "Phone": "+1 555 0199", "Website": "https://globex.new"}])
    job = CopyJob.objects.create(
        profile=source.profile,
        target_profile=target.profile,
        object_name="Accounts",
        mode=CopyJob.Mode.DEEP_COPY,
        requested_by=owner,
        status=CopyJob.Status.SUCCEEDED,
        state={
            "profile_address": lifecycle.profile_address(source.profile),
            "target_address": lifecycle.profile_address(target.profile),
        },
    )
    done = {"job": job, "status": S.SUCCEEDED, "sending_at": before, "written_at": timezone.now()}
    RecordResult.objects.bulk_create(
        [
            RecordResult(object_name="Accounts", source_id="1", new_id=created, action=A.CREATE, **done),
            RecordResult(object_name="Accounts", source_id="2", new_id=acme, action=A.SKIP, **done),
            RecordResult(
                object_name="Accounts",
                source_id="3",
                new_id=globex,
                action=A.UPDATE,
                previous={"Phone": old["Phone"], "Website": old["Website"]},
                values={"Phone": "+1 555 0199", "Website": "https://globex.new"},
                **done,
            ),
        ]
    )
    return source, target, job, {"created": created, "acme": acme, "globex": globex, "old": old}


def exists(conn, record_id):
    try:
        conn.get("Accounts", record_id)
    except NotFound:
        return False
    return True


def test_undo_deletes_only_what_the_job_created_in_the_target(copied, owner):
    source, target, job, ids = copied
    source.sandbox.clear_log("zoho")
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=target.connector)
    assert undo.status == CopyJob.Status.SUCCEEDED and undo.target_profile_id == target.profile.pk
    conn = target.connector
    assert not exists(conn, ids["created"]) and exists(conn, ids["acme"]) and exists(conn, ids["globex"])
    assert conn.get("Accounts", ids["globex"]).fields["Phone"] == "+1 555 0199"  # not asked to restore
    assert [r.source_id for r in undo.results.all()] == [ids["created"]]
    assert not [e for e in source.sandbox.log("zoho") if e.method != "GET"]  # nothing written in the source


def test_a_rerun_that_skipped_the_copy_does_not_keep_it_from_the_first_jobs_undo(copied, owner):
    """The re-run's row names the first job's copy as the record it skipped, not as its own copy."""
    source, target, job, ids = copied
    rerun = CopyJob.objects.create(
        profile=source.profile, target_profile=target.profile, object_name="Accounts", mode=job.mode, requested_by=owner
    )
    RecordResult.objects.create(
        job=rerun, object_name="Accounts", source_id="1", new_id=ids["created"], action=A.SKIP, status=S.SUCCEEDED
    )
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=target.connector)
    assert undo.status == CopyJob.Status.SUCCEEDED and not exists(target.connector, ids["created"])


def test_restore_updated_writes_back_the_fields_still_as_the_update_left_them(copied, owner):
    source, target, job, ids = copied
    conn = target.connector
    conn.update("Accounts", [{"id": ids["globex"], "Website": "https://globex.someone-else"}])
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False, restore_updated=True), connector=conn)
    assert undo.status == CopyJob.Status.SUCCEEDED
    now = conn.get("Accounts", ids["globex"]).fields
    assert now["Phone"] == ids["old"]["Phone"]  # written back
    assert now["Website"] == "https://globex.someone-else"  # changed again since: kept
    row = undo.results.get(action=A.UPDATE)
    assert row.status == S.SUCCEEDED and "Website" in row.error_message
    assert not exists(conn, ids["created"]) and exists(conn, ids["acme"])


def test_restore_whose_answer_is_lost_is_sent_again(copied, owner):
    source, target, job, ids = copied
    conn = target.connector
    target.sandbox.hooks("zoho").lose("PUT", r"/Accounts$", applied=True)
    target.sandbox.clear_log("zoho")
    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False, restore_updated=True), connector=conn)
    puts = [e for e in target.sandbox.log("zoho") if e.method == "PUT"]
    assert len(puts) == 2 and undo.results.get(action=A.UPDATE).status == S.SUCCEEDED
    assert conn.get("Accounts", ids["globex"]).fields["Phone"] == ids["old"]["Phone"]


def test_a_job_that_only_skipped_has_nothing_to_undo(copied, owner):
    source, target, job, ids = copied
    job.results.exclude(action=A.SKIP).delete()
    assert can_undo(job, owner) == (False, "This job created nothing to undo.")
    with pytest.raises(ValidationError, match="created nothing"):
        copy_job_undo(job=job, user=owner, enqueue=False)


def test_a_job_that_only_updated_needs_restore_updated(copied, owner):
    source, target, job, ids = copied
    job.results.exclude(action=A.UPDATE).delete()
    assert can_undo(job, owner)[0]
    with pytest.raises(ValidationError, match=re.escape("--restore-updated writes back the values of the 1 record")):
        copy_job_undo(job=job, user=owner, enqueue=False)


def test_undo_preview_lists_the_updated_records_previous_values(copied):
    source, target, job, ids = copied
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("job", "undo", str(job.pk), "--preview", "--json", stdout=out, stderr=err)
    assert exc.value.code == 0, err.getvalue()
    preview = json.loads(out.getvalue())
    assert [line["record_id"] for line in preview["delete"]] == [ids["created"]] and preview["total"] == 1
    assert preview["restore"] == [
        {
            "object_name": "Accounts",
            "record_id": ids["globex"],
            "name": "",
            "previous": {"Phone": ids["old"]["Phone"], "Website": ids["old"]["Website"]},
            "masked": [],
        }
    ]
