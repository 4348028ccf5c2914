"""The job pages (records/web/views/jobs.py): the list and its search, a job's page, its results
table (keyset pages, filters, the rows fragment), progress and its conditional GET, the CSV
download, one view per action (cancel, resume, undo; /retry/ sends on to resume), and names
everywhere: jobs and result rows carry the record's display name as read for the plan, found by
name or (partial) id on the list and in the admin, per-object progress and Vault's phase on the
page. Made-up jobs (`make_job`), and real jobs planned over the sandbox for the names."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.copying.job_actions import copy_job_undo
from records.copying.options import CopyOptions
from records.models import AuditEvent, CopyJob, RecordResult
from records.web.results_table import undo_parents
from tests.fixtures.engine import copy_now

pytestmark = pytest.mark.django_db
S = RecordResult.Status


def test_job_list_shows_only_my_jobs_newest_first(owner_client, owner, other_user, make_job):
    first = make_job(results=3)
    second = make_job(results=1)
    theirs = make_job(user=other_user)
    response = owner_client.get(reverse("job_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert str(second.code) in body and str(first.code) in body
    assert str(theirs.code) not in body
    assert body.index(str(second.code)) < body.index(str(first.code))


def test_job_list_reads_no_profile_secret_and_its_queries_do_not_grow(owner_client, make_job):
    make_job(results=1)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            assert owner_client.get(reverse("job_list")).status_code == 200
        counts.append(len(ctx.captured_queries))
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        for column in ("secret", "refresh_token", "session_token", "masking_key"):
            assert f'"records_connectionprofile"."{column}"' not in sql, column
        make_job(results=1)
        make_job(results=1)
    assert counts[0] == counts[1]


def test_job_list_filters_by_status_and_profile(owner_client, make_job):
    done = make_job()
    running = make_job(status=CopyJob.Status.RUNNING)
    body = owner_client.get(reverse("job_list"), {"status": "running"}).content.decode()
    assert str(running.code) in body and str(done.code) not in body
    body = owner_client.get(reverse("job_list"), {"profile": str(done.profile.code)}).content.decode()
    assert str(done.code) in body and str(running.code) not in body


def test_it_refuses_other_users_job(owner_client, other_user, make_job):
    theirs = make_job(user=other_user, results=2)
    for name in ("job_detail", "job_live", "job_results_csv", "job_cancel", "job_resume", "job_undo"):
        assert owner_client.get(reverse(name, args=[theirs.code])).status_code == 404, name
    for name in ("job_cancel", "job_resume", "job_undo"):
        assert owner_client.post(reverse(name, args=[theirs.code])).status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.cancel_requested is False


def test_staff_cannot_open_others_jobs_on_the_site(client, staff, other_user, make_job):
    client.force_login(staff)
    theirs = make_job(user=other_user)
    assert client.get(reverse("job_detail", args=[theirs.code])).status_code == 404


def test_anonymous_is_sent_to_login(client, make_job):
    job = make_job()
    response = client.get(reverse("job_detail", args=[job.code]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("job_live", args=[job.code])).status_code == 302


def test_job_page_has_constant_query_count_with_10000_results(owner_client, make_job, django_assert_max_num_queries):
    job = make_job(results=10_000, status=CopyJob.Status.PARTIAL)
    url = reverse("job_detail", args=[job.code])
    for params in ({}, {"page": "50"}, {"outcome": "failed"}, {"object": "formulation__c"}, {"q": "S00042"}):
        with django_assert_max_num_queries(10):
            response = owner_client.get(url, params)
        assert response.status_code == 200
    body = owner_client.get(url, {"q": "S00042"}).content.decode()
    assert "N00042" in body and "S00043" not in body


def test_job_page_filters_results(owner_client, make_job):
    job = make_job(results=40)
    body = owner_client.get(reverse("job_detail", args=[job.code]), {"outcome": "failed"}).content.decode()
    assert "S00010" in body and "S00011" not in body
    assert "INVALID_DATA" in body and "Name must be unique" in body


def test_job_page_links_new_records(owner_client, make_job):
    job = make_job(results=3)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert 'href="https://example.veevavault.com/ui/#object/product__v/N00001"' in body


def test_remote_values_are_rendered_escaped(owner_client, make_job):
    job = make_job(results=0)
    RecordResult.objects.create(
        job=job,
        object_name="product__v",
        source_id="<script>alert(1)</script>",
        status="failed",
        error_type="INVALID_DATA",
        error_message='<img src=x onerror="alert(2)">',
    )
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body


def test_live_part_counts_from_the_rows(owner_client, make_job):
    job = make_job(results=10, status=CopyJob.Status.RUNNING)
    RecordResult.objects.filter(job=job, source_id__in=["S00001", "S00002", "S00003"]).update(status="pending")
    CopyJob.objects.filter(pk=job.pk).update(succeeded_count=0, failed_count=0)  # the counters lag
    body = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    assert '<span id="job-percent">70%</span>' in body and '<b id="count-done">7</b>' in body
    assert 'data-finished="false"' in body and "badge-running" in body


def test_results_csv_starts_with_a_byte_order_mark_for_excel(owner_client, make_job):
    job = make_job(results=0)
    RecordResult.objects.create(
        job=job, object_name="product__v", source_id="S1", source_name="Ünïcödé", status="failed"
    )
    body = b"".join(owner_client.get(reverse("job_results_csv", args=[job.code])).streaming_content)
    assert body.startswith(b"\xef\xbb\xbfobject,")
    assert "Ünïcödé" in body.decode("utf-8-sig")


def test_csv_download_streams_every_result_and_neutralises_formulas(owner_client, make_job):
    job = make_job(results=120)
    RecordResult.objects.create(
        job=job,
        object_name="product__v",
        source_id='=HYPERLINK("http://evil")',
        status="failed",
        error_type="@SUM(1)",
        error_message="+cmd|' /C calc'!A0",
    )
    RecordResult.objects.create(job=job, object_name="product__v", source_id="-2+3", status="failed")
    response = owner_client.get(reverse("job_results_csv", args=[job.code]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["object", "source_id", "new_id"]
    assert len(rows) == 1 + 122
    evil = rows[-2]
    assert evil[1] == '\'=HYPERLINK("http://evil")'
    assert evil[6] == "'@SUM(1)" and evil[7].startswith("'+cmd")
    assert rows[-1][1] == "'-2+3"


def test_actions_need_post_with_csrf(client, owner, make_job):
    from django.test import Client

    job = make_job(status=CopyJob.Status.RUNNING)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    response = csrf_client.post(reverse("job_cancel", args=[job.code]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.cancel_requested is False


def test_action_page_asks_for_confirmation(owner_client, make_job):
    job = make_job(status=CopyJob.Status.RUNNING)
    response = owner_client.get(reverse("job_cancel", args=[job.code]))
    assert response.status_code == 200
    assert "Yes, cancel the job" in response.content.decode()


def test_action_not_allowed_says_why(owner_client, make_job):
    job = make_job(status=CopyJob.Status.SUCCEEDED)
    response = owner_client.post(reverse("job_cancel", args=[job.code]), follow=True)
    assert "already finished" in response.content.decode()


# -- the job actions: one view each; GET is the confirm page, POST acts ---------------------------


@pytest.mark.parametrize("name", ["job_cancel", "job_resume", "job_undo", "job_retry_redirect"])
def test_each_action_refuses_other_methods_and_other_users_jobs(owner_client, other_user, make_job, name):
    mine = make_job(results=10, status=CopyJob.Status.PARTIAL)
    theirs = make_job(user=other_user, results=10, status=CopyJob.Status.PARTIAL)
    assert owner_client.put(reverse(name, args=[mine.code])).status_code == 405
    assert owner_client.delete(reverse(name, args=[mine.code])).status_code == 405
    assert owner_client.get(reverse(name, args=[theirs.code])).status_code == 404
    assert owner_client.post(reverse(name, args=[theirs.code])).status_code == 404
    assert CopyJob.objects.count() == 2
    for job in (mine, theirs):
        job.refresh_from_db()
        assert job.status == CopyJob.Status.PARTIAL and job.undo_job is None


def test_cancel_posts_and_goes_back_to_the_job(owner_client, make_job):
    job = make_job(results=2, status=CopyJob.Status.RUNNING)
    response = owner_client.post(reverse("job_cancel", args=[job.code]))
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.code])
    job.refresh_from_db()
    assert job.cancel_requested is True


def test_resume_posts_queues_the_unfinished_rows_and_goes_back_to_the_job(owner_client, make_job):
    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    response = owner_client.post(reverse("job_resume", args=[job.code]), follow=True)
    assert response.redirect_chain == [(reverse("job_detail", args=[job.code]), 302)]
    assert "The unfinished records were queued again." in response.content.decode()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.QUEUED and job.rq_job_id
    assert not job.results.filter(status=S.FAILED).exists() and job.results.filter(status=S.PENDING).count() == 1

    event = AuditEvent.objects.get(job=job)
    assert event.action == "job.resume" and event.actor is not None


def test_the_confirm_pages_name_the_job_by_its_title(owner_client, make_job):
    products = {"objects": [{"object_name": "product__v", "label": "Products", "depth": 0}]}
    job = make_job(results=10, status=CopyJob.Status.PARTIAL, source_name="Cardiostat", plan=products)
    for name in ("job_resume", "job_cancel", "job_undo"):
        page = owner_client.get(reverse(name, args=[job.code])).content.decode()
        assert "<strong>Clone of Cardiostat (Products)</strong>" in page and "product__v" not in page, name


def test_undo_posts_and_goes_to_the_undo_jobs_page(owner_client, make_job):
    job = make_job(results=10, status=CopyJob.Status.SUCCEEDED)
    response = owner_client.post(reverse("job_undo", args=[job.code]))
    undo = CopyJob.objects.get(mode=CopyJob.Mode.UNDO)
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[undo.code])
    assert undo.parent_job == job and undo.status == CopyJob.Status.QUEUED and undo.rq_job_id
    assert undo.results.count() == 9  # the copies the job made


def test_the_job_page_links_resume_not_retry(owner_client, make_job):
    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert f'href="/jobs/{job.code}/resume/">Resume</a>' in body and "/retry/" not in body


def test_the_retry_url_sends_bookmarks_and_open_forms_on_to_resume(owner_client, make_job):
    """/retry/ was Resume's URL: a bookmark lands on the confirm page, and a confirm page opened
    from it still resumes (a 308 keeps the POST a POST)."""
    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    retry, resume = f"/jobs/{job.code}/retry/", reverse("job_resume", args=[job.code])
    assert resume == f"/jobs/{job.code}/resume/"
    answer = owner_client.get(retry)
    assert answer.status_code == 308 and answer["Location"] == resume
    assert "Yes, resume the job" in owner_client.get(retry, follow=True).content.decode()
    answer = owner_client.post(retry, follow=True)
    assert answer.redirect_chain == [(resume, 308), (reverse("job_detail", args=[job.code]), 302)]
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_resume_with_the_queue_down_says_the_job_waits_for_it(owner_client, make_job, settings):
    from records.ops.embedded_redis import free_port

    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{free_port()}/0", "DEFAULT_TIMEOUT": 600}}
    job = make_job(results=10, status=CopyJob.Status.PARTIAL)
    response = owner_client.post(reverse("job_resume", args=[job.code]), follow=True)
    assert "it starts when the queue is back" in response.content.decode()
    assert CopyJob.objects.get(pk=job.pk).status == CopyJob.Status.QUEUED


# -- keyset pagination of the results table, and the progress endpoint's conditional GET ---------


from records.copying.job_create import copy_job_create
from tests.fixtures.engine import copy_request


def _source_ids(body: str) -> list[str]:
    return re.findall(r'<td class="mono">(S\d{5})</td>', body)


def _link(body: str, rel: str) -> str | None:
    found = re.search(rf'href="(\?[^"]*)" rel="{rel}"', body)
    return found.group(1).replace("&amp;", "&") if found else None


def test_results_pages_walk_forward_and_back_over_every_row_once(owner_client, make_job):
    job = make_job(results=120)  # 50 + 50 + 20
    url = reverse("job_detail", args=[job.code])
    body = owner_client.get(url).content.decode()
    seen, pages = [], [body]
    assert _link(body, "prev") is None and "Rows 1–50 of 120" in body
    while (nxt := _link(body, "next")) is not None:
        body = owner_client.get(url + nxt).content.decode()
        pages.append(body)
    for page in pages:
        seen += _source_ids(page)
    assert seen == [f"S{i:05d}" for i in range(120)]
    assert len(pages) == 3 and "Rows 101–120 of 120" in pages[-1] and _link(pages[-1], "last") is None
    # Back from the last page: the middle page again, exactly.
    back = owner_client.get(url + _link(pages[-1], "prev")).content.decode()
    assert _source_ids(back) == _source_ids(pages[1]) and "Rows 51–100 of 120" in back


def test_last_page_holds_the_newest_rows_even_when_the_total_is_a_multiple_of_the_page(owner_client, make_job):
    job = make_job(results=100)
    url = reverse("job_detail", args=[job.code])
    body = owner_client.get(url, {"last": "1"}).content.decode()
    assert _source_ids(body) == [f"S{i:05d}" for i in range(50, 100)]
    assert "Rows 51–100 of 100" in body and _link(body, "next") is None and _link(body, "first") == "?"
    single = make_job(results=50)
    body = owner_client.get(reverse("job_detail", args=[single.code]), {"last": "1"}).content.decode()
    assert len(_source_ids(body)) == 50 and 'class="pager"' not in body


def test_pagination_keeps_the_filters_and_counts_them(owner_client, make_job):
    job = make_job(results=1000)  # every 10th failed (i % 10 == 0): 100 failures, all product__v
    url = reverse("job_detail", args=[job.code])
    body = owner_client.get(url, {"outcome": "failed"}).content.decode()
    assert "Rows 1–50 of 100" in body
    nxt = _link(body, "next")
    assert "outcome=failed" in nxt and "after=" in nxt
    body = owner_client.get(url + nxt).content.decode()
    assert _source_ids(body) == [f"S{i:05d}" for i in range(500, 1000, 10)]
    assert "Rows 51–100 of 100" in body and _link(body, "next") is None
    body = owner_client.get(url, {"outcome": "failed", "object": "product__v"}).content.decode()
    assert "Rows 1–50 of 100" in body
    body = owner_client.get(url, {"outcome": "failed", "object": "formulation__c"}).content.decode()
    assert _source_ids(body) == [] and "No results match these filters." in body
    body = owner_client.get(url, {"outcome": "succeeded", "last": "1"}).content.decode()
    assert "Rows 851–900 of 900" in body and _source_ids(body)[-1] == "S00999"
    body = owner_client.get(url, {"object": "formulation__c", "after": "0"}).content.decode()
    assert _source_ids(body)[0] == "S00001"


def test_bad_or_stale_cursors_do_not_break_the_page(owner_client, make_job):
    job = make_job(results=60)
    url = reverse("job_detail", args=[job.code])
    for params in ({"after": "abc"}, {"before": "-1"}, {"after": "9" * 40}, {"page": "7"}):
        response = owner_client.get(url, params)
        assert response.status_code == 200
        assert _source_ids(response.content.decode())[0] == "S00000", params
    body = owner_client.get(url, {"after": str(10**12)}).content.decode()
    assert "No more results" in body and "Back to the first page" in body


def test_results_page_queries_do_not_grow_with_results_or_position(owner_client, make_job):
    def queries(job, params):
        with CaptureQueriesContext(connection) as ctx:
            assert owner_client.get(reverse("job_detail", args=[job.code]), params).status_code == 200
        return len(ctx.captured_queries)

    small, big = make_job(results=120), make_job(results=3000)
    for make_params in (
        lambda j: {},
        lambda j: {"last": "1"},
        lambda j: {"after": str(j.results.order_by("id")[60].pk)},
        lambda j: {"outcome": "failed", "after": str(j.results.order_by("id")[0].pk)},
    ):
        assert queries(small, make_params(small)) == queries(big, make_params(big)) <= 10


def test_job_page_does_not_load_result_snapshots_or_profile_secrets(owner_client, make_job):
    job = make_job(results=3)
    with CaptureQueriesContext(connection) as ctx:
        owner_client.get(reverse("job_detail", args=[job.code]))
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "source_snapshot" not in sql and "refresh_token" not in sql and "row_overrides" not in sql


def test_live_part_answers_304_while_unchanged_and_200_after_a_change(owner_client, make_job):
    job = make_job(results=4, status=CopyJob.Status.RUNNING)
    RecordResult.objects.filter(job=job).update(status="pending")
    url = reverse("job_live", args=[job.code])
    first = owner_client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag and "no-cache" in first["Cache-Control"]
    again = owner_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert owner_client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    RecordResult.objects.filter(job=job, source_id="S00001").update(status="succeeded")
    changed = owner_client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert '<b id="count-done">1</b>' in changed.content.decode()


def test_live_part_costs_a_few_queries_whatever_the_results(owner_client, make_job, django_assert_max_num_queries):
    job = make_job(results=500, status=CopyJob.Status.RUNNING)
    # session, user, job, the grouped count, the access to the profile, the rules' existence checks
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("job_live", args=[job.code]))
    # Asserted first: a 404 (or a redirect to the login) would be cheap too.
    assert response.status_code == 200
    assert "badge-running" in response.content.decode()


def test_rows_fragment_is_the_pages_rows_with_the_same_filters_and_cursor(owner_client, make_job):
    job = make_job(results=120, status=CopyJob.Status.RUNNING)
    page_url, rows_url = reverse("job_detail", args=[job.code]), reverse("job_rows", args=[job.code])
    page = owner_client.get(page_url).content.decode()
    assert f'data-rows-url="{rows_url}"' in page
    nxt = _link(page, "next")
    assert (
        _source_ids(owner_client.get(rows_url + nxt).content.decode())
        == _source_ids(owner_client.get(page_url + nxt).content.decode())
        == [f"S{i:05d}" for i in range(50, 100)]
    )
    failed = owner_client.get(rows_url, {"outcome": "failed", "object": "product__v"}).content.decode()
    assert _source_ids(failed) == [f"S{i:05d}" for i in range(0, 120, 10)]
    # A row that changed since the page was rendered comes back changed.
    job.results.filter(source_id="S00000").update(status="succeeded", new_id="NEW0", error_type="", error_message="")
    first = owner_client.get(rows_url).content.decode()
    assert "NEW0" in first and first.count("<tr>") == 50


def test_rows_fragment_escapes_and_is_private(owner_client, other_user, make_job):
    from django.test import Client

    job = make_job(results=0)
    RecordResult.objects.create(
        job=job,
        object_name="product__v",
        source_id="<script>x</script>",
        status="failed",
        error_message='<img src=x onerror="y">',
    )
    body = owner_client.get(reverse("job_rows", args=[job.code])).content.decode()
    assert "<script>" not in body and "&lt;script&gt;" in body and "<img" not in body
    theirs = make_job(user=other_user, results=3)
    assert owner_client.get(reverse("job_rows", args=[theirs.code])).status_code == 404
    assert Client().get(reverse("job_rows", args=[job.code])).status_code == 302  # to the login page


def test_rows_fragment_queries_do_not_grow(owner_client, make_job):
    small, big = make_job(results=60), make_job(results=3000)
    counts = []
    for job in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            owner_client.get(reverse("job_rows", args=[job.code]), {"last": "1"})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 4


def test_results_csv_has_each_records_name(owner_client, make_job):
    from records.web.views.job_csv import CSV_COLUMNS

    """Walk-through defect: the job page lists each record's name, its CSV had ids only."""
    job = make_job(results=0)
    RecordResult.objects.create(
        job=job, object_name="Accounts", source_id="1", source_name="Acme, Inc.", status="succeeded"
    )
    RecordResult.objects.create(
        job=job, object_name="Accounts", source_id="2", source_name="=cmd()", status="succeeded"
    )
    response = owner_client.get(reverse("job_results_csv", args=[job.code]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    name = rows[0].index("name")  # after the columns read by position, before the free-text values
    assert rows[0][:10] == [h for h, _ in CSV_COLUMNS[:10]] and rows[0][-2:] == ["name", "values"]
    assert [r[name] for r in rows[1:]] == ["Acme, Inc.", "'=cmd()"]


# -- names everywhere: jobs planned over the sandbox ------------------------------------------------


def _acme(sandbox):
    return next(i for i, r in sandbox.zoho.state.records["Accounts"].items() if r["Account_Name"] == "Acme Corp")


def _deep_copy_acme(zoho_profile, owner, sandbox):
    return copy_job_create(
        request=copy_request(zoho_profile, "Accounts", [_acme(sandbox)], "deep_copy"), user=owner, enqueue=False
    )


def test_a_deep_copy_carries_the_names_as_read_for_the_plan(zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    assert job.source_name == "Acme Corp"
    assert job.title == "Deep copy of Acme Corp (Accounts)"
    top = job.results.get(depth=0)
    assert top.source_name == "Acme Corp"
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.exists() and all(r.source_name for r in contacts)


def test_a_clone_is_titled_by_its_record(vault_profile, owner, fresh_sandbox):
    job = copy_job_create(
        request=copy_request(
            vault_profile, "product__v", ["00P000000000001"], "clone", overrides={"name__v": "Cardiostat copy"}
        ),
        user=owner,
        enqueue=False,
    )
    assert job.title == "Clone of Cardiostat as “Cardiostat copy” (Products)"
    assert job.results.get().source_name == "Cardiostat"
    # The admin's lists and links (the result rows' job column) say it in the same words, numbered.
    assert str(job) == f"Job {job.pk} · Clone of Cardiostat as “Cardiostat copy” (Products)"


def test_copies_of_one_record_under_new_names_have_titles_that_tell_them_apart(
    owner_client, zoho_profile, owner, fresh_sandbox
):
    jobs = [
        copy_job_create(
            request=copy_request(
                zoho_profile, "Accounts", [_acme(fresh_sandbox)], "deep_copy", overrides={"Account_Name": name}
            ),
            user=owner,
            enqueue=False,
        )
        for name in ("Acme test 2", "Acme test 3")
    ]
    headings = [owner_client.get(reverse("job_detail", args=[j.code])).content.decode() for j in jobs]
    for job, body, name in zip(jobs, headings, ("Acme test 2", "Acme test 3"), strict=True):
        assert f"<h1>Job {job.pk} · Deep copy of Acme Corp as “{name}” (Accounts)</h1>" in body
    listing = owner_client.get(reverse("job_list")).content.decode()
    assert f'<td class="num">{jobs[0].pk}</td>' in listing and "as “Acme test 3”" in listing


def test_the_job_list_finds_jobs_by_name_and_partial_ids(owner_client, zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    RecordResult.objects.filter(job=job, depth=0).update(new_id="5725767000009990001")
    url = reverse("job_list")
    for q in (
        "acme",
        _acme(fresh_sandbox)[-6:],
        "99900",
        job.results.filter(object_name="Contacts").first().source_name,
    ):
        body = owner_client.get(url, {"q": q}).content.decode()
        assert "Deep copy of Acme Corp" in body, q
    assert "Deep copy of Acme Corp" not in owner_client.get(url, {"q": "no-such-name"}).content.decode()


def test_the_job_page_shows_names_and_progress_per_object(owner_client, zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert f"<h1>Job {job.pk} · Deep copy of Acme Corp (Accounts)</h1>" in body
    assert 'id="object-progress"' in body and 'data-object="Contacts"' in body
    assert '<option value="Contacts">Contacts</option>' in body  # the filter names objects by label
    rows = owner_client.get(reverse("job_rows", args=[job.code])).content.decode()
    assert "<td>Acme Corp</td>" in rows and "<td>Accounts</td>" in rows
    contacts = job.results.filter(object_name="Contacts")
    n = contacts.count()
    assert f">0 of {n}<" in body
    RecordResult.objects.filter(pk=contacts.first().pk).update(status="succeeded", new_id="1")
    live = owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    row = live.split('data-object="Contacts"')[1].split("</tr>")[0]
    assert f">1 of {n}<" in row and '<td class="num" data-part="succeeded">1</td>' in row
    assert "Succeeded: 1</span>" in live and f"Pending: {job.results.count() - 1}</span>" in live


def test_the_admin_searches_jobs_by_name_and_partial_id(admin_client, zoho_profile, owner, fresh_sandbox):
    job = _deep_copy_acme(zoho_profile, owner, fresh_sandbox)
    url = reverse("admin:records_copyjob_changelist")
    assert f"/{job.pk}/" in admin_client.get(url, {"q": "Acme"}).content.decode()
    assert f"/{job.pk}/" in admin_client.get(url, {"q": _acme(fresh_sandbox)[-5:]}).content.decode()
    results = reverse("admin:records_recordresult_changelist")
    assert "Acme Corp" in admin_client.get(results, {"q": "acme"}).content.decode()


def test_vault_deep_copy_phase_is_shown(owner_client, vault_profile, owner, fresh_sandbox):
    job = copy_job_create(
        request=copy_request(
            vault_profile, "product__v", ["00P000000000001"], "deep_copy", overrides={"name__v": "Cardiostat deep"}
        ),
        user=owner,
        enqueue=False,
    )
    CopyJob.objects.filter(pk=job.pk).update(
        state={**job.state, "roots": {"00P000000000001": {"phase": "polling", "remote_job_id": "26001"}}},
        status=CopyJob.Status.RUNNING,
    )
    assert "Vault job 26001 running" in owner_client.get(reverse("job_live", args=[job.code])).content.decode()
    page = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "Vault job 26001 running" in page
    assert '<option value="product__v">Products</option>' in page  # labels first, in the filter and the rows
    assert "<td>Products</td>" in owner_client.get(reverse("job_rows", args=[job.code])).content.decode()


def test_a_vault_deep_copys_phase_comes_with_the_job_in_one_query(owner_client, vault_profile, owner, fresh_sandbox):
    job = copy_job_create(
        request=copy_request(
            vault_profile, "product__v", ["00P000000000001"], "deep_copy", overrides={"name__v": "Cardiostat one read"}
        ),
        user=owner,
        enqueue=False,
    )
    roots = {"00P000000000001": {"phase": "polling", "remote_job_id": "26002"}}
    CopyJob.objects.filter(pk=job.pk).update(state={**job.state, "roots": roots}, status=CopyJob.Status.RUNNING)
    for name in ("job_detail", "job_live"):
        with CaptureQueriesContext(connection) as ctx:
            body = owner_client.get(reverse(name, args=[job.code])).content.decode()
        assert "Vault job 26002 running" in body
        # Besides the job's version (job_version: its moving columns and result counts, grouped).
        job_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "records_copyjob"' in q["sql"]]
        job_reads = [sql for sql in job_reads if "COUNT(" not in sql]
        assert len(job_reads) == 1, job_reads


def test_the_live_parts_are_the_owners_only(other_user, owner_client, make_job):
    from django.test import Client

    job = make_job(results=3)
    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(reverse("job_live", args=[job.code])).status_code == 404
    assert owner_client.get(reverse("job_live", args=[job.code])).status_code == 200


@pytest.mark.parametrize("status", ["failed", "partial", "succeeded"])
def test_a_finished_jobs_bar_takes_its_outcomes_colour(owner_client, make_job, status):
    job = make_job(results=2, status=status)
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert f'class="progress done status-{status}"' in body


def test_the_values_set_on_child_records_are_named_by_their_fields_labels(owner_client, owner, vault):
    """The job page's "Values set" names every object's fields by their labels, not only the top
    record's changes: the values set on each object below it."""
    options = CopyOptions(fields={"formulation__c": {"strength__c": "10 mg"}, "packaging__c": {"pack_size__c": 12}})
    job = copy_now(
        vault.profile,
        owner,
        "product__v",
        ["00P000000000001"],
        "deep_copy",
        overrides={"name__v": "Cardiostat labels"},
        options=options,
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    for object_name, shown, api_name in (
        ("formulation__c", "Strength = 10 mg", "strength__c"),
        ("packaging__c", "Pack Size = 12", "pack_size__c"),
    ):
        rows = owner_client.get(reverse("job_rows", args=[job.code]), {"object": object_name}).content.decode()
        assert shown in rows and api_name not in rows, rows[:2000]


def test_an_undo_of_vaults_own_deep_copy_names_the_top_copy_by_its_new_name(owner_client, owner, vault):
    """Vault's own deep copy sends the new name in its call, not on the top row: the undo's NAME
    cell and its title still name the copy it deletes, not the source."""
    job = copy_now(
        vault.profile, owner, "product__v", ["00P000000000001"], "deep_copy", overrides={"name__v": "Cardiostat B"}
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    assert undo.source_name == "Cardiostat B"
    rows = owner_client.get(reverse("job_rows", args=[undo.code]), {"object": "product__v"}).content.decode()
    assert "<tr><td>Cardiostat B</td><td>Cardiostat B</td>" in rows


def test_an_undos_parent_copies_are_read_in_queries_not_one_per_row(make_job, django_assert_max_num_queries):
    """An undo's rows name their parents through the original's rows, read through its related
    manager with only some columns: the job id among them (each row read gets its job set from it:
    deferred, a query a row, 31 more here)."""
    undone = make_job(results=30, mode=CopyJob.Mode.DEEP_COPY, source_ids=["S00000", "S00001"])
    undone.results.exclude(source_id="S00000").update(parent_source_id="S00000")
    undone.results.filter(source_id="S00000").update(source_name="Top", new_id="N00000")
    page = [RecordResult(parent_source_id=f"S{i:05d}") for i in range(30)]
    with django_assert_max_num_queries(2):
        parents = undo_parents(undone, page, ())
    assert parents["S00000"] == ("copy of Top", "")
    assert parents["S00007"] == ("Top", "N00000")
    assert len(parents) == 30
