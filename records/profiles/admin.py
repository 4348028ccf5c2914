"""The connection profiles' admin: secrets are never displayed and never edited as plain text;
they are set on a page of their own (like UserAdmin's password page) and can't be used in lookups."""

from __future__ import annotations

import json
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
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from records.connectors.errors import ConnectorError
from records.copying import mask_policy
from records.lib.signed_in import signed_in_user
from records.masking import keys as masking_keys
from records.models import ConnectionProfile
from records.profiles import services as profile_services

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec

# Django's form and admin classes take no type arguments at runtime (that needs django-stubs-ext,
# a dev tool): the few bases below say `type: ignore[type-arg]` and their methods name the model.

SECRET_FIELD_NAMES = ("secret", "refresh_token", "session_token", "masking_key")
sensitive_post_parameters_m = method_decorator(sensitive_post_parameters(*SECRET_FIELD_NAMES))
csrf_protect_m = method_decorator(csrf_protect)


def refuses_secret_lookup(lookup: str) -> bool:
    """A lookup through a secret column (filter or search) would let its value be guessed."""
    return any(part in SECRET_FIELD_NAMES for part in lookup.split("__"))


def _secret_widget() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


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
            "masking_policy",
        ]

    def clean_masking_policy(self) -> Any:
        """The policy's shape and rules, and (of a saved profile) each rule against its field."""
        policy = masking_keys.parse_policy(self.cleaned_data.get("masking_policy") or {})
        if self.instance.pk and policy and "masking_policy" in self.changed_data:
            try:
                mask_policy.policy_check(profile=self.instance, policy=policy)
            except ConnectorError as exc:
                raise ValidationError(
                    f"The rules can't be checked against {self.instance.name}: {exc.message}"
                ) from exc
        return policy

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
        "masking_policy_shown",
        "masking_key_state",
    ]
    fieldsets = [
        (None, {"fields": ["name", "system", "base_url", "accounts_url", "api_version", "username", "concurrency"]}),
        ("Credentials", {"fields": ["secret_state", "secret_set_at", "refresh_token_set_at"]}),
        ("Access", {"fields": ["owner", "shared_with_users", "shared_with_groups"]}),
        (
            "Copies",
            {
                "fields": ["lineage_fields", "protected", "files_forbidden"],
                "description": 'Default lineage field per object, e.g. {"Contacts": "Description"}.',
            },
        ),
        (
            "Masking",
            {
                "fields": ["masking_policy_shown", "masking_policy", "masking_key_state"],
                "description": 'Every copy into this profile masks these fields, e.g. {"Contacts": {"Email": "email"}}; '
                "a copy adds rules, never removes one. Changes are audited.",
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
        if refuses_secret_lookup(lookup):
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

    @admin.display(description="Masking policy")
    def masking_policy_shown(self, obj: ConnectionProfile) -> str:
        policy = masking_keys.policy_of(obj)
        if not policy:
            return "None: copies into it mask only what their users choose."
        return format_html("<pre>{}</pre>", json.dumps(policy, indent=2, sort_keys=True))

    @admin.display(description="Masking key")
    def masking_key_state(self, obj: ConnectionProfile) -> str:
        made = obj.masking_key_set_at
        return f"made {made:%Y-%m-%d %H:%M} UTC" if made else "not made yet (made by the first masked copy)"

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
            policy = form.cleaned_data.get("masking_policy")
            if policy is not None and policy != masking_keys.policy_of(saved):
                masking_keys.masking_policy_set(profile=saved, policy=policy, user=signed_in_user(request))
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
