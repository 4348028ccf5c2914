"""A copy's Vault Attachment fields (records/copying/file_fields.py), over real HTTP against the
sandbox: the file staged and set on the copy with a FileResult row, left out when files are not
chosen, exactly once after a lost answer, undone with the record, across vaults, and counted by
the preview."""

import hashlib

import pytest

from records.copying.job_actions import copy_job_undo
from records.copying.options import CopyOptions
from records.copying.preview_files import summary_lines
from records.models import CopyJob, FileResult
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import copy_now, preview, run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
FILES = CopyOptions(files=True)
OBJ, FIELD = "packaging__c", "artwork__c"


def _fields(setup):
    return setup.sandbox.vault.files.fields  # the emulator's attachment fields and staging


def _copy_of(job):
    return job.results.get(depth=0).new_id


def _clone(vault, owner, options=None):
    source = find_record(vault.connector, OBJ, "PKG-000061")
    job = copy_now(
        vault.profile, owner, OBJ, [source], CopyJob.Mode.CLONE, connector=vault.connector, options=options or FILES
    )
    return source, job


def test_a_clone_with_files_carries_the_attachment_field_with_a_result_row(vault, owner):
    source, job = _clone(vault, owner)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copy = _copy_of(job)
    name, size, md5 = _fields(vault).held(OBJ, source, FIELD)
    assert _fields(vault).held(OBJ, copy, FIELD) == (name, size, md5)
    file = FileResult.objects.get(job=job)
    assert (file.kind, file.field_name, file.status) == ("field", FIELD, "succeeded")
    assert (file.source_file_id, file.name, file.size, file.checksum) == (name, name, size, md5)
    assert file.new_file_id.endswith("/" + name)  # the staging path the field was set from
    assert not _fields(vault).staged_paths()  # the write consumed the staged file


def test_a_clone_without_files_leaves_the_field_out(vault, owner):
    _, job = _clone(vault, owner, CopyOptions())

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert _fields(vault).held(OBJ, _copy_of(job), FIELD) is None
    assert vault.connector.get(OBJ, _copy_of(job)).fields.get(FIELD) in (None, "")
    assert not FileResult.objects.filter(job=job).exists()


def test_a_lost_staging_answer_is_sent_again_to_the_same_path_one_file(vault, owner):
    conn = vault.connector
    conn.get(OBJ, find_record(conn, OBJ, "PKG-000061"))  # the session first, so the hook meets the upload
    vault.sandbox.hooks("vault").lose("POST", r"/file_staging/items/?$", applied=True)

    source, job = _clone(vault, owner)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    file = FileResult.objects.get(job=job)
    assert file.status == "succeeded", file.error_message
    assert _fields(vault).held(OBJ, _copy_of(job), FIELD) == _fields(vault).held(OBJ, source, FIELD)
    assert not _fields(vault).staged_paths()  # the resend replaced the first, none left over


def test_a_lost_answer_to_the_fields_update_is_read_back_not_sent_again(vault, owner):
    conn = vault.connector
    conn.get(OBJ, find_record(conn, OBJ, "PKG-000061"))
    vault.sandbox.hooks("vault").lose("PUT", rf"/vobjects/{OBJ}/?$", applied=True)

    source, job = _clone(vault, owner)

    file = FileResult.objects.get(job=job)
    assert file.status == "succeeded", file.error_message
    assert _fields(vault).held(OBJ, _copy_of(job), FIELD) == _fields(vault).held(OBJ, source, FIELD)


def test_undo_deletes_the_copy_with_its_field_and_marks_the_file_deleted(vault, owner):
    source, job = _clone(vault, owner)
    copy = _copy_of(job)

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=vault.connector)

    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert copy not in vault.sandbox.vault.state.records[OBJ]
    assert FileResult.objects.get(job=job).status == "deleted"
    assert _fields(vault).held(OBJ, source, FIELD) is not None  # the source keeps its own


def test_a_deep_copy_across_vaults_carries_each_field_file_to_the_target(cross_vault, owner):
    source, target = cross_vault
    dermacalm = find_record(source.connector, "product__v", "Dermacalm")

    job = copy_across(cross_vault, owner, "product__v", [dermacalm], CopyJob.Mode.DEEP_COPY, files=True)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    files = FileResult.objects.filter(job=job, kind="field")
    assert sorted((f.name, f.status) for f in files) == [
        ("artwork.pdf", "succeeded"),
        ("carton.png", "succeeded"),
        ("insert.pdf", "succeeded"),
    ]
    for f in files:
        assert _fields(target).held(OBJ, f.row.new_id, FIELD) == _fields(source).held(OBJ, f.row.source_id, FIELD)
    with target.connector.download_file_field(OBJ, files[0].row.new_id, FIELD, "") as chunks:
        assert hashlib.md5(b"".join(chunks), usedforsecurity=False).hexdigest() == files[0].checksum


