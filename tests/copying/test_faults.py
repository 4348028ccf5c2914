"""Faults at the engine level: whole copy jobs through the real connectors against the sandbox
with faults on. Each ends with exactly one copy per source record (nothing lost, nothing
duplicated). Connector-level behaviour of each fault is in tests/connectors/test_vault.py and
test_zoho.py; dropped answers, retries, two workers and a SIGKILLed worker in
tests/copying/test_engine_over_http.py and test_engine_deep_copy.py."""

import time

import pytest
from django.db import transaction

from records.connectors import connector_for
from records.copying.job_actions import copy_job_resume
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import run_job, start_job
from tests.fixtures.sandbox import fast, find_record, small_accounts

S = RecordResult.Status
pytestmark = pytest.mark.django_db(transaction=True)


def _small_accounts(conn, n):
    out = small_accounts(conn)
    return out[:n]


def _run(sb, system, profile, owner, object_name, ids, mode, faults, name_field, *, during=None):
    """Plan without faults, then run the job with `faults` on (one seeded draw per request)."""
    rows = {sid: {name_field: f"Fault {mode} {i}"} for i, sid in enumerate(ids)}
    job = start_job(profile, owner, object_name, ids, mode, row_overrides=rows)
    sb.faults(system).set(**faults)
    conn = fast(connector_for(profile))
    if during:
        during(conn)
    try:
        job = run_job(job, connector=conn, worker="faults")
        rounds = 0
        # A storm may outlast the connector's retries: rows fail, and a retry finishes them.
        while job.status != CopyJob.Status.SUCCEEDED and rounds < 5:
            rounds += 1
            copy_job_resume(job=job, user=owner, enqueue=False)
            job = run_job(job, connector=conn, worker=f"faults-{rounds}")
    finally:
        sb.faults(system).clear()
    return job, rows


def _exactly_one_copy_each(conn, object_name, job, rows, name_field):
    assert job.status == CopyJob.Status.SUCCEEDED, (job.status, job.error_summary)
    for sid, values in rows.items():
        found = conn.find(object_name, {name_field: values[name_field]})
        assert len(found) == 1, (sid, values, len(found))
    assert job.results.filter(status=S.SUCCEEDED).count() == job.planned_count
    assert job.results.filter(depth=0, new_id="").count() == 0


FAULTS = {
    "429-storm": dict(p429=0.5, seed=11),
    "5xx": dict(p500=0.3, seed=12),
    "timeouts": dict(p_timeout=0.15, seed=13),
    "dropped-after-write": dict(p_drop_after_write=0.5, seed=14),
    "everything": dict(p429=0.15, p500=0.1, p_timeout=0.05, p_drop_after_write=0.2, seed=15),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
def test_zoho_bulk_clone_and_deep_copy_under_faults(zoho, owner, fault):
    sb, profile, conn = zoho
    ids = _small_accounts(conn, 3)
    job, rows = _run(sb, "zoho", profile, owner, "Accounts", ids, "clone", FAULTS[fault], "Account_Name")
    _exactly_one_copy_each(conn, "Accounts", job, rows, "Account_Name")
    job, rows = _run(sb, "zoho", profile, owner, "Accounts", ids[:1], "deep_copy", FAULTS[fault], "Account_Name")
    _exactly_one_copy_each(conn, "Accounts", job, rows, "Account_Name")
    new_root = job.results.get(depth=0).new_id
    assert len(read_tree(conn, "Accounts", new_root)) == len(read_tree(conn, "Accounts", ids[0])) == job.planned_count


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
def test_vault_bulk_clone_and_deep_copy_under_faults(vault, owner, fault):
    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", n) for n in ("Neurolax", "Dermacalm", "Pulmoflow")]
    job, rows = _run(sb, "vault", profile, owner, "product__v", ids, "clone", FAULTS[fault], "name__v")
    _exactly_one_copy_each(conn, "product__v", job, rows, "name__v")
    job, rows = _run(sb, "vault", profile, owner, "product__v", ids[:1], "deep_copy", FAULTS[fault], "name__v")
    _exactly_one_copy_each(conn, "product__v", job, rows, "name__v")
    new_root = job.results.get(depth=0).new_id
    assert len(read_tree(conn, "product__v", new_root)) == len(read_tree(conn, "product__v", ids[0]))


def _mints(sb):
    return len([e for e in sb.log("zoho") if e.path.startswith("/oauth/v2/token")])


def test_zoho_token_expiring_after_every_write(zoho, owner):
    """Tokens expire after every write: each call refused for its token refreshes and is sent again,
    and nothing is sent twice. One call at a time: with several in flight, each write would expire
    the token the others just minted, a storm no real org makes (a token lives an hour, and one
    refresh token mints at most 10 in 10 minutes) and the connector rightly gives up on after
    TOKEN_RETRIES refusals in a row."""
    sb, profile, _ = zoho
    profile.concurrency = 1
    profile.save(update_fields=["concurrency"])
    conn = fast(connector_for(profile))
    src = _small_accounts(conn, 1)[0]
    job = start_job(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "Expiring Co"})
    # The sandbox expires every token after processing each write (COQL reads are POSTs too).
    sb.hooks("zoho").after("POST", r"^/crm/v\d+/(?!coql$)\w+$", sb.zoho.expire_tokens)
    before = _mints(sb)
    job = run_job(job, connector=conn, worker="expiry")
    _exactly_one_copy_each(conn, "Accounts", job, {src: {"Account_Name": "Expiring Co"}}, "Account_Name")
    assert _mints(sb) - before >= 2


