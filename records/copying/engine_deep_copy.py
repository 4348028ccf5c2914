"""The engine-built deep copy (Zoho, and Vault past its deep copy's limits): the top record cloned,
then each wave of children created from the snapshots taken when the job was planned, lookups
re-pointed to the copies (references to records of the same wave or a later one by a second pass,
repoint.py, when the system updates records: Vault and Zoho)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from records.connectors.base import CloneRequest, Connector, FieldInfo, FieldType, WriteResult
from records.copying import results as res
from records.copying.bulk_gather import BulkGather
from records.copying.bulk_writes import JobBulkLedger, bulk_call, settle_stored_jobs, takes_bulk
from records.copying.in_flight import Batch
from records.copying.pipeline import Piece, WavePipeline
from records.copying.reads_together import Overlap
from records.copying.reconcile import Sent
from records.copying.repoint import LaterRefs, Mark, RepointPass, later_refs, reference_fields
from records.copying.run_context import RunContext
from records.copying.tree import Node, unique_fields
from records.copying.tree_pieces import TO_SEND, Key, TreeIndex, TreeNodes, snapshot_node, tree_index
from records.copying.unique import MakeUnique
from records.copying.waves import references_within
from records.copying.write import BatchWriter
from records.models import RecordResult

S = RecordResult.Status
# In a payload and then a row's values: the fields the target can't take, left out of the copy.
LEFT_OUT = "_left_out"


# Trees up to this many records are sent as a pipeline (each batch as soon as its parents exist:
# every pending record and its snapshot held at once); larger ones wave by wave, a piece of
# tree_pieces.CHUNK_ROWS at a time, so a worker's memory stays flat (bench giant).
PIPELINED_MAX_RECORDS = 20_000


class EngineDeepCopyRun:
    """The engine's deep copy of each of the job's top records, wave by wave; the references
    into the tree a create can't set yet are set by a second pass (RepointPass)."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.connector = context.connector
        self.writer = BatchWriter(context, renumber=MakeUnique(context).renumber)
        self.repoint = RepointPass(context)
        self.ledger = JobBulkLedger(context)
        self._shapes: dict[tuple[str, str], tuple[list[FieldInfo], list[FieldInfo]]] = {}
        self._bulk: dict[tuple[str, int], bool] = {}

    def run(self) -> None:
        for root in self.context.job.source_ids:
            self._copy_root(str(root))

    def _copy_root(self, root_id: str) -> None:
        """The tree of one top record: read from its rows a piece at a time (tree_pieces.py), each
        wave CHUNK_ROWS rows at a time, so memory stays flat however many records it holds."""
        context = self.context
        index = tree_index(context, root_id)
        nodes = TreeNodes(context, root_id)
        if index.done:
            self._plan_repoint(root_id, nodes.placed(), index.depths)
            self.repoint.run(root_id)
            return
        if len(index.depths) <= PIPELINED_MAX_RECORDS:
            self._stream(root_id, nodes, index)
        else:
            context.describe_all(index.objects)  # every object at once, the top one among them
            root_row = context.tree_results(root_id).filter(depth=0).first()
            root_node = self._root_node(nodes, root_row)
            if root_row is not None and root_node is not None:
                self._create_root(root_id, root_row, root_node)
            self._plan_repoint(root_id, nodes.placed(), index.depths)
            for depth in index.waves:  # each wave a piece at a time: memory flat however large
                context.heartbeat()
                id_map = dict(context.job.results.exclude(new_id="").values_list("source_id", "new_id"))
                gather = self._bulk_gather()
                for wave, node_by_key in nodes.wave(depth):
                    self._send_wave(wave, node_by_key, id_map, index.depths, gather)
                gather.flush()  # the wave's last bulk jobs: its copies are the next wave's parents
        self.repoint.run(root_id)  # references to records created in the same wave or later
        context.heartbeat()

    def _stream(self, root_id: str, nodes: TreeNodes, index: TreeIndex) -> None:
        """The tree sent by the pipeline while it is read: its rows come in PIECE_ROWS at a time
        (ordered by depth) while the tree's objects are described, and each piece's batches (the
        top record's clone first) start once the piece's part of the second pass's plan is kept.
        Neither the calls wait for the CPU of loading 10,000 snapshots, nor that CPU for them."""
        context = self.context
        ids = dict(context.job.results.exclude(new_id="").values_list("source_id", "new_id"))
        node_by_key: dict[Key, Node] = {}
        with Overlap(self.connector, 1) as reads:
            described = reads.start(context.describe_all, index.objects)
            pieces = self._pieces(root_id, nodes, index, node_by_key, described.result)
            self._pipeline(root_id, node_by_key, index.depths).run_pieces(pieces, ids)

    def _pieces(
        self,
        root_id: str,
        nodes: TreeNodes,
        index: TreeIndex,
        node_by_key: dict[Key, Node],
        described: Callable[[], object],
    ) -> Iterator[Piece]:
        """The tree's pieces for the pipeline, `node_by_key` completed as they are read. Each
        piece's part of the second pass's plan is kept before the pipeline has its rows (the
        describes waited for then: the plan reads the fields), and each piece says how many rows of
        each group are still unread, so no partial batch goes while the rest of its group is read."""
        unread, within = Counter(index.todo), index.source_ids()
        for rows, last in nodes.pieces():
            piece = nodes.of(rows)
            node_by_key.update(piece)
            described()
            placed = (((r.depth, r.id), piece[k]) for r in rows if (k := (r.object_name, r.source_id)) in piece)
            if self.connector.updates_records:
                self.repoint.extend(root_id, placed, index.depths, last=last)
            to_send = [r for r in rows if r.status in TO_SEND]
            unread.subtract((r.depth, r.object_name) for r in to_send)
            to_send = [r for r in to_send if (r.object_name, r.source_id) in piece]
            yield Piece(to_send, references_within(piece.values(), within=within), +unread)

    def _pipeline(self, root_id: str, node_by_key: dict[Key, Node], depths: dict[tuple[str, str], int]) -> WavePipeline:
        """The pipeline of one tree: the top record by its clone (wave 0), the others by creates."""

        def build(object_name: str, batch: list[RecordResult], id_map: Mapping[str, str]) -> list[Batch]:
            if batch[0].depth == 0:
                root = batch[0]
                made = self._root_batch(root_id, root, node_by_key[(root.object_name, root.source_id)])
                return [made] if made is not None else []
            return self._children_batches(object_name, batch, node_by_key, id_map, depths)

        def size_of(object_name: str, wave: int) -> int:
            bulk = wave > 0 and self._takes_bulk(object_name, wave)
            return self.connector.bulk_batch_size if bulk else self.connector.batch_size

        context = self.context
        return WavePipeline(
            self.writer, build=build, batch_size=self.connector.batch_size, heartbeat=context.heartbeat, size_of=size_of
        )

    def _root_node(self, nodes: TreeNodes, root_row: RecordResult | None) -> Node | None:
        """The top record's node when its row is still to send."""
        if root_row is None or root_row.status not in TO_SEND:
            return None
        return nodes.of([root_row]).get((root_row.object_name, root_row.source_id))

    def _send_pipeline(
        self,
        rows: list[RecordResult],
        node_by_key: dict[tuple[str, str], Node],
        depths: dict[tuple[str, str], int],
    ) -> None:
        """`rows` (none of them a top record) by the pipeline: a batch starts when the records it
        points at have copies, not when the whole previous wave is done (pipeline.py)."""
        ids = dict(self.context.job.results.exclude(new_id="").values_list("source_id", "new_id"))
        self._pipeline("", node_by_key, depths).run(rows, references_within(node_by_key.values()), ids)

    def _send_wave(
        self,
        wave: list[RecordResult],
        node_by_key: dict[tuple[str, str], Node],
        id_map: dict[str, str],
        depths: dict[tuple[str, str], int],
        gather: BulkGather,
    ) -> None:
        """A piece of a wave: every module of it at once (their parents all exist, in earlier
        waves), so their batches are independent and overlap up to the profile's concurrency.
        A bulk level's rows go to `gather` instead: a job per bulk_batch_size rows, not per piece."""
        by_object: dict[str, list[RecordResult]] = {}
        for row in wave:
            by_object.setdefault(row.object_name, []).append(row)
        batches: list[Batch] = []
        for object_name, object_rows in by_object.items():
            made = self._children_batches(object_name, object_rows, node_by_key, id_map, depths)
            if self._takes_bulk(object_name, object_rows[0].depth):
                for rows, _call, sent in made:
                    gather.add(object_name, rows, sent)
            else:
                batches += made
        self.writer.send_all(batches, self.context.heartbeat)

    def _bulk_gather(self) -> BulkGather:
        """A wave's gathering of bulk pieces into jobs, sent by the writer like any batch."""
        heartbeat = self.context.heartbeat

        def send(jobs: Sequence[Batch]) -> None:
            self.writer.send_all(jobs, heartbeat)

        return BulkGather(self.context, self.ledger, send, self.connector.bulk_batch_size)

    def _create_root(self, root_id: str, root_row: RecordResult, root_node: Node) -> None:
        batch = self._root_batch(root_id, root_row, root_node)
        if batch is not None:
            self.writer.send(*batch)

    def _root_batch(self, root_id: str, root_row: RecordResult, root_node: Node) -> Batch | None:
        """The root: the system's clone action, with the overrides (and the copy key). The copy
        inherits the rest from its source, as read for the plan (a lost answer compares them).
        None when a crashed run's attempt is found to have made it (or it needs review)."""
        context, conn = self.context, self.connector
        overrides = context.top_overrides(root_row, root_node.fields)
        sent = Sent(payloads={root_row.pk: overrides}, inherits=True, sources={root_row.pk: root_node.fields})
        self.writer.reconcile_leftovers([root_row], sent)
        if root_row.status != S.PENDING:
            return None

        def clone(batch: list[RecordResult]) -> list[WriteResult]:
            # From the payload at call time: "make unique" may have numbered a value.
            return conn.clone(context.job.object_name, [CloneRequest(root_id, dict(sent.payloads[root_row.pk]))])

        context.heartbeat()
        return [root_row], clone, sent

    @property
    def inherits(self) -> bool:
        """Whether a child's create copies its source's values (Vault `source_record_id`)."""
        return self.connector.creates_from_source

    def _payload(
        self, node: Node, fields: list[FieldInfo], id_map: Mapping[str, str], new_parent: str, later: LaterRefs
    ) -> tuple[dict[str, Any], str]:
        """A child's create row, and why its record fails instead ("" when it doesn't)."""
        refs, cleared = self._shape(node.object_name, node.parent_field, fields)
        if self.connector.creates_from_source:
            return source_payload(node, refs, id_map, new_parent, later=later, cleared=cleared), ""
        return build_payload(node, fields, id_map, new_parent, self.connector, later=later, cleared=cleared), ""

    def _takes_bulk(self, object_name: str, depth: int) -> bool:
        """bulk_writes.takes_bulk, asked once per level (the pipeline asks per batch and per group)."""
        key = (object_name, depth)
        if key not in self._bulk:
            self._bulk[key] = takes_bulk(self.context, object_name, depth)
        return self._bulk[key]

    def _shape(
        self, object_name: str, parent_field: str, fields: list[FieldInfo]
    ) -> tuple[list[FieldInfo], list[FieldInfo]]:
        """The references a copy re-points and the unique fields it clears: the same for every
        record of an object reached through one parent field, worked out once (not per record)."""
        key = (object_name, parent_field)
        if key not in self._shapes:
            self._shapes[key] = reference_fields(fields, parent_field), unique_fields(fields)[0]
        return self._shapes[key]

    def _plan_repoint(
        self, root_id: str, placed: Iterable[tuple[Mark, Node]], depths: dict[tuple[str, str], int]
    ) -> None:
        """The second pass's plan of the whole tree (or the rest of a plan kept in part)."""
        if self.connector.updates_records:
            self.repoint.extend(root_id, placed, depths, last=True)

    def _children_batches(
        self,
        object_name: str,
        rows: list[RecordResult],
        node_by_key: dict[tuple[str, str], Node],
        id_map: Mapping[str, str],
        depths: dict[tuple[str, str], int],
    ) -> list[Batch]:
        """One object's rows of a wave as batches to send (rows that can't be sent failed and saved)."""
        context, conn = self.context, self.connector
        fields = context.describe(object_name)
        key_field = context.key_field(object_name)
        payloads: dict[int, dict[str, Any]] = {}
        parent_fields: dict[int, str] = {}
        ready: list[RecordResult] = []
        for row in rows:
            node = node_by_key[(row.object_name, row.source_id)]
            new_parent = id_map.get(node.parent_source_id)
            if not new_parent:
                res.fail(row, "PARENT_NOT_COPIED", "Its parent record was not copied.")
                res.save([row])
                continue
            refs = self._shape(object_name, node.parent_field, fields)[0]  # later_refs reads only these
            later = later_refs(node, refs, depths, target_of=conn.reference_target) if conn.updates_records else {}
            payload, why = self._payload(node, fields, id_map, new_parent, later)
            if why:
                res.fail(row, "UNMATCHED_REFERENCE", why)
                res.save([row])
                continue
            values = context.record_values(object_name, row.source_id, {}, node.fields)
            context.keep_unique(object_name, row.source_id, values, node.fields)
            values.update(row.fixes or {})  # a person's corrections of this failed row, last
            payload.update(values)
            left_out = payload.pop(LEFT_OUT, None)
            kept = context.masks.labelled(object_name, values) or {}
            row.values = {**kept, LEFT_OUT: left_out} if left_out else kept or None
            if key_field:
                payload[key_field] = row.idempotency_key
            payloads[row.id] = payload
            parent_fields[row.id] = node.parent_field
            ready.append(row)
        parent_field = next(iter(parent_fields.values()), "")
        # A create from source (Vault) inherits the source's values; an insert carries them all.
        sent = Sent(
            payloads=payloads,
            parent_field=parent_field,
            inherits=self.inherits,
            sources={r.id: node_by_key[(r.object_name, r.source_id)].fields for r in ready},
        )
        return self._batches(object_name, ready, payloads, sent)

    def _batches(
        self, object_name: str, ready: list[RecordResult], payloads: dict[int, dict[str, Any]], sent: Sent
    ) -> list[Batch]:
        """The level's rows to send, after settling what a crashed run left SENDING: by its
        stored bulk jobs first (the level's path, bulk_writes.py), then by reconciling."""
        context, conn = self.context, self.connector
        bulk = bool(ready) and self._takes_bulk(object_name, ready[0].depth)
        if bulk:
            settle_stored_jobs(context, self.ledger, object_name, ready)
        self.writer.reconcile_leftovers(ready, sent)
        ready = [r for r in ready if r.status == S.PENDING]

        def create(batch: list[RecordResult]) -> list[WriteResult]:
            return conn.create(object_name, [payloads[r.id] for r in batch])

        call, size = create, conn.batch_size
        if bulk:
            call, size = bulk_call(context, self.ledger, object_name, payloads), conn.bulk_batch_size
        return [(ready[i : i + size], call, sent) for i in range(0, len(ready), size)]


