"""Stand-ins (records/masking/standins.py): every rule on the field types of both systems fits its
field, differs from the source, is the same for the same value and key, another for another key,
and stays unique over 10,000 values of a unique field."""

import datetime as dt
import re

import pytest

from records.connectors.base import FieldInfo, FieldType
from records.masking.standins import Masker

# The field types as each connector parses them (Zoho email/phone are text with a remote type).
ZOHO_EMAIL = FieldInfo("Email", "Email", FieldType.TEXT, remote_type="email", max_length=100, unique=True)
ZOHO_PHONE = FieldInfo("Phone", "Phone", FieldType.TEXT, remote_type="phone", max_length=30)
ZOHO_FIRST = FieldInfo("First_Name", "First Name", FieldType.TEXT, max_length=40)
ZOHO_ACCOUNT = FieldInfo("Account_Name", "Account Name", FieldType.TEXT, max_length=200, required=True)
ZOHO_CITY = FieldInfo("Mailing_City", "Mailing City", FieldType.TEXT, max_length=100)
ZOHO_BIRTH = FieldInfo("Date_of_Birth", "Date of Birth", FieldType.DATE)
ZOHO_REVIEW = FieldInfo("Last_Review", "Last Review", FieldType.DATETIME)
ZOHO_EMPLOYEES = FieldInfo("Employees", "Employees", FieldType.NUMBER, min_value=0, max_value=99999)
ZOHO_REVENUE = FieldInfo("Annual_Revenue", "Annual Revenue", FieldType.DECIMAL, decimal_places=2)
ZOHO_DESCRIPTION = FieldInfo("Description", "Description", FieldType.LONG_TEXT, max_length=32000)
ZOHO_INDUSTRY = FieldInfo("Industry", "Industry", FieldType.PICKLIST, picklist_values=("Retail", "Banking", "Pharma"))
VAULT_NAME = FieldInfo("name__v", "Name", FieldType.TEXT, remote_type="String", max_length=128, unique=True)
VAULT_STREET = FieldInfo("street__c", "Street", FieldType.TEXT, remote_type="String", max_length=25)
VAULT_SSN = FieldInfo("ssn__c", "SSN", FieldType.TEXT, remote_type="String", max_length=11)
VAULT_DATE = FieldInfo("launch_date__c", "Launch date", FieldType.DATE, remote_type="Date")
VAULT_PRICE = FieldInfo("price__c", "Price", FieldType.DECIMAL, remote_type="Number", min_value=0, max_value=1000)

CASES = [
    ("email", ZOHO_EMAIL, "Jane.Doe@acme-pharma.com"),
    ("phone", ZOHO_PHONE, "+1 (415) 555-0134"),
    ("name", ZOHO_FIRST, "Jane"),
    ("name", ZOHO_ACCOUNT, "Acme Pharma"),
    ("name", VAULT_NAME, "Dr. Jane Doe"),
    ("text", ZOHO_DESCRIPTION, "Met at the Boston congress, prefers calls in the morning."),
    ("text", ZOHO_INDUSTRY, "Retail"),
    ("address", ZOHO_CITY, "Boston"),
    ("address", VAULT_STREET, "12 Harbour Street"),
    ("number", ZOHO_EMPLOYEES, 1250),
    ("number", ZOHO_REVENUE, 125000.5),
    ("number", VAULT_PRICE, 42),
    ("number", VAULT_SSN, "078-05-1120"),
    ("date", ZOHO_BIRTH, "1980-03-04"),
    ("date", ZOHO_REVIEW, "2026-12-06T02:03:04+05:30"),
    ("date", VAULT_DATE, "2024-01-31"),
    ("hash", VAULT_SSN, "078-05-1120"),
    ("hash", ZOHO_FIRST, "ERP-000123"),
]


def fits(info, value):
    if info.picklist_values:
        return value in info.picklist_values
    if info.type in (FieldType.TEXT, FieldType.LONG_TEXT):
        return isinstance(value, str) and (info.max_length is None or len(value) <= info.max_length)
    if info.type in (FieldType.NUMBER, FieldType.DECIMAL):
        low = info.min_value if info.min_value is not None else float("-inf")
        high = info.max_value if info.max_value is not None else float("inf")
        whole = info.type == FieldType.DECIMAL or isinstance(value, int)
        return whole and low <= float(value) <= high
    if info.type == FieldType.DATE:
        return bool(dt.date.fromisoformat(value))
    return bool(dt.datetime.fromisoformat(value))


