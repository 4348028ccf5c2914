"""The admin of jobs, their results and row fixes, the previews' plans and the audit trail: read-only
for staff's audit (cancel, resume, approve and reject go through the services); result lists stay
cheap at 10k+ rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from records.copying.approval import copy_job_approve, copy_job_reject
from records.copying.job_actions import copy_job_cancel, copy_job_resume
from records.models import AuditEvent, CopyJob, CopyPlan, RecordResult, RowFix, System
from records.profiles.admin import SECRET_FIELD_NAMES, refuses_secret_lookup

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SystemFilter(admin.SimpleListFilter):
    title = "system"
    parameter_name = "system"
    field = "profile__system"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return System.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class ResultSystemFilter(SystemFilter):
    field = "job__profile__system"


class ObjectFilter(admin.SimpleListFilter):
    """By object, named by the labels the jobs' plans read ("Formulations (formulation__c)"), not
    by API names alone beside Zoho's label-like ones."""

    title = "object"
    parameter_name = "object"
    recent_plans = 500  # the labels come from the latest jobs' plans

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        names = model_admin.get_queryset(request).order_by().values_list("object_name", flat=True).distinct()
        labels = _object_labels(self.recent_plans)
        shown = [(n, f"{labels[n]} ({n})" if labels.get(n) and labels[n] != n else n) for n in names]
        return sorted(shown, key=lambda pair: pair[1].lower())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(object_name=self.value()) if self.value() else queryset


def _object_labels(recent: int) -> dict[str, str]:
    """{object: label} from the plans of the latest jobs (only their "objects" key is read)."""
    labels: dict[str, str] = {}
    for objects in CopyJob.objects.order_by("-pk").values_list("plan__objects", flat=True)[:recent]:
        for o in objects if isinstance(objects, list) else []:
            if isinstance(o, dict) and o.get("label"):
                labels.setdefault(str(o.get("object_name")), str(o["label"]))
    return labels


# Rows shown next to their profile must not decrypt its secrets just to print its name.
PROFILE_SECRETS = [f"profile__{name}" for name in SECRET_FIELD_NAMES]
JOB_PROFILE_SECRETS = [*PROFILE_SECRETS, *(f"target_profile__{name}" for name in SECRET_FIELD_NAMES)]


@admin.register(CopyJob)
class CopyJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "object_name",
        "source_name",
        "mode",
        "status",
        "profile",
        "target_profile",
        "requested_by",
        "created",
        "finished",
        "planned_count",
        "succeeded_count",
        "failed_count",
        "results_link",
    ]
    list_filter = ["status", "mode", SystemFilter, ObjectFilter, "requested_by", "created"]
    # Partial ids and names too: people remember "Acme" or the end of an id.
    search_fields = [
        "=code",
        "source_name",
        "source_ids",
        "=remote_job_id",
        "=rq_job_id",
        "results__source_id",
        "results__new_id",
        "results__source_name",
    ]
    list_select_related = ["profile", "target_profile", "requested_by"]
    date_hierarchy = "created"
    list_per_page = 50
    readonly_fields = ["results_link"]
    exclude = ["state"]
    actions = ["cancel_jobs", "resume_jobs", "approve_jobs", "reject_jobs"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CopyJob]:
        return super().get_queryset(request).defer(*JOB_PROFILE_SECRETS)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if refuses_secret_lookup(lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="Results")
    def results_link(self, obj: CopyJob) -> SafeString:
        url = reverse("admin:records_recordresult_changelist") + f"?job__id__exact={obj.pk}"
        return format_html('<a href="{}">results of job {}</a>', url, obj.pk)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("records.change_copyjob")

    has_resume_permission = has_cancel_permission

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("records.approve_copy")

    def _run(
        self, request: HttpRequest, queryset: QuerySet[CopyJob], service: Callable[..., CopyJob], verb: str
    ) -> None:
        done = 0
        for job in queryset.select_related("profile", "target_profile"):
            try:
                service(job=job, user=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"Job {job.pk}: {' '.join(exc.messages)}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {done} job(s).", messages.SUCCESS)

    @admin.action(description="Cancel the selected jobs", permissions=["cancel"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[CopyJob]) -> None:
        self._run(request, queryset, copy_job_cancel, "Cancelled")

    @admin.action(description="Resume the unfinished records of the selected jobs", permissions=["resume"])
    def resume_jobs(self, request: HttpRequest, queryset: QuerySet[CopyJob]) -> None:
        self._run(request, queryset, copy_job_resume, "Queued again")

    @admin.action(description="Approve the selected copies into protected profiles", permissions=["approve"])
    def approve_jobs(self, request: HttpRequest, queryset: QuerySet[CopyJob]) -> None:
        self._run(request, queryset, copy_job_approve, "Approved")

    @admin.action(description="Reject the selected copies into protected profiles", permissions=["approve"])
    def reject_jobs(self, request: HttpRequest, queryset: QuerySet[CopyJob]) -> None:
        self._run(request, queryset, copy_job_reject, "Rejected")


class RowFixInline(admin.TabularInline):  # type: ignore[type-arg]
    """A failed row's corrections (copying/row_fixes.py): read-only, as the rest of a row."""

    model = RowFix
    fk_name = "row"
    fields = readonly_fields = ("at", "user", "field", "label", "before", "after")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecordResult)
class RecordResultAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "job",
        "requested_by",
        "object_name",
        "source_id",
        "source_name",
        "new_id",
        "depth",
        "status",
        "error_type",
        "new_record",
    ]
    list_filter = ["status", ResultSystemFilter, "error_type", ObjectFilter, "job__requested_by", "updated"]
    # Provenance: a copied record's id (in a lineage stamp or the target system) finds its row, job,
    # user and source record; names and partial ids match too.
    search_fields = ["source_id", "new_id", "source_name", "=parent_source_id", "=job__code"]
    search_help_text = (
        "A copied record's id (provenance), a source id or name (partial too), a parent's id or a job code."
    )
    list_select_related = ["job", "job__requested_by"]
    list_per_page = 100
    # Counting every row of a 10k+ table on each page is the slow part; the paginator only
    # counts the filtered rows.
    show_full_result_count = False
    exclude = ["idempotency_key"]
    inlines = [RowFixInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecordResult]:
        return super().get_queryset(request).defer("source_snapshot")

    @admin.display(description="Copied by", ordering="job__requested_by")
    def requested_by(self, obj: RecordResult) -> User:
        return obj.job.requested_by

    @admin.display(description="New record")
    def new_record(self, obj: RecordResult) -> str:
        return format_html('<a href="{}" rel="noopener" target="_blank">open</a>', obj.link) if obj.link else "—"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created", "actor", "action", "profile", "job", "details"]
    list_filter = ["action", "actor", "created"]
    # The job's record by name or (partial) id too: people remember "Acme", not a job's code.
    search_fields = ["action", "actor__username", "profile__name", "=job__code", "job__source_name", "job__source_ids"]
    list_select_related = ["actor", "profile", "job"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return super().get_queryset(request).defer(*PROFILE_SECRETS)

    date_hierarchy = "created"
    show_full_result_count = False


@admin.register(CopyPlan)
class CopyPlanAdmin(ReadOnlyAdmin):
    """The previews' plans, for audit: who asked for which copy, what was read, what failed."""

    list_display = ["created_at", "requested_by", "profile", "object_name", "mode", "status", "read_count"]
    list_filter = ["status", "mode", "created_at"]
    search_fields = ["=code", "object_name", "requested_by__username", "profile__name", "source_ids"]
    list_select_related = ["requested_by", "profile"]
    exclude = ["trees"]  # record data read from the CRM: not shown in the admin

    def get_queryset(self, request: HttpRequest) -> QuerySet[CopyPlan]:
        return super().get_queryset(request).defer(*PROFILE_SECRETS)
