"""What won't fit in the target profile, found before anything is written: fields and picklist
values it lacks, required fields the source doesn't fill, shorter or other-typed fields.

Each object of the plan is described in both profiles (the connectors cache describes) and
compared by schema_compare over the records the plan read; the differences go into
plan.cross["schema"] and their words into plan.cross["report"].
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from records.connectors.base import Connector, FieldInfo
from records.connectors.errors import NotFound
from records.copying.schema_compare import SchemaDiff, compare_object, report_lines
from records.copying.tree import Node, Plan, copy_key_names


def compare(*, plan: Plan, trees: dict[str, list[Node]], source: Connector, target: Connector) -> None:
    """Put the schema differences of every object in the plan into plan.cross["schema"] (and report lines)."""
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for nodes in trees.values():
        for node in nodes:
            records[node.object_name].append(node.fields)
    objects = [o.object_name for o in plan.objects] or list(records)
    # Set in the target by the system or the copy itself, never carried from the source.
    skip = {*source.system_fields, *target.org_specific_fields, *copy_key_names(target.copy_key_fields)}
    diffs = [_diff(o, source, target, records.get(o, []), skip) for o in dict.fromkeys(objects)]
    found = [d for d in diffs if not d.empty]
    labels = {o.object_name: o.label for o in plan.objects}  # the tables name objects as people know them
    plan.cross["schema"] = [{**d.as_dict(), "label": labels.get(d.object_name, "")} for d in found]
    plan.cross.setdefault("report", []).extend(line for d in found for line in report_lines(d))


def _diff(
    object_name: str, source: Connector, target: Connector, records: list[dict[str, Any]], skip: set[str]
) -> SchemaDiff:
    target_fields: list[FieldInfo] | None
    try:
        target_fields = target.describe(object_name)
    except NotFound:
        target_fields = None
    return compare_object(object_name, source.describe(object_name), target_fields, records, skip=skip)
