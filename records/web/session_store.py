"""Django's database sessions, each read by a statement written once (SESSION_ENGINE).

Every request of a signed-in user reads its session; the polled parts of a job page and a
preview dozens of times a second while jobs run. Django's store builds and compiles the same
query each time (~1 ms of a ~6 ms poll, profiled); this one sends the same SQL that query
compiles to: the session's data by its key, if not yet expired. Writing, expiry and clearing are
Django's."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> AbstractBaseSession | None:
        connection = connections[router.db_for_read(Session)]
        q = connection.ops.quote_name
        # Django's session table and columns, quoted by the backend; the values bound as parameters.
        sql = f"SELECT {q('session_data')} FROM {q(Session._meta.db_table)} WHERE {q('session_key')} = %s AND {q('expire_date')} > %s"  # noqa: S608
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            found = cursor.fetchone()
        if found is None or self._session_key is None:
            self._session_key = None  # as Django's: an unknown or expired key starts a new session
            return None
        return Session(session_key=self._session_key, session_data=found[0])
