"""The job pages in a real browser (Debian's chromium, the sandbox, a real RQ worker): the list's
name search, and Vault's own deep copy showing its phase and status words to the end; jobs
numbered and titled by the copy's name, a cancelled job's numbers, numbers with separators and
times with their zone, and the results CSV that Excel reads as UTF-8."""

import re

import pytest
from playwright.sync_api import expect

from records.models import CopyJob, RecordResult
from tests.e2e.helpers import PRODUCT, assert_live_end, open_record, wait_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_job_list_name_search(parts, new_page, login, live_server, owner):
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    copy_job_create(
        request=copy_request(
            parts["vault_profile"], "product__v", [PRODUCT], "clone", overrides={"name__v": "Search me"}
        ),
        user=owner,
        enqueue=False,
    )
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/")
    page.fill("#id_q", "cardio")
    page.click("form[aria-label='Filter jobs'] button[type=submit]")
    page.wait_for_url("**q=cardio")  # the answer's page, not the one before it
    expect(page.locator("table tbody tr", has_text="Clone of Cardiostat as “Search me” (Products)")).to_have_count(1)
    page.fill("#id_q", PRODUCT[-4:])
    page.click("form[aria-label='Filter jobs'] button[type=submit]")
    page.wait_for_url(f"**q={PRODUCT[-4:]}")  # the answer's page, not the one before it
    expect(page.locator("table tbody tr")).to_have_count(1)


def test_vault_deep_copy_shows_its_phase_to_the_end(parts, new_page, login, live_server, rq_worker):
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Dermacalm")
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    assert page.locator("h1").inner_text().endswith(" · Deep copy of Dermacalm as “Dermacalm (copy)” (Products)")
    assert_live_end(page)
    expect(page.locator("#job-phase")).to_have_text("Done")
    assert page.locator("#object-progress tbody tr").count() >= 2  # products and their formulations


def test_vault_phase_and_status_words_follow_a_running_deep_copy(parts, new_page, login, live_server, rq_worker):
    """Walk-through defect: while Vault's own job ran, no record was done yet, so the page never
    asked for the phase again (it stayed hidden) and the words under the badge kept "Queued"."""
    parts["fresh_sandbox"].vault.configure(job_min_run_seconds=8.0)  # Vault's job runs for several polls
    page = login(new_page(), "alice", "alice-pass-123")
    open_record(page, live_server, parts["vault_profile"], "product__v", "Dermacalm")
    page.check("input[name=mode][value=deep_copy]")
    page.click("text=Preview the copy")
    page.click("text=Confirm and queue the copy")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-phase")).to_have_text(
        re.compile(r"^Vault job \S+ running, polled \d+ time"), timeout=15_000
    )
    expect(page.locator("#job-words")).to_have_text("Running")
    assert page.locator("#count-done").inner_text() == "0"  # nothing matched yet: the phase is all there is
    assert_live_end(page)
    expect(page.locator("#job-words")).to_have_text(re.compile(r"^Succeeded: \d+ copied"))
    expect(page.locator("#job-phase")).to_have_text("Done")


def test_an_undo_names_the_parent_copies(parts, new_page, login, live_server, owner, rq_worker):
    """The undo's PARENT column names the copies it deletes under (and what the top copy was a copy
    of), never the original records' ids."""
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    job = copy_job_create(
        request=copy_request(
            parts["vault_profile"], "product__v", [PRODUCT], "deep_copy", overrides={"name__v": "Cardio Parent"}
        ),
        user=owner,
    )
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    wait_finished(page)
    page.click("#job-actions a:has-text('Undo copy')")
    page.click("text=Yes, delete the copies")
    page.wait_for_url("**/jobs/*/")
    wait_finished(page)
    page.reload()
    parents = page.locator("#results-table tbody tr td:nth-child(6)").all_inner_texts()
    assert parents[0] == "copy of Cardiostat", parents
    top_copy = job.results.get(depth=0).new_id
    assert f"Cardio Parent {top_copy}" in parents, parents
    originals = set(job.results.values_list("source_id", flat=True))
    assert not any(p.split()[-1] in originals for p in parents), parents


def _cardiostat_clone(parts, owner, name):
    """A clone of Cardiostat named `name`, run here (the job page only reads the database)."""
    from records.copying.job_actions import copy_job_run
    from records.copying.job_create import copy_job_create
    from tests.fixtures.engine import copy_request

    request = copy_request(parts["vault_profile"], "product__v", [PRODUCT], "clone", overrides={"name__v": name})
    job = copy_job_create(request=request, user=owner, enqueue=False)
    return copy_job_run(job_id=job.pk, worker_id="test")


