"""Bad input against the real connectors and the sandbox (records/copying/validation.py): a clear
message naming the problem and no partial harm — no CopyJob row, nothing queued, no write reached
Vault or Zoho, never a 500. Then the one validation at the service boundary: whatever reaches
copy_preview/copy_job_create — from a form, the CLI, a bulk CSV or a template — is refused there.

(The form widgets are covered with a fake connector in tests/web/test_new_copy.py, the CSV parser in
tests/web/test_bulk_csv.py; URL refusal in tests/connectors/test_urls.py; VQL/COQL quoting in
tests/connectors/test_vault.py and test_zoho.py.)"""

import io
import math

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
from tests.fixtures.engine import copy_request, preview, run_job, start_job
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
READS = ("/query", "/coql", "/oauth/", "/auth", "/search")


def writes(sb, system):
    """Requests that could have changed remote data (the sandbox serves reads as GET or read-only POSTs)."""
    return [
        e
        for e in sb.log(system)
        if e.method in ("POST", "PUT", "PATCH", "DELETE") and not any(r in e.path for r in READS)
    ]


ZOHO_BAD = [
    # (field, value, words in the message)
    ("Employees", "lots", "whole number"),
    ("Employees", 1.5, "whole number"),
    ("Employees", True, "whole number"),
    ("Employees", "1e3", "whole number"),
    ("Annual_Revenue", "a lot", "number"),
    ("Annual_Revenue", False, "number"),
    ("Annual_Revenue", "NaN", "number"),
    ("Annual_Revenue", "Infinity", "number"),
    ("Annual_Revenue", math.inf, "number"),
    ("Is_Key_Account", "yes", "true or false"),
    ("Is_Key_Account", 1, "true or false"),
    ("Customer_Since", "2024-13-01", "YYYY-MM-DD"),
    ("Customer_Since", "01/02/2024", "YYYY-MM-DD"),
    ("Customer_Since", "20240501", "YYYY-MM-DD"),
    ("Customer_Since", "2024-W01-1", "YYYY-MM-DD"),
    ("Customer_Since", 20240501, "YYYY-MM-DD"),
    ("Last_Review", "yesterday", "ISO 8601"),
    ("Last_Review", "2024-05-01T25:00:00", "ISO 8601"),
    ("Industry", "Piracy", "not one of"),
    ("Regions", "North;Atlantis", "Atlantis"),
    ("Parent_Account", 12345, "record id"),
    ("Parent_Account", {"name": "x"}, "record id"),
    ("Parent_Account", "1' OR Account_Name != ''", "record id"),
    ("Parent_Account", "x" * 10_000, "record id"),
    ("Branches", "North", "can't be set"),
    ("Phone", 5551234, "text"),
    ("Phone", "5" * 31, "at most 30"),
    ("Account_Name", "A" * 10_000, "at most 200"),
    ("Account_Name", None, "required"),
    ("Account_Name", "", "required"),
    ("ERP_Id", "E-1", "read-only"),
    ("Created_Time", "2024-01-01T00:00:00+00:00", "read-only"),
    ("Nope__c", "x", "no field"),
    ("Account_Name; DROP TABLE", "x", "no field"),
]


@pytest.mark.parametrize("field, value, words", ZOHO_BAD, ids=[f"{f}-{str(v)[:20]}" for f, v, _ in ZOHO_BAD])
@pytest.mark.parametrize("mode", ["clone", "deep_copy"])
def test_zoho_wrong_overrides_are_refused_before_anything_is_sent(zoho, owner, field, value, words, mode):
    sb, profile, conn = zoho
    account = find_record(conn, "Accounts", "Globex")
    overrides = {"Account_Name": "Bad Input Co", field: value}
    with pytest.raises(ValidationError) as exc:
        start_job(profile, owner, "Accounts", [account], mode, enqueue=True, overrides=overrides)
    message = " ".join(exc.value.messages)
    assert field in message and words in message, message
    assert len(message) < 500  # a sentence, not an echo of 10,000 characters
    assert not CopyJob.objects.exists()
    assert writes(sb, "zoho") == []


def test_zoho_wrong_row_overrides_name_the_record(zoho, owner):
    sb, profile, conn = zoho
    account = find_record(conn, "Accounts", "Globex")
    with pytest.raises(ValidationError) as exc:
        start_job(
            profile, owner, "Accounts", [account], "clone", enqueue=True, row_overrides={account: {"Employees": "many"}}
        )
    assert f"Record {account}" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError):
        start_job(profile, owner, "Accounts", [account], "clone", enqueue=True, row_overrides={"999": {"Phone": "1"}})
    assert not CopyJob.objects.exists() and writes(sb, "zoho") == []


