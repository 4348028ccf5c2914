"""My settings: a user turns their e-mails off and on again with one checkbox; on by default;
each change audited."""

import pytest
from django.urls import reverse

from records.models import AuditEvent
from records.notify.preferences import emails_on

pytestmark = pytest.mark.django_db


def test_e_mails_are_on_by_default_and_the_checkbox_turns_them_off_and_on(owner_client, owner):
    page = owner_client.get(reverse("my_settings"))
    assert page.status_code == 200
    assert 'name="email_on" id="email-on" checked' in page.content.decode()
    assert emails_on(owner)

    saved = owner_client.post(reverse("my_settings"), {}, follow=True)  # the box unticked
    assert not emails_on(owner)
    assert "Saved: no e-mails." in saved.content.decode()
    assert 'id="email-on" checked' not in saved.content.decode()

    owner_client.post(reverse("my_settings"), {"email_on": "on"})
    assert emails_on(owner)
    changes = AuditEvent.objects.filter(action="notify.preference", actor=owner).order_by("pk")
    assert [e.details for e in changes] == [{"email_on": False}, {"email_on": True}]


def test_saving_the_same_choice_again_is_not_a_change(owner_client, owner):
    owner_client.post(reverse("my_settings"), {"email_on": "on"})
    assert not AuditEvent.objects.filter(action="notify.preference").exists()
