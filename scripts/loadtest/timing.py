"""A middleware for load runs only (scripts/loadtest/timing_settings.py puts it first): one JSON
line per request in the file COPIER_VIEW_LOG names: the view, its time, its thread's CPU time, its
SQL queries and their time, so a slow page shows whether the database or the rendering took it. A streamed response's
queries after the view returns (results.csv's rows) are not counted."""

from __future__ import annotations

import json
import os
import threading
import time

from django.db import connection

_write = threading.Lock()


class _Queries:
    def __init__(self):
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - t0


class ViewTimings:
    def __init__(self, get_response):
        self.get_response = get_response
        self.path = os.environ.get("COPIER_VIEW_LOG", "")

    def __call__(self, request):
        queries = _Queries()
        t0, cpu0 = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        line = {
            "at": round(time.time() - (time.perf_counter() - t0), 3),  # when it started: bursts show
            "pid": os.getpid(),
            "view": request.resolver_match.view_name if request.resolver_match else request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - t0) * 1000, 1),
            # This thread's CPU: the view's own cost, whatever else the machine runs.
            "cpu_ms": round((time.thread_time() - cpu0) * 1000, 1),
            "queries": queries.count,
            "sql_ms": round(queries.seconds * 1000, 1),
        }
        if self.path:
            with _write, open(self.path, "a") as fh:
                fh.write(json.dumps(line) + "\n")
        return response
