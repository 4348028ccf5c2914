"""Login throttling (records/accounts/logins.py, django-axes) on both login forms: forty wrong
passwords lock the account out for that address only, and a lock-out is lifted by `login_unlock`
or in the admin, audited either way."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from records.models import AuditEvent

pytestmark = pytest.mark.django_db


LOGIN_FORMS = ["login", "admin:login"]


def _try_password(client, form, username, password, ip):
    return client.post(reverse(form), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("form", LOGIN_FORMS)
def test_forty_wrong_passwords_lock_the_account_out_for_that_address(client, staff, form):
    answers = [_try_password(client, form, "charlie", f"guess-{i}", "203.0.113.7").status_code for i in range(40)]
    assert answers[:4] == [200] * 4 and set(answers[5:]) == {429}, answers
    locked = _try_password(client, form, "charlie", "charlie-pass-123", "203.0.113.7")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Same user from another address, another user from this one: both still may log in.
    assert _try_password(client, form, "charlie", "charlie-pass-123", "198.51.100.2").status_code == 302
    assert AuditEvent.objects.filter(action="login.locked_out", details__username="charlie").exists()


def test_a_lock_out_is_lifted_by_the_command_and_audited(client, owner):
    for i in range(5):
        _try_password(client, "login", "alice", f"guess-{i}", "203.0.113.9")
    assert _try_password(client, "login", "alice", "alice-pass-123", "203.0.113.9").status_code == 429
    call_command("login_unlock", "--username", "alice")
    assert _try_password(client, "login", "alice", "alice-pass-123", "203.0.113.9").status_code == 302
    event = AuditEvent.objects.get(action="login.unlock")
    assert event.details == {"username": "alice", "ip_address": "", "attempts_cleared": 1, "via": "command"}


def test_a_lock_out_is_lifted_in_the_admin_and_audited(client, staff, owner):
    from axes.models import AccessAttempt

    for i in range(5):
        _try_password(client, "login", "alice", f"guess-{i}", "203.0.113.9")
    attempt = AccessAttempt.objects.get(username="alice")
    client.force_login(staff)
    url = reverse("admin:axes_accessattempt_changelist")
    response = client.post(url, {"action": "unlock_selected", "_selected_action": [attempt.pk]})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
    event = AuditEvent.objects.get(action="login.unlock")
    assert event.actor == staff and event.details["via"] == "admin"
    client.logout()
    assert _try_password(client, "login", "alice", "alice-pass-123", "203.0.113.9").status_code == 302
