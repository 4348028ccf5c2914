"""Settings from the environment: development defaults, the production refusal, check --deploy,
and the log filter that keeps secrets out of log lines."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from records.lib.redaction import RedactSecretsFilter, redact

ROOT = Path(__file__).resolve().parents[2]
OURS = (
    "DEBUG",
    "SECRET_KEY",
    "CREDENTIAL_KEYS",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOW_LOOPBACK_CONNECTIONS",
    "VAULT_JOB_POLL_SECONDS",
    "JOB_LEASE_SECONDS",
    "COPIER_VAR_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "COPY_KEY_FIELDS",
)  # the browser tests set the last one in this process
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.REDIS_URL, "
    "s.ALLOW_LOOPBACK_CONNECTIONS, s.VAULT_JOB_POLL_SECONDS, s.ALLOWED_HOSTS, sep='|')"
)


def _run(args, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    clean.update(DJANGO_SETTINGS_MODULE="copier_site.settings", COPIER_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def production_env():
    return {
        "SECRET_KEY": "prod-" + "k" * 60,
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "copier.example.com",
        "DATABASE_URL": "postgres://copier:pw@db.example.com:5432/copier",
        "REDIS_URL": "redis://redis.example.com:6379/0",
    }


def test_development_defaults(tmp_path):
    result = _run(["-c", PRINT_SETTINGS], tmp_path, DEBUG="true")
    assert result.returncode == 0, result.stderr
    debug, engine, name, redis_url, loopback, poll, hosts = result.stdout.strip().split("|")
    var = tmp_path / "var"
    assert (debug, engine, name) == ("True", "django.db.backends.sqlite3", str(var / "db.sqlite3"))
    assert redis_url == f"unix://{var / 'redis.sock'}"
    assert (loopback, poll) == ("False", "10.0")
    assert hosts == "['127.0.0.1', 'localhost']"
    key_file = var / "dev_credential_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    Fernet(key_file.read_text().strip().encode())  # a real key, kept for the next start


PRINT_COPY_KEY = (
    "import django; django.setup(); from django.conf import settings as s; "
    "from records.connectors.base import FieldInfo; from records.copying.tree import copy_key_field; "
    "fields = [FieldInfo(n, n, 'text', unique=True) for n in ('Copy_Key', 'a', 'b')]; "
    "print(s.COPY_KEY_FIELDS, copy_key_field(fields, ('Copy_Key',)) or '-', sep='|')"
)


@pytest.mark.parametrize(
    ("value", "names", "key"),
    [
        ("", "()", "-"),  # set but empty: no copy key, copies are found by their values
        ("a,b", "('a', 'b')", "a"),
        (" b , a ", "('b', 'a')", "b"),
        (None, "None", "Copy_Key"),  # unset: the connector's own names
    ],
)
def test_copy_key_fields_empty_means_no_copy_key_and_unset_means_the_default(tmp_path, value, names, key):
    env = {"DEBUG": "true"} if value is None else {"DEBUG": "true", "COPY_KEY_FIELDS": value}
    result = _run(["-c", PRINT_COPY_KEY], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [names, key]


def test_debug_is_off_unless_asked(tmp_path):
    result = _run(["-c", PRINT_SETTINGS], tmp_path, **production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False|django.db.backends.postgresql|copier|redis://redis.example.com")


def test_it_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    result = _run(["manage.py", "check"], tmp_path, CREDENTIAL_KEYS=Fernet.generate_key().decode())
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_it_refuses_to_start_without_credential_keys_when_debug_is_off(tmp_path):
    result = _run(["manage.py", "check"], tmp_path, SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "CREDENTIAL_KEYS must be set when DEBUG is off." in result.stderr
    assert not (tmp_path / "var" / "dev_credential_key").exists()


def test_check_deploy_passes_with_production_values(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_about_loopback_connections(tmp_path):
    env = {**production_env(), "ALLOW_LOOPBACK_CONNECTIONS": "true"}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)
    assert result.returncode != 0
    assert "records.W001" in result.stderr


def test_check_refuses_a_malformed_credential_key(tmp_path):
    env = {**production_env(), "CREDENTIAL_KEYS": "not-a-fernet-key"}
    result = _run(["manage.py", "check"], tmp_path, **env)
    assert result.returncode != 0
    assert "records.E002" in result.stderr and "not-a-fernet-key" not in result.stderr


def test_redact_hides_secret_values():
    line = (
        'POST /auth password=hunter2&username=me {"client_secret": "abc", "refresh_token": "1000.xyz"} '
        "Authorization: Zoho-oauthtoken 1000.tok sessionId=SESS"
    )
    cleaned = redact(line)
    for secret in ("hunter2", "abc", "1000.xyz", "1000.tok", "SESS"):
        assert secret not in cleaned
    assert "username=me" in cleaned


def test_the_log_filter_redacts_any_logger_with_args():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("login with password=%s for %s", "hunter2", "me")
    finally:
        logger.removeHandler(handler)
    assert "hunter2" not in stream.getvalue() and "for me" in stream.getvalue()


def test_settings_attach_the_filter_to_the_console_handler(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact"]
    assert settings.LOGGING["filters"]["redact"]["()"] == "records.lib.redaction.RedactSecretsFilter"
