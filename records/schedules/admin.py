"""The schedules in the admin, read-only: each schedule, and its runs (due time, outcome, why a run
was skipped or failed, its job) in their own list. Read-only rather than editable because
a schedule's change must arm its next due time on RQ and be audited, which the services do
(services.py): each schedule links to its template's page, where its owner changes it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from records.schedules.models import CopySchedule, ScheduleRun
from records.web.admin_jobs import ReadOnlyAdmin

RUN_FIELDS = ("due_at", "claimed_at", "outcome", "note", "job")


@admin.register(CopySchedule)
class CopyScheduleAdmin(ReadOnlyAdmin):
    list_display = ("template", "cadence", "records", "enabled", "next_due", "created_by", "last_job")
    list_filter = ("enabled",)
    search_fields = ("template__name", "created_by__username", "cron", "source_filter")
    list_select_related = ("template", "created_by", "last_job")
    fields = (
        "template_page",
        "cadence",
        "source_ids",
        "source_filter",
        "source_limit",
        "time_zone",
        "enabled",
        "next_due",
        "last_job",
        "created_by",
        "created",
        "runs",
    )
    readonly_fields = fields

    @admin.display(description="template")
    def template_page(self, obj: CopySchedule) -> SafeString:
        """Where the schedule is changed (audited, re-armed): its template's page."""
        url = reverse("template_detail", args=[obj.template.code])
        return format_html('<a href="{}">{}</a> (change the schedule there)', url, obj.template.name)

    @admin.display(description="runs")
    def runs(self, obj: CopySchedule) -> SafeString:
        """Its runs in their own list (a schedule every few seconds makes too many for this page)."""
        url = reverse("admin:records_schedulerun_changelist") + f"?schedule__id__exact={obj.pk}"
        return format_html('<a href="{}">{} runs</a>', url, obj.runs.count())

    @admin.display(description="records")
    def records(self, obj: CopySchedule) -> str:
        if obj.source_filter:
            limit = f" (at most {obj.source_limit})" if obj.source_limit else ""
            return f"filter {obj.source_filter}{limit}"
        return ", ".join(str(i) for i in obj.source_ids)


@admin.register(ScheduleRun)
class ScheduleRunAdmin(ReadOnlyAdmin):
    list_display = ("schedule", *RUN_FIELDS)
    list_filter = ("outcome",)
    search_fields = ("schedule__template__name", "note")
    list_select_related = ("schedule__template", "job")
    date_hierarchy = "due_at"
