"""The overrides form for Vault fields: picklists come as one-item arrays and with no values listed."""

from records.connectors.base import FieldInfo, FieldType
from records.web.forms import OverridesForm

FIELDS = [
    FieldInfo("name__v", "Name", FieldType.TEXT, required=True, unique=True),
    FieldInfo("status__v", "Status", FieldType.PICKLIST, required=True),  # Vault: values not in metadata
    FieldInfo("markets__c", "Markets", FieldType.MULTI_PICKLIST),
]
RECORD = {"name__v": "Cardiostat", "status__v": ["active__v"], "markets__c": ["us__c", "eu__c"]}


def form(**changes):
    # The unique name is offered as "Cardiostat (copy)" (the copy can't keep the source's).
    data = {
        "mode": "clone",
        "f_name__v": "Cardiostat (copy)",
        "f_status__v": "active__v",
        "f_markets__c": "us__c;eu__c",
    }
    data.update(changes)
    return OverridesForm(data, fields=FIELDS, record_values=RECORD)


def test_untouched_vault_picklists_are_not_overrides():
    f = form()
    assert f.is_valid(), f.errors
    assert f.overrides() == {"name__v": "Cardiostat (copy)"}
    assert OverridesForm(fields=FIELDS, record_values=RECORD)["f_status__v"].initial == "active__v"


def test_changed_vault_picklists_become_overrides():
    f = form(f_status__v="inactive__v", f_markets__c="jp__c")
    assert f.is_valid(), f.errors
    assert f.overrides() == {"name__v": "Cardiostat (copy)", "status__v": "inactive__v", "markets__c": ["jp__c"]}


def test_a_required_vault_picklist_cannot_be_blanked():
    f = form(f_status__v="")
    assert not f.is_valid() and "f_status__v" in f.errors


LISTED = [
    FieldInfo("name__v", "Name", FieldType.TEXT, required=True, unique=True),
    FieldInfo("dosage_form__c", "Dosage form", FieldType.PICKLIST, picklist_values=["tablet__c", "capsule__c"]),
    FieldInfo("markets__c", "Markets", FieldType.MULTI_PICKLIST, picklist_values=["us__c", "eu__c"]),
]
# The record holds values that were made inactive since: the picklists no longer offer them.
OLD_RECORD = {"name__v": "Cardiostat", "dosage_form__c": ["powder__c"], "markets__c": ["us__c", "cn__c"]}


def test_a_no_longer_offered_value_of_the_record_passes_untouched():
    data = {
        "mode": "clone",
        "f_name__v": "Cardiostat (copy)",
        "f_dosage_form__c": "powder__c",
        "f_markets__c": ["us__c", "cn__c"],
    }
    f = OverridesForm(data, fields=LISTED, record_values=OLD_RECORD)
    assert f.is_valid(), f.errors
    assert f.overrides() == {"name__v": "Cardiostat (copy)"}
    assert ("powder__c", "powder__c (current value, no longer offered)") in f.fields["f_dosage_form__c"].choices


def test_other_values_outside_the_picklist_are_still_refused():
    data = {
        "mode": "clone",
        "f_name__v": "Cardiostat (copy)",
        "f_dosage_form__c": "syrup__c",
        "f_markets__c": ["us__c"],
    }
    f = OverridesForm(data, fields=LISTED, record_values=OLD_RECORD)
    assert not f.is_valid() and "f_dosage_form__c" in f.errors