VAULT_BAD = [
    ("price__c", "cheap", "number"),
    ("price__c", "NaN", "number"),
    ("launch_date__c", "2024-02-30", "YYYY-MM-DD"),
    ("country__c", "00C' OR id != '", "record id"),
    ("country__c", ["C1"], "record id"),
    ("name__v", None, "required"),
    ("name__v", "N" * 129, "at most 128"),
    ("regulatory_status__c", "approved", "read-only"),
    ("id", "0PR000000000001", "read-only"),
    ("created_date__v", "2024-01-01T00:00:00Z", "read-only"),
    ("bogus__c", "x", "no field"),
]


@pytest.mark.parametrize("field, value, words", VAULT_BAD, ids=[f"{f}-{str(v)[:20]}" for f, v, _ in VAULT_BAD])
def test_vault_wrong_overrides_are_refused_before_anything_is_sent(vault, owner, field, value, words):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    overrides = {"name__v": "Bad Input Product", field: value}
    with pytest.raises(ValidationError) as exc:
        start_job(profile, owner, "product__v", [product], "deep_copy", enqueue=True, overrides=overrides)
    message = " ".join(exc.value.messages)
    assert field in message and words in message, message
    assert not CopyJob.objects.exists() and writes(sb, "vault") == []


@pytest.mark.parametrize(
    "record_id", ["1' OR '1'='1", "SELECT id FROM product__v", "Ürün-✓", "x" * 10_000, "../../admin", "", "   "]
)
def test_weird_record_ids_are_refused_clearly(vault, zoho, owner, record_id):
    for sb, profile, obj, system in (
        (vault[0], vault[1], "product__v", "vault"),
        (zoho[0], zoho[1], "Accounts", "zoho"),
    ):
        with pytest.raises((ValidationError, Exception)) as exc:
            start_job(profile, owner, obj, [record_id], "clone", enqueue=True, overrides={})
        assert type(exc.value).__name__ in ("ValidationError", "NotFound", "Rejected"), repr(exc.value)
        assert len(str(exc.value)) < 500
        assert not CopyJob.objects.exists() and writes(sb, system) == []


def test_a_duplicate_id_is_refused(zoho, owner):
    sb, profile, conn = zoho
    account = find_record(conn, "Accounts", "Globex")
    with pytest.raises(ValidationError, match="listed twice"):
        start_job(profile, owner, "Accounts", [account, f" {account} "], "clone", enqueue=True)
    assert not CopyJob.objects.exists() and writes(sb, "zoho") == []


# -- the copy command -------------------------------------------------------------------------


def cmd(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(*args, stdout=out, stderr=err)
    return exc.value.code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--set", "Employees"], "FIELD=VALUE"),
        (["--set", "=5"], "FIELD=VALUE"),
        (["--set", "Employees=twelve"], "whole number"),
        (["--set", "Annual_Revenue=nan"], "number"),
        (["--set", "Is_Key_Account=maybe"], "true or false"),
        (["--set", 'Branches=[{"Branch_Name": "x"}'], "can't be set"),
        (["--set", "Customer_Since=2024-02-30"], "YYYY-MM-DD"),
        (["--set", "Industry=Piracy"], "not one of"),
        (["--set", "Parent_Account=1 OR 1=1"], "record id"),
        (["--set", "Nope=1"], "Nope"),
        (["--clear", "Account_Name"], "required"),
    ],
)
def test_copy_command_bad_overrides_exit_2_with_one_line(zoho, args, words):
    sb, profile, conn = zoho
    account = find_record(conn, "Accounts", "Globex")
    code, out, err = cmd("copy", profile.name, "Accounts", account, "--set", "Account_Name=Cmd Co", *args, "--sync")
    assert code == 2 and words in err and err.strip().count("\n") == 0, err
    assert "Traceback" not in err + out
    assert not CopyJob.objects.exists() and writes(sb, "zoho") == []


@pytest.mark.parametrize("record_id", ["1' OR '1'='1", "Ürün", "x" * 10_000, "SELECT id FROM Accounts"])
def test_copy_command_weird_ids_exit_2(zoho, vault, record_id):
    for sb, profile, obj, system in (
        (zoho[0], zoho[1], "Accounts", "zoho"),
        (vault[0], vault[1], "product__v", "vault"),
    ):
        code, out, err = cmd("copy", profile.name, obj, record_id, "--sync")
        assert code == 2 and err.strip() and err.strip().count("\n") == 0, err
        assert len(err) < 500 and "Traceback" not in err
        assert not CopyJob.objects.exists() and writes(sb, system) == []


