"""Unique fields: "make unique" (records/copying/unique.py) against the sandbox over HTTP, after 1, 2
and 20 clashes, each try on the row; and the engine's policy over the in-memory connector: unique
fields cleared on the copies unless overridden, the copy key kept."""

import pytest
from django.core.exceptions import ValidationError

from records.connectors import connector_for
from records.connectors.base import FieldInfo, FieldType
from records.copying.job_actions import copy_job_run
from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.preview import copy_preview
from records.copying.tree import unique_fields
from records.copying.unique import numbered
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import ZOHO_FIELDS, MemoryConnector, copy_now, copy_request, preview, start_job

S = RecordResult.Status


def run(profile, user, object_name, ids, mode, **kw):
    job = copy_job_create(request=copy_request(profile, object_name, ids, mode, **kw), user=user, enqueue=False)
    return copy_job_run(job_id=job.pk, worker_id="test")


@pytest.fixture
def globex_number(globex):
    """Globex with its Account_Number (a unique field): (sandbox, profile, connector, id, number)."""
    number = globex.connector.get("Accounts", globex.record_id).fields["Account_Number"]
    assert number
    return (*globex, number)


def taken(conn, number, n_from, n_to):
    rows = [{"Account_Name": f"Taken {n}", "Account_Number": numbered(number, n, 40)} for n in range(n_from, n_to + 1)]
    assert all(r.ok for r in conn.create("Accounts", rows))


UNIQUE = CopyOptions(unique={"Accounts": ("Account_Number",)})


def test_numbered_fits_the_field():
    assert numbered("abc", 2, None) == "abc (2)"
    assert numbered("x" * 40, 12, 40) == "x" * 35 + " (12)"


def test_one_clash_gets_2(globex_number, owner):
    sb, profile, conn, src, number = globex_number
    job = run(profile, owner, "Accounts", [src], "clone", options=UNIQUE)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get()
    assert conn.get("Accounts", row.new_id).fields["Account_Number"] == f"{number} (2)"
    assert row.values["_unique_tries"] == [f"{number} (2)"]
    assert row.attempts == 2


def test_two_clashes_get_3_in_an_engine_built_deep_copy(globex_number, owner):
    sb, profile, conn, src, number = globex_number
    taken(conn, number, 2, 2)
    job = run(profile, owner, "Accounts", [src], "deep_copy", options=UNIQUE)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get(depth=0)
    assert conn.get("Accounts", row.new_id).fields["Account_Number"] == f"{number} (3)"
    assert row.values["_unique_tries"] == [f"{number} (2)", f"{number} (3)"]
    # the children hang under the numbered copy
    assert job.results.filter(depth__gt=0, status=S.SUCCEEDED).count() == job.planned_count - 1


def test_twenty_clashes_stop_with_every_try_recorded(globex_number, owner):
    sb, profile, conn, src, number = globex_number
    taken(conn, number, 2, 21)
    job = run(profile, owner, "Accounts", [src], "clone", options=UNIQUE)
    row = job.results.get()
    assert row.status == S.FAILED and row.error_type == "DUPLICATE_DATA"
    assert "Made unique 20 times" in row.error_message
    assert row.values["_unique_tries"] == [f"{number} ({n})" for n in range(2, 22)]
    assert len([e for e in sb.log("zoho") if e.method == "POST" and e.path.endswith("/actions/clone")]) == 21


def test_without_make_unique_a_clash_fails_once(globex_number, owner):
    sb, profile, conn, src, number = globex_number
    job = run(profile, owner, "Accounts", [src], "clone", overrides={"Account_Number": number})
    row = job.results.get()
    assert row.status == S.FAILED and row.error_type == "DUPLICATE_DATA" and row.attempts == 1


