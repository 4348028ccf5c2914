"""A copy's preview: what it would copy (per-object counts, the changed fields), how a deep copy
is made and what it costs, or why it is refused. `copy_preview` answers the `copy --preview`
command and the tests at once; `plan_copy` is what the plans' worker (stored_plans.py) and the job
(job_create.py) read. Keyword-only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol

from django.conf import settings

from records.connectors import connector_for
from records.connectors.base import Connector, FieldInfo, FieldType, Record
from records.connectors.errors import ConnectorError
from records.copying import approval, budget_words, cross_plan, source_query, tree, value_templates
from records.copying.cost import cost_data, update_calls, write_calls
from records.copying.level_paths import bulk_spend, plan_level_paths
from records.copying.level_reads import describe_quietly, overlapped
from records.copying.mask_unique import masking_plan
from records.copying.options import CopyOptions
from records.copying.preview_checks import check_request
from records.copying.preview_files import plan_files
from records.copying.preview_notes import Notes, plan_notes, put_notes
from records.copying.reads_together import Later, Overlap
from records.copying.remote_checks import taken_values
from records.copying.repoint import updating
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan, TooLarge
from records.copying.ways import DeepCopyWay, deep_copy_way
from records.models import CopyJob

Trees = dict[str, list[Node]]  # {top record id: the records its copy copies, top first}
Progress = Callable[[int], None]


class TreeSink(Protocol):
    """Where a deep copy's records go as they are read (plan_pieces.PieceWriter): `keep_of(root)` is
    read_tree's `keep` for the top record `root`."""

    def keep_of(self, root: str) -> Callable[[Node], Node]: ...


def copy_preview(*, request: CopyRequest, connector: Connector | None = None) -> Plan:
    """Return what a copy would do: per-object counts, the changed fields, or why it is refused.

    Per-record overrides (bulk clone) are planned as copy_job_create plans them.
    Raises ValidationError for bad input (unknown mode, no ids, an override that can't be applied).
    """
    plan, _ = plan_copy(request=request, connector=connector)
    return plan


def plan_copy(
    *,
    request: CopyRequest,
    connector: Connector | None = None,
    progress: Progress | None = None,
    target_connector: Connector | None = None,
    sink: TreeSink | None = None,
    trees_ready: Callable[[Trees], object] | None = None,
    field_pickers: bool = True,
) -> tuple[Plan, Trees]:
    """The plan and the trees read for it. `progress(n)`: told the records read so far (stored_plans.py).
    `field_pickers=False`: no one picks fields from this plan (a job made at once): a clone's plan
    then reads the object's picklists only where it needs their values (_top_fields).
    A copy into another profile (request.target) reads in the source and matches in the target.
    `sink`: a deep copy's records handed over as they are read, the trees returned holding what it
    keeps of them; not used when a later step reads every value (a copy into another profile
    matches them, masks rewrite them): the trees then hold the records as read.
    `trees_ready(trees)`: a bulk clone's trees as soon as they are made, before the holders of its
    new unique values are waited for (the job's rows are made meanwhile); the plan may still be refused."""
    conn = connector or connector_for(request.profile)
    source_ids, query = source_query.resolve(request=request, connector=conn)
    if list(request.source_ids) != source_ids:
        request = replace(request, source_ids=tuple(source_ids))
    whole = request.target is not None or request.options.masks()
    plan, trees = _plan_source(request, conn, progress, None if whole else sink, trees_ready, field_pickers)
    if query:
        plan.cross["query"] = query
    target = conn
    if request.target is not None and not plan.refused_reason:
        target = target_connector or connector_for(request.target)
        cross_plan.plan_cross(plan=plan, trees=trees, request=request, source=conn, target=target)
        if plan.levels:  # the writes go to the target: its concurrency weighs them
            nodes = [node for tree_nodes in trees.values() for node in tree_nodes]
            plan.levels = plan_level_paths(conn, nodes, writer=target)
    approval.check_cap(plan=plan, request=request)
    if request.options.masks() and not plan.refused_reason:
        plan.masking = masking_plan(plan=plan, trees=trees, request=request, source=conn, target=target)
    if not plan.refused_reason:
        plan_files(plan=plan, trees=trees, request=request, conn=conn)
        _add_budget(plan, target)
    return plan, trees