@pytest.mark.parametrize(("rule", "info", "value"), CASES, ids=[f"{r}-{i.name}" for r, i, _ in CASES])
def test_a_standin_fits_its_field_differs_and_is_the_same_for_the_same_key(rule, info, value):
    first, again, other = Masker(b"target-a"), Masker(b"target-a"), Masker(b"target-b")
    out = first.standin(rule, value, info)
    assert fits(info, out), out
    assert out != value
    assert again.standin(rule, value, info) == out  # another job into the same target
    assert other.standin(rule, value, info) != out  # another target


def test_email_standins_are_at_reserved_domains_and_ignore_the_case_of_the_source():
    masker = Masker(b"k")
    out = masker.standin("email", "Jane.Doe@Acme.com", ZOHO_EMAIL)
    assert re.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.(com|org|net)", out)
    assert Masker(b"k").standin("email", " jane.doe@acme.com", ZOHO_EMAIL) == out


def test_shapes_are_kept_for_phones_and_numbers_in_text():
    masker = Masker(b"k")
    assert re.fullmatch(r"\+\d \(\d{3}\) \d{3}-\d{4}", masker.standin("phone", "+1 (415) 555-0134", ZOHO_PHONE))
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", masker.standin("number", "078-05-1120", VAULT_SSN))
    assert len(str(masker.standin("number", 1250, ZOHO_EMPLOYEES))) == 4
    assert len(masker.standin("text", "x" * 57, ZOHO_DESCRIPTION)) <= 57


def test_a_date_moves_the_same_days_for_the_same_date_and_keeps_its_time():
    masker = Masker(b"k")
    out = masker.standin("date", "2026-12-06T02:03:04+05:30", ZOHO_REVIEW)
    assert out.endswith("T02:03:04+05:30")
    days = abs((dt.date.fromisoformat(out[:10]) - dt.date(2026, 12, 6)).days)
    assert 1 <= days <= 365


def test_hash_is_the_same_across_fields_so_ids_stay_joinable():
    masker = Masker(b"k")
    assert masker.standin("hash", "ERP-1", ZOHO_FIRST) == masker.standin("hash", "ERP-1", VAULT_NAME)


def test_keep_and_blank_and_empty_values():
    masker = Masker(b"k")
    assert masker.standin("keep", "Jane", ZOHO_FIRST) == "Jane"
    assert masker.standin("blank", "Jane", ZOHO_FIRST) is None
    assert masker.standin("name", "", ZOHO_FIRST) == ""
    assert masker.standin("name", None, ZOHO_FIRST) is None


@pytest.mark.parametrize(
    ("rule", "info", "make"),
    [
        ("email", ZOHO_EMAIL, lambda i: f"person{i}@acme.com"),
        ("name", VAULT_NAME, lambda i: f"Person {i}"),
        ("hash", FieldInfo("erp", "ERP", FieldType.TEXT, max_length=12, unique=True), lambda i: f"E{i}"),
        ("phone", FieldInfo("tel", "Tel", FieldType.TEXT, max_length=20, unique=True), lambda i: f"555-{i:05d}"),
    ],
)
def test_a_unique_field_stays_unique_over_ten_thousand_values(rule, info, make):
    masker = Masker(b"k")
    outs = [masker.standin(rule, make(i), info, object_name="Contacts") for i in range(10_000)]
    assert len(set(outs)) == 10_000
    assert all(o is not None for o in outs)


SAMPLES = {
    FieldType.TEXT: "Sample 0123 Value",
    FieldType.LONG_TEXT: "Sample value\nwith two lines",
    FieldType.NUMBER: 1234,
    FieldType.DECIMAL: 12.5,
    FieldType.DATE: "2020-03-03",
    FieldType.DATETIME: "2026-12-06T02:03:04.000Z",
}


def demo_fields(setup, objects):
    for obj in objects:
        for info in setup.connector.describe(obj):
            yield obj, info


@pytest.mark.django_db
def test_every_rule_that_fits_a_demo_field_of_either_system_gives_a_fitting_different_standin(zoho, vault):
    from records.masking import rules as R

    checked = 0
    fields = [
        *demo_fields(zoho, ["Contacts", "Accounts", "Deals"]),
        *demo_fields(vault, ["product__v", "formulation__c"]),
    ]
    for obj, info in fields:
        value = info.picklist_values[0] if info.picklist_values else SAMPLES.get(info.type)
        if value is None:
            continue
        for rule in R.RULES:
            if rule in (R.KEEP, R.BLANK) or R.fit_error(info, rule, key_field="Copy_Key"):
                continue
            out = Masker(b"demo").standin(rule, value, info, object_name=obj)
            assert out != value, (obj, info.name, rule)
            assert fits(info, out), (obj, info.name, rule, out)
            assert Masker(b"demo").standin(rule, value, info, object_name=obj) == out
            checked += 1
    assert checked > 50