def test_zoho_token_expiring_with_calls_in_flight(zoho, owner):
    """The token expires once while the job's calls are in flight together: each refused call
    refreshes and is sent again, nothing is sent twice, and the calls share the new token rather
    than each minting its own (Zoho caps the mints)."""
    sb, profile, conn = zoho
    src = _small_accounts(conn, 1)[0]
    job = start_job(profile, owner, "Accounts", [src], "deep_copy", overrides={"Account_Name": "In Flight Co"})
    sb.hooks("zoho").after("POST", r"^/crm/v\d+/(?!coql$)\w+$", sb.zoho.expire_tokens, times=1)
    before = _mints(sb)
    job = run_job(job, connector=conn, worker="expiry")
    _exactly_one_copy_each(conn, "Accounts", job, {src: {"Account_Name": "In Flight Co"}}, "Account_Name")
    # One mint where the database locks the profile's row (PostgreSQL); SQLite's transactions
    # take no row lock, so calls refused together may each mint (at most one each).
    assert 1 <= _mints(sb) - before <= profile.concurrency


def test_vault_session_expiring_mid_job(vault, owner):
    sb, profile, conn = vault
    ids = [find_record(conn, "product__v", n) for n in ("Neurolax", "Dermacalm")]
    rows = {i: {"name__v": f"Session {n}"} for n, i in enumerate(ids)}
    job = start_job(profile, owner, "product__v", ids, "clone", row_overrides=rows)
    sb.vault.expire_sessions()
    job = run_job(job, connector=conn, worker="expiry")
    _exactly_one_copy_each(
        conn, "product__v", job, {i: {"name__v": f"Session {n}"} for n, i in enumerate(ids)}, "name__v"
    )
    assert len([e for e in sb.log("vault") if e.path.endswith("/auth")]) >= 1