def test_copy_command_weird_object_name_exits_2(vault):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    code, _, err = cmd("copy", profile.name, "product__v WHERE 1=1", product, "--sync")
    assert code == 2 and err.strip() and not CopyJob.objects.exists() and writes(sb, "vault") == []


# -- web pages --------------------------------------------------------------------------------

TEXTS = [
    "O'Brien",
    "' OR name__v != '",
    "SELECT id FROM product__v",
    "FIND ('x')",
    "'; DELETE FROM Accounts --",
    "Ürün ✓ 名前 \u202e",
    "\x00",
    "%' AND 1=1 --",
    "x" * 10_000,
    "\\'",
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_search_page_never_fails_on_odd_text(owner_client, vault_profile, zoho_profile, fresh_sandbox, text):
    for profile, obj in ((vault_profile, "product__v"), (zoho_profile, "Accounts")):
        response = owner_client.get(reverse("copy_search", args=[profile.code, obj]), {"q": text})
        assert response.status_code == 200
        body = response.content.decode()
        assert "Traceback" not in body and "<script" not in text or text not in body
    assert writes(fresh_sandbox, "vault") == [] and writes(fresh_sandbox, "zoho") == []


@pytest.mark.parametrize("record_id", ["1' OR '1'='1", "Ürün", "x" * 2_000, "SELECT id FROM product__v", "%00"])
def test_record_page_never_fails_on_odd_ids(owner_client, vault_profile, zoho_profile, fresh_sandbox, record_id):
    for profile, obj in ((vault_profile, "product__v"), (zoho_profile, "Accounts")):
        response = owner_client.get(reverse("copy_record", args=[profile.code, obj, record_id]))
        assert response.status_code == 200
        body = response.content.decode()
        assert 'class="msg msg-error"' in body and "Traceback" not in body and 'name="f_' not in body


@pytest.mark.parametrize("object_name", ["product__v' OR", "Accounts WHERE id != 0", "..", "x" * 300, "Ürün"])
def test_object_pages_never_fail_on_odd_object_names(
    owner_client, vault_profile, zoho_profile, fresh_sandbox, object_name
):
    for profile in (vault_profile, zoho_profile):
        for url in (
            reverse("copy_search", args=[profile.code, object_name]),
            reverse("copy_record", args=[profile.code, object_name, "1"]),
        ):
            assert owner_client.get(url).status_code in (200, 404), url


def test_record_page_escapes_remote_html(owner_client, zoho_profile, fresh_sandbox):
    conn = connector_for(zoho_profile)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    rid = conn.create("Accounts", [{"Account_Name": evil, "Description": evil, "Phone": "<b>1</b>"}])[0].new_id
    for url in (
        reverse("copy_record", args=[zoho_profile.code, "Accounts", rid]),
        reverse("copy_search", args=[zoho_profile.code, "Accounts"]) + "?q=script",
    ):
        body = owner_client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>1</b>" not in body
        assert "&lt;script&gt;" in body


def test_job_page_escapes_remote_values_from_a_real_job(owner_client, owner, zoho_profile, fresh_sandbox):
    conn = connector_for(zoho_profile)
    evil = '<script>alert("job")</script>'
    rid = conn.create("Accounts", [{"Account_Name": "Escaped Co", "Phone": "1"}])[0].new_id
    job = start_job(
        zoho_profile, owner, "Accounts", [rid], "clone", overrides={"Account_Name": evil, "Phone": "x" * 30}
    )
    job = run_job(job, worker="esc")
    body = owner_client.get(reverse("job_detail", args=[job.code])).content.decode()
    assert "<script>alert" not in body
    preview_body = str(job.plan)
    assert evil in preview_body  # the plan did keep the raw value: only the page escapes it


# -- bulk upload against the real connector ----------------------------------------------------


@pytest.mark.parametrize(
    "content, words",
    [
        (b"name\nX\n", "exactly one column named"),
        (b"id,Nope\n1,x\n", "Unknown column"),
        (b"id,ERP_Id\n1,x\n", "can't be set"),
        ("id,Account_Name\n1,Caf\u00e9\n".encode("utf-16"), "UTF-8"),
        ("id,Account_Name\n1,Caf\u00e9\n".encode("latin-1"), "UTF-8"),
        (b"id,Employees\n1,many\n", "whole number"),
        (b"id\n1\n1\n", "Duplicate id"),
        (b"\xef\xbb\xbfid,Employees\n1,x\n", "whole number"),  # a BOM is fine; the bad value is not
        (b"id\n" + b"".join(b"%d\n" % i for i in range(20_000)), "more than"),
        (b"", "empty"),
    ],
)
def test_bulk_upload_against_zoho_queues_nothing(owner_client, zoho_profile, fresh_sandbox, content, words):
    upload = SimpleUploadedFile("ids.csv", content, content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(zoho_profile.code), "object_name": "Accounts", "file": upload}
    )
    assert response.status_code == 200
    body = response.content.decode().replace("&#x27;", "'")
    assert words in body, body[-2000:]
    assert "copy_drafts" not in owner_client.session
    assert not CopyJob.objects.exists() and writes(fresh_sandbox, "zoho") == []


