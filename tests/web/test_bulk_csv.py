"""The bulk CSV parser (records/web/bulk_csv.py), no page and no database: a byte-order mark,
`#clear`, file errors (no id column, unknown or uneditable columns, no rows), errors per row
naming their line, a row limit, quotes parsed strictly (an unterminated quote is a row error naming
its line, not a swallowed file), each cell through the service's rules."""

import pytest

from records.connectors.base import FieldInfo, FieldType
from records.web.bulk_csv import parse_bulk_csv
from tests.fixtures.web import FIELDS


def test_parse_bulk_csv_accepts_bom_and_overrides():
    text = "\ufeffid,name__v,external_id__v,launch_date__c\nP1,Copy one,#clear,2025-01-31\nP2,,,\n"
    parsed = parse_bulk_csv(text, FIELDS)
    assert parsed.ok
    assert [r.source_id for r in parsed.rows] == ["P1", "P2"]
    assert parsed.rows[0].overrides == {"name__v": "Copy one", "external_id__v": None, "launch_date__c": "2025-01-31"}
    assert parsed.rows[1].overrides == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("name__v\nX\n", "exactly one column named 'id'"),
        ("id,bogus__c\nP1,x\n", "Unknown column 'bogus__c'"),
        ("id,photo\nP1,x\n", "can't be set on a copy"),
        ("id\n", "no rows"),
        ("", "empty"),
    ],
)
def test_parse_bulk_csv_file_errors(text, message):
    parsed = parse_bulk_csv(text, FIELDS)
    assert not parsed.ok
    assert message in " ".join(parsed.errors)


def test_parse_bulk_csv_row_errors():
    text = "id,name__v,units__c,status__v,launch_date__c\nP1,,x,active__v,2025-01-01\nP1,A,1,nope,2025-13-01\n,B,1,,\nP4,#clear,,,\n"
    parsed = parse_bulk_csv(text, FIELDS)
    errors = {r.line: " ".join(r.errors) for r in parsed.row_errors}
    assert "Units" in errors[2]
    assert "Duplicate id P1" in errors[3] and "Status" in errors[3] and "Launch date" in errors[3]
    assert "id is empty" in errors[4]
    assert "required and can't be cleared" in errors[5]


def test_parse_bulk_csv_limits_rows():
    text = "id\n" + "".join(f"P{i}\n" for i in range(11))
    assert "more than 10 rows" in " ".join(parse_bulk_csv(text, FIELDS, max_rows=10).errors)


ACCOUNT_FIELDS = [
    FieldInfo(name="Account_Name", label="Account Name", type=FieldType.TEXT, required=True, max_length=200),
    FieldInfo(name="Description", label="Description", type=FieldType.LONG_TEXT, max_length=32000),
    FieldInfo(name="Employees", label="Employees", type=FieldType.NUMBER, max_digits=9),
]


def test_an_unterminated_quote_is_a_row_error_naming_its_line():
    text = 'id,Account_Name\n1,Acme\n2,"Beta\n3,Gamma\n4,Delta\n'
    parsed = parse_bulk_csv(text, ACCOUNT_FIELDS)
    assert not parsed.ok
    bad = parsed.row_errors
    assert len(bad) == 1 and bad[0].line == 3, [(r.line, r.errors) for r in parsed.rows]
    assert "line 3" in " ".join(bad[0].errors) and "quote" in " ".join(bad[0].errors)
    assert [r.source_id for r in parsed.rows if not r.errors] == ["1"]


def test_a_stray_quote_after_a_quoted_cell_is_a_row_error_and_the_next_rows_still_count():
    parsed = parse_bulk_csv('id,Account_Name\n1,"Acme"x\n2,Beta\n', ACCOUNT_FIELDS)
    assert not parsed.ok
    assert [(r.line, bool(r.errors)) for r in parsed.rows] == [(2, True), (3, False)]
    assert "line 2" in parsed.rows[0].errors[0] and "quote" in parsed.rows[0].errors[0]


def test_quoted_cells_over_several_lines_keep_their_line_numbers():
    parsed = parse_bulk_csv('id,Description\n1,"two\nlines"\n2,x\n3,"a ""quoted"" word"\n', ACCOUNT_FIELDS)
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
    parsed = parse_bulk_csv(content, ACCOUNT_FIELDS)
    assert not parsed.ok
    text = " ".join(e for r in parsed.rows for e in r.errors)
    assert words in text and "\x00" not in text, text


def test_a_file_with_thousands_of_unknown_columns_gets_a_short_answer():
    """A header of 5,000 unknown columns answered with 5,000 lines, one per column."""
    from records.connectors.base import FieldInfo
    from records.web.bulk_csv import parse_bulk_csv

    fields = [FieldInfo(name="name__v", label="Name", type="text", editable=True)]
    header = ",".join(f"c{i}" for i in range(5000)) + ",c0"
    parsed = parse_bulk_csv(f"id,{header}\nP1\n", fields)
    assert not parsed.ok and len(parsed.errors) == 2, parsed.errors[:3]
    unknown = next(e for e in parsed.errors if e.startswith("Unknown columns"))
    assert "'c0', 'c1'" in unknown and "… and 4990 more" in unknown
    assert parsed.errors[0] == "Columns named more than once: c0."
    one = parse_bulk_csv("id,bogus__c\nP1,x\n", fields)
    assert one.errors == ["Unknown column 'bogus__c': there is no such field."]


def test_one_unique_value_on_two_rows_is_refused():
    fields = [FieldInfo("name__v", "Name", FieldType.TEXT, unique=True), FieldInfo("note", "Note", FieldType.TEXT)]
    parsed = parse_bulk_csv(
        "id,name__v,note\nP1,Same,x\nP2,Same,x\nP3,{name__v} (copy),\nP4,{name__v} (copy),\n", fields
    )
    assert not parsed.ok
    assert [r.source_id for r in parsed.row_errors] == ["P2"]
    assert parsed.row_errors[0].errors == ["Name “Same” is also on line 2: a unique value can go on one copy only."]
