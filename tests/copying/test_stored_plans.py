"""Previews' plans on the worker (records/copying/stored_plans.py): a plan row read by a real RQ
worker over the sandbox (real HTTP), the job made from it with no second read, and the ways a plan
is refused or revived."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from records.copying import cost, plan_pieces, stored_plans
from records.copying.job_create import copy_job_create
from records.copying.preview import copy_preview
from records.lib.error_words import friendly_error
from records.models import CopyJob, CopyPlan, PlanChunk
from tests.fixtures.engine import copy_request
from tests.fixtures.sandbox import small_account

pytestmark = [pytest.mark.redis, pytest.mark.plans_on_worker, pytest.mark.django_db(transaction=True)]
St = CopyPlan.Status


def burst(queue="plans"):
    import django_rq
    from rq import SimpleWorker

    django_rq.get_worker(queue, worker_class=SimpleWorker).work(burst=True)


def ask(profile, user, source_id, overrides=None):
    overrides = {"Account_Name": "Planned Co"} if overrides is None else overrides
    request = copy_request(profile, "Accounts", [source_id], "deep_copy", overrides=overrides)
    return stored_plans.plan_request(request=request, user=user)


def confirm(profile, user, source_id, plan, **extra):
    request = copy_request(profile, "Accounts", [source_id], "deep_copy", overrides={"Account_Name": "Planned Co"})
    return copy_job_create(request=request, user=user, plan=plan, **extra)


def test_a_plan_is_read_by_the_worker_and_the_job_is_made_from_it_without_a_request(zoho, owner, redis_url):
    sb, profile, conn = zoho
    root = small_account(conn)
    sb.clear_log()
    row = ask(profile, owner, root)
    assert row.status == St.READING and row.read_count == 0
    assert sb.log("zoho") == []  # the request made no remote call at all
    burst()
    row.refresh_from_db()
    assert row.status == St.READY, row.error
    total = row.plan["total"]
    assert total > 1 and row.read_count == total
    assert len(list(plan_pieces.stored_nodes(row))) == total
    sb.clear_log()
    job = confirm(profile, owner, root, row)
    assert sb.log("zoho") == []  # Confirm read nothing again
    assert job.planned_count == total and job.source_name
    # Zoho deep copies are built by the engine: the rows carry the records as read for the plan.
    assert job.results.filter(source_snapshot__isnull=True).count() == 0
    row.refresh_from_db()
    assert row.status == St.USED and row.trees == {}  # the record data isn't kept twice
    assert not PlanChunk.objects.filter(plan=row).exists()
    burst("default")
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.succeeded_count == total


def test_the_same_preview_asked_again_is_the_same_row_and_a_change_reads_a_new_one(zoho, owner, redis_url):
    import django_rq

    _, profile, conn = zoho
    root = small_account(conn)
    first = ask(profile, owner, root)
    assert ask(profile, owner, root).pk == first.pk
    assert django_rq.get_queue("plans").count == 1  # queued once
    other = ask(profile, owner, root, overrides={"Account_Name": "Another Co"})
    assert other.pk != first.pk and other.key != first.key


def test_a_plan_whose_worker_died_is_queued_again(zoho, owner, redis_url, settings):
    import django_rq
    import redis

    _, profile, conn = zoho
    row = ask(profile, owner, small_account(conn))
    redis.Redis.from_url(redis_url).flushdb()  # the queue lost it (or its worker died with it)
    assert ask(profile, owner, row.source_ids[0]).pk == row.pk
    assert django_rq.get_queue("plans").count == 0  # its heartbeat is fresh: not yet
    settings.PLAN_STALE_SECONDS = 0
    again = ask(profile, owner, row.source_ids[0])
    assert again.pk == row.pk and django_rq.get_queue("plans").count == 1
    burst()
    row.refresh_from_db()
    assert row.status == St.READY


def test_confirm_refuses_a_plan_still_reading_too_old_or_for_other_inputs(zoho, owner, other_user, redis_url, settings):
    _, profile, conn = zoho
    root = small_account(conn)
    row = ask(profile, owner, root)
    with pytest.raises(ValidationError, match="still being read"):
        confirm(profile, owner, root, row)
    burst()
    with pytest.raises(ValidationError, match="not the one of this copy"):
        confirm(profile, other_user, root, row)  # another user's plan
    with pytest.raises(ValidationError, match="not the one of this copy"):
        copy_job_create(
            request=copy_request(profile, "Accounts", [root], "deep_copy", overrides={"Account_Name": "Changed Co"}),
            user=owner,
            plan=row,
        )
    settings.PLAN_MAX_AGE_SECONDS = 0
    with pytest.raises(ValidationError, match="read too long ago"):
        confirm(profile, owner, root, row)
    assert ask(profile, owner, root).pk != row.pk  # the preview reads it again
    assert not CopyJob.objects.exists()


def test_a_failed_plan_keeps_the_message_the_preview_showed(zoho, owner, redis_url):
    sb, profile, conn = zoho
    missing = "9999999999999999"
    with pytest.raises(Exception) as sync:  # what the synchronous preview raises for it
        copy_preview(request=copy_request(profile, "Accounts", [missing], "deep_copy"))
    row = ask(profile, owner, missing)
    burst()
    row.refresh_from_db()
    assert row.status == St.FAILED and row.error == friendly_error(sync.value, profile)
    root = small_account(conn)
    sb.faults("zoho").set(p500=1.0)
    try:
        outage = ask(profile, owner, root, overrides={})
        burst()
    finally:
        sb.faults("zoho").clear()
    outage.refresh_from_db()
    assert outage.status == St.FAILED and outage.error and "Traceback" not in outage.error


def test_bad_input_is_refused_before_a_row_is_stored(zoho, owner, redis_url):
    _, profile, _ = zoho
    with pytest.raises(ValidationError, match="listed twice"):
        stored_plans.plan_request(request=copy_request(profile, "Accounts", ["1", "1"], "deep_copy"), user=owner)
    with pytest.raises(ValidationError, match="Unknown copy mode"):
        stored_plans.plan_request(request=copy_request(profile, "Accounts", ["1"], "move"), user=owner)
    assert not CopyPlan.objects.exists()


def test_progress_is_stored_at_most_every_half_second_not_per_record(zoho, owner, redis_url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, profile, conn = zoho
    row = ask(profile, owner, small_account(conn))
    progress = stored_plans._Progress(row.pk)
    with CaptureQueriesContext(connection) as queries:
        for read in range(1, 1001):
            progress(read)
    assert len(queries) == 1  # the first count is stored; the next 999, within 0.5 s, are not
    row.refresh_from_db()
    assert row.read_count == 1 and progress.read == 1000


def test_a_vault_clone_from_a_stored_plan(vault, owner, redis_url):
    sb, profile, _ = vault
    request = copy_request(
        profile, "product__v", ["00P000000000001"], "clone", overrides={"name__v": "Cardiostat planned"}
    )
    row = stored_plans.plan_request(request=request, user=owner)
    burst()
    row.refresh_from_db()
    assert row.status == St.READY, row.error
    assert row.trees["snapshot"] is False and next(plan_pieces.stored_nodes(row))["fields"] == {}
    sb.clear_log()
    job = copy_job_create(request=request, user=owner, plan=row)
    assert sb.log("vault") == [] and job.source_name == "Cardiostat"
    burst("default")
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.succeeded_count == 1


def test_a_plan_no_worker_takes_says_so_and_the_worker_start_clears_it(zoho, owner, redis_url, settings):
    sb, profile, conn = zoho
    row = ask(profile, owner, small_account(conn))
    assert stored_plans.progress_words(row) == ""  # just queued: nothing to explain yet
    later = row.created_at + timedelta(seconds=settings.PLAN_WAIT_NOTICE_SECONDS + 1)
    words = stored_plans.progress_words(row, now=later)
    assert "Waiting for a free worker" in words and '"plans" queue' in words
    burst()
    row.refresh_from_db()
    assert row.started_at is not None and stored_plans.progress_words(row, now=later) == ""


def test_a_plan_the_queue_refused_says_so_until_it_is_queued(zoho, owner, settings, redis_url):
    sb, profile, conn = zoho
    good = settings.RQ_QUEUES
    settings.RQ_QUEUES = {q: {"URL": "redis://127.0.0.1:9/0"} for q in ("plans", "default")}  # nothing listens
    row = ask(profile, owner, small_account(conn))
    row.refresh_from_db()
    assert row.status == St.READING and stored_plans.progress_words(row) == stored_plans.QUEUE_DOWN
    settings.RQ_QUEUES = good
    CopyPlan.objects.filter(pk=row.pk).update(heartbeat=row.heartbeat - timedelta(seconds=settings.PLAN_STALE_SECONDS))
    row.refresh_from_db()
    assert stored_plans.revive(plan=row)  # the next poll queues it; the queue took it: the notice goes
    assert stored_plans.progress_words(row) == ""
    burst()
    row.refresh_from_db()
    assert row.status == St.READY, row.error


def test_old_unconfirmed_plans_lose_their_records_but_stay_for_the_audit(zoho, owner, redis_url, settings):
    sb, profile, conn = zoho
    row = ask(profile, owner, small_account(conn))
    burst()
    row.refresh_from_db()
    assert list(plan_pieces.stored_nodes(row))
    assert stored_plans.plans_prune() == 0  # young: kept for its Confirm
    old = row.created_at + timedelta(seconds=settings.PLAN_MAX_AGE_SECONDS + 1)
    assert stored_plans.plans_prune(now=old) == 1
    row.refresh_from_db()
    assert row.trees == {} and row.plan["total"] > 1 and row.status == St.READY
    assert not PlanChunk.objects.filter(plan=row).exists()


def _moved(sb):
    # The same emulator under another host name: to the app, another org's address.
    return sb.zoho_url.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize(
    "change",
    [
        lambda sb: {"base_url": _moved(sb), "secret": "s", "refresh_token": "t"},  # the edit page's "another org"
        lambda sb: {"accounts_url": _moved(sb), "secret": "s", "refresh_token": "t"},
        lambda sb: {"secret": "a-new-client-secret"},  # the secrets' version
        lambda sb: {"refresh_token": "1000.another.refresh.token"},
        lambda sb: {"username": "1000.ANOTHERCLIENT"},
    ],
    ids=["base_url", "accounts_url", "secret", "refresh_token", "client_id"],
)
def test_a_plan_read_before_its_profile_changed_is_not_confirmed(zoho, owner, redis_url, change):
    from records.profiles import services as profile_services

    sb, profile, conn = zoho
    root = small_account(conn)
    row = ask(profile, owner, root)
    burst()
    row.refresh_from_db()
    assert row.status == St.READY, row.error
    changed = profile_services.profile_update(profile=profile, actor=owner, **change(sb))
    sb.clear_log()
    with pytest.raises(ValidationError, match="The profile changed since this preview: preview again"):
        confirm(changed, owner, root, row)
    assert not CopyJob.objects.exists() and sb.log("zoho") == []
    row.refresh_from_db()
    assert row.status == St.READY  # not used: the preview reads a new one for the profile as it is now
    assert ask(changed, owner, root).pk != row.pk


def test_a_vault_plan_is_not_confirmed_after_its_api_version_changed(vault, owner, redis_url):
    from records.profiles import services as profile_services

    _, profile, _ = vault
    request = copy_request(
        profile, "product__v", ["00P000000000001"], "clone", overrides={"name__v": "Cardiostat planned"}
    )
    row = stored_plans.plan_request(request=request, user=owner)
    burst()
    changed = profile_services.profile_update(profile=profile, actor=owner, api_version="v25.3")
    with pytest.raises(ValidationError, match="The profile changed since this preview"):
        copy_job_create(request=replace(request, profile=changed), user=owner, plan=row)
    assert not CopyJob.objects.exists()


def test_a_plan_whose_profile_changed_before_the_worker_read_it_is_not_read(zoho, owner, redis_url):
    from records.profiles import services as profile_services

    sb, profile, conn = zoho
    root = small_account(conn)
    row = ask(profile, owner, root)
    profile_services.profile_update(profile=profile, actor=owner, base_url=_moved(sb), secret="s", refresh_token="t")
    sb.clear_log()
    burst()
    row.refresh_from_db()
    assert row.status == St.FAILED and "The profile changed" in row.error
    assert sb.log("zoho") == []  # nothing was read from the new address for the old plan


def test_two_tabs_confirming_one_plan_at_the_same_moment_make_one_job(zoho, owner, redis_url):
    """Two tabs with the same inputs share one plan row. Their Confirms race: the second reads the
    plan while the first is inside its transaction, about to insert its job (held there until the
    second has read the plan, or for 3 s). One job; the other Confirm is told which job the plan made."""
    import threading

    from django.db import connection

    sb, profile, conn = zoho
    root = small_account(conn)
    row = ask(profile, owner, root)
    burst()
    first_inserting, second_read_plan = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def hold_the_insert(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith('INSERT INTO "RECORDS_COPYJOB"'):
            first_inserting.set()
            second_read_plan.wait(timeout=3)
        return execute(sql, params, many, context)

    def note_the_plan_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if '"records_copyplan"' in sql:
            second_read_plan.set()
        return result

    def tab(name, wrapper):
        try:
            with connection.execute_wrapper(wrapper):
                outcomes[name] = confirm(profile, owner, root, row, confirmation=name)
        except Exception as exc:  # noqa: BLE001 - the outcome is asserted below
            outcomes[name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=tab, args=("tab-1", hold_the_insert))
    second = threading.Thread(target=tab, args=("tab-2", note_the_plan_read))
    first.start()
    assert first_inserting.wait(timeout=30)
    second.start()
    first.join(30)
    second.join(30)
    job = CopyJob.objects.get()  # one job
    assert outcomes["tab-1"] == job
    refused = outcomes["tab-2"]
    assert isinstance(refused, ValidationError), refused
    assert f"already confirmed: it made job {job.pk}" in " ".join(refused.messages)
    assert refused.job == job  # the view sends the second tab to it
    row.refresh_from_db()
    assert row.status == St.USED and row.job == job and row.trees == {}


def test_a_copy_by_query_confirmed_from_its_stored_plan_copies_the_records_found(zoho, owner, redis_url):
    from records.copying.options import CopyOptions

    _, profile, conn = zoho
    found = [r.id for r in conn.query_ids("Accounts", "(Industry:equals:Retail)", limit=2)]
    options = CopyOptions(source_filter="(Industry:equals:Retail)", source_limit=2)
    request = copy_request(profile, "Accounts", [], "clone", options=options)
    row = stored_plans.plan_request(request=request, user=owner)
    burst()
    row.refresh_from_db()
    assert row.status == St.READY, row.error
    assert stored_plans.shown_plan(row).source_ids == found  # the preview's plan names them
    job = copy_job_create(request=request, user=owner, plan=row)
    assert job.source_ids == found and job.planned_count == 2
    burst("default")
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED and job.succeeded_count == 2


def test_a_plan_read_on_the_worker_stores_every_record_whole_and_counts_as_one_read_in_memory(zoho, owner, redis_url):
    # Contacts reporting to each other: the order of creation and the update calls read the
    # references the worker keeps of each record once it is stored.
    from records.copying import tree
    from sandbox.zoho_demo import REPORTING_ACCOUNT

    _, profile, conn = zoho
    root = next(r.id for r in conn.search("Accounts", "").records if r.name == REPORTING_ACCOUNT)
    row = ask(profile, owner, root, overrides={})
    burst()
    row.refresh_from_db()
    assert row.status == St.READY, row.error
    in_memory = copy_preview(request=copy_request(profile, "Accounts", [root], "deep_copy")).as_dict()
    assert cost.update_calls(in_memory["cost"]) > 0
    for part in ("cost", "objects", "levels", "way", "total"):
        assert row.plan[part] == in_memory[part], part
    read = {n.source_id: n.fields for n in tree.read_tree(conn, "Accounts", root)}
    assert {n["source_id"]: n["fields"] for n in plan_pieces.stored_nodes(row)} == read
