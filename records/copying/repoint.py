"""References inside an engine-built copy: a copied record that points at another record
of the same tree (a sibling, another record of its own object, itself) points at that record's copy.

Records are created wave by wave (by depth), so a reference to a record of an earlier wave is
re-pointed in the create itself (engine_deep_copy.source_payload). A reference to a record of the
same wave or a later one (or to itself) can't be: its copy doesn't exist yet. Those are "later
references": the create leaves them empty (unless the field is required; then Vault's copy of the
source value stays until re-pointed), and once every wave is written a second pass updates them:
Vault's Update Object Records (api-notes vault.md §4.2, ⌈records/500⌉ calls per object), Zoho's
Update Records (zoho.md §3.3, ⌈records/100⌉ calls per object, `trigger: []` as on the inserts).

The second pass is planned once (its references kept in job.state, so a resumed run needs no
snapshot; a tree read a piece at a time keeps each piece's part before any of its records is sent)
and marked in job.state before its first write. An update sets a field to a value, so
sending it again after a crash or a lost answer changes nothing (Vault answers NO_DATA_CHANGES,
§4.2; a Zoho update of lookups only sets them again, §3.3 — no subform rows, which would be appended):
a resumed run sends the whole pass again instead of reconciling it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.utils import timezone

from records.connectors.base import Connector, FieldInfo, FieldType
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import results as res
from records.copying.lifecycle import Paused
from records.copying.references import ref_id
from records.copying.run_context import RunContext
from records.copying.tree import Node
from records.models import RecordResult

DONE = "done"
SENDING = "sending"
# In a plan kept in part (RepointPass.extend): the place (depth, row id) of the last record in it.
THROUGH = "through"
# A row's place in the order a tree is read, (depth, id): tree_pieces.Mark.
Mark = tuple[int, int]
# {field: (target object, target source id)}: a record's references that the second pass sets.
LaterRefs = dict[str, tuple[str, str]]
# {(object, source id): (the copy's id, its row's pk)}: the job's copies, as the pass reads them.
Copies = dict[tuple[str, str], tuple[str, int]]
# Connector.reference_target: the object a reference of a record points at.
TargetOf = Callable[[FieldInfo, dict[str, Any]], str]


def reference_fields(fields: Iterable[FieldInfo], parent_field: str) -> list[FieldInfo]:
    """The fields of an object a copy re-points: editable references other than its parent field."""
    return [f for f in fields if f.type == FieldType.REFERENCE and f.editable and f.name != parent_field]


def later_refs(
    node: Node,
    fields: Iterable[FieldInfo],
    depths: Mapping[tuple[str, str], int],
    *,
    target_of: TargetOf | None = None,
    wave: int | None = None,
) -> LaterRefs:
    """{field: (target object, target source id)} for the references of `node` to records of the
    tree that are created in its own wave or later (so not re-pointable in its create).
    `target_of` (Connector.reference_target) names the object of a polymorphic reference (Zoho's
    What_Id by its `$se_module`); without it a reference's declared object is taken. `wave`: the
    node's wave when it is not its depth."""
    out: LaterRefs = {}
    own = node.depth if wave is None else wave
    for info in reference_fields(fields, node.parent_field):
        target = ref_id(node.fields.get(info.name))
        key = ((target_of(info, node.fields) if target_of else info.reference_to) or node.object_name, target)
        if target and depths.get(key, -1) >= own:
            out[info.name] = key
    return out


def tree_depths(nodes: Iterable[Node]) -> dict[tuple[str, str], int]:
    return {(n.object_name, n.source_id): n.depth for n in nodes}


def updating(conn: Connector, nodes: list[Node], waves: dict[str, int]) -> frozenset[str]:
    """The source ids of the records whose references the second pass will set, for a tree whose
    records are created in `waves` (the preview's cost, plan.cost_data)."""
    placed = _Placed(nodes, waves)
    # Reference fields only: no picklist values (connectors cache their describes: no call for a read object).
    fields: dict[str, list[FieldInfo]] = {}
    out = set()
    for n in nodes:
        if n.object_name not in fields:
            fields[n.object_name] = conn.describe_listed(n.object_name)
        # Each record at its wave, one at a time: 100,000 records are not copied at once.
        if later_refs(n, fields[n.object_name], placed, wave=waves.get(n.source_id, n.depth)):
            out.add(n.source_id)
    return frozenset(out)


class _Placed(Mapping[tuple[str, str], int]):
    """tree_depths of the records placed at their waves, {(object, id): wave}, kept per object: no
    tuple a record (a tree of 100,000 records)."""

    def __init__(self, nodes: Iterable[Node], waves: dict[str, int]) -> None:
        self.by_object: dict[str, dict[str, int]] = {}
        for n in nodes:
            self.by_object.setdefault(n.object_name, {})[n.source_id] = waves.get(n.source_id, n.depth)

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self.by_object[key[0]][key[1]]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((o, s) for o, ids in self.by_object.items() for s in ids)

    def __len__(self) -> int:
        return sum(len(ids) for ids in self.by_object.values())