def _snapshot_nodes(rows: list[RecordResult]) -> list[Node] | None:
    """The tree as read when the job was planned, or None when a record still to copy has no
    snapshot. A copied record's snapshot is dropped when its job ends (a retry doesn't send it)."""
    nodes = []
    for row in rows:
        snap = row.source_snapshot
        if not isinstance(snap, dict):
            if row.status != S.SUCCEEDED:
                return None
            snap = {}
        nodes.append(snapshot_node(row, snap))
    return nodes


def build_payload(
    node: Node,
    fields: list[FieldInfo],
    id_map: Mapping[str, str],
    new_parent: str,
    system: Connector,
    *,
    later: LaterRefs | None = None,
    cleared: list[FieldInfo] | None = None,
) -> dict[str, Any]:
    """An insert payload from a source record: copyable fields only, lookups re-pointed to copies.
    `system` (the connector) says which fields its system sets itself and what else an insert carries.
    Lookups in `later` (to records of this wave or a later one) are left empty until the second pass
    sets them (repoint.py), so a copy never points into the source tree meanwhile; a required one
    keeps the source's value until then (an insert can't leave it empty)."""
    infos = {f.name: f for f in fields}
    # Unique values stay with the source (`cleared`: unique_fields' answer, when worked out already).
    clear = {f.name for f in (unique_fields(fields)[0] if cleared is None else cleared)}
    payload: dict[str, Any] = dict(system.insert_extras(node.fields))
    for name, value in node.fields.items():
        info = infos.get(name)
        if (
            name.startswith("$")
            or name in system.system_fields
            or info is None
            or not info.editable
            or info.no_copy
            or info.type == FieldType.FILE
            or name in clear
            or value is None
        ):
            continue
        if name in (later or {}) and not info.required:
            continue  # set by the second pass (an insert's missing field is empty)
        if info.type == FieldType.SUBFORM and isinstance(value, list):
            value = [_subform_row(r, system.subform_row_system_fields) for r in value if isinstance(r, dict)]
        elif isinstance(value, dict) and "id" in value:
            target = id_map.get(str(value["id"]))
            value = {"id": target} if target else {"id": value["id"]}
        elif info.type == FieldType.REFERENCE and isinstance(value, str) and value in id_map:
            value = id_map[value]
        payload[name] = value
    current = node.fields.get(node.parent_field)
    payload[node.parent_field] = {"id": new_parent} if isinstance(current, dict) or current is None else new_parent
    return payload


