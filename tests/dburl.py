"""The URL of the database the tests are using, for worker processes the tests start."""

from urllib.parse import quote

from django.db import connection


def worker_database_url() -> str:
    # After test-database setup, settings_dict names the test database (SQLite file or test_<db>).
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user, password = quote(s.get("USER") or ""), quote(s.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or ""
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{s['NAME']}"
