"""The overrides form for Vault fields: picklists come as one-item arrays and with no values listed."""

from records.connectors.base import FieldInfo, FieldType
from records.forms import OverridesForm

FIELDS = [
    FieldInfo("name__v", "Name", FieldType.TEXT, required=True, unique=True),
    FieldInfo("status__v", "Status", FieldType.PICKLIST, required=True),  # Vault: values not in metadata
    FieldInfo("markets__c", "Markets", FieldType.MULTI_PICKLIST),
]
RECORD = {"name__v": "Cardiostat", "status__v": ["active__v"], "markets__c": ["us__c", "eu__c"]}


def form(**changes):
    data = {"mode": "clone", "f_name__v": "Cardiostat", "f_status__v": "active__v", "f_markets__c": "us__c;eu__c"}
    data.update(changes)
    return OverridesForm(data, fields=FIELDS, record_values=RECORD)


def test_untouched_vault_picklists_are_not_overrides():
    f = form()
    assert f.is_valid(), f.errors
    assert f.overrides() == {}
    assert OverridesForm(fields=FIELDS, record_values=RECORD)["f_status__v"].initial == "active__v"


def test_changed_vault_picklists_become_overrides():
    f = form(f_status__v="inactive__v", f_markets__c="jp__c")
    assert f.is_valid(), f.errors
    assert f.overrides() == {"status__v": "inactive__v", "markets__c": ["jp__c"]}


def test_a_required_vault_picklist_cannot_be_blanked():
    f = form(f_status__v="")
    assert not f.is_valid() and "f_status__v" in f.errors