def source_payload(
    node: Node,
    fields: list[FieldInfo],
    id_map: Mapping[str, str],
    new_parent: str,
    *,
    later: LaterRefs | None = None,
    cleared: list[FieldInfo] | None = None,
) -> dict[str, Any]:
    """A create row that copies its source (Vault `source_record_id`: the system copies the values and
    honours no_copy): the new parent, references to records of the tree re-pointed to their copies
    (siblings, self-references), and unique values the copy must not keep cleared.

    References in `later` (to records of this wave or a later one, repoint.later_refs) have no copy
    to point at yet: left empty until the second pass sets them, so a copy never points into the
    source tree meanwhile; a required one keeps the source's value until then (it can't be empty).
    `cleared`: the unique fields to clear, worked out once per object (then `fields` may hold only
    the references)."""
    payload: dict[str, Any] = {"source_record_id": node.source_id, node.parent_field: new_parent}
    later = later or {}
    for info in reference_fields(fields, node.parent_field):
        if info.name in later:
            if not info.required:
                payload[info.name] = None
            continue
        value = node.fields.get(info.name)
        target = id_map.get(value) if isinstance(value, str) else None
        if target:
            payload[info.name] = target
    for info in unique_fields(fields)[0] if cleared is None else cleared:
        if node.fields.get(info.name) not in (None, ""):
            payload[info.name] = None
    return payload


def _subform_row(row: dict[str, Any], drop: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in drop and not k.startswith("$")}
