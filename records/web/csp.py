"""Where the strict Content-Security-Policy (settings.py) is widened, and why.

- The RQ dashboard under /admin/rq/: django-rq's templates carry inline <script> and <style> that
  we don't own; without 'unsafe-inline' its "select all" and action buttons stop working. The
  dashboard is for superusers only, shows no remote data, and the rest of the site keeps the policy.
- Single sign-on: signing out posts to our /accounts/logout/, which redirects to the provider's
  end-session endpoint; browsers apply `form-action` to that redirect too, so with SSO on the
  provider's origin is added to `form-action` (nothing else).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponseBase

from records.accounts import sso

RQ_DASHBOARD_PREFIX = "/admin/rq/"
RQ_DASHBOARD_UPDATE = {"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]}


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def sso_logout_origin() -> str:
    """The origin of the provider's end-session endpoint, or "" when SSO is off or has none."""
    if not sso.sso_enabled():
        return ""
    try:
        return _origin(sso.sso_setting("OIDC_OP_LOGOUT_ENDPOINT", "") or "")
    except Exception:  # noqa: BLE001 - a provider that can't be reached: sign-out ends locally anyway
        return ""


def policy_updates(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        update: dict[str, list[str]] = {}
        if request.path.startswith(RQ_DASHBOARD_PREFIX):
            update.update(RQ_DASHBOARD_UPDATE)
        origin = sso_logout_origin()
        if origin:
            update["form-action"] = [origin]
        if update:
            # Read by csp.middleware.CSPMiddleware (the same attribute its @csp_update sets): django-csp
            # has no typed way to widen one response's policy.
            response._csp_update = update  # type: ignore[attr-defined]
        return response

    return middleware
