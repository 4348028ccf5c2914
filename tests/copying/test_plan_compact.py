"""What a plan read on a worker keeps of each record once it is stored (plan_compact.compactor)."""

from __future__ import annotations

import pytest

from records.connectors.base import FieldType
from records.copying import tree
from records.copying.options import CopyOptions
from records.copying.plan_compact import compactor

pytestmark = pytest.mark.django_db


def _task(conn) -> tuple[tree.Node, dict]:
    fields = {f.name: "x" for f in conn.describe("Tasks") if f.type not in (FieldType.REFERENCE, FieldType.FILE)}
    fields.update(
        {"Who_Id": {"id": "c1", "name": "Ann"}, "What_Id": {"id": "d1", "name": "Deal"}, "$se_module": "Deals"}
    )
    return tree.Node("Tasks", "t1", 2, "c1", "Who_Id", fields, "Call"), fields


def test_a_record_keeps_its_references_as_ids_and_what_names_their_objects(zoho):
    _, _, conn = zoho
    node, _ = _task(conn)
    kept = compactor(conn, CopyOptions())(node)
    assert kept.fields == {"Who_Id": "c1", "What_Id": "d1", "$se_module": "Deals"}
    assert (kept.source_id, kept.depth, kept.parent_source_id, kept.parent_field, kept.name) == (
        "t1",
        2,
        "c1",
        "Who_Id",
        "",  # its name is in the stored piece; the plan reads no name below the top in memory
    )
    assert conn.reference_target(next(f for f in conn.describe("Tasks") if f.name == "What_Id"), kept.fields) == "Deals"


def test_the_top_record_and_the_records_whose_values_change_are_kept_whole(zoho):
    _, _, conn = zoho
    node, fields = _task(conn)
    changed = compactor(conn, CopyOptions(fields={"Tasks": {"Subject": "Again"}}))
    assert changed(node).fields == fields
    top = tree.Node("Accounts", "a1", 0, fields={"Account_Name": "Big", "Website": "x"})
    assert compactor(conn, CopyOptions())(top) is top
