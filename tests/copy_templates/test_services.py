"""Saved copy templates through their services (records/copy_templates/services.py) against the
sandbox over HTTP: saved from a job of each system and run on another record with the same
choices, versions, sharing and the refusals made before anything is queued."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from records.copy_templates import services
from records.copy_templates.definition import merged_options
from records.copy_templates.diff import version_diff
from records.copying.options import CopyOptions
from records.models import AuditEvent, CopyJob, CopyTemplate
from tests.fixtures.engine import copy_now, copy_request, run_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
DONE = CopyJob.Status.SUCCEEDED


def run_template(template, user, ids, **kw):
    version = services.latest_version(template)
    request = services.run_request(template=template, user=user, source_ids=ids, **kw)
    job = services.run(template=template, version=version, request=request, user=user, enqueue=False)
    return run_job(job)


def test_a_zoho_deep_copy_saved_as_a_template_copies_another_account_with_the_same_choices(globex, owner):
    sb, profile, conn, src = globex
    options = CopyOptions(exclude=("Deals",), fields={"Contacts": {"First_Name": None}})
    first = copy_now(
        profile,
        owner,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Account_Name": "{Account_Name} (copy)"},
        options=options,
    )
    assert first.status == DONE, first.error_summary
    template = services.save_from_job(job=first, name="Account kit", description="for each market", user=owner)

    acme = find_record(conn, "Accounts", "Acme Corp")
    job = run_template(template, owner, [acme])

    assert job.status == DONE, job.error_summary
    assert job.template_version == template.versions.get(number=1)
    assert (job.mode, job.options, job.overrides) == (first.mode, first.options, first.overrides)
    assert job.source_ids == [acme]
    run = AuditEvent.objects.get(action="template.run")
    assert (run.job, run.actor, run.details["version"]) == (job, owner, 1)
    top = job.results.get(depth=0)
    assert conn.get("Accounts", top.new_id).fields["Account_Name"] == "Acme Corp (copy)"
    assert not job.results.filter(object_name="Deals").exists()
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.exists()
    assert all(not conn.get("Contacts", r.new_id).fields.get("First_Name") for r in contacts)


def test_a_vault_clone_saved_as_a_template_clones_another_product_with_its_values(neurolax, owner):
    sb, profile, conn, src = neurolax
    first = copy_now(profile, owner, "product__v", [src], "clone", overrides={"name__v": "{name__v} B"})
    assert first.status == DONE, first.error_summary
    template = services.save_from_job(job=first, name="Product B", user=owner)

    other = find_record(conn, "product__v", "Cardiostat")
    job = run_template(template, owner, [other])

    assert job.status == DONE, job.error_summary
    assert conn.get("product__v", job.results.get().new_id).fields["name__v"] == "Cardiostat B"
    assert job.template_version.number == 1


def test_a_run_overrides_the_templates_choices_for_that_run_only(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone", overrides={"Account_Name": "{Account_Name} X"})
    template = services.save_from_request(request=request, name="Clone X", user=owner)
    acme = find_record(conn, "Accounts", "Acme Corp")

    job = run_template(template, owner, [acme], overrides={"Account_Name": "Acme Y"})

    assert conn.get("Accounts", job.results.get().new_id).fields["Account_Name"] == "Acme Y"
    assert services.latest_version(template).definition["overrides"] == {"Account_Name": "{Account_Name} X"}


def test_run_options_replace_the_saved_ones_and_merge_per_object():
    saved = CopyOptions(fields={"Contacts": {"A": 1, "B": 2}}, exclude=("Deals",), skip_cadences=True)
    run = CopyOptions(fields={"Contacts": {"B": 3}, "Tasks": {"C": None}}, exclude=("Notes",))
    merged = merged_options(saved, run)
    assert merged.fields == {"Contacts": {"A": 1, "B": 3}, "Tasks": {"C": None}}
    assert merged.exclude == ("Notes",) and merged.skip_cadences


def test_editing_makes_a_new_version_and_the_diff_says_what_changed(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone", overrides={"Account_Name": "A"})
    template = services.save_from_request(request=request, name="Kit", user=owner)
    changed = copy_request(
        profile, "Accounts", [src], "deep_copy", overrides={}, options=CopyOptions(exclude=("Deals",))
    )

    version = services.edit(template=template, user=owner, request=changed, description="deeper")

    assert version.number == 2 and template.description == "deeper"
    lines = version_diff(template.versions.get(number=1), version)
    assert "Mode: 'clone' → 'deep_copy'" in lines
    assert "Value of the top record's Account_Name: 'A' → (none)" in lines
    assert "Left out: (none) → Deals" in lines
    assert len(lines) == 3
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "template.create",
        "template.edit",
    ]


def test_a_template_is_hidden_until_shared_and_runs_only_with_its_profiles(globex, owner, other_user):
    sb, profile, conn, src = globex
    template = services.save_from_request(
        request=copy_request(profile, "Accounts", [src], "clone"), name="Kit", user=owner
    )
    with pytest.raises(ValidationError, match="No template named Kit"):
        services.find_template(name="Kit", user=other_user)
    with pytest.raises(ValidationError, match="Only the owner"):
        services.share(template=template, by=other_user, user=other_user)
    with pytest.raises(ValidationError, match="Only the owner"):
        services.edit(template=template, user=other_user, description="mine now")

    group = Group.objects.create(name="Market team")
    other_user.groups.add(group)
    services.share(template=template, by=owner, group=group)

    assert services.find_template(name="Kit", user=other_user) == template
    with pytest.raises(ValidationError, match="no longer exists or is not shared with you"):
        services.run_request(template=template, user=other_user, source_ids=[src])
    profile.shared_with_users.add(other_user)
    assert services.run_request(template=template, user=other_user, source_ids=[src]).profile == profile
    assert AuditEvent.objects.filter(action="template.share", details__shared_with="group Market team").exists()


def test_a_template_whose_profile_was_deleted_is_refused_before_anything_is_queued(globex, owner):
    sb, profile, conn, src = globex
    template = services.save_from_request(
        request=copy_request(profile, "Accounts", [src], "clone"), name="Kit", user=owner
    )
    version = services.latest_version(template)
    version.definition = {**version.definition, "profile": "00000000-0000-0000-0000-000000000000"}
    version.save()
    with pytest.raises(ValidationError, match="copies from a profile that no longer exists"):
        services.run_request(template=template, user=owner, source_ids=[src])
    assert not CopyJob.objects.exists()


def test_a_field_gone_from_the_objects_metadata_is_refused_by_name(globex, owner):
    sb, profile, conn, src = globex
    request = copy_request(
        profile,
        "Accounts",
        [src],
        "deep_copy",
        overrides={"Retired_Field": "x"},
        options=CopyOptions(fields={"Contacts": {"Old_Contact_Field": None}}),
    )
    template = services.save_from_request(request=request, name="Old", user=owner)
    with pytest.raises(ValidationError) as exc:
        services.run_request(template=template, user=owner, source_ids=[src])
    assert "Accounts.Retired_Field, Contacts.Old_Contact_Field" in exc.value.messages[0]
    assert not CopyJob.objects.exists()


def test_without_ids_a_run_uses_the_saved_filter_or_asks_for_records(globex, owner):
    sb, profile, conn, src = globex
    plain = services.save_from_request(request=copy_request(profile, "Accounts", [src], "clone"), name="A", user=owner)
    with pytest.raises(ValidationError, match="Give the records to copy"):
        services.run_request(template=plain, user=owner)
    query = copy_request(
        profile, "Accounts", [], "clone", options=CopyOptions(source_filter="(Account_Name:equals:Globex)")
    )
    by_filter = services.save_from_request(request=query, name="B", user=owner)
    request = services.run_request(template=by_filter, user=owner)
    assert request.source_ids == () and request.options.source_filter == "(Account_Name:equals:Globex)"
    # Ids given: exactly those, not the filter's.
    assert services.run_request(template=by_filter, user=owner, source_ids=[src]).options.source_filter == ""
    with pytest.raises(ValidationError, match="not both"):
        services.run_request(
            template=by_filter, user=owner, source_ids=[src], options=CopyOptions(source_filter="(Industry:equals:x)")
        )


def test_a_name_is_unique_per_owner_only(globex, owner, other_user):
    sb, profile, conn, src = globex
    request = copy_request(profile, "Accounts", [src], "clone")
    services.save_from_request(request=request, name="Kit", user=owner)
    with pytest.raises(ValidationError, match="already have a template named Kit"):
        services.save_from_request(request=request, name="Kit", user=owner)
    profile.shared_with_users.add(other_user)
    services.save_from_request(request=request, name="Kit", user=other_user)
    assert CopyTemplate.objects.filter(name="Kit").count() == 2
