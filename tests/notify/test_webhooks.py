"""Webhooks (records/notify/webhooks.py): a signed JSON POST received by a real local HTTP server,
whose signature the test checks with the shared secret; a private address refused before anything
is queued; a failing receiver tried again by RQ's retries, each attempt recorded."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from records.models import CopyJob
from records.notify.events import Webhook, job_ended
from records.notify.models import WebhookDelivery, WebhookMessage
from records.notify.webhook_urls import check_webhook_url
from records.notify.webhooks import webhook_queue
from tests.fixtures.engine import copy_now
from tests.notify.conftest import send_queued

SECRET = "s3cret-shared-with-the-receiver"


class Receiver:
    """An HTTP server on a free loopback port that keeps what it is sent and answers with the
    next of `answers` (the last one again once they run out)."""

    def __init__(self, answers=(200,)):
        self.answers, self.received = list(answers), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/copies"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(answers=(200,)):
        made.append(Receiver(answers))
        return made[-1]

    yield make
    for r in made:
        r.close()


def verified(headers, body, secret=SECRET):
    """What a receiver does: recompute the signature over "<timestamp>.<raw body>"."""
    signed = headers["X-Record-Copier-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Record-Copier-Signature"])


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_job_end_reaches_the_webhook_signed(memory, engine_profile, owner, redis_url, receiver):
    hook = receiver()
    job = copy_now(engine_profile, owner, "Accounts", [memory.root], "clone", connector=memory)
    job_ended(job=job, webhooks=[Webhook(url=hook.url, secret=SECRET)])
    send_queued()
    assert len(hook.received) == 1
    headers, body = hook.received[0]
    assert verified(headers, body)
    assert not verified(headers, body, secret="another secret")
    assert not verified({**headers, "X-Record-Copier-Timestamp": "1"}, body)  # a replay with another time
    sent = json.loads(body)
    assert sent["event"] == headers["X-Record-Copier-Event"] == "job.ended"
    assert (sent["job"]["id"], sent["job"]["status"]) == (job.pk, CopyJob.Status.SUCCEEDED)
    attempt = WebhookDelivery.objects.get()
    assert (attempt.url, attempt.attempt, attempt.status_code, attempt.error) == (hook.url, 1, 200, "")
    assert WebhookMessage.objects.get().delivered_at is not None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_is_tried_again_and_each_attempt_recorded(redis_url, receiver, settings):
    settings.WEBHOOK_RETRY_INTERVALS = [0, 0, 0]  # no wait: a burst worker takes each retry at once
    hook = receiver(answers=(500, 503, 200))
    message = webhook_queue(url=hook.url, event="job.ended", payload={"hello": "there"}, secret=SECRET)
    send_queued()
    attempts = list(WebhookDelivery.objects.filter(message=message).order_by("attempt"))
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    ids = {h["X-Record-Copier-Delivery"] for h, _ in hook.received}
    assert ids == {str(message.pk)}  # one delivery id on every attempt: the receiver can ignore repeats
    assert all(verified(h, b) for h, b in hook.received)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_never_answers_well_is_given_up_after_the_retries(redis_url, receiver, settings):
    settings.WEBHOOK_RETRY_INTERVALS = [0, 0]
    hook = receiver(answers=(500,))
    message = webhook_queue(url=hook.url, event="job.ended", payload={}, secret=SECRET)
    send_queued()
    assert list(message.deliveries.order_by("attempt").values_list("attempt", "status_code")) == [
        (1, 500),
        (2, 500),
        (3, 500),
    ]
    message.refresh_from_db()
    assert message.delivered_at is None


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/hook",  # an IP address
        "https://192.168.0.10/hook",
        "http://hooks.example.com/hook",  # not https
        "https://hooks.example.com:8443/hook",  # another port
        "https://user:pw@hooks.example.com/hook",
        "https://localhost/hook",  # a name that resolves to a loopback address (loopback not allowed)
    ],
)
@pytest.mark.django_db
def test_a_private_or_unsafe_webhook_url_is_refused_and_nothing_queued(url, settings):
    settings.ALLOW_LOOPBACK_CONNECTIONS = False
    with pytest.raises(ValidationError):
        check_webhook_url(url)
    with pytest.raises(ValidationError):
        webhook_queue(url=url, event="job.ended", payload={}, secret=SECRET)
    assert not WebhookMessage.objects.exists()


@pytest.mark.django_db
def test_a_loopback_receiver_needs_the_profiles_loopback_setting(settings):
    settings.ALLOW_LOOPBACK_CONNECTIONS = False
    with pytest.raises(ValidationError, match="https"):
        check_webhook_url("http://127.0.0.1:8765/hook")
    settings.ALLOW_LOOPBACK_CONNECTIONS = True
    assert check_webhook_url("http://127.0.0.1:8765/hook") == "http://127.0.0.1:8765/hook"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_url_refused_when_its_attempt_comes_is_recorded_and_not_tried_again(redis_url, receiver, settings):
    settings.WEBHOOK_RETRY_INTERVALS = [0, 0]
    hook = receiver()
    message = webhook_queue(url=hook.url, event="job.ended", payload={}, secret=SECRET)
    settings.ALLOW_LOOPBACK_CONNECTIONS = False  # the guard says no by the time the worker sends it
    send_queued()
    [attempt] = message.deliveries.all()
    assert (attempt.attempt, attempt.status_code) == (1, None)
    assert "https" in attempt.error
    assert hook.received == []