class RepointPass:
    """The second pass of an engine-built copy whose connector `updates_records`."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.connector = context.connector

    def plan(self, root_id: str, nodes: Iterable[Node], depths: dict[tuple[str, str], int] | None = None) -> None:
        """Keep the later references of the tree in job.state (once: a retry may have no snapshots).
        `depths`: each record's wave, when `nodes` is read a piece at a time (they are gone once seen)."""
        plans = self.context.job.state.setdefault("repoint", {})
        if root_id in plans:
            return
        if depths is None:
            nodes = list(nodes)
            depths = tree_depths(nodes)
        refs = [ref for node in nodes for ref in self._later(node, depths)]
        plans[root_id] = {"phase": DONE if not refs else "", "refs": refs}
        self.context.save_state()

    def extend(
        self, root_id: str, placed: Iterable[tuple[Mark, Node]], depths: Mapping[tuple[str, str], int], *, last: bool
    ) -> None:
        """`plan` a piece at a time, each piece kept before any of its records is sent (a failed
        run drops its copies' snapshots): `placed`, the records of the next piece of the tree read
        in the order (depth, id), each with its place. A plan kept in part by a run that stopped
        while reading (its THROUGH: the place of the last record in it) is extended with the
        records after that place only. `last`: the tree's last piece (the plan is whole)."""
        plans = self.context.job.state.setdefault("repoint", {})
        kept = plans.get(root_id)
        if kept is not None and THROUGH not in kept:
            return  # whole already
        through: Mark | None = tuple(kept[THROUGH]) if kept is not None else None
        refs: list[list[str]] = kept["refs"] if kept is not None else []
        for mark, node in placed:
            if through is None or mark > through:
                refs += self._later(node, depths)
                through = mark
        plans[root_id] = {"phase": DONE if last and not refs else "", "refs": refs}
        if not last:
            plans[root_id][THROUGH] = list(through or (-1, 0))
        self.context.save_state()

    def _later(self, node: Node, depths: Mapping[tuple[str, str], int]) -> list[list[str]]:
        """The plan's entries of `node`: [object, source id, field, target object, target source id]."""
        fields = self.context.describe(node.object_name)
        later = later_refs(node, fields, depths, target_of=self.connector.reference_target)
        return [[node.object_name, node.source_id, name, obj, target] for name, (obj, target) in later.items()]

    def run(self, root_id: str) -> None:
        """Send the planned pass (again, after a crash: updates repeat safely); once done, nothing."""
        st = self.context.job.state.get("repoint", {}).get(root_id)
        if not st or st.get("phase") == DONE:
            return
        st["phase"] = SENDING  # before the first update: a resumed run sends the pass again
        self.context.save_state()
        written = self.context.job.results.exclude(new_id="").values_list(
            "object_name", "source_id", "new_id", "pk", "action"
        )
        copies: Copies = {(o, s): (n, pk) for o, s, n, pk, _ in written}
        # A record found in the target (skipped or updated) is pointed at, never changed here.
        created = {pk for _, _, _, pk, action in written if action == RecordResult.Action.CREATE}
        updates: dict[str, dict[str, dict[str, Any]]] = {}
        for object_name, source_id, field, target_object, target_id in st["refs"]:
            copy = copies.get((object_name, source_id))
            if copy is None or copy[1] not in created:
                continue  # not copied by this job: nothing to re-point
            found = copies.get((target_object, target_id))
            if found is None and self.context.cross:
                continue  # the source's id means nothing in another profile: left unset
            # The target's copy; when the target wasn't copied, the source's record, as Vault's own
            # copy of the record (source_record_id) would have kept it.
            target = (found or (target_id, None))[0]
            updates.setdefault(object_name, {}).setdefault(copy[0], {"id": copy[0]})[field] = target
        for object_name, rows in updates.items():
            self._send_updates(object_name, list(rows.values()), copies)
        st["phase"] = DONE
        self.context.save_state()

    def _send_updates(self, object_name: str, rows: list[dict[str, Any]], copies: Copies) -> None:
        conn = self.connector
        by_new_id = {new_id: pk for (o, _), (new_id, pk) in copies.items() if o == object_name}
        for start in range(0, len(rows), conn.batch_size):
            self.context.heartbeat()
            batch = rows[start : start + conn.batch_size]
            sent = [{k: v if k == "id" else conn.reference_value(v) for k, v in b.items()} for b in batch]
            try:
                outcomes = conn.update(object_name, sent)
            except (RateLimited, Unavailable, OutcomeUnknown) as exc:
                raise Paused(exc) from exc  # the pass is sent again on resume (updates repeat safely)
            except ConnectorError as exc:
                self._note_refs(object_name, batch, by_new_id, [exc.message] * len(batch))
                continue
            self._note_refs(
                object_name,
                batch,
                by_new_id,
                ["" if o.ok else (o.error_message or o.error_type or "not set") for o in outcomes],
            )

    def _note_refs(
        self, object_name: str, batch: list[dict[str, Any]], by_new_id: dict[str, int], errors: list[str]
    ) -> None:
        """Each copy's row shows the references it was given (or why not); the row stays
        succeeded: the record exists, and a retry must not create it again."""
        rows = {r.pk: r for r in RecordResult.objects.filter(pk__in=[by_new_id[b["id"]] for b in batch])}
        for values, error in zip(batch, errors, strict=False):
            row = rows[by_new_id[values["id"]]]
            noted = dict(row.values or {})
            noted.update({k: v for k, v in values.items() if k != "id"})
            if error:
                noted["_references_not_set"] = error
            else:
                # The job's last write to this record: undo keeps it only if changed after this.
                row.written_at = timezone.now()
            row.values = noted
        res.save(list(rows.values()))
