"""Masking rules (records/masking/rules.py): parsed from `[OBJECT:]FIELD=RULE`, refused with a clear
message when unknown or when they can't fit their field."""

import pytest
from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType
from records.masking import rules as R

EMAIL = FieldInfo("Email", "Email", FieldType.TEXT, remote_type="email", max_length=100)
EMPLOYEES = FieldInfo("Employees", "Employees", FieldType.NUMBER)
ACCOUNT = FieldInfo("Account_Name", "Account Name", FieldType.REFERENCE, reference_to="Accounts")
KEY = FieldInfo("Copy_Key", "Copy Key", FieldType.TEXT, max_length=64, unique=True)
LAST = FieldInfo("Last_Name", "Last Name", FieldType.TEXT, required=True, max_length=80)
FULL = FieldInfo("Full_Name", "Full Name", FieldType.TEXT, editable=False)
CODE = FieldInfo("code__c", "Code", FieldType.TEXT, max_length=5)


def test_parse_names_the_top_object_without_one():
    assert R.parse(["Email=email", "Accounts:Phone=PHONE"], top_object="Contacts") == {
        "Contacts": {"Email": "email"},
        "Accounts": {"Phone": "phone"},
    }


@pytest.mark.parametrize("item", ["Email", "=email", "Email=scramble"])
def test_parse_refuses_a_bad_item(item):
    with pytest.raises(ValidationError) as exc:
        R.parse([item], top_object="Contacts")
    assert item in exc.value.messages[0]


@pytest.mark.parametrize(
    ("info", "rule", "words"),
    [
        (EMPLOYEES, "email", "is a number field: the email rule can't give it a value"),
        (ACCOUNT, "name", "is a reference to another record"),
        (KEY, "hash", "copy-key field"),
        (LAST, "blank", "is required: it can't be blank"),
        (FULL, "name", "is set by the system"),
        (CODE, "email", "holds 5 characters: too short for the email rule"),
        (EMAIL, "scramble", "unknown rule"),
    ],
)
def test_a_rule_that_cant_fit_its_field_is_refused_with_the_reason(info, rule, words):
    with pytest.raises(ValidationError) as exc:
        R.check(object_name="Contacts", fields=[info], rules={info.name: rule}, key_field="Copy_Key")
    assert words in exc.value.messages[0]
    assert f"Contacts.{info.name} = {rule}" in exc.value.messages[0]


def test_rules_that_fit_pass_and_labels_name_only_the_rule():
    R.check(object_name="Contacts", fields=[EMAIL, EMPLOYEES], rules={"Email": "email", "Employees": "number"})
    assert R.label("email") == "masked (email)"
    assert R.is_label("masked (email)") and not R.is_label("masked (me)")
