"""The notifications in the admin, read-only: each e-mail and each webhook attempt as it went
(staff see why a mail or a webhook did not arrive), the users' choices. A webhook's secret is
never shown nor searchable."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from records.notify.models import MailDelivery, NotificationSettings, WebhookDelivery, WebhookMessage
from records.profiles.admin import refuses_secret_lookup
from records.web.admin_jobs import ReadOnlyAdmin


@admin.register(MailDelivery)
class MailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created", "job", "schedule_run", "event", "recipient", "status", "error")
    list_filter = ("status", "event")
    search_fields = ("recipient", "subject")
    list_select_related = ("job", "schedule_run")


class DeliveryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookDelivery
    fields = readonly_fields = ("attempt", "created", "status_code", "error")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnlyAdmin):
    list_display = ("created", "event", "url", "job", "delivered_at")
    list_filter = ("event",)
    search_fields = ("url",)
    exclude = ("secret",)
    inlines = (DeliveryInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookMessage]:
        return super().get_queryset(request).defer("secret")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return not refuses_secret_lookup(lookup) and super().lookup_allowed(lookup, value, request)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created", "event", "url", "attempt", "status_code", "error")
    list_filter = ("event", "status_code")
    search_fields = ("url",)


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(ReadOnlyAdmin):
    list_display = ("user", "email_on", "updated")
    list_filter = ("email_on",)
