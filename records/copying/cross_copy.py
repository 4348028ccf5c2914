"""A copy into another profile of the same system: read in the source (the snapshots the plan
kept), inserted in the target level by level over all its trees, with the same write protocol as
every copy (the row marked sending before each write, a lost answer reconciled in the target by the
copy key or by values, creation time and API user). Neither Vault's `source_record_id` nor Zoho's clone action
works across orgs, so every record, the top one too, is an insert carrying its values.

References inside the copy point at the copies, across its trees too (a copy by query's top record
pointing at another, a child at a record under another top record: they are never looked up by key
in the target); those to a record of the same level or a later one are set by one second pass over
the job (repoint.py), as self-references and cycles are, and never on a record found there already;
outside it at the records the plan matched in the target (plan.cross["refs"], kept in
job.state["refs"]); a reference without a match follows its object's choice: left empty
("blank") or its record fails ("fail"; "refuse" refused the plan already)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from records.connectors.base import Connector, FieldInfo, FieldType, WriteResult
from records.copying import results as res
from records.copying.engine_deep_copy import LEFT_OUT, EngineDeepCopyRun, _snapshot_nodes
from records.copying.options import CopyOptions
from records.copying.reconcile import Sent
from records.copying.references import ref_id
from records.copying.repoint import LaterRefs, later_refs, tree_depths
from records.copying.tree import Node, read_tree
from records.copying.update_pass import UpdatePass
from records.models import RecordResult

S = RecordResult.Status
# The key of the job's one second pass in job.state["repoint"] (an in-profile copy keys one per root).
FOREST = "*"


@dataclass(frozen=True)
class Target:
    """What a cross payload needs of the target: its connector, the references matched there
    ({object: {source id: target id}}), the copy's choices for unmatched ones and why those of
    objects whose records fail found no match ({object: {source id: why}})."""

    connector: Connector
    refs: dict[str, dict[str, str]]
    options: CopyOptions
    unmatched: dict[str, dict[str, str]] = field(default_factory=dict)


def cross_payload(
    node: Node,
    *,
    target_fields: list[FieldInfo],
    id_map: Mapping[str, str],
    target: Target,
    new_parent: str = "",
    later: LaterRefs | None = None,
) -> tuple[dict[str, Any], str]:
    """(the insert of `node`'s record in the target, why the record fails instead or ""): the fields
    the target has and takes (editable, not no_copy as the systems' own copies, not system, file or
    org-specific), picklist values the target lacks left out, references re-pointed. The payload's
    LEFT_OUT key lists what was left out (the caller moves it into the row's values)."""
    conn = target.connector
    infos = {f.name: f for f in target_fields}
    payload: dict[str, Any] = dict(conn.insert_extras(node.fields))
    left_out: list[str] = []
    for name, value in node.fields.items():
        info = infos.get(name)
        if value is None or name.startswith("$") or name == node.parent_field or name in (later or {}):
            continue
        if info is None:
            left_out.append(name)  # the target has no such field
            continue
        if not _copyable(info, conn):
            continue
        kept, why = _value(info, value, node, id_map, target)
        if why:
            return {}, why
        if kept is _LEAVE_OUT:
            left_out.append(name)
        elif kept is not _BLANK:
            payload[name] = kept
    if node.parent_field and new_parent:
        current = node.fields.get(node.parent_field)
        payload[node.parent_field] = {"id": new_parent} if isinstance(current, dict) else new_parent
    if left_out:
        payload[LEFT_OUT] = sorted(left_out)
    return payload, ""


_LEAVE_OUT = object()  # a value the target can't take (a picklist value it lacks)
_BLANK = object()  # a reference with no match, left empty by the user's choice


def _copyable(info: FieldInfo, conn: Connector) -> bool:
    return (
        info.editable
        and not info.no_copy
        and info.type != FieldType.FILE
        and info.name not in conn.system_fields
        and info.name not in conn.org_specific_fields
    )


def _value(info: FieldInfo, value: Any, node: Node, id_map: Mapping[str, str], target: Target) -> tuple[Any, str]:
    if info.type == FieldType.REFERENCE:
        return _reference(info, value, node, id_map, target)
    if info.type in FieldType.PICKLISTS and info.picklist_values:
        return _picklist(info, value), ""
    if info.type == FieldType.SUBFORM and isinstance(value, list):
        drop = target.connector.subform_row_system_fields
        return [
            {k: v for k, v in r.items() if k not in drop and not k.startswith("$")}
            for r in value
            if isinstance(r, dict)
        ], ""
    return value, ""


def _picklist(info: FieldInfo, value: Any) -> Any:
    # Zoho accepts a value its picklist lacks on insert (api-notes zoho.md §3.1), Vault refuses it:
    # either way the issue asks for it to be left out and reported.
    allowed = set(info.picklist_values)
    if isinstance(value, list):
        kept = [v for v in value if v in allowed]
        return kept if kept and len(kept) == len(value) else (kept or _LEAVE_OUT)
    return value if value in allowed else _LEAVE_OUT


def _reference(info: FieldInfo, value: Any, node: Node, id_map: Mapping[str, str], target: Target) -> tuple[Any, str]:
    conn = target.connector
    source_id = ref_id(value)
    if not source_id:
        return _BLANK, ""
    object_name = conn.reference_target(info, node.fields)
    found = id_map.get(source_id) or target.refs.get(object_name, {}).get(source_id)
    if found:
        return ({"id": found} if isinstance(value, dict) else found), ""
    if object_name == conn.user_object:
        return _BLANK, ""  # a user the plan didn't map: the target's API user owns the copy
    if target.options.unmatched_for(object_name) == "blank":
        return _BLANK, ""
    why = target.unmatched.get(object_name, {}).get(source_id, "")
    said = f"{info.label} points at a {object_name} record ({source_id}) with no match in the target"
    return None, f"{said}: {why}." if why else f"{said}."


class CrossCopyRun(EngineDeepCopyRun):
    """The engine's deep copy (a clone is a tree of one) into the job's target profile. Every top
    record of the job (a copy by query has many) is one forest: the top records first, then each
    level of every tree together, an object's records `batch_size` a call whatever tree they are
    under, then one second pass for the references to records of the same level or a later one (a
    top record pointing at another, a child at a record under another top record)."""

    @property
    def inherits(self) -> bool:
        return False  # an insert in another org carries every value itself

    def run(self) -> None:
        nodes = self._forest()
        node_by_key = {(n.object_name, n.source_id): n for n in nodes}
        depths = tree_depths(nodes)
        self.context.describe_all(n.object_name for n in nodes)  # the target's fields, at once
        self._create_roots(node_by_key, depths)
        if self.connector.updates_records:
            self.repoint.plan(FOREST, nodes)  # once, all trees: a reference may cross them
        self._send_pipeline(self._children_rows(node_by_key), node_by_key, depths)
        self.repoint.run(FOREST)
        results = self.context.job.results
        if results.filter(action=RecordResult.Action.UPDATE, status__in=(S.PENDING, S.SENDING)).exists():
            # Records found there, to update (every row read with its snapshot only then).
            UpdatePass(self.context, self._payload).run_rows(list(results.order_by("depth", "id")))
        self.context.heartbeat()

    def _forest(self) -> list[Node]:
        """Every tree of the job as planned (its snapshots), else read again in the source."""
        context = self.context
        nodes = _snapshot_nodes(list(context.job.results.order_by("depth", "id")))
        if nodes is not None:
            return nodes
        exclude = frozenset(context.options.exclude)
        return [
            n
            for root in context.job.source_ids
            for n in read_tree(context.source, context.job.object_name, str(root), exclude=exclude)
        ]

    def _children_rows(self, node_by_key: dict[tuple[str, str], Node]) -> list[RecordResult]:
        """Every tree's records below the top still to insert (a record found in the target
        already, action update, is the update pass's, never inserted)."""
        rows = (
            self.context.job.results.defer("source_snapshot")
            .filter(depth__gt=0, status__in=(S.PENDING, S.SENDING))
            .exclude(action=RecordResult.Action.UPDATE)
            .order_by("depth", "id")
        )
        return [r for r in rows if (r.object_name, r.source_id) in node_by_key]

    def _target(self) -> Target:
        refs = self.context.job.state.get("refs") or {}
        unmatched = ((self.context.job.plan or {}).get("cross") or {}).get("unmatched") or {}
        return Target(self.connector, refs, self.context.options, unmatched)

    def _payload(
        self, node: Node, fields: list[FieldInfo], id_map: Mapping[str, str], new_parent: str, later: LaterRefs
    ) -> tuple[dict[str, Any], str]:
        return cross_payload(
            node, target_fields=fields, id_map=id_map, target=self._target(), new_parent=new_parent, later=later
        )

    def _create_roots(self, node_by_key: dict[tuple[str, str], Node], depths: dict[tuple[str, str], int]) -> None:
        """The top records still to insert, `batch_size` a call (parallel calls up to the profile's
        concurrency), not a call per root. A reference to another top record is left to the second
        pass (its copy may not exist yet), one to a record already copied or found is set now."""
        conn = self.connector
        rows = self.context.job.results.filter(depth=0, status__in=(S.PENDING, S.SENDING)).exclude(
            action=RecordResult.Action.UPDATE
        )
        id_map = dict(self.context.job.results.exclude(new_id="").values_list("source_id", "new_id"))
        sent = Sent(inherits=False)
        ready: list[RecordResult] = []
        for row in rows.defer("source_snapshot").order_by("id"):
            node = node_by_key.get((row.object_name, row.source_id))
            if node and self._root_payload(row, node, sent, id_map, depths):
                ready.append(row)
        if not ready:
            return
        self.writer.reconcile_leftovers(ready, sent)
        ready = [r for r in ready if r.status == S.PENDING]
        object_name = self.context.job.object_name

        def create(batch: list[RecordResult]) -> list[WriteResult]:
            # From the payloads at call time: "make unique" may have numbered a value.
            return conn.create(object_name, [dict(sent.payloads[r.pk]) for r in batch])

        size = conn.batch_size
        batches = [(ready[i : i + size], create, sent) for i in range(0, len(ready), size)]
        self.writer.send_all(batches, self.context.heartbeat)

    def _root_payload(
        self,
        root_row: RecordResult,
        root_node: Node,
        sent: Sent,
        id_map: Mapping[str, str],
        depths: dict[tuple[str, str], int],
    ) -> bool:
        """Put the top record's insert (its values and the overrides: no clone across orgs) into
        `sent`; False when the record fails instead (a reference with no match), the row saved so."""
        context, conn = self.context, self.connector
        fields = context.describe(root_row.object_name)
        later = later_refs(root_node, fields, depths, target_of=conn.reference_target) if conn.updates_records else {}
        payload, why = self._payload(root_node, fields, id_map, "", later)
        if why:
            res.fail(root_row, "UNMATCHED_REFERENCE", why)
            res.save([root_row])
            return False
        left_out = payload.pop(LEFT_OUT, None)
        payload.update(context.top_overrides(root_row, root_node.fields))
        if left_out:
            root_row.values = {**(root_row.values or {}), LEFT_OUT: left_out}
        sent.payloads[root_row.pk] = payload
        sent.sources[root_row.pk] = root_node.fields
        return True
