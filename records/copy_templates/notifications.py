"""Who else a template's runs tell when they end: extra e-mail recipients and a webhook (URL and
signing secret). Checked when saved (the webhook URL by the profiles' guard, notify/webhook_urls.py);
read by notify/events.job_ended through the job's template version. Keyword-only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from records.models import CopyTemplate
from records.notify.webhook_urls import check_webhook_url

MAX_RECIPIENTS = 20  # a template's team list, not a mailing list


@dataclass(frozen=True)
class TemplateNotifications:
    """What the edit page asks. `webhook_secret` None keeps the saved one (it is never shown back)."""

    recipients: tuple[str, ...] = ()
    webhook_url: str = ""
    webhook_secret: str | None = None


def recipients_of(text: str) -> tuple[str, ...]:
    """Addresses typed one a line or separated by commas or spaces, lower-cased, each once."""
    found = [part.strip().lower() for part in text.replace(",", " ").split()]
    return tuple(dict.fromkeys(p for p in found if p))


def checked_notifications(notifications: TemplateNotifications) -> TemplateNotifications:
    """`notifications` cleaned, or ValidationError in the page's words. The URL check resolves the
    host: done before the template is locked, never inside its transaction."""
    url = notifications.webhook_url.strip()
    return replace(
        notifications,
        recipients=_checked_recipients(notifications.recipients),
        webhook_url=check_webhook_url(url) if url else "",
    )


def apply_notifications(*, template: CopyTemplate, notifications: TemplateNotifications) -> list[str]:
    """Set checked `notifications` on `template` (not saved); the names of the fields changed."""
    url = notifications.webhook_url
    secret = template.webhook_secret if notifications.webhook_secret is None else notifications.webhook_secret
    if not url:
        secret = ""  # no webhook: no secret kept for one
    elif not secret.strip():
        raise ValidationError("Give the webhook a secret: its receiver checks each delivery's signature with it.")
    wanted = {"notify_emails": list(notifications.recipients), "webhook_url": url, "webhook_secret": secret}
    changed = [name for name, value in wanted.items() if getattr(template, name) != value]
    for name in changed:
        setattr(template, name, wanted[name])
    return changed


def _checked_recipients(recipients: Iterable[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(r.strip().lower() for r in recipients if r.strip()))
    if len(out) > MAX_RECIPIENTS:
        raise ValidationError(f"At most {MAX_RECIPIENTS} extra recipients; use a group address for more.")
    for address in out:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address} is not an e-mail address.") from None
    return out
