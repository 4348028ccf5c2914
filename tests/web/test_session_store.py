"""Sessions read by a statement written once (records/web/session_store.py): a signed-in user's
session is read in one query; an expired or unknown one is not, and the next answer starts a new
session, as Django's own database store does."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.web.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "records.web.session_store"


def test_a_session_is_read_in_one_query_with_its_data():
    saved = SessionStore()
    saved["answer"] = {"n": 42, "name": "Zoë"}
    saved.save()
    with CaptureQueriesContext(connection) as queries:
        read = SessionStore(saved.session_key)
        assert read["answer"] == {"n": 42, "name": "Zoë"}
    assert len(queries) == 1 and read.session_key == saved.session_key


def test_an_expired_session_is_not_read_and_its_key_is_dropped():
    saved = SessionStore()
    saved["answer"] = 42
    saved.save()
    Session.objects.filter(session_key=saved.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    read = SessionStore(saved.session_key)
    assert read.get("answer") is None and read.session_key is None
    assert SessionStore("no-such-session-key").load() == {}


def test_a_signed_in_user_whose_session_expired_is_asked_to_sign_in(owner_client):
    assert owner_client.get(reverse("job_list")).status_code == 200
    key = owner_client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = owner_client.get(reverse("job_list"))
    assert response.status_code == 302 and settings.LOGIN_URL in response["Location"]
