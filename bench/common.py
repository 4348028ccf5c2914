"""Shared pieces of the benchmark: the result row, the environment, profiles, a scenario's setup
(what is available, a fresh emulator, the profile), the job calls, timing helpers."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_AVAILABLE = "not available"


@dataclass
class Row:
    """One line of the table.

    `kind` decides pass/fail: "max" (engine <= target), "min" (engine >= target), "ratio_min"
    (ratio >= target), "ratio_max" (ratio <= target), "info" (no target), "na" (not available).
    `gate`: a failure of this row makes the script exit non-zero (call counts, query growth).
    """

    scenario: str
    metric: str
    engine: float | str | None = None
    baseline: float | str | None = None  # the naive baseline or the computed minimum
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None  # None: informational
    gate: bool = False
    note: str = ""

    @property
    def verdict(self) -> str:
        if isinstance(self.engine, str) and self.engine == NOT_AVAILABLE:
            return "n/a"
        if self.ok is None:
            return "info"
        return "pass" if self.ok else "FAIL"


@dataclass
class Context:
    quick: bool
    latency: float  # seconds added per sandbox call
    tmp: Path
    sb: object = None  # the in-process Sandbox
    user: object = None
    notes: list[str] = field(default_factory=list)
    redis: object = None
    target_sb: object = None  # the second org's Sandbox (zoho_cross_copy)

    def scale(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def prepare_environment(tmp: Path, poll_seconds: float, database_url: str = "") -> None:
    """Dev settings and a throwaway SQLite DB, or the database at `database_url` (production's
    PostgreSQL: its writes are round trips to another process); must run before django.setup()."""
    os.environ["COPIER_VAR_DIR"] = str(tmp)
    os.environ["DEBUG"] = "true"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ["ALLOW_LOOPBACK_CONNECTIONS"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "copier_site.settings"
    os.environ["VAULT_JOB_POLL_SECONDS"] = str(poll_seconds)
    os.environ["REDIS_URL"] = f"unix://{tmp / 'redis.sock'}"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup_django(tmp: Path, poll_seconds: float, database_url: str = "") -> None:
    prepare_environment(tmp, poll_seconds, database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a `manage.py rqworker` the bench starts, as a production worker runs:
    DEBUG off (with it on, Django keeps every query's SQL and, on SQLite, quotes its parameters
    with a second query: ~15% of a Big Account job's CPU), so with this process's keys."""
    from django.conf import settings

    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "CREDENTIAL_KEYS": ",".join(settings.CREDENTIAL_KEYS),
        **extra,
    }


def make_tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="copier-bench-"))


def bench_user():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    user.set_password("bench-password-123")
    user.save()
    return user


def zoho_profile(sb, user, *, concurrency: int = 5, name: str = ""):
    from records.models import ConnectionProfile, System
    from sandbox import demo

    return ConnectionProfile.objects.create(
        name=name or f"Bench Zoho c{concurrency} {time.monotonic_ns()}",
        **demo.profile_values(System.ZOHO, sb.zoho_url),
        owner=user,
        concurrency=concurrency,
    )


def vault_profile(sb, user, *, concurrency: int = 5, name: str = ""):
    from records.models import ConnectionProfile, System
    from sandbox import demo

    return ConnectionProfile.objects.create(
        name=name or f"Bench Vault c{concurrency} {time.monotonic_ns()}",
        **demo.profile_values(System.VAULT, sb.vault_url),
        owner=user,
        concurrency=concurrency,
    )


def connector_available(system: str) -> str:
    """'' when the connector imports, else why not."""
    from records.connectors import connector_class

    try:
        connector_class(system)
    except Exception as exc:  # ImportError, AttributeError while it is being written
        return f"{system} connector not importable ({type(exc).__name__}: {exc})"
    return ""


def engine_available() -> str:
    try:
        from records.copying.job_actions import copy_job_run  # noqa: F401
        from records.copying.job_create import copy_job_create  # noqa: F401
    except Exception as exc:
        return f"copy engine not importable ({type(exc).__name__}: {exc})"
    return ""


def sandbox_available(sb, system: str) -> str:
    app = sb.zoho if system == "zoho" else sb.vault
    return "" if app is not None else f"the {system} emulator is not in the sandbox yet"


def unavailable(sb, system: str) -> str:
    """'' when the copy engine, the system's connector and its emulator are all there, else why not."""
    return engine_available() or connector_available(system) or sandbox_available(sb, system)


def fresh_vault(sb, latency: float) -> None:
    """The Vault emulator as the demo made it, `latency` s per call, its jobs at the bench's poll interval."""
    sb.reset()
    sb.vault.configure(job_poll_interval=sb._bench_poll, burst_sleep=False)
    sb.faults("vault").set(latency=latency)


def vault_setup(ctx, *, name: str = ""):
    """A fresh Vault emulator, the bench user and a new Vault profile: (profile, its connector)."""
    from records.connectors import connector_for

    fresh_vault(ctx.sb, ctx.latency)
    ctx.user = ctx.user or bench_user()
    profile = vault_profile(ctx.sb, ctx.user, name=name)
    return profile, connector_for(profile)


def create_job(ctx, profile, object_name: str, ids: list[str], mode: str, **kw):
    """copy_job_create for the bench user, not queued: the scenario runs (and times) the job itself.
    `kw`: the rest of the CopyRequest (overrides, row_overrides, options)."""
    from records.copying.job_create import copy_job_create
    from records.copying.request import CopyRequest

    request = CopyRequest(profile=profile, object_name=object_name, source_ids=tuple(ids), mode=mode, **kw)
    return copy_job_create(request=request, user=ctx.user, enqueue=False)


def run_job(job, *, worker: str = "bench", connector=None):
    """copy_job_run as the RQ worker calls it; `connector`: the scenario's own (e.g. a timed one)."""
    from records.copying.job_actions import copy_job_run

    extra = {"connector": connector} if connector is not None else {}
    return copy_job_run(job_id=job.pk, worker_id=worker, **extra)


def writes(log, *, methods=("POST", "PUT", "PATCH", "DELETE")) -> list:
    return [e for e in log if e.method in methods]


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        self.cpu = time.thread_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = time.thread_time() - self.cpu
        return False


def na_rows(scenario: str, metrics: list[str], why: str) -> list[Row]:
    return [Row(scenario, m, NOT_AVAILABLE, note=why) for m in metrics]
