"""Settings for Record Copier, read from the environment (and an optional `.env`).

Development needs nothing set: SQLite and an embedded Redis under `var/`, a generated
credential key. With DEBUG off the app refuses to start without SECRET_KEY and CREDENTIAL_KEYS.
"""

import os
from datetime import timedelta
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
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _credential_keys() -> list[str]:
    keys: list[str] = env.list("CREDENTIAL_KEYS", default=[])
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


def _names_or_unset(name: str) -> tuple[str, ...] | None:
    """A comma-separated list of names; None when the variable is unset. Read from os.environ (the
    .env file is in it by now): django-environ reads a variable set to "" as unset."""
    raw = os.environ.get(name)
    return None if raw is None else tuple(n.strip() for n in raw.split(",") if n.strip())


# Lets a connection profile point at http://127.0.0.1 / localhost (sandbox, tests, demo).
ALLOW_LOOPBACK_CONNECTIONS = env.bool("ALLOW_LOOPBACK_CONNECTIONS", default=False)
# Vault allows one job-status poll per job per 10 s; tests shorten this against the sandbox.
VAULT_JOB_POLL_SECONDS = env.float("VAULT_JOB_POLL_SECONDS", default=10.0)
# The X-VaultAPI-ClientID sent on every Vault call.
VAULT_CLIENT_ID = env.str("VAULT_CLIENT_ID", default="recordcopier-app-server-copier")
# How long to wait for the copy of a Vault deep copy whose start answer was lost (Vault may have
# queued the job): after this the engine looks for the copy by its copy key.
VAULT_LOST_START_WAIT_SECONDS = env.float("VAULT_LOST_START_WAIT_SECONDS", default=120.0)
# Without a copy key, the copy of a write whose answer was lost must have been created at or after
# the moment its row was marked sending (on the remote's clock, from its Date header), less this
# margin: Zoho's creation times have whole seconds and the Date header one-second resolution.
RECONCILE_CLOCK_MARGIN_SECONDS = env.float("RECONCILE_CLOCK_MARGIN_SECONDS", default=2.0)
# Files a copy carries (attachments, file fields): the largest one file, and all of one job's files,
# in bytes. A preview over either is refused before anything is queued.
FILES_MAX_FILE_BYTES = env.int("FILES_MAX_FILE_BYTES", default=100 * 1024 * 1024)
FILES_MAX_JOB_BYTES = env.int("FILES_MAX_JOB_BYTES", default=2 * 1024 * 1024 * 1024)
# A preview counts attachments (one call per record: neither API lists many records' at once) when
# files are copied, or when it has at most this many records. 0 by default: a copy that leaves
# files out (the default) spends no call on them; the preview offers to tick and count them.
FILES_PREVIEW_MAX_RECORDS = env.int("FILES_PREVIEW_MAX_RECORDS", default=0)
# Names of the optional unique text field that marks each copy with its source (the copy key);
# the first one an object has is used. Unset: each connector's own names (its copy_key_fields);
# set but empty: no copy key, copies are found by their values.
COPY_KEY_FIELDS = _names_or_unset("COPY_KEY_FIELDS")
# Undo compares a record's creation and modification times (the remote's clock, whole seconds) with
# when its row was sent and last written (our clock moved by the Date header's offset): this margin
# absorbs the rounding. A change within it after the copy's last write is not seen as a change.
UNDO_CLOCK_MARGIN_SECONDS = env.float("UNDO_CLOCK_MARGIN_SECONDS", default=2.0)
# The undo page reads at most this many records while the user waits to list what will be deleted
# and kept; the worker checks the rest under the same rules before deleting anything.
UNDO_PREVIEW_MAX_RECORDS = env.int("UNDO_PREVIEW_MAX_RECORDS", default=1000)
# A worker that has not renewed its lease for this long is considered dead.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=120)
# The most related records a deep copy the engine builds level by level takes (Vault with --engine).
ENGINE_DEEP_COPY_MAX_RECORDS = env.int("ENGINE_DEEP_COPY_MAX_RECORDS", default=100_000)
# The most related records of a deep copy on a system without its own (Zoho: the engine builds
# every one); 0 keeps the connector's own limit (10,000). bench/giant.py sets it to copy 100,000.
BUILT_DEEP_COPY_MAX_RECORDS = env.int("BUILT_DEEP_COPY_MAX_RECORDS", default=0)
# A tree's level reads its related lists at once, each handed over in order: a list read ahead of
# the one being handed over holds at most this many records before its reader waits (bounded memory
# however large the level; records/copying/level_reads.py).
LEVEL_READ_AHEAD_RECORDS = env.int("LEVEL_READ_AHEAD_RECORDS", default=1000)
# A copy by query (`copy --where`) takes this many records when no --limit is given, and at most the max.
COPY_QUERY_DEFAULT_LIMIT = env.int("COPY_QUERY_DEFAULT_LIMIT", default=100)
COPY_QUERY_MAX_LIMIT = env.int("COPY_QUERY_MAX_LIMIT", default=1000)
# A copy into a protected profile waits this long for an approver, then expires.
COPY_APPROVAL_EXPIRY_DAYS = env.int("COPY_APPROVAL_EXPIRY_DAYS", default=7)
# The most records one job may write into a protected profile (checked in the preview).
PROTECTED_MAX_RECORDS = env.int("PROTECTED_MAX_RECORDS", default=10_000)
# A job paused by a rate limit or an outage waits (first wait, doubling up to the max) until the
# budget is spent, then stops, resumable from the job page.
JOB_WAIT_FIRST_SECONDS = env.float("JOB_WAIT_FIRST_SECONDS", default=15.0)
JOB_WAIT_MAX_SECONDS = env.float("JOB_WAIT_MAX_SECONDS", default=300.0)
JOB_WAIT_BUDGET_SECONDS = env.float("JOB_WAIT_BUDGET_SECONDS", default=1800.0)
# How often each RQ worker runs `job resume-stale` between jobs (records/worker.py).
JOB_RESUME_STALE_SECONDS = env.int("JOB_RESUME_STALE_SECONDS", default=15)
# Previews' plans are read on a worker (records/copying/stored_plans.py). A plan still reading whose worker
# has written no progress for this long is queued again; a ready plan older than the max age is
# read again (what it read may have changed), and Confirm refuses it.
PLAN_STALE_SECONDS = env.int("PLAN_STALE_SECONDS", default=120)
PLAN_MAX_AGE_SECONDS = env.int("PLAN_MAX_AGE_SECONDS", default=3600)
# A plan no worker has taken after this long says so on the preview ("waiting for a free worker").
PLAN_WAIT_NOTICE_SECONDS = env.int("PLAN_WAIT_NOTICE_SECONDS", default=10)
# Read plans in the web process instead of on a worker: the test suite's default (tests/conftest.py),
# never in production (the request would wait on the whole tree again).
PLAN_READ_INLINE = env.bool("PLAN_READ_INLINE", default=False)
# The job page's rendering is kept this long per user and job state (records/web/page_cache.py):
# many people opening one job's page in the same second cost one render. 0: render each time.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=5)
# The signed-in user of the polled pages (live part, rows, job page, plan.json) is kept this long
# per process (records/web/polled_user.py): one query fewer on each poll; a user made inactive or a
# password changed elsewhere shows on those read-only answers up to this late. 0: read every time.
POLLED_USER_SECONDS = env.int("POLLED_USER_SECONDS", default=5)

