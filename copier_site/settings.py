"""Settings for Record Copier, read from the environment (and an optional `.env`).

Development needs nothing set: SQLite and an embedded Redis under `var/`, a generated
credential key. With DEBUG off the app refuses to start without SECRET_KEY and CREDENTIAL_KEYS.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("COPIER_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _credential_keys() -> list[str]:
    keys = env.list("CREDENTIAL_KEYS", default=[])
    if keys:
        return keys
    if not DEBUG:
        raise ImproperlyConfigured("CREDENTIAL_KEYS must be set when DEBUG is off.")
    # A development key, generated once and kept, so secrets saved yesterday still decrypt.
    key_file = VAR_DIR / "dev_credential_key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


CREDENTIAL_KEYS = _credential_keys()

# Lets a connection profile point at http://127.0.0.1 / localhost (sandbox, tests, demo).
ALLOW_LOOPBACK_CONNECTIONS = env.bool("ALLOW_LOOPBACK_CONNECTIONS", default=False)
# Vault allows one job-status poll per job per 10 s; tests shorten this against the sandbox.
VAULT_JOB_POLL_SECONDS = env.float("VAULT_JOB_POLL_SECONDS", default=10.0)
# The X-VaultAPI-ClientID sent on every Vault call.
VAULT_CLIENT_ID = env.str("VAULT_CLIENT_ID", default="recordcopier-app-server-copier")
# A worker that has not renewed its lease for this long is considered dead.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=120)
# The most related records a deep copy the engine builds level by level takes (Vault with --engine).
ENGINE_DEEP_COPY_MAX_RECORDS = env.int("ENGINE_DEEP_COPY_MAX_RECORDS", default=100_000)
# A job paused by a rate limit or an outage waits (first wait, doubling up to the max) until the
# budget is spent, then stops, resumable from the job page.
JOB_WAIT_FIRST_SECONDS = env.float("JOB_WAIT_FIRST_SECONDS", default=15.0)
JOB_WAIT_MAX_SECONDS = env.float("JOB_WAIT_MAX_SECONDS", default=300.0)
JOB_WAIT_BUDGET_SECONDS = env.float("JOB_WAIT_BUDGET_SECONDS", default=1800.0)
# How often each RQ worker runs `job resume-stale` between jobs (records/worker.py).
JOB_RESUME_STALE_SECONDS = env.int("JOB_RESUME_STALE_SECONDS", default=15)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "copier_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "copier_site.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL plus a busy timeout lets the web server and a worker write without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not :memory:, so that worker processes started by tests can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default=f"unix://{REDIS_SOCKET}")

RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600},
}
RQ_SHOW_ADMIN_LINK = True
RQ = {"WORKER_CLASS": "records.worker.CopierWorker"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Production hardening; all of it is what `check --deploy` asks for.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "records.logging.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG; keep it quiet unless asked.
        "urllib3": {"level": env.str("URLLIB3_LOG_LEVEL", default="WARNING")},
    },
}
