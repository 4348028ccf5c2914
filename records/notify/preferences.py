"""A user's notification choices: e-mails on (the default) or off. Changes are audited."""

from __future__ import annotations

from django.contrib.auth.models import User

from records.lib.audit import audit_log
from records.notify.models import NotificationSettings


def emails_on(user: User) -> bool:
    """Whether `user` wants e-mails about their copies (yes, unless they turned them off)."""
    return not NotificationSettings.objects.filter(user=user, email_on=False).exists()


def notification_settings_save(*, user: User, email_on: bool) -> NotificationSettings:
    """Turn the user's e-mails on or off; a change (not a save of the same choice) is audited."""
    row, _ = NotificationSettings.objects.get_or_create(user=user)
    if row.email_on != email_on:
        row.email_on = email_on
        row.save(update_fields=["email_on", "updated"])
        audit_log(actor=user, action="notify.preference", email_on=email_on)
    return row