VAULT_PICKLIST_BAD = [
    # (field, value, words in the message) — value NAMES of the field's picklist, exact case, active only
    ("status__v", "bogus__v", '"bogus__v" is not one of this picklist\'s values; allowed: active__v, inactive__v'),
    ("status__v", "Active", '"Active" is not one of'),  # a label, not a name
    ("status__v", "ACTIVE__V", '"ACTIVE__V" is not one of'),
    ("status__v", "withdrawn__c", '"withdrawn__c" is not one of'),  # inactive
    ("status__v", ["active__v", "inactive__v"], "takes one value"),
    (
        "markets__c",
        ["us__c", "mars__c"],
        '"mars__c" is not one of this picklist\'s values; allowed: us__c, eu__c, jp__c, cn__c',
    ),
    ("markets__c", "us__c,mars__c,venus__c", '"mars__c", "venus__c" are not among'),
    ("markets__c", "us__c;Japan", '"Japan" is not one of'),
]


@pytest.mark.parametrize(
    "field, value, words", VAULT_PICKLIST_BAD, ids=[f"{f}-{str(v)[:20]}" for f, v, _ in VAULT_PICKLIST_BAD]
)
@pytest.mark.parametrize("mode", ["clone", "deep_copy"])
def test_vault_picklist_value_outside_the_list_is_refused_up_front(vault, owner, field, value, words, mode):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    with pytest.raises(ValidationError) as exc:
        start_job(
            profile,
            owner,
            "product__v",
            [product],
            mode,
            enqueue=True,
            overrides={"name__v": "Picklist Product", field: value},
        )
    message = " ".join(exc.value.messages)
    assert f"({field}): " in message and words in message, message
    assert not CopyJob.objects.exists() and writes(sb, "vault") == []


def test_vault_picklist_values_of_the_list_pass(vault, owner):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    top = {"name__v": "Picklist Product", "status__v": "inactive__v", "markets__c": ["us__c", "jp__c"]}
    job = start_job(profile, owner, "product__v", [product], "clone", enqueue=True, overrides=top)
    assert job.pk and writes(sb, "vault") == []  # queued, not yet run


def test_vault_picklist_row_overrides_are_checked_too(vault, owner):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    rows = {product: {"name__v": "Row Product", "status__v": "bogus__v"}}
    with pytest.raises(ValidationError, match="bogus__v"):
        start_job(profile, owner, "product__v", [product], "clone", enqueue=True, row_overrides=rows)
    assert not CopyJob.objects.exists() and writes(sb, "vault") == []


@pytest.mark.parametrize(
    "args, words",
    [
        (["--set", "status__v=bogus__v"], "allowed: active__v, inactive__v"),
        (["--set", "markets__c=us__c;mars__c"], '"mars__c" is not one of'),
    ],
)
def test_copy_command_refuses_a_vault_picklist_value_outside_the_list(vault, args, words):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    code, out, err = cmd("copy", profile.name, "product__v", product, "--set", "name__v=Cmd Product", *args, "--sync")
    assert code == 2 and words in err and err.strip().count("\n") == 0, err
    assert not CopyJob.objects.exists() and writes(sb, "vault") == []


