"""A unique masked field's stand-ins checked against where the copies are written, in the plan.

Stand-ins are unique within a job (masking/standins.py); two jobs can still give two different
source values the same stand-in, and the target then refuses the second copy as a duplicate. So
the plan asks the write side, in the connector's batches (`match_ids`), which of the planned
stand-ins a record holds already; one held by a record other than the same source's copy that this
copy skips or updates (plan.cross["existing"]["found"]) is passed over: the source takes its next
stand-in, checked again (up to ROUNDS times); the preview's sample is then the one written. The
job keeps only digests of the held stand-ins (each masking row's "held"), which RunContext hands to
its Masker: no value is kept.
"""

from __future__ import annotations

from typing import Any

from records.connectors.base import Connector
from records.copying.mask_preview import Table, Trees, by_object, mask_preview, mask_set, values_by_id
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.masking.apply import MaskSet

ROUNDS = 3  # a next stand-in held too is rare: after this many rounds the target's refusal says it


def masking_plan(*, plan: Plan, trees: Trees, request: CopyRequest, source: Connector, target: Connector) -> Table:
    """plan.masking: the preview's table (mask_preview), its samples from the stand-ins the run
    will write, and "held" (digests) on each unique masked field's row that passes some over."""
    masks = mask_set(request, source)
    _hold_taken(masks, plan, trees, source, target)
    table = mask_preview(trees=trees, request=request, connector=source, masks=masks)
    for obj, rows in table.items():
        for row in rows:
            held = masks.held().get((obj, row["field"]))
            if held:
                row["held"] = sorted(held)
    return table


def _hold_taken(masks: MaskSet, plan: Plan, trees: Trees, source: Connector, target: Connector) -> None:
    found = (plan.cross.get("existing") or {}).get("found") or {}
    for obj, nodes in by_object(trees).items():
        unique = [n for n, info in masks.infos(obj).items() if info.unique]
        if not unique:
            continue
        values = values_by_id(source, obj, nodes, unique)
        for name in unique:
            _hold_field(masks, target, obj, name, values, found.get(obj, {}))


def _hold_field(
    masks: MaskSet, target: Connector, obj: str, name: str, values: dict[str, dict[str, Any]], own: dict[str, str]
) -> None:
    for _ in range(ROUNDS):
        standins: dict[str, str] = {}  # {stand-in: source id}
        for source_id, fields in values.items():
            standin = masks.standins(obj, {name: fields.get(name)}).get(name)
            if standin not in (None, ""):
                standins[str(standin)] = source_id
        holders = target.match_ids(obj, name, list(standins)) if standins else {}
        taken = [s for s, ids in holders.items() if set(ids) - {own.get(standins.get(s, ""), "")}]
        if not taken:
            return
        masks.hold(obj, name, taken)


def held_of(masking: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], set[str]]:
    """What a job's plan keeps of the held stand-ins, for its run's MaskSet."""
    return {(obj, row["field"]): set(row["held"]) for obj, rows in masking.items() for row in rows if row.get("held")}
