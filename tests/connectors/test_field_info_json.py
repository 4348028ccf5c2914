"""A field's metadata kept as JSON (a stored plan's fields, the fields a clone's plan keeps for its
run) and read back, also after the app's FieldInfo has changed."""

import json

from records.connectors.base import FieldInfo, FieldType


def test_a_field_kept_as_json_reads_back_the_same():
    info = FieldInfo(
        "status__v",
        "Status",
        FieldType.PICKLIST,
        unique=True,
        picklist_values=("a__c", "b__c"),
        picklist_labels=("A", "B"),
    )
    assert FieldInfo.from_dict(json.loads(json.dumps(info.as_dict()))) == info


def test_a_key_the_app_no_longer_knows_is_left_out_and_a_missing_one_takes_its_default():
    kept = {"name": "code__v", "label": "Code", "type": FieldType.TEXT, "unique": True, "a_later_removed_key": 1}
    assert FieldInfo.from_dict(kept) == FieldInfo("code__v", "Code", FieldType.TEXT, unique=True)
