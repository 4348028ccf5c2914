"""Secrets never leave the encrypted columns: not in pages, logs (DEBUG on for requests, urllib3, rq
and records), Redis (RQ job args, kwargs, meta, description or any other key), failure summaries,
per-record errors, exception texts or audit details — with real connectors against the sandbox."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from records.connectors import connector_for
from records.connectors.errors import AuthFailed
from records.connectors.tokens import ProfileTokenStore
from records.copying.job_actions import copy_job_run
from records.copying.job_create import copy_job_create
from records.models import AuditEvent, ConnectionProfile, CopyJob, RecordResult
from sandbox import demo
from tests.fixtures.engine import copy_request
from tests.fixtures.sandbox import find_record, small_account

WRONG_PASSWORD = "wrong-password-0xDEADBEEF"
LOGGERS = ("", "requests", "urllib3", "rq", "records", "django", "sandbox")


@pytest.fixture
def debug_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _token(profile) -> str:
    token = ProfileTokenStore(profile.pk).get()[0] or ""
    return token.split(" ")[-1]


def _everything_logged(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), str(record.exc_text or ""), repr(record.__dict__)]
    return "\n".join(parts)


def _run_with_expiry(sb, system, profile, owner):
    """A deep copy during which the session/token expires, so two of them are minted and used."""
    conn = connector_for(profile)
    if system == "vault":
        src, obj, name_field = find_record(conn, "product__v", "Neurolax"), "product__v", "name__v"
    else:
        src, obj, name_field = small_account(conn), "Accounts", "Account_Name"
    job = copy_job_create(
        request=copy_request(profile, obj, [src], "deep_copy", overrides={name_field: "Secret Run"}),
        user=owner,
        enqueue=False,
    )
    first = _token(profile)
    (sb.vault if system == "vault" else sb.zoho).expire_sessions()
    job = copy_job_run(job_id=job.pk, worker_id="secrets")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    second = _token(profile)
    assert first and second and first != second  # the expiry really made it mint again
    return job, [first, second]


def _secrets(system, tokens):
    if system == "vault":
        return [demo.VAULT_PASSWORD, *tokens]
    return [demo.ZOHO_CLIENT_SECRET, demo.ZOHO_REFRESH_TOKEN, *tokens]


@pytest.fixture(params=["vault", "zoho"])
def system_profile(request, fresh_sandbox, settings):
    settings.VAULT_JOB_POLL_SECONDS = 0.2
    profile = request.getfixturevalue(f"{request.param}_profile")
    return request.param, fresh_sandbox, profile


@pytest.mark.django_db
def test_no_secret_in_debug_logs_of_a_real_job(system_profile, owner, debug_logs):
    system, sb, profile = system_profile
    job, tokens = _run_with_expiry(sb, system, profile, owner)
    text = _everything_logged(debug_logs)
    assert "urllib3" in {r.name.split(".")[0] for r in debug_logs.records}  # DEBUG really was on
    for secret in _secrets(system, tokens):
        assert secret not in text, f"a {system} secret reached the log"
    for event in AuditEvent.objects.all():
        for secret in _secrets(system, tokens):
            assert secret not in repr(event.details)


@pytest.mark.django_db
def test_no_secret_on_any_page_after_a_real_job(system_profile, owner, staff):
    """Site pages for the owner, admin pages for staff, with the session token now in the database."""
    system, sb, profile = system_profile
    job, tokens = _run_with_expiry(sb, system, profile, owner)
    assert ConnectionProfile.objects.get(pk=profile.pk).session_token
    user_client, staff_client = Client(), Client()
    user_client.force_login(owner)
    staff_client.force_login(staff)
    result = job.results.first()
    obj = job.object_name
    site = [
        reverse("home"),
        reverse("profile_list"),
        reverse("profile_edit", args=[profile.code]),
        reverse("profile_delete", args=[profile.code]),
        reverse("job_list"),
        reverse("job_detail", args=[job.code]),
        reverse("job_live", args=[job.code]),
        reverse("job_results_csv", args=[job.code]),
        reverse("copy_start"),
        reverse("copy_objects", args=[profile.code]),
        reverse("copy_search", args=[profile.code, obj]),
        reverse("copy_record", args=[profile.code, obj, job.source_ids[0]]),
        reverse("bulk_upload"),
    ]
    admin = [
        reverse("admin:records_connectionprofile_changelist"),
        reverse("admin:records_connectionprofile_change", args=[profile.pk]),
        reverse("admin:records_connectionprofile_secret", args=[profile.pk]),
        reverse("admin:records_copyjob_changelist"),
        reverse("admin:records_copyjob_change", args=[job.pk]),
        reverse("admin:records_recordresult_changelist"),
        reverse("admin:records_recordresult_change", args=[result.pk]),
        reverse("admin:records_auditevent_changelist"),
    ]
    for client, urls in ((user_client, site), (staff_client, admin)):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            body = b"".join(response.streaming_content) if response.streaming else response.content
            for secret in _secrets(system, tokens):
                assert secret.encode() not in body, f"{system} secret on {url}"


@pytest.mark.django_db
def test_a_wrong_password_fails_the_job_without_any_secret(vault_profile, fresh_sandbox, owner, debug_logs):
    """The password is changed after the job was queued: the run fails on auth, cleanly."""
    conn = connector_for(vault_profile)
    src = find_record(conn, "product__v", "Neurolax")
    job = copy_job_create(
        request=copy_request(vault_profile, "product__v", [src], "clone", overrides={"name__v": "Never"}),
        user=owner,
        enqueue=False,
    )
    old_session = _token(vault_profile)
    profile = ConnectionProfile.objects.get(pk=vault_profile.pk)
    profile.secret = WRONG_PASSWORD
    profile.session_token = ""
    profile.save()
    job = copy_job_run(job_id=job.pk, worker_id="auth")
    assert job.status == CopyJob.Status.FAILED and job.error_summary
    with pytest.raises(AuthFailed) as exc:
        connector_for(profile).describe("product__v")
    texts = [job.error_summary, str(exc.value), repr(exc.value), _everything_logged(debug_logs)]
    texts += [r.error_message + r.error_type for r in RecordResult.objects.filter(job=job)]
    texts += [repr(e.details) for e in AuditEvent.objects.all()]
    for text in texts:
        for secret in (WRONG_PASSWORD, demo.VAULT_PASSWORD, old_session):
            assert secret not in text
    assert conn.find("product__v", {"name__v": "Never"}) == []


@pytest.mark.django_db
def test_a_wrong_zoho_secret_fails_without_any_secret(zoho_profile, fresh_sandbox, owner, debug_logs):
    profile = ConnectionProfile.objects.get(pk=zoho_profile.pk)
    profile.secret = WRONG_PASSWORD
    profile.save()
    with pytest.raises(AuthFailed) as exc:
        connector_for(profile).describe("Accounts")
    text = str(exc.value) + repr(exc.value) + _everything_logged(debug_logs)
    for secret in (WRONG_PASSWORD, demo.ZOHO_REFRESH_TOKEN, demo.ZOHO_CLIENT_SECRET):
        assert secret not in text


# -- Redis: what RQ stores --------------------------------------------------------------------


def _redis_dump(url) -> bytes:
    import redis

    conn = redis.Redis.from_url(url)
    out = []
    for key in conn.scan_iter():
        out.append(key)
        kind = conn.type(key)
        if kind == b"string":
            out.append(conn.get(key) or b"")
        elif kind == b"hash":
            for k, v in conn.hgetall(key).items():
                out += [k, v]
        elif kind == b"list":
            out += conn.lrange(key, 0, -1)
        elif kind == b"set":
            out += list(conn.smembers(key))
        elif kind == b"zset":
            out += [m for m, _ in conn.zrange(key, 0, -1, withscores=True)]
    return b"\n".join(out)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rq_job_holds_only_the_job_id(zoho_profile, fresh_sandbox, owner, redis_url):
    import zlib

    import django_rq
    from rq import SimpleWorker
    from rq.job import Job

    conn = connector_for(zoho_profile)
    job = copy_job_create(
        request=copy_request(
            zoho_profile, "Accounts", [small_account(conn)], "clone", overrides={"Account_Name": "Queued Secretly"}
        ),
        user=owner,
    )
    job.refresh_from_db()
    rq_job = Job.fetch(job.rq_job_id, connection=django_rq.get_connection("default"))
    assert rq_job.args == (job.pk,) or list(rq_job.args) == [job.pk]
    assert rq_job.kwargs == {}
    assert rq_job.func_name == "records.jobs.run_copy_job"
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)
    job.refresh_from_db()
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    rq_job = Job.fetch(job.rq_job_id, connection=django_rq.get_connection("default"))
    token = _token(zoho_profile)
    stored = [
        repr(rq_job.meta),
        rq_job.description or "",
        repr(rq_job.args),
        repr(rq_job.kwargs),
        repr(rq_job.return_value()),
    ]
    dump = _redis_dump(redis_url)
    blobs = [dump]
    # RQ stores the call data zlib-compressed: look inside too.
    import redis as _redis

    raw = _redis.Redis.from_url(redis_url).hget(rq_job.key, "data") or b""
    try:
        blobs.append(zlib.decompress(raw))
    except zlib.error:
        blobs.append(raw)
    for secret in (demo.ZOHO_CLIENT_SECRET, demo.ZOHO_REFRESH_TOKEN, token):
        assert all(secret not in s for s in stored)
        assert all(secret.encode() not in b for b in blobs)