def test_jobs_are_numbered_and_titled_by_the_copys_new_name(parts, new_page, login, live_server, owner):
    first, second = (_cardiostat_clone(parts, owner, name) for name in ("Cardio Named 2", "Cardio Named 3"))
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/")
    for job, name in ((first, "Cardio Named 2"), (second, "Cardio Named 3")):
        row = page.locator("table tbody tr", has_text=f"Clone of Cardiostat as “{name}” (Products)")
        expect(row.locator("td").first).to_have_text(str(job.pk))  # the number lineage stamps name
    page.goto(f"{live_server.url}/jobs/{second.code}/")
    expect(page.locator("h1")).to_have_text(f"Job {second.pk} · Clone of Cardiostat as “Cardio Named 3” (Products)")
    cells = page.locator("#results-table tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text("Cardio Named 3")  # NAME: the copy's, then the source's
    expect(cells.nth(1)).to_have_text("Cardiostat")
    expect(cells.nth(8)).to_contain_text("Product Name = Cardio Named 3")  # by label, not name__v
    expect(page.locator("dl.facts")).to_contain_text("Product Name name__v = “Cardio Named 3”")


def test_a_cancelled_job_counts_skipped_records_as_not_copied(parts, new_page, login, live_server, make_job):
    job = make_job(results=0, status=CopyJob.Status.CANCELLED)
    RecordResult.objects.create(job=job, object_name="product__v", source_id="S1", status="succeeded", new_id="N1")
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="product__v", source_id=f"K{i}", status="skipped") for i in range(250)
    )
    CopyJob.objects.filter(pk=job.pk).update(planned_count=251)
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    expect(page.locator("#job-words")).to_have_text(re.compile(r"^Cancelled: 1 of 251 copied"))
    expect(page.locator("#job-percent")).to_have_text("<1%")  # not "0 %" beside a copied record
    expect(page.locator("#count-not-copied")).to_have_text("250")
    line = page.locator("#object-progress tr[data-object=product__v]")
    expect(line.locator("[data-part=done]")).to_have_text("1 of 251")  # skipped ones are not done
    expect(line.locator("[data-part=not-copied]")).to_have_text("250")


def test_numbers_have_separators_and_times_their_zone(parts, new_page, login, live_server, make_job):
    job = make_job(results=0, status=CopyJob.Status.SUCCEEDED)
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="product__v", source_id=f"S{i}", status="succeeded", new_id=f"N{i}")
        for i in range(1_234)
    )
    CopyJob.objects.filter(pk=job.pk).update(planned_count=1_234, succeeded_count=1_234)
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    expect(page.locator("#job-words")).to_have_text(re.compile(r"^Succeeded: 1,234 copied"))
    expect(page.locator("#count-total")).to_have_text("1,234")
    expect(page.locator("#object-progress [data-part=done]")).to_have_text("1,234 of 1,234")
    expect(page.locator("#outcome-counts")).to_contain_text("Succeeded: 1,234")
    expect(page.locator("dl.facts")).to_contain_text(re.compile(r"Requested\s*\d{4}-\d\d-\d\d \d\d:\d\d UTC by alice"))
    page.goto(f"{live_server.url}/jobs/")
    row = page.locator("table tbody tr").first
    expect(row.locator("td").nth(5)).to_have_text("1,234 of 1,234")
    expect(row.locator("td").nth(7)).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))


def test_the_results_csv_starts_with_a_byte_order_mark(parts, new_page, login, live_server, make_job):
    job = make_job(results=0)
    RecordResult.objects.create(job=job, object_name="product__v", source_id="S1", source_name="Ünïcödé")
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    with page.expect_download() as info:
        page.click("text=Download results (CSV)")
    raw = open(info.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbfobject,")  # Excel reads it as UTF-8, not as mojibake
    assert "Ünïcödé" in raw.decode("utf-8")


def test_a_finished_job_gives_reasons_only_for_actions_that_could_apply(parts, new_page, login, live_server, make_job):
    done = make_job(results=3, status=CopyJob.Status.SUCCEEDED)
    RecordResult.objects.filter(job=done).update(status="succeeded", new_id="N1")
    held = make_job(results=10, status=CopyJob.Status.PARTIAL)
    CopyJob.objects.filter(pk=held.pk).update(undo_job=make_job(mode=CopyJob.Mode.UNDO, status="partial"))
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{done.code}/")
    expect(page.locator("#job-actions a", has_text="Undo copy")).to_have_count(1)
    expect(page.locator("#job-action-reasons")).to_have_count(0)  # not "Resume: every record is done"
    page.goto(f"{live_server.url}/jobs/{held.code}/")
    expect(page.locator("#job-action-reasons")).to_have_text(re.compile(r"^Resume and Undo copy: Job \d+ "))
    expect(page.locator("#job-status li")).to_have_count(0)  # one sentence, not a list of bullets


def test_resume_is_asked_by_the_jobs_title_with_its_numbers_read_alike(parts, new_page, login, live_server, make_job):
    """The confirm page said "Clone · product__v on Demo Vault"; the old /retry/ link lands on it too."""
    job = make_job(results=0, status=CopyJob.Status.PARTIAL)
    RecordResult.objects.bulk_create(
        RecordResult(job=job, object_name="product__v", source_id=f"S{i}", status="succeeded", new_id=f"N{i}")
        for i in range(1_234)
    )
    RecordResult.objects.create(job=job, object_name="product__v", source_id="F1", status="failed")
    CopyJob.objects.filter(pk=job.pk).update(planned_count=1_235, succeeded_count=1_234, failed_count=1)
    page = login(new_page(), "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/{job.code}/")
    page.click("#job-actions >> text=Resume")
    page.wait_for_url(f"**/jobs/{job.code}/resume/")
    job.refresh_from_db()
    expect(page.locator("h1")).to_have_text("Resume this job?")
    expect(page.locator(".card strong").first).to_have_text(job.title)
    expect(page.locator(".card").first).to_contain_text(f"on {job.profile.name}: 1,234 copied, 1 failed.")
    expect(page.locator("main")).not_to_contain_text("Retry")
    page.goto(f"{live_server.url}/jobs/{job.code}/retry/")  # an old link
    page.wait_for_url(f"**/jobs/{job.code}/resume/")
