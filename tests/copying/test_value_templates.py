"""Value templates: every placeholder, braces, errors (records/copying/value_templates.py, pure)."""

from datetime import date

import pytest

from records.copying.value_templates import TemplateError, parse, placeholders, render

DAY = date(2026, 12, 1)


def r(text, **source):
    return render(text, source=source, today=DAY, job=42)


def test_field_today_and_job_placeholders():
    assert r("{name__v} (copy {today}) job {job}", name__v="Cholecap") == "Cholecap (copy 2026-12-01) job 42"


def test_double_braces_are_literal():
    assert r("{{x}} {Last_Name} }}", Last_Name="Doe") == "{x} Doe }"


def test_no_braces_and_non_strings_pass_through():
    assert r("plain") == "plain"
    assert r(12.5) == 12.5
    assert r(None) is None


def test_lookup_renders_its_name_empty_field_renders_empty():
    assert r("{Account_Name}/{Missing}", Account_Name={"id": "1", "name": "Acme"}) == "Acme/"


@pytest.mark.parametrize("bad", ["{name", "name}", "{}", "{ }", "{a{b}"])
def test_unmatched_braces_are_refused(bad):
    with pytest.raises(TemplateError):
        parse(bad)


def test_placeholders_lists_fields_only():
    assert placeholders("{a} {today} {{b}} {job} {c}") == {"a", "c"}


def test_a_rendered_value_is_checked_for_its_fields_length_and_characters():
    from django.core.exceptions import ValidationError

    from records.connectors.base import FieldInfo, FieldType
    from records.copying.choices import check_rendered

    fields = [
        FieldInfo("Name", "Name", FieldType.TEXT, max_length=100),
        FieldInfo("Notes", "Notes", FieldType.LONG_TEXT, max_length=1000),
    ]
    check_rendered(fields=fields, values={"Name": "short", "Notes": "two\nlines"}, where="Accounts 2")
    with pytest.raises(ValidationError, match=r"Accounts 2: Name \(Name\) would be 'x{80}…', 101 characters"):
        check_rendered(fields=fields, values={"Name": "x" * 101}, where="Accounts 2")
    with pytest.raises(
        ValidationError, match=r"Accounts 2: Name \(Name\) would be .*: a control character \(U\+000A\)"
    ):
        check_rendered(fields=fields, values={"Name": "two\nlines"}, where="Accounts 2")
