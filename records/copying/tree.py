"""Read what a copy will touch: the tree of related records, and the Plan a preview shows."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from records.connectors.base import Connector, FieldInfo, FieldType, Record, RelatedList
from records.connectors.errors import ConnectorError
from records.copying import waves
from records.copying.cost import limit_verdict, write_calls
from records.copying.level_reads import ListsAhead, Read, read_level
from records.copying.references import ref_id

NameReader = Callable[[str, list[str]], dict[str, str]]  # Connector.names
DEFAULT_COPY_KEY_FIELDS = ("copy_key__c", "Copy_Key")
# Vault follows hierarchical copy as deep as it goes; Zoho's engine-built copy goes two levels.


@dataclass
class PlanObject:
    object_name: str
    label: str
    count: int
    depth: int
    parent_object: str = ""
    related_list: str = ""
    parent_label: str = ""  # parent_object in the objects' labels ("Products"), for people


@dataclass
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any
    # A reference's record by name ("Acme Corp" for its id), "" for other fields or a name not found.
    old_name: str = ""
    new_name: str = ""


@dataclass
class Plan:
    """What a preview shows and what the engine will do; `refused_reason` set when it can't run."""

    object_name: str
    mode: str
    source_ids: list[str]
    objects: list[PlanObject] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # information, nothing to act on
    refused_reason: str = ""
    counts_stopped: bool = False  # reading stopped at the limit: the counts are "at least"
    # The values templates, set/clear and lineage give the top record and a sample child:
    # [{"object_name", "source_id", "field", "value"}]
    samples: list[dict[str, Any]] = field(default_factory=list)
    way: str = ""  # how a deep copy is made and why ("Vault's own deep copy", ...)
    # What the write-call cost and the limit verdict are computed from (see cost_data); the preview's
    # JS recomputes both from it when a branch is unticked. Empty when the tree wasn't read in full.
    cost: dict[str, Any] = field(default_factory=dict)
    # A copy into another profile (copying/cross_plan.py): "refs" {object: {source id: target id}},
    # "references", "schema", "existing", "users", "target_users", "query", "report" (lines the CLI prints).
    cross: dict[str, Any] = field(default_factory=dict)
    # Masking (copying/mask_preview.py): {object: [{field, label, rule, count, sample_source,
    # sample_standin}]}; the job keeps it without the source samples (job_create).
    masking: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The attachments the copy would carry, counted and sized, and the choice (copying/preview_files.py).
    files: dict[str, Any] = field(default_factory=dict)
    # The copy's estimated spend against the API budget last seen (copying/budget_words.plan_budget).
    budget: dict[str, Any] = field(default_factory=dict)
    # Each level's read and write path where the system has two (copying/level_paths.py): {object,
    # depth, count, read, write, line}, read and write each {path, why, credits and seconds of both}.
    levels: list[dict[str, Any]] = field(default_factory=list)
    # Each record's creation wave (assign_waves) as the preview worked it out for its cost: the job
    # made from this plan at once gives its rows these, not worked out again. Not stored (as_dict).
    waves: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(o.count for o in self.objects)

    @property
    def related_total(self) -> int:
        return sum(o.count for o in self.objects if o.depth > 0)

    @property
    def refused(self) -> bool:
        return bool(self.refused_reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "objects": [o.__dict__ for o in self.objects],
            "total": self.total,
            "changes": [c.__dict__ for c in self.changes],
            "warnings": self.warnings,
            "notes": self.notes,
            "refused_reason": self.refused_reason,
            "counts_stopped": self.counts_stopped,
            "samples": self.samples,
            "way": self.way,
            "cost": self.cost,
            "limit": self.cost.get("limit"),
            "cross": self.cross,
            "masking": self.masking,
            "files": self.files,
            "budget": self.budget,
            "levels": self.levels,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, object_name: str, mode: str, source_ids: list[str]) -> Plan:
        """The Plan as_dict() stored (a CopyPlan row's plan), for the preview page to show."""
        return cls(
            object_name=object_name,
            mode=mode,
            source_ids=list(source_ids),
            objects=[PlanObject(**o) for o in data.get("objects", [])],
            changes=[FieldChange(**c) for c in data.get("changes", [])],
            warnings=list(data.get("warnings", [])),
            notes=list(data.get("notes", [])),
            refused_reason=data.get("refused_reason", ""),
            counts_stopped=bool(data.get("counts_stopped")),
            samples=list(data.get("samples", [])),
            masking=dict(data.get("masking") or {}),
            way=data.get("way", ""),
            cost=dict(data.get("cost") or {}),  # the preview's live recount needs it (preview_tree.js)
            cross=dict(data.get("cross") or {}),
            files=dict(data.get("files") or {}),
            budget=dict(data.get("budget") or {}),
            levels=list(data.get("levels") or []),
        )

    @property
    def write_calls(self) -> int | None:
        return write_calls(self.cost) if self.cost else None

    @property
    def verdict(self) -> str:
        return limit_verdict(self.cost) if self.cost else ""