# E-mail (records/notify/): EMAIL_URL such as smtp+tls://user:password@mail.example.com:587;
# development prints mails on the console. SITE_URL makes the links in them absolute.
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Record Copier <record-copier@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The RQ queue notifications go on: "plans" is the queue of short work every worker serves
# first (`rqworker plans default`), so a mail never waits behind a long copy.
NOTIFY_QUEUE = env.str("NOTIFY_QUEUE", default="plans")
# Schedules' due runs (records/schedules/) are RQ jobs scheduled on this queue: a worker listening to
# it and started --with-scheduler runs them. A due run plans its copy there, as a preview does.
SCHEDULE_QUEUE = env.str("SCHEDULE_QUEUE", default="plans")
# A due run claimed but never started this long ago (its worker died) no longer counts as going.
SCHEDULE_STARTING_STALE_SECONDS = env.int("SCHEDULE_STARTING_STALE_SECONDS", default=600)
# Webhooks: a failed delivery is tried again after each of these waits (RQ's Retry; waits over 0
# need a worker started --with-scheduler, as ./scripts/run starts them), then given up.
WEBHOOK_RETRY_INTERVALS = env.list("WEBHOOK_RETRY_INTERVALS", cast=int, default=[10, 60, 300, 1800])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)

# The JSON API (records/api/): calls per token (or per signed-in user) allowed, as DRF writes a
# rate ("120/min"; unset: no limit); counted in Django's cache (CACHE_URL: a shared one such as
# rediscache://... when several processes serve, else each counts alone). One api.token.use
# audit event per token per this many seconds (each call only moves its last use).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="120/min") or None
API_TOKEN_USE_AUDIT_SECONDS = env.int("API_TOKEN_USE_AUDIT_SECONDS", default=3600)
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "records.api.auth.BearerTokenAuthentication",  # first: a call without credentials gets 401
        "rest_framework.authentication.SessionAuthentication",  # the browser's session, with CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["records.api.auth.TokenThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],  # no browsable pages
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "records.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Record Copier API",
    "DESCRIPTION": "Run saved copy templates and follow their jobs. Authorization: Bearer <token> "
    "(made on My settings).",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "csp",
    "axes",
    "mozilla_django_oidc",
    "rest_framework",
    "drf_spectacular",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The polled pages' user from memory for POLLED_USER_SECONDS (records/web/polled_user.py).
    "records.web.polled_user.PolledUser",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "records.web.middleware.PrivateCacheMiddleware",
    "records.accounts.sso_refresh.SSOSessionRefresh",
    "csp.middleware.CSPMiddleware",
    # After CSPMiddleware, so its response is seen first: the few widenings of the policy (records/web/csp.py).
    "records.web.csp.policy_updates",
    # Last, as django-axes asks: it turns a lock-out raised by the backend into the lock-out page.
    "axes.middleware.AxesMiddleware",
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
                "records.accounts.sso.context",
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
    # Each gunicorn thread keeps its connection ten minutes: a new backend costs ~15 ms to connect
    # and its first reads plan with cold catalogue caches (20-40 ms more, measured under load), once
    # a minute a thread at 60 s. The health check finds one the server closed meanwhile.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=600))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default=f"unix://{REDIS_SOCKET}")

RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600},
    # Previews' plans: workers listen to it first, so a preview never waits behind a long copy.
    "plans": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 1800},
}
RQ_SHOW_ADMIN_LINK = True
RQ = {"WORKER_CLASS": "records.worker.CopierWorker"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Single sign-on (OpenID Connect, records/accounts/sso.py): on when OIDC_CLIENT_ID is set. The provider's
# endpoints come from <OIDC_ISSUER>/.well-known/openid-configuration unless given one by one.
OIDC_OP_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_END_SESSION_ENDPOINT", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="sub")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_STAFF_GROUP = env.str("OIDC_STAFF_GROUP", default="")
OIDC_APPROVER_GROUP = env.str("OIDC_APPROVER_GROUP", default="")
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # for the provider's logout (id_token_hint)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
# An SSO user is re-checked with the provider (silently) this often; disabled there, out here.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_SECONDS", default=15 * 60)
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
SSO_BUTTON_LABEL = env.str("SSO_BUTTON_LABEL", default="Log in with single sign-on")
# Off: only single sign-on; user names and passwords are refused on every login form.
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)

# The axes backend first: it refuses a locked-out user before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend"]
if LOCAL_LOGIN_ENABLED:
    AUTHENTICATION_BACKENDS.append("django.contrib.auth.backends.ModelBackend")
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.append("records.accounts.sso.SSOBackend")

# Login throttling (django-axes), on every login form (ours and the admin's): after
# AXES_FAILURE_LIMIT failures for one user name from one address, that pair is locked out for
# AXES_COOLOFF_MINUTES (0: until unlocked in the admin or by `manage.py login_unlock`).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
_cooloff = env.float("AXES_COOLOFF_MINUTES", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff) if _cooloff else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_WHITELIST_CALLABLE = "records.accounts.logins.axes_exempt"  # password logins only, not the SSO callback
# The address is REMOTE_ADDR (a client can't forge it): behind a reverse proxy, have the proxy
# or gunicorn (--forwarded-allow-ips) set it to the client's.

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

# Django's database sessions, read by a statement written once (records/web/session_store.py).
SESSION_ENGINE = "records.web.session_store"

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

# Content-Security-Policy (django-csp): scripts, styles and everything else only from our own
# origin; no inline script or style anywhere in templates/ (tests/web/test_csp.py checks each page,
# the browser tests fail on any violation). The third-party RQ dashboard is the one exception
# (records/web/csp.py). $CSP_REPORT_URI: where browsers report violations (none by default); not a
# CSP_* setting, which django-csp 4 takes for its old configuration and refuses (csp.E001).
_csp_report_uri = env.str("CSP_REPORT_URI", default="")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": _csp_report_uri} if _csp_report_uri else {}),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "records.lib.redaction.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG; keep it quiet unless asked.
        "urllib3": {"level": env.str("URLLIB3_LOG_LEVEL", default="WARNING")},
        # django-axes logs every start and login attempt at INFO; lock-outs are WARNING.
        "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")},
    },
}
