"""The copy options (records/copying/options.py) through the services against the sandbox over HTTP:
leave out branches, fields on every level, value templates, the lineage stamp, and the values kept
per result row."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from records.connectors.errors import NotFound
from records.copying.job_actions import copy_job_resume, copy_job_undo
from records.copying.options import CopyOptions
from records.copying.tree import read_tree
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_now, preview, run_job, start_job

S = RecordResult.Status


def find_id(conn, object_name, name):
    return next(r.id for r in conn.search(object_name, name).records if r.name == name)


def run(profile, user, object_name, ids, mode, **kw):
    return copy_now(profile, user, object_name, ids, mode, **kw)


def objects_of(plan):
    return {o.object_name for o in plan.objects}


def test_exclude_a_middle_level_leaves_out_it_and_what_only_hangs_below_it(zoho, owner):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    full = preview(profile, "Accounts", [src], "deep_copy")
    assert "Contacts" in objects_of(full)
    plan = preview(profile, "Accounts", [src], "deep_copy", options=CopyOptions(exclude=("Contacts",)))
    assert "Contacts" not in objects_of(plan)
    assert plan.total < full.total
    job = run(profile, owner, "Accounts", [src], "deep_copy", options=CopyOptions(exclude=("Contacts",)))
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert job.planned_count == plan.total
    assert not job.results.filter(object_name="Contacts").exists()
    root = job.results.get(depth=0).new_id
    copied_contacts = [r for r in read_tree(conn, "Accounts", root) if r.object_name == "Contacts"]
    assert copied_contacts == []
    # the job keeps its options: a resume reads the same choice
    assert CopyOptions.from_dict(job.options).exclude == ("Contacts",)


def test_the_top_object_cannot_be_excluded(zoho):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    with pytest.raises(ValidationError, match="only related objects"):
        preview(profile, "Accounts", [src], "deep_copy", options=CopyOptions(exclude=("Accounts",)))


def test_set_with_templates_on_every_level_and_lineage_on_every_copy(zoho, owner):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    options = CopyOptions(
        fields={"Contacts": {"Last_Name": "{Last_Name} (test {{{job}}})", "Description": "copied {today}"}},
        lineage={"Contacts": "Description", "Accounts": "Description"},
    )
    overrides = {"Account_Name": "{Account_Name} (copy {today})"}
    plan = preview(profile, "Accounts", [src], "deep_copy", overrides=overrides, options=options)
    assert not plan.refused_reason, plan.refused_reason
    today = timezone.localdate().isoformat()
    by = {(s["object_name"], s["field"]): s["value"] for s in plan.samples}
    assert by[("Accounts", "Account_Name")] == f"Globex (copy {today})"
    assert by[("Contacts", "Last_Name")].endswith(" (test {" + str(CopyJob.objects.count() + 1) + "})")
    assert by[("Contacts", "Description")].startswith("Copied from ")

    job = run(profile, owner, "Accounts", [src], "deep_copy", overrides=overrides, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    top = job.results.get(depth=0)
    copy = conn.get("Accounts", top.new_id).fields
    assert copy["Account_Name"] == f"Globex (copy {today})"
    assert copy["Description"] == f"Copied from {src} by Record Copier job {job.pk}"
    assert top.values["Account_Name"] == copy["Account_Name"]
    contacts = job.results.filter(object_name="Contacts")
    assert contacts.count() == 3
    for row in contacts:
        original, copied = conn.get("Contacts", row.source_id).fields, conn.get("Contacts", row.new_id).fields
        assert copied["Last_Name"] == f"{original['Last_Name']} (test {{{job.pk}}})"
        # the lineage stamp wins over the set value of the same field
        assert copied["Description"] == f"Copied from {row.source_id} by Record Copier job {job.pk}"
        assert row.values == {"Last_Name": copied["Last_Name"], "Description": copied["Description"]}
    # records of objects without choices are copied as before, with no values kept
    assert all(r.values is None for r in job.results.filter(object_name="Deals"))


def test_clear_on_a_child_object(zoho, owner):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    job = run(
        profile, owner, "Accounts", [src], "deep_copy", options=CopyOptions(fields={"Contacts": {"First_Name": None}})
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    for row in job.results.filter(object_name="Contacts"):
        assert not conn.get("Contacts", row.new_id).fields.get("First_Name")


def test_a_rendered_value_over_the_field_length_is_refused_in_the_preview(zoho, owner):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    long = "x" * 75
    options = CopyOptions(fields={"Contacts": {"Last_Name": "{Last_Name}" + long}})  # Last_Name holds 80
    plan = preview(profile, "Accounts", [src], "deep_copy", options=options)
    assert "the field holds 80" in plan.refused_reason
    with pytest.raises(ValidationError, match="the field holds 80"):
        start_job(profile, owner, "Accounts", [src], "deep_copy", options=options)


def _long_description(conn, account_id, length):
    conn.update("Accounts", [{"id": account_id, "Description": "d" * length}])


@pytest.mark.parametrize("per_row", [True, False], ids=["csv_column", "same_for_every_row"])
def test_a_bulk_clone_whose_second_record_renders_too_long_is_refused_in_the_preview(zoho, owner, per_row):
    """{Description} x9 fits the first record's Description (32,000 characters) but not the second's:
    the preview names that record and the field, and no job is made. The other records' values are
    read in batches (one call here), not one call per record."""
    sb, profile, conn = zoho
    first, second = find_id(conn, "Accounts", "Globex"), find_id(conn, "Accounts", "Initech")
    _long_description(conn, second, 3600)  # x9 = 32,400
    nine = {"Description": "{Description}" * 9}
    kw = {"row_overrides": {first: nine, second: nine}} if per_row else {"overrides": nine}
    sb.clear_log()
    plan = preview(profile, "Accounts", [first, second], "clone", **kw)
    assert f"Accounts {second}: Description (Description) would be" in plan.refused_reason
    assert "32400 characters; the field holds 32000" in plan.refused_reason
    assert first not in plan.refused_reason
    reads = [e for e in sb.log("zoho") if e.method == "GET" and "/Accounts" in e.path]
    # The first record, then the others' names and their values (read while the names are), the
    # values in one call, not one a record.
    assert len(reads) == 3 and [e for e in reads[1:] if "fields=Description" in e.path], [e.path for e in reads]
    with pytest.raises(ValidationError, match=f"Accounts {second}: Description"):
        start_job(profile, owner, "Accounts", [first, second], "clone", **kw)
    assert not CopyJob.objects.exists()


def test_a_bulk_clone_whose_records_all_fit_is_not_refused_and_plain_values_read_nothing_more(zoho, owner):
    sb, profile, conn = zoho
    ids = [find_id(conn, "Accounts", n) for n in ("Globex", "Initech", "Hooli")]
    plan = preview(profile, "Accounts", ids, "clone", overrides={"Description": "{Description} (copy {job})"})
    assert not plan.refused_reason
    sb.clear_log()
    plain = {i: {"Description": "x" * 100} for i in ids}
    assert not preview(profile, "Accounts", ids, "clone", row_overrides=plain).refused_reason
    # No template reads a field: the names read (as before), no values read for the other records
    # (each record's attachments are listed for the preview's files counts: not a record read).
    reads = [e for e in sb.log("zoho") if e.method == "GET" and "/Accounts" in e.path and "/Attachments" not in e.path]
    assert len(reads) == 2


def test_a_vault_bulk_clone_checks_every_records_rendered_values(vault, owner):
    sb, profile, conn = vault
    ids = [find_id(conn, "product__v", n) for n in ("Cardiostat", "Neurolax")]
    conn.update("product__v", [{"id": ids[1], "description__c": "d" * 3600}])
    nine = {"name__v": "{name__v} (copy)", "description__c": "{description__c}" * 9}
    sb.clear_log()
    plan = preview(profile, "product__v", ids, "clone", overrides=nine)
    record_reads = [e for e in sb.log("vault") if e.method == "GET" and "/vobjects/product__v/" in e.path]
    assert len(record_reads) == 1  # the first record; the other's values came with a VQL query
    assert f"product__v {ids[1]}: Description (description__c) would be" in plan.refused_reason


@pytest.mark.parametrize(
    "values, message",
    [
        ({"Last_Name": "{Last_Name"}, "Unmatched"),
        ({"Last_Name": "{No_Such_Field}"}, "no field No_Such_Field"),
        ({"Nope": "x"}, "no field 'Nope'"),
        ({"Last_Name": None}, "required and can't be cleared"),
    ],
)
def test_per_object_values_get_the_same_metadata_checks(zoho, values, message):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    with pytest.raises(ValidationError, match=message):
        preview(profile, "Accounts", [src], "deep_copy", options=CopyOptions(fields={"Contacts": values}))


def test_lineage_needs_a_text_field(zoho):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    with pytest.raises(ValidationError, match="lineage stamp needs an editable text field"):
        preview(profile, "Accounts", [src], "deep_copy", options=CopyOptions(lineage={"Contacts": "Account_Name"}))


OWN_FIELD = r"Copy Key \(Copy_Key\) is Record Copier.s own field"


@pytest.mark.parametrize(
    "kw",
    [
        {"options": CopyOptions(lineage={"Accounts": "Copy_Key"})},  # the new user's lineage stamp
        {"options": CopyOptions(lineage={"Contacts": "Copy_Key"})},
        {"options": CopyOptions(fields={"Contacts": {"Copy_Key": "{Last_Name}"}})},
        {"options": CopyOptions(unique={"Accounts": ("Copy_Key",)})},
        {"overrides": {"Copy_Key": "mine"}},
        {"overrides": {"Copy_Key": None}},
    ],
    ids=["lineage_top", "lineage_child", "set_child", "unique", "set_top", "clear_top"],
)
def test_the_copy_key_field_is_refused_as_a_choice_before_anything_is_queued(zoho, owner, kw):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    with pytest.raises(ValidationError, match=OWN_FIELD):
        preview(profile, "Accounts", [src], "deep_copy", **kw)
    with pytest.raises(ValidationError, match=OWN_FIELD):
        start_job(profile, owner, "Accounts", [src], "deep_copy", **kw)
    assert not CopyJob.objects.exists()


def test_a_bulk_clone_row_setting_the_copy_key_is_refused(zoho):
    sb, profile, conn = zoho
    ids = [find_id(conn, "Accounts", n) for n in ("Globex", "Initech")]
    with pytest.raises(ValidationError, match=OWN_FIELD):
        preview(profile, "Accounts", ids, "clone", row_overrides={ids[1]: {"Copy_Key": "x"}})


def test_without_a_copy_key_the_field_is_an_ordinary_one(zoho, owner, settings):
    settings.COPY_KEY_FIELDS = ()  # no copy key: the field is the org's own, free to stamp
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    plan = preview(profile, "Accounts", [src], "clone", options=CopyOptions(lineage={"Accounts": "Copy_Key"}))
    assert not plan.refused_reason


def test_vault_clone_with_template_and_lineage(vault, owner):
    sb, profile, conn = vault
    src = find_id(conn, "product__v", "Neurolax")
    top, options = {"name__v": "{name__v} (copy {job})"}, CopyOptions(lineage={"product__v": "description__c"})
    job = run(profile, owner, "product__v", [src], "clone", overrides=top, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    copy = conn.get("product__v", job.results.get().new_id).fields
    assert copy["name__v"] == f"Neurolax (copy {job.pk})"
    assert copy["description__c"] == f"Copied from {src} by Record Copier job {job.pk}"


def test_vault_deep_copy_says_which_way_it_copies(vault):
    sb, profile, conn = vault
    src = find_id(conn, "product__v", "Neurolax")
    plain = preview(profile, "product__v", [src], "deep_copy", overrides={"name__v": "x1"})
    assert plain.way.startswith("Vault's own deep copy")
    built = preview(
        profile,
        "product__v",
        [src],
        "deep_copy",
        overrides={"name__v": "x1"},
        options=CopyOptions(exclude=("packaging__c",)),
    )
    assert "leaves out a branch" in built.way
    forced = preview(
        profile, "product__v", [src], "deep_copy", overrides={"name__v": "x1"}, options=CopyOptions(engine=True)
    )
    assert "asked for: “Build the hierarchy level by level” is ticked" in forced.way


def _actions(sb, op):
    return [a for a in sb.zoho.state.actions if a["op"] == op]


def test_zoho_defaults_clones_start_cadences_inserts_fire_nothing(zoho, owner):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    plan = preview(profile, "Accounts", [src], "deep_copy")
    assert any("don't fire on the inserted related records" in w for w in plan.warnings)
    job = run(profile, owner, "Accounts", [src], "deep_copy")
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert [a["skip_feature_execution"] for a in _actions(sb, "clone")] == [None]
    inserts = _actions(sb, "insert")
    assert inserts and all(a["trigger"] == [] and not a["automations_ran"] for a in inserts)


def test_zoho_skip_cadences_on_every_clone_and_insert_and_workflows_when_chosen(zoho, owner):
    sb, profile, conn = zoho
    ids = [find_id(conn, "Accounts", "Globex"), find_id(conn, "Accounts", "Initech")]
    job = run(profile, owner, "Accounts", ids, "clone", options=CopyOptions(skip_cadences=True))
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    clones = _actions(sb, "clone")
    assert len(clones) == 2 and all(a["skip_feature_execution"] == [{"name": "cadences"}] for a in clones)
    job = run(
        profile, owner, "Accounts", ids[:1], "deep_copy", options=CopyOptions(skip_cadences=True, run_workflows=True)
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    inserts = _actions(sb, "insert")
    assert inserts and all(a["trigger"] is None and a["automations_ran"] for a in inserts)
    assert all(a["skip_feature_execution"] == [{"name": "cadences"}] for a in inserts)


def test_zoho_choices_are_refused_on_vault(vault):
    sb, profile, conn = vault
    src = find_id(conn, "product__v", "Neurolax")
    with pytest.raises(ValidationError, match="Zoho CRM choices"):
        preview(
            profile, "product__v", [src], "clone", overrides={"name__v": "x2"}, options=CopyOptions(skip_cadences=True)
        )


def test_job_page_and_csv_show_the_values_each_copy_got_then_undo_deletes_every_copy(zoho, owner, client):
    from django.urls import reverse

    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    options = CopyOptions(
        fields={"Contacts": {"First_Name": None}}, lineage={"Contacts": "Description"}, exclude=("Deals",)
    )
    top = {"Account_Name": "{Account_Name} {job}"}
    job = run(profile, owner, "Accounts", [src], "deep_copy", overrides=top, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    client.force_login(owner)
    page = client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert f"Account Name = Globex {job.pk}" in page  # the page names a changed field by its label
    # A child's fields by their labels too, its lineage stamp included.
    assert "First Name = (cleared)" in page and "First_Name" not in page.split('id="results-table"')[1]
    assert "Description = Copied from" in page and "by Record Copier job" in page
    csv_text = b"".join(client.get(reverse("job_results_csv", args=[job.code])).streaming_content).decode("utf-8-sig")
    assert csv_text.splitlines()[0].endswith(",values")
    assert f"Account_Name = Globex {job.pk}" in csv_text
    new_ids = list(job.results.values_list("object_name", "new_id"))
    undo = copy_job_undo(job=job, user=owner, enqueue=False)
    undo = run_job(undo)
    assert undo.status == CopyJob.Status.SUCCEEDED, undo.error_summary
    for object_name, new_id in new_ids:
        with pytest.raises(NotFound):
            conn.get(object_name, new_id)


def test_retry_sends_failed_rows_again_with_the_same_rendered_values(zoho, owner):
    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    options = CopyOptions(fields={"Contacts": {"Last_Name": "{Last_Name} {today}"}})
    job = start_job(profile, owner, "Accounts", [src], "deep_copy", options=options)
    # Made days ago: the retry renders {today} as the job's day, as the first attempt did.
    CopyJob.objects.filter(pk=job.pk).update(created=timezone.now() - timezone.timedelta(days=3))
    sb.faults("zoho").set(p500=1.0, seed=3)  # an outage: the run waits with nothing copied
    job = run_job(job)
    assert job.succeeded_count == 0 and job.status == CopyJob.Status.WAITING, job.status
    sb.faults("zoho").set(p500=0.0)
    job = copy_job_resume(job=job, user=owner, enqueue=False)
    job = run_job(job)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    created_day = timezone.localdate(job.created).isoformat()
    for row in job.results.filter(object_name="Contacts"):
        assert conn.get("Contacts", row.new_id).fields["Last_Name"].endswith(f" {created_day}")
    assert job.results.filter(depth=0).count() == 1 and len(conn.search("Accounts", "Globex").records) == 2


def test_admin_provenance_search_from_a_copied_records_id(zoho, owner, staff, client):
    from django.urls import reverse

    sb, profile, conn = zoho
    src = find_id(conn, "Accounts", "Globex")
    job = run(profile, owner, "Accounts", [src], "deep_copy", options=CopyOptions(lineage={"Contacts": "Description"}))
    row = job.results.filter(object_name="Contacts").first()
    stamp = conn.get("Contacts", row.new_id).fields["Description"]
    assert stamp == f"Copied from {row.source_id} by Record Copier job {job.pk}"
    client.force_login(staff)
    page = client.get(reverse("admin:records_recordresult_changelist") + f"?q={row.new_id}").content.decode()
    assert row.source_id in page and owner.username in page and f">{row.pk}<" in page
    assert "1 result" in page


def test_vault_migration_mode_headers_sent_and_refused_with_vaults_message_without_permission(vault, owner):
    sb, profile, conn = vault
    src = find_id(conn, "product__v", "Neurolax")
    options = CopyOptions(migration_mode=True, no_triggers=True)
    plan = preview(profile, "product__v", [src], "deep_copy", overrides={"name__v": "Neurolax M"}, options=options)
    assert "migration mode" in plan.way and any("Record Migration permission" in w for w in plan.warnings)
    job = run(profile, owner, "product__v", [src], "deep_copy", overrides={"name__v": "Neurolax M"}, options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    modes = sb.vault.state.write_modes
    assert modes and all(m["migration_mode"] and m["no_triggers"] for m in modes)
    assert sum(m["rows"] for m in modes) == job.planned_count

    sb.vault.configure(record_migration_permission=False)
    options = CopyOptions(migration_mode=True)
    job = run(profile, owner, "product__v", [src], "clone", overrides={"name__v": "Neurolax M2"}, options=options)
    row = job.results.get()
    assert row.status == RecordResult.Status.FAILED and row.error_type == "INSUFFICIENT_ACCESS"
    assert row.error_message == "User does not have the Record Migration permission"


def test_no_triggers_needs_migration_mode_and_both_are_vault_only(vault, zoho):
    sb, profile, conn = vault
    src = find_id(conn, "product__v", "Neurolax")
    with pytest.raises(ValidationError, match="only with migration mode"):
        preview(
            profile, "product__v", [src], "clone", overrides={"name__v": "x3"}, options=CopyOptions(no_triggers=True)
        )
    sb, zprofile, zconn = zoho
    with pytest.raises(ValidationError, match="Vault choices"):
        preview(
            zprofile,
            "Accounts",
            [find_id(zconn, "Accounts", "Globex")],
            "clone",
            options=CopyOptions(migration_mode=True),
        )


def test_a_profiles_default_lineage_field_is_set_through_the_profile_service(zoho, owner):
    from records.copying.options import parse_cli
    from records.profiles import services as profile_services

    sb, profile, conn = zoho
    profile_services.profile_update(profile=profile, actor=owner, lineage_fields={"Contacts": "Description"})
    profile.refresh_from_db()
    top, options = parse_cli(
        top_object="Accounts",
        describe=conn.describe,
        set_values=[],
        clear=[],
        lineage=["Contacts"],
        lineage_defaults=profile.lineage_fields,
    )
    assert options.lineage == {"Contacts": "Description"} and top == {}
