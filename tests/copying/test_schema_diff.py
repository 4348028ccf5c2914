"""What won't fit, for a copy into another profile: the plan's objects described in the source and
in the target org over HTTP (the target vault lacks launch_date__c and the syrup__c dosage form and
keeps description__c to 2,000 characters; the target Zoho org lacks Regions and the Negotiation
stage), with the records holding each value counted; a required target field the source lacks
with MemoryConnectors."""

import pytest

from records.connectors.base import FieldInfo, FieldType
from records.copying import schema_diff
from records.copying.preview import plan_copy
from records.copying.tree import Node, Plan, PlanObject
from records.models import CopyJob
from tests.fixtures.engine import ZOHO_FIELDS, MemoryConnector, copy_request
from tests.fixtures.sandbox import find_record

pytestmark = pytest.mark.django_db
DEEP = CopyJob.Mode.DEEP_COPY


def planned(setup, object_name, name):
    """The plan and trees of a deep copy read in the source (what the cross plan compares)."""
    sb, profile, conn = setup
    request = copy_request(profile, object_name, [find_record(conn, object_name, name)], DEEP)
    return plan_copy(request=request, connector=conn)


def test_vault_missing_field_missing_value_and_shorter_field(cross_vault):
    source, target = cross_vault
    plan, trees = planned(source, "product__v", "Linked Product")
    schema_diff.compare(plan=plan, trees=trees, source=source.connector, target=target.connector)
    diffs = {d["object_name"]: d for d in plan.cross["schema"]}
    product = diffs["product__v"]
    assert product["missing_fields"] == [{"field": "launch_date__c", "label": "Launch Date", "records": 1}]
    assert [(d["field"], d["target_length"], d["records"]) for d in product["shorter"]] == [("description__c", 2000, 0)]
    syrups = sum(1 for n in trees[plan.source_ids[0]] if n.fields.get("dosage_form__c") == ["syrup__c"])
    assert syrups == 1
    assert diffs["formulation__c"]["missing_values"] == [{"field": "dosage_form__c", "value": "syrup__c", "records": 1}]
    assert "packaging__c" not in diffs  # the same in both vaults
    assert (product["label"], diffs["formulation__c"]["label"]) == ("Products", "Formulations")  # for the tables
    report = plan.cross["report"]
    assert any("launch_date__c" in line and "left out" in line for line in report)
    assert any("'syrup__c'" in line and "1 record" in line for line in report)


def test_zoho_missing_field_and_picklist_value_counted(cross_zoho):
    source, target = cross_zoho
    sb, profile, conn = source
    deals = [r for r in conn.search("Deals", "", per_page=200).records if r.fields.get("Stage") == "Negotiation"]
    account = next(d.fields["Account_Name"]["id"] for d in deals)
    plan, trees = plan_copy(request=copy_request(profile, "Accounts", [account], DEEP), connector=conn)
    schema_diff.compare(plan=plan, trees=trees, source=conn, target=target.connector)
    diffs = {d["object_name"]: d for d in plan.cross["schema"]}
    negotiating = sum(1 for n in trees[account] if n.object_name == "Deals" and n.fields.get("Stage") == "Negotiation")
    assert negotiating >= 1
    assert diffs["Deals"]["missing_values"] == [{"field": "Stage", "value": "Negotiation", "records": negotiating}]
    assert [d["field"] for d in diffs["Accounts"]["missing_fields"]] == ["Regions"]
    assert diffs["Accounts"]["missing_fields"][0]["records"] == 1


def test_required_target_field_the_source_lacks():
    source = MemoryConnector()
    fields = {
        **ZOHO_FIELDS,
        "Accounts": [*ZOHO_FIELDS["Accounts"], FieldInfo("Region", "Region", FieldType.TEXT, required=True)],
    }
    target = MemoryConnector(fields=fields)
    acme = source.add("Accounts", Account_Name="Acme", Phone="1")
    plan = Plan("Accounts", DEEP, [acme], objects=[PlanObject("Accounts", "Accounts", 1, 0)])
    trees = {acme: [Node("Accounts", acme, 0, fields=source.get("Accounts", acme).fields)]}
    schema_diff.compare(plan=plan, trees=trees, source=source, target=target)
    assert plan.cross["schema"] == [
        {
            "object_name": "Accounts",
            "label": "Accounts",
            "missing_object": False,
            "missing_fields": [],
            "missing_values": [],
            "required_unfilled": [{"field": "Region", "label": "Region", "records": 1}],
            "shorter": [],
            "other_type": [],
        }
    ]
    assert plan.cross["report"] == [
        "Accounts: Region (Region) is required in the target and empty on 1 record; they will fail."
    ]
