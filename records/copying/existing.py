"""Records a copy into another profile finds there already (an earlier job's copies, then by the
match key), and what the copy does with them: create anyway, skip them, or update them.

Found first through the job ledger: the rows of earlier jobs that copied the same source records
from the same profile into the same target (the lasting id map), newest first, kept only while the
record is still there. Then by the object's match key (copying/matching.py): one record in the
target with the source record's key value; none or several is "not there". A record below the top
counts as there only under its parent's existing copy, so a re-run never hangs a new child under a
record it did not find, nor skips a child whose parent it creates. The match key is the
references' one (matching.match_key), `--match` included.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import Rejected
from records.copying.mask_preview import mask_set
from records.copying.matching import match_key
from records.copying.references import ref_id
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan
from records.models import CopyJob, RecordResult

S = RecordResult.Status
CHUNK = 500  # source ids asked of the ledger per query
# What each choice does, in the preview's and the CLI's words.
WORDS = {
    "create": "copied again (create)",
    "skip": "skipped; references point at them (skip)",
    "update": "updated where their values differ (update)",
}

Key = tuple[str, str]  # (object, source id)


def policy(*, request: CopyRequest) -> str:
    """The user's choice, else the default: create for one clone, skip for everything else (a deep
    copy, a bulk clone, a copy by query). In-system copies always create."""
    if request.target is None:
        return "create"
    if request.options.existing:
        return request.options.existing
    one_clone = request.mode == CopyJob.Mode.CLONE and len(request.source_ids) == 1
    return "create" if one_clone and not request.options.source_filter else "skip"


def plan_existing(
    *, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, source: Connector, target: Connector
) -> None:
    """Put the records already in the target into plan.cross["existing"]: {"policy", "found":
    {object: {source id: target id}}, "ledger", "key"} (how many were found each way)."""
    chosen = policy(request=request)
    summary: dict[str, object] = {"policy": chosen, "found": {}, "ledger": 0, "key": 0}
    plan.cross["existing"] = summary
    if chosen == "create":
        return
    nodes = [n for tree in trees.values() for n in tree]
    ledger = _from_ledger(request, nodes)
    by_key = _by_key(request, nodes, ledger, target)
    found = _under_existing_parents(nodes, {**by_key, **ledger}, target)
    grouped: dict[str, dict[str, str]] = defaultdict(dict)
    for (object_name, source_id), target_id in found.items():
        grouped[object_name][source_id] = target_id
    summary.update(
        found=dict(grouped),
        ledger=sum(1 for k in found if k in ledger),
        key=sum(1 for k in found if k not in ledger),
    )
    if found:
        plan.cross.setdefault("report", []).append(
            f"{len(found):,} records are in the target already ({summary['ledger']} copied there before,"
            f" {summary['key']} found by their match key): {WORDS[chosen]}."
        )


def _from_ledger(request: CopyRequest, nodes: list[Node]) -> dict[Key, str]:
    """{(object, source id): target id} from the newest earlier row of each source record."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for node in nodes:
        wanted[node.object_name].add(node.source_id)
    rows = (
        RecordResult.objects.filter(
            job__profile=request.profile, job__target_profile=request.target, status=S.SUCCEEDED
        )
        .exclude(new_id="")
        .exclude(job__mode=CopyJob.Mode.UNDO)
        .order_by("-job__created", "-id")
    )
    found: dict[Key, str] = {}
    for object_name, ids in wanted.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            for source_id, new_id in rows.filter(object_name=object_name, source_id__in=chunk).values_list(
                "source_id", "new_id"
            ):
                found.setdefault((object_name, source_id), new_id)
    return found


def _by_key(request: CopyRequest, nodes: list[Node], ledger: dict[Key, str], target: Connector) -> dict[Key, str]:
    """{(object, source id): target id} of the records whose match-key value names exactly one
    record in the target (a value two copied records share names neither). Level by level: a
    record below the top is looked for only when its parent was found (it can't be there otherwise)."""
    found: dict[Key, str] = {}
    seen = {source_id for (_, source_id) in ledger}
    for depth in sorted({n.depth for n in nodes}):
        level = [
            n
            for n in nodes
            if n.depth == depth
            and (n.object_name, n.source_id) not in ledger
            and (depth == 0 or n.parent_source_id in seen)
        ]
        by_object: dict[str, list[Node]] = defaultdict(list)
        for node in level:
            by_object[node.object_name].append(node)
        for object_name, group in by_object.items():
            found.update(_match_group(request, object_name, group, target))
        seen |= {source_id for (_, source_id) in found}
    return found


