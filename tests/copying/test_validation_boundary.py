"""One validation at the service boundary (issue 17): whatever reaches copy_preview/copy_job_create —
from a form, the CLI, a bulk CSV or a template — is refused there when it holds control characters,
numbers outside the field's digits and range, or text beyond its length; source ids too. The bulk
CSV is parsed strictly: an unterminated quote is a row error naming its line, not a swallowed file.

Against the real connectors and the sandbox: nothing may reach Vault or Zoho, no job row, no 500
(on PostgreSQL a NUL in a JSON or text column is a DataError, so the id must never get that far)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from records.connectors import connector_for
from records.connectors.base import FieldInfo, FieldType
from records.copying.job_create import copy_job_create
from records.copying.preview import copy_preview
from records.copying.validation import override_errors, source_id_errors
from records.models import CopyJob
from records.web.bulk_csv import parse_bulk_csv
from tests.fixtures.engine import copy_request, preview, start_job

pytestmark = pytest.mark.django_db


def _find(conn, object_name, name):
    return next(r.id for r in conn.search(object_name, name).records if r.name == name)


@pytest.fixture
def zoho(fresh_sandbox, zoho_profile):
    return fresh_sandbox, zoho_profile, _find(connector_for(zoho_profile), "Accounts", "Globex")


@pytest.fixture
def vault(fresh_sandbox, vault_profile):
    return fresh_sandbox, vault_profile, _find(connector_for(vault_profile), "product__v", "Neurolax")


def _log_len(sb, system):
    return len(sb.log(system))


ZOHO_REFUSED = [
    ("Account_Name", "Acme\x00Corp", "control character"),
    ("Account_Name", "Acme\x1b[31mCorp", "control character"),
    ("Account_Name", "Acme\x7f", "control character"),
    ("Account_Name", "Acme\x85", "control character"),
    ("Account_Name", "Two\nlines", "control character"),
    ("Account_Name", "Tab\there", "control character"),
    ("Account_Name", "lone \ud800 surrogate", "control character"),
    ("Description", "NUL \x00 in a long text", "control character"),
    ("Description", "bell \x07", "control character"),
    ("Industry", "Tech\x00", "control character"),
    ("Parent_Account", "1\x00", "control character"),
    ("Parent_Account", {"id": "1\x1b"}, "control character"),
    ("Employees", 10**30, "at most 9 digits"),
    ("Employees", "1000000000", "at most 9 digits"),
    ("Employees", -(10**12), "at most 9 digits"),
    ("Annual_Revenue", 10**30, "digits"),
    ("Annual_Revenue", "1e30", "digits"),
    ("Annual_Revenue", 1.125, "decimal places"),
    ("Annual_Revenue", "12345678901234567.5", "digits"),
]


@pytest.mark.parametrize("field, value, words", ZOHO_REFUSED, ids=[f"{f}-{v!r}"[:40] for f, v, _ in ZOHO_REFUSED])
def test_zoho_values_are_refused_at_the_service(zoho, owner, field, value, words):
    sb, profile, account = zoho
    overrides = {"Account_Name": "Boundary Co", field: value}
    for call in (copy_preview, copy_job_create):
        extra = {"user": owner} if call is copy_job_create else {}
        with pytest.raises(ValidationError) as exc:
            call(request=copy_request(profile, "Accounts", [account], "clone", overrides=overrides), **extra)
        message = " ".join(exc.value.messages)
        assert field in message and words in message, message
        assert "\x00" not in message and len(message) < 500
    assert not CopyJob.objects.exists()


ZOHO_ACCEPTED = [
    ("Description", "Two lines\nand a\ttab\r\nand CRLF"),
    ("Account_Name", "Ürün ✓ 名前 O'Brien"),
    ("Employees", 999_999_999),
    ("Employees", -999_999_999),
    ("Annual_Revenue", 1234567890123456.25),
    ("Annual_Revenue", "0.5"),
]


@pytest.mark.parametrize("field, value", ZOHO_ACCEPTED, ids=[f"{f}-{v!r}"[:40] for f, v in ZOHO_ACCEPTED])
def test_zoho_values_within_the_limits_pass(zoho, owner, field, value):
    sb, profile, account = zoho
    plan = preview(profile, "Accounts", [account], "clone", overrides={"Account_Name": "Boundary Co", field: value})
    assert plan.refused_reason == ""


@pytest.mark.parametrize(
    "value, words",
    [(10**30, "digits"), ("1e19", "digits"), ("0.0000000001", "decimal places"), ("Neuro\x00lax", "control character")],
)
def test_vault_values_are_refused_at_the_service(vault, owner, value, words):
    sb, profile, product = vault
    field = "name__v" if isinstance(value, str) and "lax" in value else "price__c"
    overrides = {"name__v": "Boundary Product", field: value}
    with pytest.raises(ValidationError) as exc:
        start_job(profile, owner, "product__v", [product], "clone", enqueue=True, overrides=overrides)
    message = " ".join(exc.value.messages)
    assert field in message and words in message, message
    assert not CopyJob.objects.exists()


def test_row_overrides_are_checked_the_same_way(zoho, owner):
    sb, profile, account = zoho
    with pytest.raises(ValidationError, match="control character"):
        start_job(
            profile,
            owner,
            "Accounts",
            [account],
            "clone",
            enqueue=True,
            row_overrides={account: {"Account_Name": "Row\x00Co"}},
        )
    assert not CopyJob.objects.exists()


@pytest.mark.parametrize("bad_id", ["12\x00", "\x00", "1\n2", "12 34", "1;2", "x" * 65])
def test_a_bad_source_id_is_refused_before_any_request(zoho, vault, owner, bad_id):
    for sb, profile, obj, system, good in (
        (zoho[0], zoho[1], "Accounts", "zoho", zoho[2]),
        (vault[0], vault[1], "product__v", "vault", vault[2]),
    ):
        before = _log_len(sb, system)
        for call in (copy_preview, copy_job_create):
            extra = {"user": owner} if call is copy_job_create else {}
            with pytest.raises(ValidationError) as exc:
                call(request=copy_request(profile, obj, [good, bad_id], "clone"), **extra)
            message = " ".join(exc.value.messages)
            assert "record id" in message and "\x00" not in message and len(message) < 300, message
        assert _log_len(sb, system) == before, sb.log(system)[before:]
    assert not CopyJob.objects.exists()


def test_source_id_errors_names_each_bad_id():
    assert source_id_errors(["123", "0PR000000000001", "a_b-c"]) == []
    errors = source_id_errors(["ok1", "bad\x00", "x" * 100])
    assert len(errors) == 2 and "\\x00" in errors[0] and "…" in errors[1] and len(errors[1]) < 150


def test_unit_rules_with_declared_digits_and_range():
    info = FieldInfo(
        name="qty", label="Quantity", type=FieldType.DECIMAL, max_digits=3, decimal_places=1, min_value=0, max_value=500
    )
    assert override_errors(fields=[info], overrides={"qty": 499.5}) == {}
    assert "at most 500" in override_errors(fields=[info], overrides={"qty": 500.5})["qty"]
    assert "at least 0" in override_errors(fields=[info], overrides={"qty": -1})["qty"]
    assert "decimal places" in override_errors(fields=[info], overrides={"qty": "1.25"})["qty"]
    assert "digits" in override_errors(fields=[info], overrides={"qty": 1000})["qty"]
    text = FieldInfo(name="t", label="T", type=FieldType.TEXT, max_length=5)
    assert "at most 5" in override_errors(fields=[text], overrides={"t": "123456"})["t"]
    assert override_errors(fields=[text], overrides={"t": "ééééé"}) == {}


# -- the copy command -------------------------------------------------------------------------


def test_copy_command_refuses_a_huge_number_and_a_nul_id(zoho):
    sb, profile, account = zoho
    for args, words in (
        (["--set", f"Employees={10**30}"], "at most 9 digits"),
        (["--set", "Account_Name=A\x01B"], "control character"),
    ):
        err = io.StringIO()
        with pytest.raises(SystemExit) as exc:
            call_command(
                "copy",
                profile.name,
                "Accounts",
                account,
                "--set",
                "Account_Name=Cmd Co",
                *args,
                "--sync",
                stdout=io.StringIO(),
                stderr=err,
            )
        assert exc.value.code == 2 and words in err.getvalue(), err.getvalue()
    assert not CopyJob.objects.exists()


# -- bulk CSV -----------------------------------------------------------------------------------

FIELDS = [
    FieldInfo(name="Account_Name", label="Account Name", type=FieldType.TEXT, required=True, max_length=200),
    FieldInfo(name="Description", label="Description", type=FieldType.LONG_TEXT, max_length=32000),
    FieldInfo(name="Employees", label="Employees", type=FieldType.NUMBER, max_digits=9),
]


def test_an_unterminated_quote_is_a_row_error_naming_its_line():
    text = 'id,Account_Name\n1,Acme\n2,"Beta\n3,Gamma\n4,Delta\n'
    parsed = parse_bulk_csv(text, FIELDS)
    assert not parsed.ok
    bad = parsed.row_errors
    assert len(bad) == 1 and bad[0].line == 3, [(r.line, r.errors) for r in parsed.rows]
    assert "line 3" in " ".join(bad[0].errors) and "quote" in " ".join(bad[0].errors)
    assert [r.source_id for r in parsed.rows if not r.errors] == ["1"]


def test_a_stray_quote_after_a_quoted_cell_is_a_row_error_and_the_next_rows_still_count():
    parsed = parse_bulk_csv('id,Account_Name\n1,"Acme"x\n2,Beta\n', FIELDS)
    assert not parsed.ok
    assert [(r.line, bool(r.errors)) for r in parsed.rows] == [(2, True), (3, False)]
    assert "line 2" in parsed.rows[0].errors[0] and "quote" in parsed.rows[0].errors[0]


def test_quoted_cells_over_several_lines_keep_their_line_numbers():
    parsed = parse_bulk_csv('id,Description\n1,"two\nlines"\n2,x\n3,"a ""quoted"" word"\n', FIELDS)
    assert parsed.ok, [(r.line, r.errors) for r in parsed.rows]
    assert [(r.line, r.source_id) for r in parsed.rows] == [(2, "1"), (4, "2"), (5, "3")]
    assert parsed.rows[0].overrides == {"Description": "two\nlines"}


@pytest.mark.parametrize(
    "content, words",
    [
        ("id,Account_Name\n1\x00,Acme\n", "record id"),
        ("id,Account_Name\n1,Ac\x01me\n", "control character"),
        ("id,Employees\n1,1000000000000000000000000000000\n", "at most 9 digits"),
    ],
)
def test_bulk_rows_go_through_the_service_rules(content, words):
    parsed = parse_bulk_csv(content, FIELDS)
    assert not parsed.ok
    text = " ".join(e for r in parsed.rows for e in r.errors)
    assert words in text and "\x00" not in text, text


def test_bulk_upload_of_a_nul_id_against_zoho_is_refused_on_the_page(owner_client, zoho):
    # Before: the row passed, and Confirm answered 500 on PostgreSQL (DataError: NUL in the job's JSON).
    sb, profile, account = zoho
    content = f"id,Account_Name\n{account},Good\n{account[:-1]}\x00,Evil\n".encode()
    upload = SimpleUploadedFile("ids.csv", content, content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "Accounts", "file": upload}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "record id" in body and "copy_drafts" not in owner_client.session
    assert not CopyJob.objects.exists()


def test_bulk_upload_with_an_unterminated_quote_queues_nothing(owner_client, zoho):
    sb, profile, account = zoho
    content = f'id,Account_Name\n{account},"Never closed\n{account}9,Other\n'.encode()
    upload = SimpleUploadedFile("ids.csv", content, content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "Accounts", "file": upload}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "line 2" in body and "quote" in body and "copy_drafts" not in owner_client.session


def test_confirm_of_a_draft_holding_a_nul_id_is_refused_not_a_500(owner_client, zoho):
    # A draft made before this check (or by any other path) reaches Confirm: the service refuses it
    # before the job row is written; on PostgreSQL that write was the DataError (500).
    from records.web.drafts import DRAFTS_KEY

    sb, profile, account = zoho
    session = owner_client.session
    session[DRAFTS_KEY] = {
        "d1": {
            "profile": str(profile.code),
            "object_name": "Accounts",
            "mode": "clone",
            "source_ids": [account, "12\x00"],
            "overrides": {},
            "row_overrides": {"12\x00": {"Account_Name": "x"}},
            "label": "old draft",
        }
    }
    session.save()
    owner_client.raise_request_exception = False
    response = owner_client.post(reverse("copy_confirm", args=["d1"]), follow=True)
    assert response.status_code == 200
    assert "record id" in response.content.decode()
    assert not CopyJob.objects.exists()


def test_a_value_template_with_a_control_character_is_refused_too():
    """Templates (issue 16) reach jobs as well: their own text gets the boundary's rule."""
    from records.connectors.base import FieldInfo, FieldType
    from records.copying.choices import check_values

    name = FieldInfo(name="name__v", label="Name", type=FieldType.TEXT, max_length=128)
    with pytest.raises(ValidationError, match="control character"):
        check_values(fields=[name], values={"name__v": "{name__v}\x00 (copy)"})
    check_values(fields=[name], values={"name__v": "{name__v} (copy)"})  # the same without it passes
