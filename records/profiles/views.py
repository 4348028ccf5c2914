"""Connection profiles: list, add, edit, delete, test. The work is done by records.profiles.services."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, ProtectedError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from records.lib.error_words import friendly_error, service_error_message
from records.lib.signed_in import SignedInRequest
from records.models import ConnectionProfile, CopyJob
from records.profiles import copy_keys, lineage_defaults, services
from records.profiles.access import get_editable_profile, get_profile_for_user
from records.profiles.forms import LineageDefaultsForm, ProfileForm


def profile_list(request: SignedInRequest) -> HttpResponse:
    profiles = (
        ConnectionProfile.objects.for_user(request.user)
        .select_related("owner")
        .annotate(has_jobs=Exists(CopyJob.objects.filter(profile=OuterRef("pk"))))
    )
    return render(request, "records/profile_list.html", {"profiles": profiles})


@sensitive_post_parameters("secret", "refresh_token")
def profile_add(request: SignedInRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.profile_create(actor=request.user, **form.service_fields())
        except ValidationError as exc:
            form.add_error(None, service_error_message(exc))
        else:
            messages.success(request, f"Profile “{profile.name}” added. Test the connection to check it.")
            return redirect("profile_list")
    return render(request, "records/profile_form.html", {"form": form, "profile": None})


@sensitive_post_parameters("secret", "refresh_token")
def profile_edit(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    profile = get_editable_profile(request, code)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        # The form must not save the instance itself: the service owns the write and the audit.
        fresh = ConnectionProfile.objects.get(pk=profile.pk)
        try:
            services.profile_update(profile=fresh, actor=request.user, **form.service_fields())
        except ValidationError as exc:
            form.add_error(None, service_error_message(exc))
        else:
            messages.success(request, f"Profile “{fresh.name}” saved.")
            return redirect("profile_list")
    lineage_form = LineageDefaultsForm(initial={"lineage_lines": lineage_defaults.lineage_lines(profile)})
    return render(
        request, "records/profile_form.html", {"form": form, "profile": profile, "lineage_form": lineage_form}
    )


@require_POST
def profile_lineage(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """Save the profile's default lineage fields (the edit page's "Lineage stamps" fieldset)."""
    profile = get_editable_profile(request, code)
    lineage_form = LineageDefaultsForm(request.POST)
    if lineage_form.is_valid():
        try:
            lineage_defaults.profile_set_lineage_defaults(
                profile=profile, actor=request.user, text=lineage_form.cleaned_data["lineage_lines"]
            )
        except ValidationError as exc:
            lineage_form.add_error("lineage_lines", exc.messages)
        except Exception as exc:  # noqa: BLE001 - the metadata couldn't be read: said beside the box
            lineage_form.add_error("lineage_lines", friendly_error(exc, profile))
        else:
            messages.success(request, f"Default lineage fields of “{profile.name}” saved.")
            return redirect("profile_edit", code=profile.code)
    form = ProfileForm(instance=profile)
    return render(
        request, "records/profile_form.html", {"form": form, "profile": profile, "lineage_form": lineage_form}
    )


def profile_delete(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    profile = get_editable_profile(request, code)
    if request.method == "POST":
        try:
            services.profile_delete(profile=profile, actor=request.user)
        except (ProtectedError, ValidationError) as exc:
            text = (
                "This profile has copy jobs, so it can't be deleted."
                if isinstance(exc, ProtectedError)
                else service_error_message(exc)
            )
            messages.error(request, text)
        else:
            messages.success(request, f"Profile “{profile.name}” deleted.")
        return redirect("profile_list")
    refusal = services.profile_delete_refusal(profile=profile)
    return render(request, "records/profile_confirm_delete.html", {"profile": profile, "refusal": refusal})


@require_POST
def profile_test(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    profile = get_profile_for_user(request, code)
    try:
        ok, message = services.profile_test(profile=profile, actor=request.user)
    except Exception as exc:  # noqa: BLE001 - the service should not raise; be safe anyway
        ok, message = False, friendly_error(exc, profile)
    if ok:
        messages.success(request, f"Connection to “{profile.name}” works: {message}")
    else:
        messages.error(request, f"Connection to “{profile.name}” failed: {message}")
    return redirect("profile_list")


COPY_KEY_PAGE_OBJECTS = 50  # objects described per page view (one describe each); the filter finds others


def profile_copy_keys(request: SignedInRequest, code: uuid.UUID) -> HttpResponse:
    """The profile's objects and their copy-key fields; staff who may change profiles choose
    objects, see what will be created, and confirm (records.profiles.services does the work)."""
    profile = get_profile_for_user(request, code)
    may_add = copy_keys.may_add_copy_keys(request.user)
    chosen = request.POST.getlist("object") if request.method == "POST" else []
    plan, error = None, ""
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied("Only staff who may change connection profiles add copy-key fields.")
        try:
            if request.POST.get("confirm") == "1":
                added = copy_keys.profile_add_copy_keys(profile=profile, objects=chosen, user=request.user)
                for a in added:
                    if a.error:
                        messages.error(request, f"{a.object_name}: not added: {a.error}")
                    else:
                        messages.success(
                            request, f"{a.object_name}: {a.field} added. Copies of it now carry a copy key."
                        )
                return redirect("profile_copy_keys", code=profile.code)
            plan = copy_keys.profile_copy_key_plan(profile=profile, objects=chosen, user=request.user)
        except ValidationError as exc:
            error = service_error_message(exc)
    q = request.GET.get("q", "").strip()[:100]
    states: list[copy_keys.CopyKeyState] = []
    total = 0
    if plan is None:
        try:
            states, total = copy_keys.profile_copy_keys_page(profile=profile, match=q, limit=COPY_KEY_PAGE_OBJECTS)
        except Exception as exc:  # noqa: BLE001 - the remote's refusal in plain words
            error = error or friendly_error(exc, profile)
    return render(
        request,
        "records/profile_copy_keys.html",
        {
            "profile": profile,
            "may_add": may_add,
            "copy_keys_off": copy_keys.copy_keys_off(),
            "states": states,
            "total": total,
            "q": q,
            "plan": plan,
            "error": error,
        },
    )
