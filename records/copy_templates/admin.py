"""The templates in the admin, for staff: name, description and sharing editable; the versions
read-only (a version is what jobs ran: only the services add one). Made from jobs and previews,
never added here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from records.models import CopyTemplate, CopyTemplateVersion


class VersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CopyTemplateVersion
    fields = ("number", "created", "created_by", "definition")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CopyTemplate)
class CopyTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "owner", "updated")
    search_fields = ("name", "description", "owner__username")
    fields = ("name", "description", "owner", "shared_with_users", "shared_with_groups")
    readonly_fields = ("owner",)
    filter_horizontal = ("shared_with_users", "shared_with_groups")
    inlines = [VersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
