"""The notifications in the admin: each webhook attempt and e-mail listed for staff, read-only,
and a webhook's secret never shown nor usable in a lookup."""

import pytest
from django.urls import reverse

from records.notify.models import WebhookDelivery, WebhookMessage

pytestmark = pytest.mark.django_db
SECRET = "whsec-never-shown"


def test_webhook_attempts_are_listed_and_their_secret_never_shown(client, staff):
    client.force_login(staff)
    message = WebhookMessage.objects.create(url="https://hooks.example.com/a", event="job.ended", secret=SECRET)
    WebhookDelivery.objects.create(message=message, url=message.url, event="job.ended", attempt=1, error="timed out")
    pages = [
        reverse("admin:records_webhookmessage_changelist"),
        reverse("admin:records_webhookmessage_change", args=[message.pk]),
        reverse("admin:records_webhookdelivery_changelist"),
        reverse("admin:records_maildelivery_changelist"),
        reverse("admin:records_notificationsettings_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    assert "timed out" in client.get(pages[2]).content.decode()
    assert client.get(pages[0] + "?secret__startswith=whsec").status_code == 400
