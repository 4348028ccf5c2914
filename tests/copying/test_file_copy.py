"""A copy's files (records/copying/file_copy.py), over real HTTP against the sandbox: each copied
record's attachments streamed to its copy when asked (and none when not), one FileResult per file,
exactly once after a lost answer or a crash mid-upload, and undo."""

import contextlib
import io
import json
import signal
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from records.connectors import connector_for
from records.copying.job_actions import copy_job_undo, jobs_resume_stale
from records.copying.options import CopyOptions
from records.models import CopyJob, FileResult
from tests.fixtures.cross import copy_across
from tests.fixtures.engine import copy_now, run_job, start_job, wait_for, worker_running
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
ATTACHMENTS = r"/attachments/?$"
FILES = CopyOptions(files=True)
TWENTY_MB = 20 * 1024 * 1024
MEASURED_WORKER = "tests.fixtures.measured_worker.MeasuredWorker"


def _listed(conn, object_name, record_id):
    return sorted((a.name, a.size, a.md5) for a in conn.attachments(object_name, record_id))


def _vault_kw(options=None):
    """A Vault product's clone needs a new name (name__v is unique)."""
    return {"overrides": {"name__v": "Cardiostat (copy)"}, "options": options or CopyOptions()}


def _copy_of(job):
    row = job.results.get(depth=0)
    return row.new_id


def test_vault_clone_with_files_carries_each_attachment_with_its_checksum(vault, owner):
    conn = vault.connector
    source = find_record(conn, "product__v", "Cardiostat")

    job = copy_now(vault.profile, owner, "product__v", [source], CopyJob.Mode.CLONE, connector=conn, **_vault_kw(FILES))

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copy = _copy_of(job)
    assert _listed(conn, "product__v", copy) == _listed(conn, "product__v", source)
    files = list(FileResult.objects.filter(job=job))
    assert sorted((f.name, f.size, f.status) for f in files) == [
        ("empty.txt", 0, "succeeded"),
        ("leaflet.pdf", 48_000, "succeeded"),
    ]
    by_name = {a.name: a for a in conn.attachments("product__v", copy)}
    assert all(f.new_file_id == by_name[f.name].id and f.checksum == by_name[f.name].md5 for f in files)


def test_vault_clone_without_files_leaves_them_out(vault, owner):
    conn = vault.connector
    source = find_record(conn, "product__v", "Cardiostat")

    job = copy_now(vault.profile, owner, "product__v", [source], CopyJob.Mode.CLONE, connector=conn, **_vault_kw())

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert conn.attachments("product__v", _copy_of(job)) == []
    assert not FileResult.objects.filter(job=job).exists()


def test_zoho_clone_with_files_uploads_the_attachments_the_clone_drops(zoho, owner):
    conn = zoho.connector
    source = find_record(conn, "Accounts", "Acme Corp")

    job = copy_now(zoho.profile, owner, "Accounts", [source], CopyJob.Mode.CLONE, connector=conn, options=FILES)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    want = [(n, s) for n, s, _ in _listed(conn, "Accounts", source)]
    assert want and [(n, s) for n, s, _ in _listed(conn, "Accounts", _copy_of(job))] == want
    assert all(len(f.checksum) == 32 for f in FileResult.objects.filter(job=job))


def test_zoho_clone_without_files_leaves_them_out(zoho, owner):
    conn = zoho.connector
    source = find_record(conn, "Accounts", "Acme Corp")

    job = copy_now(zoho.profile, owner, "Accounts", [source], CopyJob.Mode.CLONE, connector=conn)

    assert conn.attachments("Accounts", _copy_of(job)) == []


def test_a_lost_upload_answer_is_reconciled_to_exactly_one_attachment(vault, owner):
    conn, sb = vault.connector, vault.sandbox
    source = find_record(conn, "product__v", "Cardiostat")
    conn.attachments("product__v", source)  # the session first, so the hook meets the upload
    sb.hooks("vault").lose("POST", ATTACHMENTS, applied=True)

    job = copy_now(vault.profile, owner, "product__v", [source], CopyJob.Mode.CLONE, connector=conn, **_vault_kw(FILES))

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    names = [a.name for a in conn.attachments("product__v", _copy_of(job))]
    assert sorted(names) == ["empty.txt", "leaflet.pdf"]
    assert set(FileResult.objects.filter(job=job).values_list("status", flat=True)) == {"succeeded"}


