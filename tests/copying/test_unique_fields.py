"""The engine's policy for unique fields: cleared on the copies unless overridden, the copy key kept."""

import pytest
from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType
from records.copying.tree import unique_fields
from records.models import CopyJob
from tests.fixtures.engine import ZOHO_FIELDS, MemoryConnector, copy_now, preview, start_job

pytestmark = pytest.mark.django_db

NUMBER = FieldInfo("Account_Number", "Account Number", FieldType.TEXT, unique=True)
EMAIL = FieldInfo("Email", "Email", FieldType.TEXT, unique=True)
CODE = FieldInfo("Code", "Code", FieldType.TEXT, unique=True, required=True)


def connector(*, account_extra=(NUMBER,), contact_extra=(EMAIL,)):
    fields = dict(ZOHO_FIELDS)
    fields["Accounts"] = [*ZOHO_FIELDS["Accounts"], *account_extra]
    fields["Contacts"] = [*ZOHO_FIELDS["Contacts"], *contact_extra]
    conn = MemoryConnector(fields=fields)
    conn.root = conn.add("Accounts", Account_Name="Acme", Account_Number="A-1", Code="C-1")
    for n in range(2):
        conn.add("Contacts", Last_Name=f"C{n}", Email=f"c{n}@x.example", Account_Name={"id": conn.root})
    return conn


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


def test_preview_warns_about_cleared_unique_fields_top_and_children(engine_profile):
    conn = connector()
    plan = preview(engine_profile, "Accounts", [conn.root], "deep_copy", overrides={}, connector=conn)
    assert not plan.refused_reason
    assert any("Account Number is unique in Accounts" in w and "blank" in w for w in plan.warnings)
    assert "Email is unique in Contacts: copies get it blank." in plan.warnings
    assert not any("Copy" in w for w in plan.warnings)
    plan = preview(
        engine_profile, "Accounts", [conn.root], "clone", overrides={"Account_Number": "A-2"}, connector=conn
    )
    assert plan.warnings == []


def test_unique_required_field_without_a_value_is_refused(engine_profile, owner):
    conn = connector(account_extra=(NUMBER, CODE))
    plan = preview(engine_profile, "Accounts", [conn.root], "clone", overrides={}, connector=conn)
    assert "Code (Code) is unique and required in Accounts" in plan.refused_reason
    with pytest.raises(ValidationError):
        start_job(engine_profile, owner, "Accounts", [conn.root], "clone", connector=conn)
    plan = preview(engine_profile, "Accounts", [conn.root], "clone", overrides={"Code": "C-2"}, connector=conn)
    assert not plan.refused_reason


def test_unique_required_child_field_is_a_warning(engine_profile):
    conn = connector(contact_extra=(FieldInfo("Badge", "Badge", FieldType.TEXT, unique=True, required=True),))
    plan = preview(engine_profile, "Accounts", [conn.root], "deep_copy", overrides={}, connector=conn)
    assert not plan.refused_reason
    assert any("Badge is unique and required in Contacts" in w for w in plan.warnings)


def test_copies_get_unique_fields_blank_and_keep_overrides_and_keys(engine_profile, owner):
    conn = connector()
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
