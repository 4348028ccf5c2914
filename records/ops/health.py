"""Health endpoints for load balancers and orchestrators.

/health/live: the process answers (restart it if not). /health/ready and /health: the database
and Redis answer too (send it no traffic if not); 503 names the failing part. Neither says why a
part failed: they are public, and an error message could show a host name or a password.
"""

from __future__ import annotations

import logging

import django_rq
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

log = logging.getLogger(__name__)
REDIS_TIMEOUT = 2.0  # seconds


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    conn = django_rq.get_connection("default")  # a fresh client and pool, ours alone
    # A probe must answer within the balancer's timeout, not hang on a dead host.
    kwargs = conn.connection_pool.connection_kwargs
    for key in ("socket_timeout", "socket_connect_timeout"):
        kwargs[key] = kwargs.get(key) or REDIS_TIMEOUT
    try:
        conn.ping()
    finally:
        conn.close()


CHECKS = {"database": _database, "redis": _redis}


def _run_checks() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            log.warning("Health check %s failed", name, exc_info=True)
            results[name] = "fail"
    return results


@login_not_required
@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    checks = _run_checks()
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


@login_not_required
@never_cache
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