def test_a_lost_upload_answer_that_never_applied_is_sent_again_once(vault, owner):
    conn, sb = vault.connector, vault.sandbox
    source = find_record(conn, "product__v", "Cardiostat")
    conn.attachments("product__v", source)
    sb.hooks("vault").lose("POST", ATTACHMENTS, applied=False)

    job = copy_now(vault.profile, owner, "product__v", [source], CopyJob.Mode.CLONE, connector=conn, **_vault_kw(FILES))

    names = [a.name for a in conn.attachments("product__v", _copy_of(job))]
    assert sorted(names) == ["empty.txt", "leaflet.pdf"]


def test_a_resumed_run_after_a_crash_mid_upload_claims_the_file_instead_of_sending_it_again(vault, owner):
    conn = vault.connector
    source = find_record(conn, "product__v", "Cardiostat")
    job = copy_now(vault.profile, owner, "product__v", [source], CopyJob.Mode.CLONE, connector=conn, **_vault_kw(FILES))
    leaflet = FileResult.objects.get(job=job, name="leaflet.pdf")
    # As a worker killed after the upload landed and before its answer was recorded leaves it:
    FileResult.objects.filter(pk=leaflet.pk).update(status="sending", new_file_id="")
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.QUEUED, lease_owner="")

    run_job(job, connector=conn, worker="second")

    leaflet.refresh_from_db()
    names = [a.name for a in conn.attachments("product__v", _copy_of(job))]
    assert names.count("leaflet.pdf") == 1
    assert leaflet.status == "succeeded" and leaflet.new_file_id


def test_undo_deletes_the_copies_with_their_files(vault, owner):
    conn = vault.connector
    source = find_record(conn, "product__v", "Cardiostat")
    job = copy_now(vault.profile, owner, "product__v", [source], CopyJob.Mode.CLONE, connector=conn, **_vault_kw(FILES))

    undo = run_job(copy_job_undo(job=job, user=owner, enqueue=False), connector=conn)

    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert set(FileResult.objects.filter(job=job).values_list("status", flat=True)) == {"deleted"}
    assert _listed(conn, "product__v", source)  # the source keeps its own


def test_across_profiles_the_files_go_to_the_new_record_in_the_target(cross_zoho, owner):
    source, target = cross_zoho
    acme = find_record(source.connector, "Accounts", "Acme Corp")

    job = copy_across(cross_zoho, owner, "Accounts", [acme], CopyJob.Mode.CLONE, files=True)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copy = _copy_of(job)
    want = [(n, s) for n, s, _ in _listed(source.connector, "Accounts", acme)]
    assert [(n, s) for n, s, _ in _listed(target.connector, "Accounts", copy)] == want


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_copies_a_twenty_mb_file_with_its_memory_flat(
    fresh_sandbox, vault_profile, owner, redis_url, tmp_path
):
    """A real worker process runs the copy (the sandbox serves from this process): the peak
    resident set of the process that runs the job (RQ's work horse) grows by < 10 MB over its size
    just before. Measured on 2 CPUs: 7 MB, of which 6 MB is the same copy's without files; the
    file read whole into memory: 46 MB."""
    conn = connector_for(vault_profile)
    neurolax = find_record(conn, "product__v", "Neurolax")
    job = start_job(
        vault_profile,
        owner,
        "product__v",
        [neurolax],
        CopyJob.Mode.CLONE,
        enqueue=True,
        overrides={"name__v": "Neurolax (copy)"},
        options=FILES,
    )
    measured = tmp_path / "rss.jsonl"
    with worker_running(redis_url, "--burst", "--worker-class", MEASURED_WORKER, MEASURED_RSS_FILE=str(measured)) as w:
        w.wait(120)

    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    big = FileResult.objects.get(job=job, name="dossier.zip")
    assert big.size == TWENTY_MB and big.status == "succeeded"
    assert big.checksum == next(a.md5 for a in conn.attachments("product__v", neurolax) if a.size == TWENTY_MB)
    [run] = [r for r in map(json.loads, measured.read_text().splitlines()) if r["args"] == [job.pk]]
    growth_kb = run["peak_kb"] - run["before_kb"]
    assert growth_kb < 10 * 1024, f"the worker's peak resident set grew by {growth_kb / 1024:.1f} MB"


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_sigkilled_mid_upload_is_resumed_to_exactly_one_attachment(
    fresh_sandbox, vault_profile, owner, redis_url
):
    conn = connector_for(vault_profile)
    source = find_record(conn, "product__v", "Cardiostat")
    # The first upload lands in the sandbox and its answer is held: the worker dies waiting for it.
    hold = fresh_sandbox.hooks("vault").hold("POST", ATTACHMENTS)
    job = start_job(
        vault_profile,
        owner,
        "product__v",
        [source],
        CopyJob.Mode.CLONE,
        enqueue=True,
        overrides={"name__v": "Cardiostat (killed)"},
        options=FILES,
    )
    with worker_running(redis_url):  # SIGKILLed at the end of the block
        assert hold.wait(60)
        assert wait_for(lambda: FileResult.objects.filter(job=job, status="sending").exists(), 10)
    hold.release()
    time.sleep(3.5)  # the dead worker's lease expires
    with pytest.raises(SystemExit):
        call_command("job", "resume-stale")
    with worker_running(redis_url, "--burst") as second:
        second.wait(120)

    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    names = sorted(a.name for a in conn.attachments("product__v", _copy_of(job)))
    assert names == ["empty.txt", "leaflet.pdf"]
    assert set(FileResult.objects.filter(job=job).values_list("status", flat=True)) == {"succeeded"}