def test_vault_burst_throttling_slows_down_and_finishes(vault, owner):
    """Burst headers say the window is used up (Vault then delays each call): the connector pauses
    on its own and the job still completes with one copy."""
    from records.connectors import profile_config
    from records.connectors.tokens import ProfileTokenStore
    from records.connectors.vault import VaultConnector

    sb, profile, _ = vault
    sb.vault.settings.burst_limit = 25  # the pause starts 20 calls before the end: after 5 calls
    sb.vault.settings.burst_window = 2.0  # a short window, so the pacing (its rest shared) is short
    pauses = []

    def sleep(seconds):
        # Really wait: the same sleep spaces the job-status polls, and with a no-op the connector
        # would poll again at once after a refused poll (six refusals fail the job) and the test
        # would depend on timing.
        pauses.append(seconds)
        time.sleep(seconds)

    # The connector's own sleep and pause parameters, given at construction (no attribute replaced);
    # short pauses: the test is about pausing at all.
    conn = VaultConnector(
        profile_config(profile),
        ProfileTokenStore(profile.pk),
        sleep=sleep,
        burst_pause=0.01,
        burst_window=2.0,
        backoff=0.01,
    )
    src = find_record(conn, "product__v", "Neurolax")
    try:
        job = start_job(
            profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Bursty"}, connector=conn
        )
        job = run_job(job, connector=conn, worker="burst")
    finally:
        sb.vault.settings.burst_limit, sb.vault.settings.burst_window = 2000, 300.0
    _exactly_one_copy_each(conn, "product__v", job, {src: {"name__v": "Bursty"}}, "name__v")
    # The rest of the window shared by the calls left (times the profile's concurrency), at least burst_pause.
    burst_pauses = [p for p in pauses if 0.01 <= p <= 2.0 * profile.concurrency]
    assert burst_pauses, f"the connector never slowed down: {pauses[:30]}"
    # No call was retried, so none of those sleeps was the HTTP client's backoff (same `sleep`).
    assert all(e.outcome == "ok" and e.status == 200 for e in sb.log("vault"))


# -- Redis ------------------------------------------------------------------------------------


def _burst_worker():
    import django_rq
    from rq import SimpleWorker

    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)


@pytest.mark.redis
def test_the_rq_job_is_queued_only_after_the_commit(zoho, owner, redis_url):
    """A worker must not see the job before its rows are committed (it would find no CopyJob)."""
    import django_rq

    sb, profile, conn = zoho
    src = _small_accounts(conn, 1)[0]
    queue = django_rq.get_queue("default")
    with transaction.atomic():
        job = start_job(
            profile, owner, "Accounts", [src], "clone", enqueue=True, overrides={"Account_Name": "On Commit Co"}
        )
        assert queue.count == 0, "enqueued before the transaction committed"
    assert queue.count == 1
    _burst_worker()
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary


@pytest.mark.redis
@pytest.mark.parametrize("how", ["flushed", "restarted"])
def test_redis_lost_while_queued_then_resume_stale_copies_once(zoho, owner, redis_url, redis_server, settings, how):
    import redis
    from django.core.management import call_command

    sb, profile, conn = zoho
    ids = _small_accounts(conn, 2)
    rows = {i: {"Account_Name": f"Redis {how} {n}"} for n, i in enumerate(ids)}
    job = start_job(profile, owner, "Accounts", ids, "clone", enqueue=True, row_overrides=rows)
    assert django_rq_len() == 1
    if how == "flushed":
        redis.Redis.from_url(redis_url).flushdb()
    else:
        if not hasattr(redis_server, "stop"):
            pytest.skip("Redis is external (TEST_REDIS_URL): the test can't restart it")
        # The test server keeps no snapshot: it comes back empty on the same port.
        redis_server.stop()
        redis_server.start()
        import django_rq

        django_rq.get_connection("default").connection_pool.disconnect()
    assert django_rq_len() == 0
    settings.JOB_LEASE_SECONDS = 0
    with pytest.raises(SystemExit) as exc:
        call_command("job", "resume-stale")
    assert exc.value.code == 0
    assert django_rq_len() == 1
    with pytest.raises(SystemExit):
        call_command("job", "resume-stale")  # its new RQ job is alive: not queued twice
    assert django_rq_len() == 1
    _burst_worker()
    job.refresh_from_db()
    _exactly_one_copy_each(conn, "Accounts", job, rows, "Account_Name")


def django_rq_len():
    import django_rq

    return django_rq.get_queue("default").count