def test_vault_clone_name_made_unique(fresh_sandbox, vault_profile, owner):
    conn = connector_for(vault_profile)
    src = next(r.id for r in conn.search("product__v", "Neurolax").records if r.name == "Neurolax")
    job = run(
        vault_profile, owner, "product__v", [src], "clone", options=CopyOptions(unique={"product__v": ("name__v",)})
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert conn.get("product__v", job.results.get().new_id).fields["name__v"] == "Neurolax (2)"


def test_vaults_own_deep_copy_sends_the_top_name_made_unique(vault, owner):
    """Vault's deep copy takes the top record's values in its call (api-notes vault.md §5.1): a
    top name taken fails that Vault job on the top record, with nothing made, so it is started
    again with the name numbered; the hierarchy is still Vault's own deep copy."""
    sb, profile, conn = vault
    src = next(r.id for r in conn.search("product__v", "Cardiostat").records if r.name == "Cardiostat")
    options = CopyOptions(unique={"product__v": ("name__v",)})
    plan = preview(profile, "product__v", [src], "deep_copy", options=options)
    assert not plan.refused_reason and plan.way.startswith("Vault's own deep copy")
    job = run(profile, owner, "product__v", [src], "deep_copy", options=options)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    top = job.results.get(depth=0)
    assert conn.get("product__v", top.new_id).fields["name__v"] == "Cardiostat (2)"
    assert top.values["_unique_tries"] == ["Cardiostat (2)"]
    assert job.results.filter(status=S.SUCCEEDED).count() == job.planned_count > 1
    posts = [e for e in sb.log("vault") if e.method == "POST"]
    assert len([e for e in posts if e.path.endswith("/actions/deepcopy")]) == 2
    assert not [e for e in posts if e.path.endswith("/vobjects/formulation__c")]  # no child built by us


def test_only_unique_text_fields_can_be_made_unique(globex_number):
    sb, profile, conn, src, number = globex_number
    with pytest.raises(ValidationError, match="only unique text fields"):
        copy_preview(
            request=copy_request(
                profile, "Accounts", [src], "clone", options=CopyOptions(unique={"Accounts": ("Phone",)})
            )
        )


def test_a_unique_required_name_suggests_a_template_and_make_unique_lifts_the_refusal(fresh_sandbox, vault_profile):
    conn = connector_for(vault_profile)
    src = next(r.id for r in conn.search("product__v", "Neurolax").records if r.name == "Neurolax")
    plan = copy_preview(request=copy_request(vault_profile, "product__v", [src], "clone"))
    assert "name__v={name__v} (copy)" in plan.refused_reason and "make unique" in plan.refused_reason
    plan = copy_preview(
        request=copy_request(vault_profile, "product__v", [src], "clone", overrides={"name__v": "{name__v} (copy)"})
    )
    assert not plan.refused_reason
    # The sample also names the object, record and field for people (object_label, name, field_label).
    assert ("product__v", src, "name__v", "Neurolax (copy)") in [
        (s["object_name"], s["source_id"], s["field"], s["value"]) for s in plan.samples
    ]
    plan = copy_preview(
        request=copy_request(
            vault_profile, "product__v", [src], "clone", options=CopyOptions(unique={"product__v": ("name__v",)})
        )
    )
    assert not plan.refused_reason


def test_zoho_products_unique_name_clashes_on_copy_and_make_unique_answers(fresh_sandbox, zoho_profile, owner):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Products", "Widget").records if r.name == "Widget")
    plan = copy_preview(request=copy_request(zoho_profile, "Products", [src], "clone"))
    assert "Product_Name" in plan.refused_reason and "make unique" in plan.refused_reason
    job = run(
        zoho_profile, owner, "Products", [src], "clone", options=CopyOptions(unique={"Products": ("Product_Name",)})
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    assert conn.get("Products", job.results.get().new_id).fields["Product_Name"] == "Widget (2)"


# -- the policy for unique fields (records/copying/tree.py unique_fields), in memory ----------------

NUMBER = FieldInfo("Account_Number", "Account Number", FieldType.TEXT, unique=True)


EMAIL = FieldInfo("Email", "Email", FieldType.TEXT, unique=True)


CODE = FieldInfo("Code", "Code", FieldType.TEXT, unique=True, required=True)


def memory_connector(*, account_extra=(NUMBER,), contact_extra=(EMAIL,)):
    fields = dict(ZOHO_FIELDS)
    fields["Accounts"] = [*ZOHO_FIELDS["Accounts"], *account_extra]
    fields["Contacts"] = [*ZOHO_FIELDS["Contacts"], *contact_extra]
    conn = MemoryConnector(fields=fields)
    conn.root = conn.add("Accounts", Account_Name="Acme", Account_Number="A-1", Code="C-1")
    for n in range(2):
        conn.add("Contacts", Last_Name=f"C{n}", Email=f"c{n}@x.example", Account_Name={"id": conn.root})
    return conn


@pytest.mark.django_db
def test_policy_clears_unique_optional_fields_but_not_the_copy_key_or_overrides():
    fields = [
        *ZOHO_FIELDS["Accounts"],
        NUMBER,
        CODE,
        FieldInfo("Ext", "Ext", FieldType.TEXT, unique=True, no_copy=True),
        FieldInfo("Auto", "Auto", FieldType.TEXT, unique=True, editable=False),
    ]
    clear, clash = unique_fields(fields)
    assert [f.name for f in clear] == ["Account_Number"] and [f.name for f in clash] == ["Code"]
    clear, clash = unique_fields(fields, {"Account_Number": "new", "Code": "x"})
    assert clear == [] and clash == []


@pytest.mark.django_db
def test_preview_warns_about_cleared_unique_fields_top_and_children(engine_profile):
    conn = memory_connector()
    plan = preview(engine_profile, "Accounts", [conn.root], "deep_copy", overrides={}, connector=conn)
    assert not plan.refused_reason
    assert any("Account Number is unique in Accounts" in w and "blank" in w for w in plan.warnings)
    assert "Email is unique in Contacts: copies get it blank." in plan.warnings
    assert not any("Copy" in w for w in plan.warnings)
    plan = preview(
        engine_profile, "Accounts", [conn.root], "clone", overrides={"Account_Number": "A-2"}, connector=conn
    )
    assert plan.warnings == []


@pytest.mark.django_db
def test_unique_required_field_without_a_value_is_refused(engine_profile, owner):
    conn = memory_connector(account_extra=(NUMBER, CODE))
    plan = preview(engine_profile, "Accounts", [conn.root], "clone", overrides={}, connector=conn)
    assert "Code (Code) is unique and required in Accounts" in plan.refused_reason
    with pytest.raises(ValidationError):
        start_job(engine_profile, owner, "Accounts", [conn.root], "clone", connector=conn)
    plan = preview(engine_profile, "Accounts", [conn.root], "clone", overrides={"Code": "C-2"}, connector=conn)
    assert not plan.refused_reason


@pytest.mark.django_db
def test_unique_required_child_field_is_a_warning(engine_profile):
    conn = memory_connector(contact_extra=(FieldInfo("Badge", "Badge", FieldType.TEXT, unique=True, required=True),))
    plan = preview(engine_profile, "Accounts", [conn.root], "deep_copy", overrides={}, connector=conn)
    assert not plan.refused_reason
    assert any("Badge is unique and required in Contacts" in w for w in plan.warnings)


@pytest.mark.django_db
def test_copies_get_unique_fields_blank_and_keep_overrides_and_keys(engine_profile, owner):
    conn = memory_connector()
    job = copy_now(
        engine_profile,
        owner,
        "Accounts",
        [conn.root],
        "deep_copy",
        connector=conn,
        overrides={"Account_Name": "Acme 2"},
    )
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    new_root = conn.data["Accounts"][job.results.get(depth=0).new_id]
    assert "Account_Number" not in new_root and new_root["Copy_Key"] == job.results.get(depth=0).idempotency_key
    for row in job.results.filter(object_name="Contacts"):
        copy = conn.data["Contacts"][row.new_id]
        assert "Email" not in copy and copy["Copy_Key"] == row.idempotency_key
    job = copy_now(
        engine_profile, owner, "Accounts", [conn.root], "clone", connector=conn, overrides={"Account_Number": "A-9"}
    )
    assert conn.data["Accounts"][job.results.get().new_id]["Account_Number"] == "A-9"
