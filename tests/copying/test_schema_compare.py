"""What won't fit in the target, one object at a time: two describes compared and the copied
records' values counted against each difference."""

from records.connectors.base import FieldInfo, FieldType
from records.copying.schema_compare import compare_object, report_lines

T = FieldType


def product_fields(**changes):
    fields = {
        "id": FieldInfo("id", "ID", T.TEXT, editable=False, unique=True),
        "name__v": FieldInfo("name__v", "Name", T.TEXT, required=True, max_length=128),
        "description__c": FieldInfo("description__c", "Description", T.LONG_TEXT, max_length=32000),
        "launch_date__c": FieldInfo("launch_date__c", "Launch Date", T.DATE),
        "dosage__c": FieldInfo("dosage__c", "Dosage", T.PICKLIST, picklist_values=("tablet__c", "syrup__c")),
        "regions__c": FieldInfo("regions__c", "Regions", T.MULTI_PICKLIST, picklist_values=("north", "west")),
        "price__c": FieldInfo("price__c", "Price", T.NUMBER),
        "code__c": FieldInfo("code__c", "Code", T.TEXT, max_length=20),
        "copy_key__c": FieldInfo("copy_key__c", "Copy key", T.TEXT, unique=True, max_length=60),
        "modified_date__v": FieldInfo("modified_date__v", "Modified", T.DATETIME, editable=False),
    }
    for name, info in changes.items():
        if info is None:
            fields.pop(name)
        else:
            fields[name] = info
    return list(fields.values())


RECORDS = [
    {"name__v": "A", "description__c": "x" * 3000, "launch_date__c": "2024-01-01", "dosage__c": ["syrup__c"]},
    {"name__v": "B", "description__c": "short", "launch_date__c": None, "dosage__c": ["tablet__c"]},
    {"name__v": "C", "dosage__c": ["syrup__c"], "regions__c": ["north", "west"], "price__c": 5},
]


def test_same_schema_no_differences():
    diff = compare_object("product__v", product_fields(), product_fields(), RECORDS)
    assert diff.empty and report_lines(diff) == []


def test_each_kind_of_difference_named_with_the_records_it_touches():
    target = product_fields(
        launch_date__c=None,
        dosage__c=FieldInfo("dosage__c", "Dosage", T.PICKLIST, picklist_values=("tablet__c",)),
        regions__c=FieldInfo("regions__c", "Regions", T.MULTI_PICKLIST, picklist_values=("north",)),
        description__c=FieldInfo("description__c", "Description", T.LONG_TEXT, max_length=2000),
        price__c=FieldInfo("price__c", "Price", T.DECIMAL),  # wider: fits
        code__c=FieldInfo("code__c", "Code", T.NUMBER),
        region_code__c=FieldInfo("region_code__c", "Region code", T.TEXT, required=True),
        modified_date__v=None,  # not copied: not a difference
    )
    diff = compare_object("product__v", product_fields(), target, RECORDS, skip={"copy_key__c"})
    assert diff.missing_fields == [{"field": "launch_date__c", "label": "Launch Date", "records": 1}]
    assert diff.missing_values == [
        {"field": "dosage__c", "value": "syrup__c", "records": 2},
        {"field": "regions__c", "value": "west", "records": 1},
    ]
    assert diff.shorter == [{"field": "description__c", "source_length": 32000, "target_length": 2000, "records": 1}]
    assert diff.other_type == [{"field": "code__c", "source_type": T.TEXT, "target_type": T.NUMBER, "records": 0}]
    assert diff.required_unfilled == [{"field": "region_code__c", "label": "Region code", "records": 3}]
    lines = report_lines(diff)
    assert (
        "product__v: field launch_date__c (Launch Date) is not in the target; left out (1 record hold a value)."
        in lines
    )
    assert "product__v: value 'syrup__c' of dosage__c is not in the target; left out on 2 records." in lines
    assert any("region_code__c" in line and "required" in line and "3 records" in line for line in lines)
    assert len(lines) == 6


def test_required_target_field_counted_where_the_source_leaves_it_empty():
    source = product_fields(code__c=FieldInfo("code__c", "Code", T.TEXT, max_length=20))
    target = product_fields(code__c=FieldInfo("code__c", "Code", T.TEXT, max_length=20, required=True))
    diff = compare_object(
        "product__v",
        source,
        target,
        [{"name__v": n, **c} for n, c in zip("ABC", ({"code__c": "X"}, {"code__c": ""}, {}), strict=True)],
    )
    assert diff.required_unfilled == [{"field": "code__c", "label": "Code", "records": 2}]


def test_fields_not_copied_are_not_differences():
    """The copy key, system fields and read-only fields are set in the target, never copied."""
    target = product_fields(copy_key__c=None, id=None)
    source = product_fields(legacy__c=FieldInfo("legacy__c", "Legacy", T.TEXT, no_copy=True))
    assert compare_object("product__v", source, target, RECORDS, skip={"copy_key__c"}).empty


def test_unknown_source_length_listed_only_when_a_value_is_too_long():
    source = product_fields(code__c=FieldInfo("code__c", "Code", T.TEXT))
    target = product_fields(code__c=FieldInfo("code__c", "Code", T.TEXT, max_length=3))
    assert compare_object("product__v", source, target, [{"name__v": "A", "code__c": "abc"}]).empty
    diff = compare_object(
        "product__v", source, target, [{"name__v": "A", "code__c": "abcd"}, {"name__v": "B", "code__c": "ab"}]
    )
    assert diff.shorter == [{"field": "code__c", "source_length": None, "target_length": 3, "records": 1}]


def test_object_missing_in_the_target():
    diff = compare_object("regions__c", product_fields(), None, RECORDS)
    assert diff.missing_object and report_lines(diff) == ["regions__c: the target has no such object."]