@pytest.mark.django_db(transaction=True)
def test_a_records_files_overlap_up_to_the_profile_concurrency(fresh_sandbox, vault_profile, owner):
    """While the first upload's answer is held, the record's other file is carried and recorded."""
    conn = connector_for(vault_profile)
    source = find_record(conn, "product__v", "Cardiostat")
    job = start_job(vault_profile, owner, "product__v", [source], CopyJob.Mode.CLONE, **_vault_kw(FILES))
    hold = fresh_sandbox.hooks("vault").hold("POST", ATTACHMENTS)
    runner = threading.Thread(target=_run_closing, args=(job,))
    runner.start()
    try:
        assert hold.wait(30)
        assert wait_for(lambda: FileResult.objects.filter(job=job, status="succeeded").count() == 1, 10)
    finally:
        hold.release()
        runner.join(60)

    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert _listed(conn, "product__v", _copy_of(job)) == _listed(conn, "product__v", source)


@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_on_one_of_the_overlapped_uploads_pauses_the_job_and_the_resume_sends_it_once(
    fresh_sandbox, vault_profile, owner
):
    conn = connector_for(vault_profile)
    source = find_record(conn, "product__v", "Cardiostat")
    limited = {"responseStatus": "FAILURE", "errors": [{"type": "API_LIMIT_EXCEEDED", "message": "Slow down."}]}
    fresh_sandbox.hooks("vault").answer("POST", ATTACHMENTS, limited, times=1)

    job = copy_now(vault_profile, owner, "product__v", [source], CopyJob.Mode.CLONE, **_vault_kw(FILES))

    assert job.status == CopyJob.Status.WAITING, job.error_summary
    assert sorted(FileResult.objects.filter(job=job).values_list("status", flat=True)) == ["pending", "succeeded"]
    CopyJob.objects.filter(pk=job.pk).update(resume_at=timezone.now())  # its wait over
    jobs_resume_stale()
    job = run_job(job)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert _listed(conn, "product__v", _copy_of(job)) == _listed(conn, "product__v", source)


def _run_closing(job):
    try:
        run_job(job)
    finally:
        connection.close()  # this thread's: the test database is dropped at the end


def _copy_skipping_existing(cross, user, object_name, ids):
    """As copy_across, with the records already in the target skipped (their files still carried)."""
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    source, target = cross
    request = copy_request(
        source.profile, object_name, ids, CopyJob.Mode.CLONE, options=CopyOptions(existing="skip", files=True)
    )
    request = type(request)(**{**request.__dict__, "target": target.profile})
    job = copy_job_create(request=request, user=user, enqueue=False, connector=source.connector)
    return run_job_across(job, cross)


def run_job_across(job, cross):
    from records.copying.job_actions import copy_job_run

    source, target = cross
    return copy_job_run(job_id=job.pk, worker_id="test", connector=target.connector, source_connector=source.connector)