@dataclass(slots=True)  # slots: a plan of 100,000 records holds 100,000 of them
class Node:
    """One record of a copy tree: how it was reached and (for engine-built copies) its data."""

    object_name: str
    source_id: str
    depth: int
    parent_source_id: str = ""
    parent_field: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    name: str = ""


NODE_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(Node))  # asked once, not once a record


def node_dict(node: Node) -> dict[str, Any]:
    """The node's attributes as a dict (a stored plan piece's record; Node(**it) reads it back)."""
    return {name: getattr(node, name) for name in NODE_ATTRIBUTES}


class TooLarge(Exception):
    """Past the limit of related records; `nodes`: those read until then (the root first), so the
    preview can still show where the records are."""

    def __init__(self, nodes: list[Node]) -> None:
        super().__init__(len(nodes) - 1)
        self.nodes = nodes


def copy_key_field(fields: list[FieldInfo], names: tuple[str, ...] = ()) -> str:
    """The copy-key field of an object (a unique editable text field named in settings.COPY_KEY_FIELDS,
    else in `names`, the connector's copy_key_fields, else the defaults), or ""."""
    by_name = {f.name: f for f in fields}
    for name in copy_key_names(names):
        info = by_name.get(name)
        if info and info.editable and info.type in (FieldType.TEXT, FieldType.LONG_TEXT):
            return name
    return ""


