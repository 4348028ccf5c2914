"""The admin's Access attempts list (django-axes) with an audited Unlock: deleting attempts there
goes through records.accounts.logins like the command, so every unlock lands in the audit log."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from records.accounts.logins import login_unlock_attempts

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class UnlockingAccessAttemptAdmin(AccessAttemptAdmin):
    actions = ["unlock_selected"]

    @admin.action(description="Unlock the selected user/address pairs", permissions=["delete"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        cleared = login_unlock_attempts(actor=request.user, attempts=queryset, via="admin")
        messages.success(request, f"Unlocked: {cleared} failed-login record(s) cleared.")

    def delete_model(self, request: HttpRequest, obj: AccessAttempt) -> None:
        login_unlock_attempts(actor=request.user, attempts=AccessAttempt.objects.filter(pk=obj.pk), via="admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        login_unlock_attempts(actor=request.user, attempts=queryset, via="admin")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Drop the stock "delete selected": it would bypass the audit.
        actions: dict[str, Any] = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
