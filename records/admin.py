"""The Django admin as an audit tool for staff.

Profiles: secrets are never displayed and never edited as plain text; they are set on a page of
their own (like UserAdmin's password page) and can't be used in lookups. Jobs, results and audit
events are read-only; result lists stay cheap at 10k+ rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from records.copying.approval import copy_job_approve, copy_job_reject
from records.copying.job_actions import copy_job_cancel, copy_job_resume
from records.lib.signed_in import signed_in_user
from records.models import AuditEvent, ConnectionProfile, CopyJob, CopyPlan, RecordResult, RowFix, System
from records.profiles import services as profile_services

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec
    from django.contrib.auth.models import User

# Django's form and admin classes take no type arguments at runtime (that needs django-stubs-ext,
# a dev tool): the few bases below say `type: ignore[type-arg]` and their methods name the model.

SECRET_FIELD_NAMES = ("secret", "refresh_token", "session_token")
sensitive_post_parameters_m = method_decorator(sensitive_post_parameters(*SECRET_FIELD_NAMES))
csrf_protect_m = method_decorator(csrf_protect)


def _refuses_secret_lookup(lookup: str) -> bool:
    return any(part in SECRET_FIELD_NAMES for part in lookup.split("__"))


def _secret_widget() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


# ---------------------------------------------------------------------------------------------
# Connection profiles


class ProfileAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Plain fields of a profile; URLs are checked the same way the services check them."""

    class Meta:
        model = ConnectionProfile
        fields = [
            "name",
            "system",
            "base_url",
            "accounts_url",
            "api_version",
            "username",
            "concurrency",
            "owner",
            "shared_with_users",
            "shared_with_groups",
            "lineage_fields",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("system") and data.get("base_url"):
            try:
                data["base_url"], data["accounts_url"] = profile_services.clean_profile_urls(
                    system=data["system"], base_url=data["base_url"], accounts_url=data.get("accounts_url", "")
                )
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
        if data.get("system") and "lineage_fields" in data:
            message = profile_services.lineage_fields_error(
                system=data["system"], lineage_fields=data["lineage_fields"]
            )
            if message:
                self.add_error("lineage_fields", message)
        return data


class ProfileAddForm(ProfileAdminForm):
    """Adding a profile asks for its secrets once, like UserCreationForm asks for the password."""

    secret = forms.CharField(label="Password / client secret", strip=False, widget=_secret_widget())
    refresh_token = forms.CharField(label="Refresh token (Zoho)", required=False, widget=_secret_widget())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["api_version"].initial = profile_services.latest_vault_api_version()  # Vault's; Zoho ignores it


class SetSecretForm(forms.Form):
    secret = forms.CharField(label="New password / client secret", required=False, strip=False, widget=_secret_widget())
    refresh_token = forms.CharField(label="New refresh token (Zoho)", required=False, widget=_secret_widget())

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("secret") and not data.get("refresh_token"):
            raise ValidationError("Enter a new secret, a new refresh token, or both.")
        return data


@admin.register(ConnectionProfile)
class ConnectionProfileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ProfileAdminForm
    add_form = ProfileAddForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "name",
        "system",
        "owner",
        "base_url",
        "username",
        "secret_state",
        "protected",
        "last_test_ok",
        "last_tested_at",
    ]
    list_filter = ["system", "protected", "last_test_ok", "owner"]
    search_fields = ["name", "username", "base_url", "=code"]
    list_select_related = ["owner"]
    filter_horizontal = ["shared_with_users", "shared_with_groups"]
    readonly_fields = [
        "code",
        "secret_state",
        "secret_set_at",
        "refresh_token_set_at",
        "created",
        "updated",
        "last_tested_at",
        "last_test_ok",
        "last_test_message",
        "protected",
    ]
    fieldsets = [
        (None, {"fields": ["name", "system", "base_url", "accounts_url", "api_version", "username", "concurrency"]}),
        ("Credentials", {"fields": ["secret_state", "secret_set_at", "refresh_token_set_at"]}),
        ("Access", {"fields": ["owner", "shared_with_users", "shared_with_groups"]}),
        (
            "Copies",
            {
                "fields": ["lineage_fields", "protected"],
                "description": 'Default lineage field per object, e.g. {"Contacts": "Description"}.',
            },
        ),
        ("Status", {"fields": ["code", "created", "updated", "last_tested_at", "last_test_ok", "last_test_message"]}),
    ]
    add_fieldsets: _FieldsetSpec = [
        (None, {"fields": ["name", "system", "base_url", "accounts_url", "api_version", "username", "concurrency"]}),
        ("Credentials", {"fields": ["secret", "refresh_token"]}),
        ("Access", {"fields": ["owner", "shared_with_users", "shared_with_groups"]}),
    ]
    actions = ["test_connections", "protect_profiles", "unprotect_profiles"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConnectionProfile]:
        # Never load the encrypted columns for lists and pages: nothing here shows them.
        return super().get_queryset(request).defer(*SECRET_FIELD_NAMES)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Filtering on a secret would let anyone with view access guess it a prefix at a time.
        if _refuses_secret_lookup(lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_fieldsets(self, request: HttpRequest, obj: ConnectionProfile | None = None) -> _FieldsetSpec:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_form(
        self, request: HttpRequest, obj: ConnectionProfile | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[ConnectionProfile]]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="Secrets")
    def secret_state(self, obj: ConnectionProfile) -> str:
        # Which secrets are set, from their timestamps: the encrypted columns are never read here.
        parts = ["password / client secret " + ("set" if obj.secret_set_at else "not set (or set before tracking)")]
        if obj.system == "zoho":
            parts.append("refresh token " + ("set" if obj.refresh_token_set_at else "not set"))
        text = "; ".join(parts)
        if obj.pk:
            url = reverse("admin:records_connectionprofile_secret", args=[obj.pk])
            return format_html('{} — <a href="{}">set a new secret</a>', text, url)
        return text

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:object_id>/secret/",
                self.admin_site.admin_view(self.set_secret_view),
                name="records_connectionprofile_secret",
            ),
            *super().get_urls(),
        ]

    @sensitive_post_parameters_m
    @csrf_protect_m
    def set_secret_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        profile = ConnectionProfile.objects.filter(pk=object_id).first()
        if profile is None:
            raise Http404("No such profile")
        if not self.has_change_permission(request, profile):
            raise PermissionDenied
        form = SetSecretForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            profile_services.profile_set_secrets(
                profile=profile,
                actor=signed_in_user(request),
                secret=form.cleaned_data["secret"],
                refresh_token=form.cleaned_data["refresh_token"],
            )
            self.message_user(request, "The new secret is saved.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:records_connectionprofile_change", args=[profile.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Set a new secret: {profile.name}",
            "form": form,
            "profile": profile,
            "opts": self.opts,
            "original": profile,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/records/connectionprofile/set_secret.html", context)

    def save_model(self, request: HttpRequest, obj: ConnectionProfile, form: ProfileAdminForm, change: bool) -> None:
        # The services own the write and the audit; the form only validated.
        values = {name: form.cleaned_data[name] for name in profile_services.PLAIN_FIELDS if name in form.cleaned_data}
        if change:
            fresh = ConnectionProfile.objects.get(pk=obj.pk)
            changed = {name: values[name] for name in form.changed_data if name in values}
            saved = profile_services.profile_update(profile=fresh, actor=signed_in_user(request), **changed)
            self._ask_for_missing_secrets(request, saved)
        else:
            saved = profile_services.profile_create(
                actor=signed_in_user(request),
                secret=form.cleaned_data.get("secret", ""),
                refresh_token=form.cleaned_data.get("refresh_token", ""),
                **values,
            )
        obj.pk, obj.code = saved.pk, saved.code

    def _ask_for_missing_secrets(self, request: HttpRequest, profile: ConnectionProfile) -> None:
        # A changed address clears the stored secrets (profile_services.profile_update): say so, with the way back.
        if profile_services.missing_secrets(profile):
            url = reverse("admin:records_connectionprofile_secret", args=[profile.pk])
            self.message_user(
                request,
                format_html(
                    'The profile has no stored secrets now (its address changed): <a href="{}">set them again</a>.', url
                ),
                messages.WARNING,
            )

    def save_related(self, request: HttpRequest, form: ProfileAdminForm, formsets: list[Any], change: bool) -> None:
        shared = {"shared_with_users", "shared_with_groups"}
        if shared & set(form.changed_data):
            profile_services.profile_share(
                profile=form.instance,
                users=form.cleaned_data.get("shared_with_users", []),
                groups=form.cleaned_data.get("shared_with_groups", []),
                actor=signed_in_user(request),
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: ConnectionProfile) -> None:
        profile_services.profile_delete(profile=obj, actor=signed_in_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ConnectionProfile]) -> None:
        for profile in queryset:
            profile_services.profile_delete(profile=profile, actor=signed_in_user(request))

    @admin.action(description="Test the connection of the selected profiles", permissions=["change"])
    def test_connections(self, request: HttpRequest, queryset: QuerySet[ConnectionProfile]) -> None:
        for profile in ConnectionProfile.objects.filter(pk__in=queryset.values("pk")):
            ok, message = profile_services.profile_test(profile=profile, actor=signed_in_user(request))
            self.message_user(request, f"{profile.name}: {message}", messages.SUCCESS if ok else messages.ERROR)

    @admin.action(description="Protect: copies into the selected profiles wait for approval", permissions=["change"])
    def protect_profiles(self, request: HttpRequest, queryset: QuerySet[ConnectionProfile]) -> None:
        self._protect(request, queryset, protected=True)

    @admin.action(description="Lift the protection of the selected profiles", permissions=["change"])
    def unprotect_profiles(self, request: HttpRequest, queryset: QuerySet[ConnectionProfile]) -> None:
        self._protect(request, queryset, protected=False)

    def _protect(self, request: HttpRequest, queryset: QuerySet[ConnectionProfile], *, protected: bool) -> None:
        """Through the service, which audits it and says who may lift a protection."""
        for profile in ConnectionProfile.objects.filter(pk__in=queryset.values("pk")).defer(*SECRET_FIELD_NAMES):
            try:
                profile_services.profile_set_protected(
                    profile=profile, protected=protected, actor=signed_in_user(request)
                )
            except PermissionDenied as exc:
                self.message_user(request, f"{profile.name}: {exc}", messages.WARNING)
                continue
            words = "protected" if protected else "no longer protected"
            self.message_user(request, f"{profile.name}: {words}.", messages.SUCCESS)


# ---------------------------------------------------------------------------------------------
# Jobs, results and the audit trail: read-only


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
        if _refuses_secret_lookup(lookup):
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


from records.accounts import admin_logins  # noqa: E402,F401 - the audited unlock for login lock-outs
from records.ops.rq_dashboard import lock_down_admin_copy  # noqa: E402

lock_down_admin_copy()