def _match_group(request: CopyRequest, object_name: str, group: list[Node], target: Connector) -> dict[Key, str]:
    key = match_key(target=target, object_name=object_name, chosen=request.options.match.get(object_name, ""))
    if key is None:
        return {}
    field = key.field
    values = {n.source_id: _key_value(n, field) for n in group}
    values = mask_set(request, target).key_values(object_name, field, values)  # a masked key: its stand-ins
    shared = Counter(v for v in values.values() if v)
    unique = {sid: v for sid, v in values.items() if v and shared[v] == 1}
    try:
        hits = target.match_ids(object_name, field, sorted(set(unique.values())))
    except Rejected:
        return {}  # the target can't look these records up by a value (Zoho Notes): none is "there"
    out: dict[Key, str] = {}
    for source_id, value in unique.items():
        ids = hits.get(value) or []
        if len(ids) == 1:
            out[(object_name, source_id)] = ids[0]
    return out


def _key_value(node: Node, field: str) -> str:
    value = node.fields.get(field)
    return value.strip() if isinstance(value, str) else ""


def _under_existing_parents(nodes: list[Node], found: dict[Key, str], target: Connector) -> dict[Key, str]:
    """The records found that are still in the target, a child only where its parent field points
    at its parent's existing copy. Parents first (the nodes are in tree order, depth by depth)."""
    present = _still_there(nodes, found, target)
    kept: dict[Key, str] = {}
    copy_of: dict[str, str] = {}  # source id -> existing target id, of the records kept so far
    for node in sorted(nodes, key=lambda n: n.depth):
        key = (node.object_name, node.source_id)
        target_id = found.get(key)
        if not target_id or target_id not in present.get(node.object_name, {}):
            continue
        if node.depth > 0:
            parent_copy = copy_of.get(node.parent_source_id)
            held = present[node.object_name][target_id].get(node.parent_field)
            if not parent_copy or ref_id(held) != parent_copy:
                continue
        kept[key] = target_id
        copy_of[node.source_id] = target_id
    return kept


def _still_there(
    nodes: Iterable[Node], found: dict[Key, str], target: Connector
) -> dict[str, dict[str, dict[str, object]]]:
    """{object: {target id: {parent field: value}}} of the found records the target still holds
    (one batched read per object, with every parent field its records hang by: Zoho tasks by
    What_Id or Who_Id)."""
    asked: dict[str, dict[str, None]] = defaultdict(dict)  # object -> target ids, in order, once
    fields: dict[str, set[str]] = defaultdict(set)
    for node in nodes:
        target_id = found.get((node.object_name, node.source_id))
        if target_id:
            asked[node.object_name][target_id] = None
            if node.depth:
                fields[node.object_name].add(node.parent_field)
    out: dict[str, dict[str, dict[str, object]]] = defaultdict(dict)
    for object_name, ids in asked.items():
        out[object_name].update(target.field_values(object_name, list(ids), sorted(fields[object_name])))
    return out


def apply_to_rows(*, job: CopyJob, rows: Sequence[RecordResult]) -> None:
    """Mark the new job's rows of records already in the target (skip or update) before they are saved:
    skip -> succeeded at once, the existing record as its copy (in-tree references point at it);
    update -> the existing record as its copy, pending for the update pass."""
    info = ((job.plan or {}).get("cross") or {}).get("existing") or {}
    chosen, found = info.get("policy"), info.get("found") or {}
    if chosen not in ("skip", "update") or not found or job.target_profile is None:
        return
    target = connector_for(job.target_profile)  # for the links only: no call is made
    for row in rows:
        target_id = (found.get(row.object_name) or {}).get(row.source_id)
        if not target_id:
            continue
        row.new_id, row.link = target_id, target.record_url(row.object_name, target_id)
        if chosen == "skip":
            row.action, row.status = RecordResult.Action.SKIP, S.SUCCEEDED
        else:
            row.action = RecordResult.Action.UPDATE
