"""Webhooks: a JSON POST signed with HMAC-SHA256, queued on commit and retried with backoff by RQ,
each attempt recorded (WebhookDelivery).

The receiver checks `X-Record-Copier-Signature: sha256=<hex>`, the HMAC-SHA256 with the shared
secret of "<X-Record-Copier-Timestamp>.<raw body>": the timestamp (Unix seconds) is signed with
the body, so a captured request replayed later fails a receiver that refuses old timestamps
(e.g. older than 5 minutes). `X-Record-Copier-Delivery` is the same on every attempt of one
message: a receiver that has seen it may ignore a repeat (delivery is at least once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import django_rq
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Retry

from records.connectors.errors import ConnectorError
from records.connectors.http import HttpClient
from records.models import CopyJob
from records.notify.models import WebhookDelivery, WebhookMessage
from records.notify.webhook_urls import check_webhook_url

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Record-Copier-Signature"
TIMESTAMP_HEADER = "X-Record-Copier-Timestamp"
# By name: records.jobs calls this module (no import circle); RQ stores the path.
DELIVER = "records.jobs.deliver_webhook_message"


class WebhookFailed(Exception):
    """The receiver did not take the message (no 2xx, or no answer): RQ tries again later."""


def sign(body: bytes, timestamp: str, secret: str) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def deliver_webhook(url: str, payload: dict[str, Any], secret: str, *, event: str = "", delivery: str = "") -> int:
    """POST `payload` as JSON to `url`, signed; one attempt. Returns the answer's status code;
    ValidationError for a URL the guard refuses, ConnectorError when no answer came."""
    url = check_webhook_url(url)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(body, timestamp, secret),
        "X-Record-Copier-Event": event,
        "X-Record-Copier-Delivery": delivery,
    }
    wait = settings.WEBHOOK_TIMEOUT_SECONDS
    client = HttpClient(url, max_attempts=1, timeout=(min(5.0, wait), wait))
    try:
        return client.request("POST", url, safe=False, data=body, headers=headers, retry_statuses=set()).status_code
    finally:
        client.close()


def webhook_queue(
    *, url: str, event: str, payload: dict[str, Any], secret: str, job: CopyJob | None = None, occurrence: str = ""
) -> WebhookMessage:
    """Keep the message (once per job, event, occurrence and URL) and queue its delivery when the
    transaction commits. ValidationError for a URL the guard refuses: nothing is queued."""
    url = check_webhook_url(url)
    message, made = WebhookMessage.objects.get_or_create(
        job=job, event=event, occurrence=occurrence, url=url, defaults={"payload": payload, "secret": secret}
    )
    if made:
        transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    intervals = list(settings.WEBHOOK_RETRY_INTERVALS)
    retry = Retry(max=len(intervals), interval=intervals) if intervals else None
    try:
        django_rq.get_queue(settings.NOTIFY_QUEUE).enqueue_call(func=DELIVER, args=(message_id,), retry=retry)
    except (
        RedisError,
        OSError,
    ) as exc:  # the queue is down: the copy went on; the message row says it was never delivered
        log.warning("Webhook message %s not queued: %s", message_id, exc)


def webhook_message_deliver(*, message_id: int) -> WebhookDelivery:
    """One attempt at a kept message, recorded. Raises WebhookFailed (RQ retries) unless the
    receiver took it or the URL is refused (a refusal does not change by waiting)."""
    message = WebhookMessage.objects.get(pk=message_id)
    attempt = WebhookDelivery(
        message=message, url=message.url, event=message.event, attempt=message.deliveries.count() + 1
    )
    refused = False
    try:
        attempt.status_code = deliver_webhook(
            message.url, message.payload, message.secret, event=message.event, delivery=str(message.pk)
        )
    except ValidationError as exc:
        attempt.error, refused = " ".join(exc.messages)[:500], True
    except ConnectorError as exc:
        attempt.error = str(exc)[:500]
    attempt.save()
    if attempt.ok:
        WebhookMessage.objects.filter(pk=message.pk).update(delivered_at=timezone.now())
    elif not refused:
        raise WebhookFailed(f"Webhook {message.url}: {attempt.status_code or attempt.error}")
    return attempt