def _add_budget(plan: Plan, writer: Connector) -> None:
    """The copy's write calls against the budget `writer` last saw (its answers to the preview's
    reads): a line under the cost, and a warning when the copy would spend more than is left."""
    records = max(plan.total, len(plan.source_ids))
    calls = plan.write_calls if plan.write_calls is not None else -(-records // max(writer.clones_per_call, 1))
    # A level written by bulk jobs is counted as its jobs. (Its reads are not: the preview read the
    # tree already, Bulk Read jobs included, and the run copies what it read.)
    bulk = bulk_spend(_bulk_levels(plan, writer), batch_size=writer.batch_size, job_size=writer.bulk_batch_size)
    plan.budget = budget_words.plan_budget(
        writer.budget(),
        calls=max(calls - bulk.calls, 0),
        records=max(records - bulk.records, 0),
        jobs=bulk.jobs,
        job_cost=bulk.cost,
    )
    warning = budget_words.over_warning(plan.budget)
    if warning:
        plan.warnings.append(warning)


def _bulk_levels(plan: Plan, writer: Connector) -> list[dict[str, Any]]:
    """The levels the run writes by bulk jobs: the plan chose it and the object has the copy key
    (bulk_writes.takes_bulk: without it the run inserts them)."""
    chosen = [lv for lv in plan.levels if lv["write"]["path"] == "bulk"]
    keys = writer.copy_key_fields
    return [lv for lv in chosen if tree.copy_key_field(writer.describe(lv["object"]), keys)]


def _plan_source(
    request: CopyRequest,
    conn: Connector,
    progress: Progress | None,
    sink: TreeSink | None,
    trees_ready: Callable[[Trees], object] | None = None,
    field_pickers: bool = True,
) -> tuple[Plan, Trees]:
    if request.target is not None:  # across profiles the engine builds every copy: its limit applies
        request = replace(request, options=replace(request.options, engine=True))
    source_ids = list(request.source_ids)
    # Independent first reads, started together; their answers taken in the order they were made
    # one after another (a request refused by check_request raises before a read's error).
    clone = request.mode == CopyJob.Mode.CLONE
    with Overlap(conn, 5) as reads:
        described = reads.start(_top_fields, conn, request, field_pickers)
        labels = reads.start(_plural_labels, conn, request.object_name if clone else "")
        first_read = reads.start(conn.get, request.object_name, source_ids[0])
        # A bulk clone's other records' names: read while the describe is (the connector keeps
        # its calls in flight within the profile's concurrency).
        others = reads.start(_clone_names, conn, request.object_name, source_ids[1:] if clone else [])
        if not clone:  # the top object's related lists, kept by the connector for the tree's first level
            reads.start(_related_lists_ahead, conn, request.object_name, frozenset(request.options.exclude))
        # Whether the rows' unique values are taken already: read as soon as the object's metadata
        # says which fields are unique, not after its picklists too (needed last, by put_notes).
        several = clone and len(source_ids) > 1
        taken = reads.start(_taken_values_refusal, conn, request) if several else None
        fields = described.result()
        check_request(conn, fields, request)
        plurals = labels.result()
        first = first_read.result()
        plan = Plan(object_name=request.object_name, mode=request.mode, source_ids=source_ids)
        plan.changes = tree.field_changes(fields, first, request.overrides, names=conn.names)
        if clone:
            cloned = _clone_plan(conn, request, plan, (fields, first, plurals), others, trees_ready)
            put_notes(plan, cloned.notes, request, taken.result if taken else str)
            return plan, cloned.trees
        trees = _deep_copy_trees(conn, request, plan, plurals, progress, first, sink)
        if plan.refused_reason:
            return plan, trees
        put_notes(plan, plan_notes(plan, conn, fields, request, trees, plurals), request, str)
    return plan, trees


def _top_fields(conn: Connector, request: CopyRequest, field_pickers: bool) -> list[FieldInfo]:
    """The top object's fields. A clone whose plan no one picks fields from, that sets no picklist
    value and nothing per object, is checked and shown with the fields as listed: their names,
    types, labels, lengths and uniqueness are all it needs. Vault reads each picklist's values with
    a call of its own (a real object may have dozens), and those calls take slots the holders of
    the new names need. A picklist value set is checked against the values read, as always."""
    clone = request.mode == CopyJob.Mode.CLONE
    # Set, stamped, numbered or masked per object: their checks describe those objects whole (preview_checks).
    if field_pickers or not clone or request.target is not None or request.options.per_object():
        return conn.describe(request.object_name)
    listed = conn.describe_listed(request.object_name)
    named = request.named_fields()
    if any(f.name in named and f.type in FieldType.PICKLISTS for f in listed):
        return conn.describe(request.object_name)
    return listed


def _related_lists_ahead(conn: Connector, object_name: str, exclude: frozenset[str]) -> None:
    """The top object's related lists and the fields of the objects they lead to (the tree's first
    queries name them), read while the top object's picklists are."""
    try:
        lists = conn.related_lists(object_name)
    except ConnectorError:
        return  # asked again, and raised, where the tree is read
    children = [r.child_object for r in lists if r.deep_copy and r.child_object not in exclude]
    overlapped(conn, partial(describe_quietly, conn), list(dict.fromkeys(children)))


def keeps_snapshot(conn: Connector, request: CopyRequest) -> bool:
    """Whether the job keeps the records as read for the plan: engine-built deep copies, and every
    copy into another profile (the target's inserts carry the source's values)."""
    return request.target is not None or needs_snapshot(conn, request.mode, request.options, request.object_name)


def needs_snapshot(conn: Connector, mode: str, options: CopyOptions, object_name: str) -> bool:
    """Engine-built deep copies keep the records as read for the plan, so the run doesn't read them again."""
    return mode == CopyJob.Mode.DEEP_COPY and deep_copy_way(conn, options, object_name) == DeepCopyWay.ENGINE


def _plural_labels(conn: Connector, only: str = "") -> dict[str, str]:
    """{object: plural label}: the plan names objects by them ("Contacts: 400"), as do job titles.
    `only`: a clone's one object, whose labels Vault gives with its fields (no call of their own):
    the object list is a call that would take a slot the clone's checks need."""
    try:
        objects = [conn.object_info(only)] if only else conn.list_objects()
    except ConnectorError:
        return {}
    return {o.name: o.label_plural or o.label for o in objects if o is not None}


# -- a clone: one node per record ------------------------------------------------------------


@dataclass
class _Cloned:
    trees: Trees
    notes: Notes


def _clone_plan(
    conn: Connector,
    request: CopyRequest,
    plan: Plan,
    read: tuple[list[FieldInfo], Record, dict[str, str]],
    others: Later[tuple[dict[str, str], list[str]]],
    trees_ready: Callable[[Trees], object] | None,
) -> _Cloned:
    """A bulk clone's trees and notes. The notes need only the first record (`read`: the object's
    fields, that record, the objects' labels): worked out while the other records' names are read,
    so once those are in only the trees (and what `trees_ready` makes of them) are left."""
    fields, first, plurals = read
    try:
        # The values each record's templates read: its node's fields, as a deep copy's tree has them.
        values = _sources_for_templates(conn, request, first.fields)
        rendered = {s: [Node(request.object_name, s, 0, fields=f)] for s, f in values.items()}
        notes = plan_notes(plan, conn, fields, request, rendered, plurals)
    except Exception:
        others.result()  # the names' read failing is raised first, as when the reads are made in turn
        raise
    trees = _clone_trees(request, plan, first.name, plurals, others.result())
    if trees_ready is not None:
        trees_ready(trees)
    return _Cloned(trees, notes)


def _clone_trees(
    request: CopyRequest, plan: Plan, first_name: str, plurals: dict[str, str], named: tuple[dict[str, str], list[str]]
) -> Trees:
    """Each row carries its record's name: the first was read already, the others' (`named`,
    _clone_names) in a few batched calls. An id not found is named in a warning here (its row
    fails when it runs); the other records are checked when they run."""
    ids = plan.source_ids
    names, warnings = named
    plan.warnings += warnings
    names = {ids[0]: first_name, **names}
    nodes = [Node(request.object_name, s, 0, name=names.get(s, "")) for s in ids]
    plan.objects = tree.summarize(nodes, plurals)
    return {s: [n] for s, n in zip(ids, nodes, strict=True)}


def _taken_values_refusal(conn: Connector, request: CopyRequest) -> str:
    """Why the rows' unique values can't be used: another record has them already (the fields step
    checks the single form's values the same way). A field set to Make unique is numbered at run time.
    Only the fields' names, labels and uniqueness are needed: the metadata without the picklists."""
    try:
        fields = conn.describe_listed(request.object_name)
    except ConnectorError:
        return ""  # the describe, asked for first, says why
    numbered = set(request.options.unique.get(request.object_name, ()))
    rows = [(s, {k: v for k, v in ov.items() if k not in numbered}) for s, ov in request.row_overrides.items()]
    taken = taken_values(connector=conn, object_name=request.object_name, infos={f.name: f for f in fields}, rows=rows)
    if not taken:
        return ""
    return " ".join(taken) + " Give those rows other values, or choose Make unique for the field."


def _clone_names(conn: Connector, object_name: str, ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """({id: name} of a bulk clone's other records (Connector.names), a warning for those not found)."""
    if not ids:
        return {}, []
    names = conn.names(object_name, ids)
    missing = [i for i in ids if i not in names]
    if not missing:
        return names, []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    were, rows = ("was", "Its row fails") if len(missing) == 1 else ("were", "Their rows fail")
    return names, [
        f"{len(missing):,} of the {len(ids) + 1:,} records {were} not found: {shown}. {rows} when it runs; "
        "check the ids or leave them out."
    ]


def _sources_for_templates(conn: Connector, request: CopyRequest, first: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{id: the source values its templates read} of every cloned record, so each one's rendered
    values are checked before Confirm: the first as read, the others only the fields a template
    reads, in batched calls (Connector.field_values); {} when no template reads a field. A record not
    found is left out (the plan warns of it; its row fails when it runs)."""
    ids = list(request.source_ids)
    base = {**request.options.fields_for(request.object_name), **request.overrides}
    reading = {s: _fields_templates_read({**base, **request.row_overrides.get(s, {})}) for s in ids[1:]}
    wanted = [s for s, names in reading.items() if names]
    columns = sorted(set().union(*reading.values())) if wanted else []
    found = conn.field_values(request.object_name, wanted, columns) if wanted else {}
    out = {ids[0]: first}
    for s, names in reading.items():
        if not names:
            out[s] = {}
        elif s in found:
            out[s] = found[s]
    return out


def _fields_templates_read(values: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for value in values.values():
        try:
            names |= value_templates.placeholders(value) if value_templates.is_template(value) else set()
        except value_templates.TemplateError:
            continue  # braces in a value that is not a template (checked as a plain value)
    return names


# -- a deep copy: each top record's tree -----------------------------------------------------


def _deep_copy_trees(
    conn: Connector,
    request: CopyRequest,
    plan: Plan,
    plurals: dict[str, str],
    progress: Progress | None,
    first: Record | None = None,
    sink: TreeSink | None = None,
) -> Trees:
    """Each top record's tree, read up to the job's limit of related records; over it, the plan
    is refused (with the trees read so far)."""
    options = request.options
    limit = _deep_copy_facts(conn, options, request.object_name, engine=_engine(conn, options, request.object_name))[
        "limit"
    ]
    trees: Trees = {}
    all_nodes: list[Node] = []
    try:
        for source_id in plan.source_ids:
            nodes = tree.read_tree(
                conn,
                request.object_name,
                source_id,
                limit=limit - _related_count(all_nodes),
                exclude=frozenset(options.exclude),
                progress=_progress_after(progress, len(all_nodes)),
                root=first if first is not None and first.id == source_id else None,  # read already
                keep=sink.keep_of(source_id) if sink else None,
            )
            trees[source_id] = nodes
            all_nodes.extend(nodes)
    except TooLarge as exc:
        # The records read until the limit still show which branch holds the most.
        all_nodes.extend(exc.nodes)
        plan.counts_stopped = True
        plan.refused_reason = _too_large_words(conn, _engine(conn, options, request.object_name), limit)
    plan.objects = tree.summarize(all_nodes, plurals)
    if not plan.refused_reason:
        plan.waves = tree.assign_waves(all_nodes)
        plan.way, plan.cost = _way_and_cost(conn, options, request.object_name, all_nodes, plan.waves)
        plan.levels = plan_level_paths(conn, all_nodes)
    return trees


def _engine(conn: Connector, options: CopyOptions, object_name: str) -> bool:
    """Does Record Copier build this deep copy on a system with its own (Vault): asked for, or
    forced by the choices (a branch left out, changes below the top, migration mode). The limit
    is then Record Copier's, ticked or not: the page shows the box ticked and locked."""
    return options.engine_builds(native=conn.native_deep_copy, top_object=object_name)


def _too_large_words(conn: Connector, engine: bool, limit: int) -> str:
    # Whose limit it is: Vault's own deep copy's, or Record Copier's when it builds the copy.
    own = conn.native_deep_copy and not engine
    whose = "Vault allows" if own else "Record Copier copies"
    return (
        f"This deep copy would copy more than {limit:,} related records, the most "
        f"{whose} in one job. "
        "Copy smaller parts of the hierarchy instead"
        + (
            # The box's words on the preview; the copy command's --engine has the same help.
            ", or have Record Copier build it: tick “Build the hierarchy level by level”." if own else "."
        )
    )


def _progress_after(progress: Progress | None, done: int) -> Progress | None:
    # read_tree counts one tree; the plan's progress counts every tree read so far.
    if progress is None:
        return None

    def report(read: int) -> None:
        progress(done + read)

    return report


def _related_count(nodes: list[Node]) -> int:
    return sum(1 for n in nodes if n.depth > 0)


def _deep_copy_facts(conn: Connector, options: CopyOptions, object_name: str, *, engine: bool) -> dict[str, Any]:
    """{own_deep_copy, limit, limit_owner} with `engine` ticked or not: would the system's own deep
    copy make it if nothing were left out (the branches are ticked live), and the most related
    records one job may copy."""
    chosen = replace(options, exclude=(), engine=engine)
    native = conn.native_deep_copy
    return {
        "own_deep_copy": deep_copy_way(conn, chosen, object_name) == DeepCopyWay.SYSTEM,
        # Vault's own limit doesn't bind the engine
        "limit": settings.ENGINE_DEEP_COPY_MAX_RECORDS if engine and native else conn.max_deep_copy_records,
        "limit_owner": "Vault's" if native and not engine else "Record Copier's",
    }


def _way_and_cost(
    conn: Connector, options: CopyOptions, object_name: str, nodes: list[Node], waves: dict[str, int]
) -> tuple[str, dict[str, Any]]:
    """How the deep copy is made, why, and what it costs in write calls (cost.write_calls, the
    rule the preview's JS applies too, on plan.cost), the records created in `waves`."""
    cost = cost_data(
        nodes,
        batch_size=conn.batch_size,
        how=_deep_copy_facts(conn, options, object_name, engine=_engine(conn, options, object_name)),
        left_out=options.exclude,
        # Vault's "build it level by level" box is ticked live too: both answers are in the page.
        engine_choice=_engine_choice(conn, options, object_name) if conn.native_deep_copy else None,
        updating=updating(conn, nodes, waves) if conn.updates_records else frozenset(),
        wave_of=waves,
    )
    if deep_copy_way(conn, options, object_name) == DeepCopyWay.SYSTEM:
        return "Vault's own deep copy: one Deep Copy Object Record call per top record.", cost
    return _engine_way(conn, options, object_name, nodes, cost), cost


def _engine_choice(conn: Connector, options: CopyOptions, object_name: str) -> dict[str, dict[str, Any]]:
    return {e: _deep_copy_facts(conn, options, object_name, engine=v) for e, v in (("on", True), ("off", False))}


def _engine_way(
    conn: Connector, options: CopyOptions, object_name: str, nodes: list[Node], cost: dict[str, Any]
) -> str:
    """How the engine builds it, in words, with its write calls."""
    size, calls, updates = conn.batch_size, write_calls(cost), update_calls(cost)
    # References inside the tree to records created in the same wave or later (repoint.py).
    then = (
        f", then {updates:,} update call{'s' if updates != 1 else ''} re-pointing references inside it"
        if updates
        else ""
    )
    if not conn.native_deep_copy:
        return (
            f"Built by Record Copier level by level: the top record cloned, the related records "
            f"inserted, {size} a call{then}: {_write_calls_text(calls)}."
        )
    return (
        f"Built level by level by Record Copier ({_engine_reason(conn, options, object_name, nodes)}): "
        f"Create Object Records with source_record_id, {size} a call, top down{then}: {_write_calls_text(calls)}."
    )


def _engine_reason(conn: Connector, options: CopyOptions, object_name: str, nodes: list[Node]) -> str:
    """Why Record Copier builds a copy the system could make itself."""
    if options.changes_below(object_name):
        return "it leaves out a branch or changes records below the top"
    if options.migration_mode or options.no_triggers:
        return "migration mode is a header of Create Object Records, not of Vault's deep copy"
    if options.masks():
        return "fields are masked: Vault's deep copy copies the related records itself, unmasked"
    if _related_count(nodes) > conn.max_deep_copy_records:
        return f"more than {conn.max_deep_copy_records:,} related records"
    return "asked for: “Build the hierarchy level by level” is ticked"


def _write_calls_text(n: int) -> str:
    return f"{n:,} write call{'' if n == 1 else 's'}"
