"""The e-mails through a real SMTP server (aiosmtpd on a free loopback port), configured the way
production is: EMAIL_URL read by django-environ."""

import email

import environ
import pytest
from aiosmtpd.controller import Controller

from records.models import CopyJob
from records.ops.embedded_redis import free_port
from tests.fixtures.engine import copy_now
from tests.notify.conftest import send_queued

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class Inbox:
    """aiosmtpd's handler: keeps each message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def test_a_job_end_is_mailed_through_the_smtp_server_email_url_names(
    memory, engine_profile, alice, redis_url, smtp_server, settings
):
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{smtp_server.port}").items():
        setattr(settings, name, value)
    settings.DEFAULT_FROM_EMAIL = "Record Copier <copier@example.com>"
    job = copy_now(engine_profile, alice, "Accounts", [memory.root], "clone", connector=memory)
    send_queued()
    assert job.status == CopyJob.Status.SUCCEEDED
    [(to, message)] = smtp_server.messages
    assert to == ["alice@example.com"]
    assert message["From"] == "Record Copier <copier@example.com>"
    assert message["Subject"] == f"Job {job.pk} succeeded: {job.title}"
    assert f"/jobs/{job.code}/" in message.get_payload(decode=True).decode()