def test_record_page_offers_and_checks_the_vault_picklist_values(owner_client, vault):
    sb, profile, conn = vault
    product = find_record(conn, "product__v", "Neurolax")
    url = reverse("copy_record", args=[profile.code, "product__v", product])
    page = owner_client.get(url).content.decode()
    assert 'value="inactive__v"' in page and 'value="jp__c"' in page and "withdrawn__c" not in page
    response = owner_client.post(url, {"mode": "clone", "f_name__v": "Form Product", "f_status__v": "bogus__v"})
    assert response.status_code == 200 and "bogus__v" in response.content.decode()
    assert "f_status__v" in response.context["form"].errors
    assert "copy_drafts" not in owner_client.session
    assert not CopyJob.objects.exists() and writes(sb, "vault") == []


# -- one validation at the service boundary ------------------------------------------------------
# Whatever reaches copy_preview/copy_job_create — from a form, the CLI, a bulk CSV or a template —
# is refused there when it holds control characters, numbers outside the field's digits and range,
# or text beyond its length; source ids too. On PostgreSQL a NUL in a JSON or text column is a
# DataError, so the id must never get that far.


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
def test_zoho_values_are_refused_at_the_service(globex, owner, field, value, words):
    sb, profile, _, account = globex
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
def test_zoho_values_within_the_limits_pass(globex, owner, field, value):
    sb, profile, _, account = globex
    plan = preview(profile, "Accounts", [account], "clone", overrides={"Account_Name": "Boundary Co", field: value})
    assert plan.refused_reason == ""


@pytest.mark.parametrize(
    "value, words",
    [(10**30, "digits"), ("1e19", "digits"), ("0.0000000001", "decimal places"), ("Neuro\x00lax", "control character")],
)
def test_vault_values_are_refused_at_the_service(neurolax, owner, value, words):
    sb, profile, _, product = neurolax
    field = "name__v" if isinstance(value, str) and "lax" in value else "price__c"
    overrides = {"name__v": "Boundary Product", field: value}
    with pytest.raises(ValidationError) as exc:
        start_job(profile, owner, "product__v", [product], "clone", enqueue=True, overrides=overrides)
    message = " ".join(exc.value.messages)
    assert field in message and words in message, message
    assert not CopyJob.objects.exists()


def test_row_overrides_are_checked_the_same_way(globex, owner):
    sb, profile, _, account = globex
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
def test_a_bad_source_id_is_refused_before_any_request(globex, neurolax, owner, bad_id):
    for sb, profile, obj, system, good in (
        (globex.sandbox, globex.profile, "Accounts", "zoho", globex.record_id),
        (neurolax.sandbox, neurolax.profile, "product__v", "vault", neurolax.record_id),
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


def test_copy_command_refuses_a_huge_number_and_a_nul_id(globex):
    sb, profile, _, account = globex
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


# -- bulk upload and Confirm --------------------------------------------------------------------


def test_bulk_upload_of_a_nul_id_against_zoho_is_refused_on_the_page(owner_client, globex):
    # Before: the row passed, and Confirm answered 500 on PostgreSQL (DataError: NUL in the job's JSON).
    sb, profile, _, account = globex
    content = f"id,Account_Name\n{account},Good\n{account[:-1]}\x00,Evil\n".encode()
    upload = SimpleUploadedFile("ids.csv", content, content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "Accounts", "file": upload}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "record id" in body and "copy_drafts" not in owner_client.session
    assert not CopyJob.objects.exists()


def test_bulk_upload_with_an_unterminated_quote_queues_nothing(owner_client, globex):
    sb, profile, _, account = globex
    content = f'id,Account_Name\n{account},"Never closed\n{account}9,Other\n'.encode()
    upload = SimpleUploadedFile("ids.csv", content, content_type="text/csv")
    response = owner_client.post(
        reverse("bulk_upload"), {"profile": str(profile.code), "object_name": "Accounts", "file": upload}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "line 2" in body and "quote" in body and "copy_drafts" not in owner_client.session


def test_confirm_of_a_draft_holding_a_nul_id_is_refused_not_a_500(owner_client, globex):
    # A draft made before this check (or by any other path) reaches Confirm: the service refuses it
    # before the job row is written; on PostgreSQL that write was the DataError (500).
    from records.web.drafts import DRAFTS_KEY

    sb, profile, _, account = globex
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
    """Templates reach jobs as well: their own text gets the boundary's rule."""
    from records.connectors.base import FieldInfo, FieldType
    from records.copying.choices import check_values

    name = FieldInfo(name="name__v", label="Name", type=FieldType.TEXT, max_length=128)
    with pytest.raises(ValidationError, match="control character"):
        check_values(fields=[name], values={"name__v": "{name__v}\x00 (copy)"})
    check_values(fields=[name], values={"name__v": "{name__v} (copy)"})  # the same without it passes
