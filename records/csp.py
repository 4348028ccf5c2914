"""The one exception to the strict Content-Security-Policy: the RQ dashboard under /admin/rq/.

django-rq's templates carry inline <script> and <style> that we don't own; without
'unsafe-inline' its "select all" and action buttons stop working. The dashboard is staff-only,
shows no remote data, and the rest of the site keeps the strict policy (settings.py).
"""

from __future__ import annotations

RQ_DASHBOARD_PREFIX = "/admin/rq/"
RQ_DASHBOARD_UPDATE = {"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]}


def rq_dashboard_policy(get_response):
    def middleware(request):
        response = get_response(request)
        if request.path.startswith(RQ_DASHBOARD_PREFIX):
            # Read by csp.middleware.CSPMiddleware (the same attribute its @csp_update sets).
            response._csp_update = RQ_DASHBOARD_UPDATE
        return response

    return middleware