def copy_key_names(names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names a copy-key field may have: settings.COPY_KEY_FIELDS when set (empty: none), else
    `names` (the connector's copy_key_fields), else the defaults."""
    configured = settings.COPY_KEY_FIELDS
    return tuple(configured) if configured is not None else (names or DEFAULT_COPY_KEY_FIELDS)


UNCOPYABLE_TYPES = (FieldType.FILE, FieldType.SUBFORM)


def unique_fields(
    fields: list[FieldInfo], overrides: dict[str, Any] | None = None
) -> tuple[list[FieldInfo], list[FieldInfo]]:
    """The policy for unique fields a copy would otherwise duplicate: (to clear, clashing).

    A copy that keeps a unique value is refused as a duplicate (Vault, Zoho DUPLICATE_DATA). So a
    unique field that is copied, editable and not overridden is cleared on the copy when it is not
    required ("to clear"); when it is required it can't be cleared and the copy will clash unless the
    user gives a value ("clashing"). Not concerned: the copy-key field (the engine fills it with its
    idempotency key), fields the system doesn't copy (no_copy) or sets itself, files and subforms.
    """
    overrides = overrides or {}
    key = copy_key_field(fields)
    clear: list[FieldInfo] = []
    clash: list[FieldInfo] = []
    for info in fields:
        if (
            not info.unique
            or info.name == key
            or info.name in overrides
            or not info.editable
            or info.no_copy
            or info.system_managed_name
            or info.type in UNCOPYABLE_TYPES
        ):
            continue
        (clash if info.required else clear).append(info)
    return clear, clash


def idempotency_key(job_code: uuid.UUID, object_name: str, source_id: str) -> str:
    """A stable key per (job, record): the same on every retry and resume of the job."""
    digest = hashlib.sha1(f"{object_name}:{source_id}".encode(), usedforsecurity=False).hexdigest()[:12]
    return f"rc-{job_code.hex[:12]}-{digest}"


def read_tree(
    connector: Connector,
    object_name: str,
    root_id: str,
    *,
    limit: int | None = None,
    exclude: frozenset[str] = frozenset(),
    progress: Callable[[int], None] | None = None,
    root: Record | None = None,
    keep: Callable[[Node], Node] | None = None,
) -> list[Node]:
    """Read the records a deep copy of `root_id` copies, root first, each record once.

    Vault: the child relationships a deep copy follows, as deep as they go. Zoho: the related lists
    whose records point back through a lookup, and their children one level further. A record
    reachable by two paths is listed once (at its first, shallowest path). Raises TooLarge past `limit`.
    Objects in `exclude` are not followed: their records and everything only below them are left out.
    `progress(n)` is told the records read so far after each record (it decides how often to store it).
    `root`: the top record when the caller has read it already (its read is not made again).
    `keep(node)`: what is kept of each record read (a plan stored as it is read keeps its records
    compacted: plan_pieces.PieceWriter); the record as read without it.
    """
    max_depth = connector.max_deep_copy_depth
    if root is None:
        root = connector.get(object_name, root_id)
    keep = keep or _as_read
    nodes = [keep(Node(object_name, root_id, 0, fields=root.fields, name=root.name))]
    seen = {object_name: {root_id}}  # {object: its ids read}: no tuple a record
    level = {object_name: [root_id]}
    lists = ListsAhead(connector, exclude)
    try:
        for depth in range(1, max_depth + 1):
            related = lists.of(list(level))
            reads: list[Read] = [
                (r, parent_ids)
                for parent_object, parent_ids in level.items()
                for r in related[parent_object]
                if r.deep_copy and r.child_object not in exclude
            ]
            if depth < max_depth:  # the next level's lists asked for while this level is read
                lists.ahead(r.child_object for r, _ in reads)
            level = _read_level(connector, reads, depth, nodes, seen, limit=limit, progress=progress, keep=keep)
            if not level:
                break
    finally:
        lists.close()
    return nodes


def _read_level(
    connector: Connector,
    reads: list[Read],
    depth: int,
    nodes: list[Node],
    seen: dict[str, set[str]],
    *,
    limit: int | None,
    progress: Callable[[int], None] | None,
    keep: Callable[[Node], Node],
) -> dict[str, list[str]]:
    """One level's records added to `nodes` (each once); {object: ids} of the next level's parents."""
    next_level: dict[str, list[str]] = {}
    # A child's parent id as the parent's own string: 60,000 tasks of 10,000 contacts hold 10,000.
    parents = {i: i for _, ids in reads for i in ids}
    # The level's lists overlap; closed at once when stopping early (TooLarge, an error), so the
    # lists read ahead don't wait for the exception's traceback to be let go.
    with closing(read_level(connector, reads)) as lists:
        for related, records in lists:
            for record in records:
                object_ids = seen.setdefault(record.object_name or related.child_object, set())
                if record.id in object_ids:
                    continue
                object_ids.add(record.id)
                node = keep(_node(record, related, depth, parents))
                nodes.append(node)
                next_level.setdefault(node.object_name, []).append(node.source_id)
                if limit is not None and len(nodes) - 1 > limit:
                    raise TooLarge(nodes)
                if progress is not None:
                    progress(len(nodes))  # cheap: the callback stores it at most every 0.5 s
    return next_level


def _as_read(node: Node) -> Node:
    return node


def _node(record: Record, related: RelatedList, depth: int, parents: dict[str, str]) -> Node:
    parent = ref_id(record.fields.get(related.parent_field))
    return Node(
        object_name=record.object_name or related.child_object,
        source_id=record.id,
        depth=depth,
        parent_source_id=parents.get(parent, parent),
        parent_field=related.parent_field,
        fields=record.fields,
        name=record.name,
    )


def summarize(nodes: list[Node], labels: dict[str, str] | None = None) -> list[PlanObject]:
    """Per-object counts with depth, in the order met; `parent_object` names every object the
    records are reached through (Tasks under both Contacts and Deals: "Contacts, Deals")."""
    labels = labels or {}
    out: dict[tuple[str, int], PlanObject] = {}
    through: dict[tuple[str, int], list[str]] = {}
    by_id = {n.source_id: n.object_name for n in nodes}
    for node in nodes:
        key = (node.object_name, node.depth)
        if key not in out:
            out[key] = PlanObject(node.object_name, labels.get(node.object_name, ""), 0, node.depth)
            through[key] = []
        out[key].count += 1
        parent = by_id.get(node.parent_source_id, "") if node.depth else ""
        if parent and parent not in through[key]:
            through[key].append(parent)
    for key, plan_object in out.items():
        plan_object.parent_object = ", ".join(through[key])
        plan_object.parent_label = ", ".join(labels.get(p) or p for p in through[key])
    return list(out.values())


def field_changes(
    fields: list[FieldInfo], record: Record | None, overrides: dict[str, Any], names: NameReader | None = None
) -> list[FieldChange]:
    """The top record's changed fields; `names(target, ids)` ({id: name}, Connector.names) names
    the records a reference field pointed at and points at now."""
    infos = {f.name: f for f in fields}
    changes = []
    for name, new in overrides.items():
        info = infos.get(name)
        old = record.fields.get(name) if record else None
        change = FieldChange(name, info.label if info else name, old, new)
        if names is not None and info is not None and info.type == FieldType.REFERENCE and info.reference_to:
            _name_reference(change, info.reference_to, names)
        changes.append(change)
    return changes


def _name_reference(change: FieldChange, target: str, names: NameReader) -> None:
    ids = [i for i in (ref_id(change.old), ref_id(change.new)) if i]
    if not ids:
        return
    try:
        found = names(target, ids)
    except ConnectorError:
        return  # the ids are shown as they are
    change.old_name = found.get(ref_id(change.old), "")
    change.new_name = found.get(ref_id(change.new), "")


def assign_waves(nodes: list[Node]) -> dict[str, int]:
    """Order of creation, {source_id: wave}: see waves.py (cycles share a wave)."""
    return waves.assign_waves(nodes)