def test_files_on_a_skipped_record_are_added_once_and_undo_deletes_only_those(cross_zoho, owner):
    source, target = cross_zoho
    acme = find_record(source.connector, "Accounts", "Acme Corp")
    there = find_record(target.connector, "Accounts", "Acme Corp")
    source.connector.upload_attachment("Accounts", acme, "extra.txt", [b"only in the source\n"], 19)
    before = _listed(target.connector, "Accounts", there)

    job = _copy_skipping_existing(cross_zoho, owner, "Accounts", [acme])

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.results.get().new_id == there
    after = [n for n, _, _ in _listed(target.connector, "Accounts", there)]
    assert after == sorted([n for n, _, _ in before] + ["extra.txt"])
    outcomes = dict(FileResult.objects.filter(job=job).values_list("name", "status"))
    assert outcomes["extra.txt"] == "succeeded"
    assert {s for n, s in outcomes.items() if n != "extra.txt"} <= {"skipped"}  # already there: not ours

    undo = run_job_across(copy_job_undo(job=job, user=owner, enqueue=False), cross_zoho)

    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    assert _listed(target.connector, "Accounts", there) == before  # the record and its own files stay
    assert FileResult.objects.get(job=job, name="extra.txt").status == "deleted"


def test_a_zoho_profile_at_concurrency_one_copies_attachments_and_file_fields(zoho, owner):
    """A Zoho download holds the profile's concurrency slot while it streams, and the upload of
    its bytes needs one: with a single slot the download must be over before the upload starts."""
    zoho.profile.concurrency = 1
    zoho.profile.save()
    conn = connector_for(zoho.profile)
    acme, contact = find_record(conn, "Accounts", "Acme Corp"), _photo_contact(conn)

    # A deadline each: the run records the TimeoutError as the job's failure and goes on.
    with deadline(30):
        account_job = copy_now(
            zoho.profile, owner, "Accounts", [acme], CopyJob.Mode.CLONE, connector=conn, options=FILES
        )
    with deadline(30):
        contact_job = copy_now(
            zoho.profile, owner, "Contacts", [contact], CopyJob.Mode.CLONE, connector=conn, options=FILES
        )

    assert account_job.status == CopyJob.Status.SUCCEEDED, account_job.error_summary
    assert contact_job.status == CopyJob.Status.SUCCEEDED, contact_job.error_summary
    want = [(n, s) for n, s, _ in _listed(conn, "Accounts", acme)]
    assert want and [(n, s) for n, s, _ in _listed(conn, "Accounts", _copy_of(account_job))] == want
    assert FileResult.objects.get(job=contact_job, kind="field").status == "succeeded"


@contextlib.contextmanager
def deadline(seconds):
    """A test that would wait forever (a thread blocked on a lock) fails after `seconds` instead."""

    def expire(signum, frame):
        raise TimeoutError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _photo_contact(conn):
    return find_record(conn, "Contacts", "Pat4 Contact 4")  # the demo's contacts 4, 8, ... hold a photo


def _download_file(conn, file_id):
    with conn.download_file_field("Contacts", "", "Photo_File", file_id) as chunks:
        return b"".join(chunks)


def test_zoho_file_upload_field_is_uploaded_again_and_set_on_the_copy(zoho, owner):
    conn = zoho.connector
    source = _photo_contact(conn)
    (source_file, _name), *_ = conn.file_field_files(conn.get("Contacts", source).fields["Photo_File"])

    job = copy_now(zoho.profile, owner, "Contacts", [source], CopyJob.Mode.CLONE, connector=conn, options=FILES)

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    held = conn.file_field_files(conn.get("Contacts", _copy_of(job)).fields.get("Photo_File"))
    file = FileResult.objects.get(job=job, kind="field")
    assert (file.field_name, file.status, file.name) == ("Photo_File", "succeeded", "photo4.png")
    assert [fid for fid, _ in held] == [file.new_file_id] and file.new_file_id != source_file
    assert _download_file(conn, file.new_file_id) == _download_file(conn, source_file)
    assert file.size > 0 and len(file.checksum) == 32


def test_zoho_file_upload_field_left_out_stays_empty_on_the_copy(zoho, owner):
    conn = zoho.connector
    source = _photo_contact(conn)

    job = copy_now(zoho.profile, owner, "Contacts", [source], CopyJob.Mode.CLONE, connector=conn)

    assert not conn.file_field_files(conn.get("Contacts", _copy_of(job)).fields.get("Photo_File"))


