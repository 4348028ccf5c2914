"""What a preview shows of the masking: per object, each masked field with its rule, how many of
the planned records hold a value in it, and one sample (source → stand-in).

The source sample is shown to the person previewing, who can read the source already; the job
keeps the table without either sample (`without_samples`: the job page and the approval box
show the fields, rules and counts only, to anyone who may see the job). The stand-ins come from the write
profile's key (made here on first use), so the sample is the value the copy will write (unless a
unique field's stand-in is taken by another record first)."""

from __future__ import annotations

from typing import Any

from records.connectors.base import Connector
from records.copying.request import CopyRequest
from records.copying.tree import Node, copy_key_field
from records.masking import keys as masking_keys
from records.masking import rules as masking_rules
from records.masking.apply import MaskSet

Trees = dict[str, list[Node]]
SAMPLES = ("sample_source", "sample_standin")
Table = dict[str, list[dict[str, Any]]]


def mask_set(request: CopyRequest, connector: Connector) -> MaskSet:
    """The masking of a request as the run will apply it: the write profile's policy and key."""
    write = request.write_profile
    return MaskSet(
        rules=masking_rules.merge(request.options.mask, masking_keys.policy_of(write)),
        key=lambda: masking_keys.masking_key(write),
        describe=connector.describe,
        suggested=request.options.mask_suggested,
        key_field=lambda obj: copy_key_field(connector.describe(obj), connector.copy_key_fields),
    )


def mask_preview(*, trees: Trees, request: CopyRequest, connector: Connector, masks: MaskSet | None = None) -> Table:
    """{object: [{field, label, rule, count, sample_source, sample_standin}]} over the records
    planned; an object none of whose fields is masked is left out. `connector`: the source's;
    `masks`: the run's MaskSet when given (with the stand-ins held in the target passed over)."""
    masks = masks or mask_set(request, connector)
    table: Table = {}
    for obj, nodes in by_object(trees).items():
        rules = masks.rules_for(obj)
        if rules:
            table[obj] = _rows(masks, obj, rules, list(values_by_id(connector, obj, nodes, sorted(rules)).values()))
    return table


def by_object(trees: Trees) -> dict[str, list[Node]]:
    out: dict[str, list[Node]] = {}
    for nodes in trees.values():
        for node in nodes:
            out.setdefault(node.object_name, []).append(node)
    return out


def values_by_id(connector: Connector, obj: str, nodes: list[Node], names: list[str]) -> dict[str, dict[str, Any]]:
    """{source id: fields} of the planned records: as read (a deep copy's snapshots), else read now
    in the connector's batches (a clone's plan reads names only)."""
    known = {n.source_id: n.fields for n in nodes if n.fields}
    missing = [n.source_id for n in nodes if not n.fields]
    read = connector.field_values(obj, missing, names) if missing else {}
    return {**known, **read}


def _rows(masks: MaskSet, obj: str, rules: dict[str, str], values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    infos = masks.infos(obj)
    rows = []
    for name, rule in rules.items():
        held = [v[name] for v in values if v.get(name) not in (None, "", [])]
        sample = held[0] if held else None
        standin = masks.standins(obj, {name: sample}).get(name) if held else None
        rows.append(
            {
                "field": name,
                "label": infos[name].label,
                "rule": rule,
                "count": len(held),
                "sample_source": sample,
                "sample_standin": standin,
            }
        )
    return rows


def without_samples(table: Table) -> Table:
    return {obj: [{k: v for k, v in row.items() if k not in SAMPLES} for row in rows] for obj, rows in table.items()}