def test_a_deep_copy_across_without_files_leaves_every_field_empty(cross_vault, owner):
    source, target = cross_vault
    dermacalm = find_record(source.connector, "product__v", "Dermacalm")

    job = copy_across(cross_vault, owner, "product__v", [dermacalm], CopyJob.Mode.DEEP_COPY)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    packagings = [r.new_id for r in job.results.filter(object_name=OBJ)]
    assert len(packagings) == 28 and not any(_fields(target).held(OBJ, p, FIELD) for p in packagings)


def test_the_preview_counts_the_attachment_field_files_of_a_deep_copy(vault):
    dermacalm = find_record(vault.connector, "product__v", "Dermacalm")

    plan = preview(
        vault.profile,
        "product__v",
        [dermacalm],
        CopyJob.Mode.DEEP_COPY,
        connector=vault.connector,
        options=FILES,
        overrides={"name__v": "Dermacalm (copy)"},
    )

    packaging = next(o for o in plan.files["objects"] if o["object_name"] == OBJ)
    assert (packaging["field_files"], packaging["unsized"]) == (3, 3)  # a record read names the file only
    assert plan.files["field_files"] == 3
    assert "File fields (copied): 3 files, 0\xa0bytes (3 of unknown size)." in summary_lines(plan.files)


def test_a_rerun_across_that_skips_the_records_there_never_sets_their_fields(cross_vault, owner):
    source, target = cross_vault
    dermacalm = find_record(source.connector, "product__v", "Dermacalm")
    first = copy_across(cross_vault, owner, "product__v", [dermacalm], CopyJob.Mode.DEEP_COPY)
    there = [r.new_id for r in first.results.filter(object_name=OBJ)]

    second = copy_across(
        cross_vault, owner, "product__v", [dermacalm], CopyJob.Mode.DEEP_COPY, existing="skip", files=True
    )

    assert second.status == CopyJob.Status.SUCCEEDED, second.error_summary
    assert set(second.results.values_list("action", flat=True)) == {"skip"}
    outcomes = list(FileResult.objects.filter(job=second).values_list("status", "error_message"))
    assert len(outcomes) == 3 and {s for s, _ in outcomes} == {"skipped"}
    assert all("Not a record this copy created" in m for _, m in outcomes)
    assert not any(_fields(target).held(OBJ, p, FIELD) for p in there)


def test_a_run_resumed_after_a_crash_between_staging_and_its_record_stages_again_once(vault, owner):
    source, job = _clone(vault, owner)
    copy, file = _copy_of(job), FileResult.objects.get(job=job)
    fields = _fields(vault)
    # As a worker killed after the staging upload landed and before its path was recorded leaves it:
    fields.attach(OBJ, copy, {FIELD: None})
    vault.sandbox.vault.state.records[OBJ][copy][FIELD] = None
    fields.staged[file.new_file_id] = {"name": file.name, "blob": vault.sandbox.vault.store.put([b"half"])}
    FileResult.objects.filter(pk=file.pk).update(status="sending", new_file_id="")
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.QUEUED, lease_owner="")

    run_job(job, connector=vault.connector, worker="second")

    file.refresh_from_db()
    assert file.status == "succeeded", file.error_message
    assert fields.held(OBJ, copy, FIELD) == fields.held(OBJ, source, FIELD)  # the full file, staged again
    assert not fields.staged_paths()


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_without_copy_keys_a_lost_create_beside_an_earlier_copy_ends_with_one_copy_and_its_file(
    bare_vault, owner, applied
):
    """A vault without copy-key fields, an earlier copy of the same record there already: the
    create's lost answer is reconciled to one new copy, and its field file is set once."""
    conn = bare_vault.connector
    _, earlier = _clone(bare_vault, owner)
    assert earlier.status == CopyJob.Status.SUCCEEDED, earlier.error_summary
    before = set(bare_vault.sandbox.vault.state.records[OBJ])
    bare_vault.sandbox.hooks("vault").lose("POST", rf"^/api/v\d+\.\d+/vobjects/{OBJ}$", applied=applied)

    source, job = _clone(bare_vault, owner)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    made = set(bare_vault.sandbox.vault.state.records[OBJ]) - before
    assert made == {_copy_of(job)} and _copy_of(job) != _copy_of(earlier)
    assert _fields(bare_vault).held(OBJ, _copy_of(job), FIELD) == _fields(bare_vault).held(OBJ, source, FIELD)
    assert FileResult.objects.get(job=job).status == "succeeded"
    assert conn.get(OBJ, _copy_of(earlier)).fields.get(FIELD)  # the earlier copy keeps its own file
    creates = [e for e in bare_vault.sandbox.log("vault") if e.method == "POST" and e.path.endswith(f"/vobjects/{OBJ}")]
    assert len(creates) == 1 + (1 if applied else 2)  # the earlier copy's, then this one's (resent when not applied)