def test_a_lost_answer_to_the_file_fields_update_is_not_sent_again(zoho, owner):
    conn, sb = zoho.connector, zoho.sandbox
    source = _photo_contact(conn)
    conn.get("Contacts", source)
    sb.hooks("zoho").lose("PUT", r"/Contacts/?$", applied=True)

    job = copy_now(zoho.profile, owner, "Contacts", [source], CopyJob.Mode.CLONE, connector=conn, options=FILES)

    file = FileResult.objects.get(job=job, kind="field")
    held = conn.file_field_files(conn.get("Contacts", _copy_of(job)).fields.get("Photo_File"))
    assert [fid for fid, _ in held] == [file.new_file_id]
    assert file.status == "succeeded", file.error_message


@pytest.mark.parametrize("engine", [False, True], ids=["vaults_own_deep_copy", "engine_built"])
def test_a_vault_deep_copy_carries_the_attachments_of_the_records_it_copied(vault, owner, engine):
    conn = vault.connector
    source = find_record(conn, "product__v", "Cardiostat")
    options = CopyOptions(files=True, engine=engine)

    job = copy_now(
        vault.profile,
        owner,
        "product__v",
        [source],
        CopyJob.Mode.DEEP_COPY,
        connector=conn,
        overrides={"name__v": "Cardiostat (deep)"},
        options=options,
    )

    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert _listed(conn, "product__v", _copy_of(job)) == _listed(conn, "product__v", source)
    assert FileResult.objects.filter(job=job, status="succeeded").count() == 2


def test_a_lost_answer_with_two_matching_attachments_is_held_for_review_not_sent_again(zoho, owner):
    conn = zoho.connector
    source = find_record(conn, "Accounts", "Acme Corp")
    job = copy_now(zoho.profile, owner, "Accounts", [source], CopyJob.Mode.CLONE, connector=conn, options=FILES)
    copy = _copy_of(job)
    notes = FileResult.objects.get(job=job)
    conn.delete_attachment("Accounts", copy, notes.new_file_id)
    # As after a lost answer, with two files that could each be the copy (another added meanwhile):
    FileResult.objects.filter(pk=notes.pk).update(status="sending", new_file_id="")
    for k in (1, 2):
        conn.upload_attachment("Accounts", copy, notes.name, [bytes([k]) * notes.size], notes.size)
    CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.QUEUED, lease_owner="")

    run_job(job, connector=conn, worker="second")

    notes.refresh_from_db()
    assert notes.status == "review" and "More than one attachment" in notes.error_message
    assert [a.name for a in conn.attachments("Accounts", copy)].count(notes.name) == 2  # none sent again


def test_the_undo_page_says_a_file_field_set_on_a_skipped_record_stays_and_its_attachment_goes(
    cross_zoho, owner, owner_client
):
    source, target = cross_zoho
    contact = _photo_contact(source.connector)
    first = _copy_skipping_existing(cross_zoho, owner, "Contacts", [contact])  # the record the rerun skips
    there = first.results.get().new_id
    target.sandbox.zoho.state.records["Contacts"][there]["Photo_File"] = None  # emptied there: the rerun fills it
    source.connector.upload_attachment("Contacts", contact, "extra.txt", [b"only in the source\n"], 19)
    job = _copy_skipping_existing(cross_zoho, owner, "Contacts", [contact])
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.results.get().new_id == there
    field_file = FileResult.objects.get(job=job, kind="field", status="succeeded")

    page = owner_client.get(reverse("job_undo", args=[job.code])).content.decode()

    table = page.split('id="undo-files"')[1].split("</table>")[0]
    photo_row = next(r for r in table.split("<tr>") if "photo4.png" in r)
    assert "Photo_File" in photo_row and "Kept: the undo does not clear file fields" in photo_row
    assert "Deleted: added by the copy" in next(r for r in table.split("<tr>") if "extra.txt" in r)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("job", "undo", str(job.pk), "--preview", stdout=out)
    assert f"Contacts {there} photo4.png (Photo_File): kept, the undo does not clear file fields" in out.getvalue()
    assert f"Contacts {there} extra.txt: deleted" in out.getvalue()

    undo = run_job_across(copy_job_undo(job=job, user=owner, enqueue=False), cross_zoho)

    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    held = target.connector.file_field_files(target.connector.get("Contacts", there).fields.get("Photo_File"))
    assert [fid for fid, _ in held] == [field_file.new_file_id]  # as the page said: left set
    assert "extra.txt" not in [a.name for a in target.connector.attachments("Contacts", there)]
