""" "Make unique" against the sandbox over HTTP: after 1, 2 and 20 clashes, each try on the row."""

import pytest
from django.core.exceptions import ValidationError

from records.connectors import connector_for
from records.copying.job_actions import copy_job_run
from records.copying.job_create import copy_job_create
from records.copying.options import CopyOptions
from records.copying.preview import copy_preview
from records.copying.unique import numbered
from records.models import CopyJob, RecordResult
from tests.fixtures.engine import copy_request

S = RecordResult.Status


def run(profile, user, object_name, ids, mode, **kw):
    job = copy_job_create(request=copy_request(profile, object_name, ids, mode, **kw), user=user, enqueue=False)
    return copy_job_run(job_id=job.pk, worker_id="test")


@pytest.fixture
def zoho(fresh_sandbox, zoho_profile):
    conn = connector_for(zoho_profile)
    src = next(r.id for r in conn.search("Accounts", "Globex").records if r.name == "Globex")
    number = conn.get("Accounts", src).fields["Account_Number"]
    assert number
    return fresh_sandbox, zoho_profile, conn, src, number


def taken(conn, number, n_from, n_to):
    rows = [{"Account_Name": f"Taken {n}", "Account_Number": numbered(number, n, 40)} for n in range(n_from, n_to + 1)]
    assert all(r.ok for r in conn.create("Accounts", rows))


UNIQUE = CopyOptions(unique={"Accounts": ("Account_Number",)})


def test_numbered_fits_the_field():
    assert numbered("abc", 2, None) == "abc (2)"
    assert numbered("x" * 40, 12, 40) == "x" * 35 + " (12)"


def test_one_clash_gets_2(zoho, owner):
    sb, profile, conn, src, number = zoho
    job = run(profile, owner, "Accounts", [src], "clone", options=UNIQUE)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get()
    assert conn.get("Accounts", row.new_id).fields["Account_Number"] == f"{number} (2)"
    assert row.values["_unique_tries"] == [f"{number} (2)"]
    assert row.attempts == 2


def test_two_clashes_get_3_in_an_engine_built_deep_copy(zoho, owner):
    sb, profile, conn, src, number = zoho
    taken(conn, number, 2, 2)
    job = run(profile, owner, "Accounts", [src], "deep_copy", options=UNIQUE)
    assert job.status == CopyJob.Status.SUCCEEDED, job.error_summary
    row = job.results.get(depth=0)
    assert conn.get("Accounts", row.new_id).fields["Account_Number"] == f"{number} (3)"
    assert row.values["_unique_tries"] == [f"{number} (2)", f"{number} (3)"]
    # the children hang under the numbered copy
    assert job.results.filter(depth__gt=0, status=S.SUCCEEDED).count() == job.planned_count - 1


def test_twenty_clashes_stop_with_every_try_recorded(zoho, owner):
    sb, profile, conn, src, number = zoho
    taken(conn, number, 2, 21)
    job = run(profile, owner, "Accounts", [src], "clone", options=UNIQUE)
    row = job.results.get()
    assert row.status == S.FAILED and row.error_type == "DUPLICATE_DATA"
    assert "Made unique 20 times" in row.error_message
    assert row.values["_unique_tries"] == [f"{number} ({n})" for n in range(2, 22)]
    assert len([e for e in sb.log("zoho") if e.method == "POST" and e.path.endswith("/actions/clone")]) == 21


def test_without_make_unique_a_clash_fails_once(zoho, owner):
    sb, profile, conn, src, number = zoho
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


def test_only_unique_text_fields_can_be_made_unique(zoho):
    sb, profile, conn, src, number = zoho
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
    assert {
        "object_name": "product__v",
        "source_id": src,
        "field": "name__v",
        "value": "Neurolax (copy)",
    } in plan.samples
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
