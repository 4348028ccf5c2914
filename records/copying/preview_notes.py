"""What the preview tells about a copy once its records are read: the values it renders (and a
value that can't be written), what fires on the copies, what happens to unique fields. Each
function returns its notes; the preview (preview.py) puts them on the plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from records.connectors.base import Connector, FieldInfo
from records.connectors.errors import ConnectorError
from records.copying import choices, tree, value_templates
from records.copying.options import CopyOptions
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.copying.unique import MAX_TRIES, numbered
from records.models import CopyJob


@dataclass
class Notes:
    """The plan's samples, warnings and notes, and its refusals in the order they take precedence."""

    samples: list[dict[str, Any]]
    refusals: list[str]
    warnings: list[str]
    notes: list[str]


def plan_notes(
    plan: Plan,
    conn: Connector,
    fields: list[FieldInfo],
    request: CopyRequest,
    rendered: dict[str, list[tree.Node]],
    plurals: dict[str, str],
) -> Notes:
    """What put_notes puts on the plan, worked out apart: a bulk clone's while its other records'
    names are still being read (they need only its first record and the object's fields)."""
    samples, refusal = rendered_samples(conn, rendered, request, plurals, {request.object_name: fields})
    out = Notes(samples, [refusal], automation_warnings(conn, request.mode, request.options), [])
    if request.target is None:  # across profiles unique values are kept: the target has its own
        warnings, refusal = unique_field_notes(plan, conn, fields, request, plurals)
        out.warnings += warnings
        out.refusals.append(refusal)
    out.notes = unique_predictions(conn, fields, request)
    return out


def put_notes(plan: Plan, notes: Notes, request: CopyRequest, taken: Callable[[], str]) -> None:
    """The plan's samples, warnings and notes; `taken`: a bulk clone's refusal for unique values
    other records hold (preview._taken_values_refusal), asked for only when the copy is one."""
    plan.samples += notes.samples
    plan.warnings += notes.warnings
    plan.notes += notes.notes
    plan.refused_reason = plan.refused_reason or next((r for r in notes.refusals if r), "")
    if len(plan.source_ids) > 1 and request.mode == CopyJob.Mode.CLONE:
        # With per-row values from a CSV file the rows differ; say so instead of "the same".
        same = "each with its own field changes" if request.row_overrides else "each with the same field changes"
        plan.notes.append(f"{len(plan.source_ids):,} records are cloned, {same}.")
        plan.refused_reason = plan.refused_reason or taken()


def rendered_samples(
    conn: Connector,
    trees: dict[str, list[tree.Node]],
    request: CopyRequest,
    labels: dict[str, str] | None = None,
    described: dict[str, list[FieldInfo]] | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """(samples, refusal): every record's values are rendered (cheap: templates are parsed once)
    so a value too long for its field is refused here, for any record (the first one named, and
    how many more); the samples show the top record's and the first child's. `described`: fields
    the plan has read already, by object (the lengths and labels are all this needs of them)."""
    today, job = timezone.localdate(), _next_job_number()
    refused: list[str] = []
    samples: list[dict[str, Any]] = []
    shown: set[str] = set()
    described = dict(described or {})
    for root, nodes in trees.items():
        for node in nodes:
            top = node.depth == 0
            if not top and not _changed_below(request.options, node.object_name):
                continue
            base = {**request.overrides, **request.row_overrides.get(root, {})} if top else {}
            values = choices.record_values(
                values=base,
                options=request.options,
                object_name=node.object_name,
                source_id=node.source_id,
                source=node.fields,
                today=today,
                job=job,
            )
            if node.object_name not in described:
                described[node.object_name] = conn.describe(node.object_name)
            where = f"{node.object_name} {node.source_id}"
            try:
                choices.check_rendered(fields=described[node.object_name], values=values, where=where)
            except ValidationError as exc:
                refused.append(" ".join(exc.messages))
            rows, kind = _sample_rows(node, values, base), "top" if top else "child"
            if rows:
                _label_samples(rows, node, described[node.object_name], labels or {})
            if kind not in shown and rows:
                shown.add(kind)
                samples += rows
    return samples, _refusal(refused)


def _sample_rows(node: tree.Node, values: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's rendered values as sample rows. A top record's plain overrides are in
    plan.changes already: its samples show what is rendered."""
    top = node.depth == 0
    return [
        {"object_name": node.object_name, "source_id": node.source_id, "field": k, "value": v}
        for k, v in values.items()
        if not top or k not in base or value_templates.is_template(base[k])
    ]


def _label_samples(
    rows: list[dict[str, Any]], node: tree.Node, fields: list[FieldInfo], labels: dict[str, str]
) -> None:
    """The names people read beside the API names: the object's label, the record's name, the field's label."""
    field_labels = {f.name: f.label for f in fields}
    for row in rows:
        row["object_label"] = labels.get(node.object_name, "")
        row["name"] = node.name
        row["field_label"] = field_labels.get(row["field"], "")


def _changed_below(options: CopyOptions, object_name: str) -> bool:
    return bool(options.fields_for(object_name) or object_name in options.lineage)


def _refusal(refused: list[str]) -> str:
    if not refused:
        return ""
    more = len(refused) - 1
    also = f" The same holds for {more} more record{'s' if more > 1 else ''}." if more else ""
    return refused[0] + also


def _next_job_number() -> int:
    # The preview's {job}: the number the job will most likely get (the run uses the real one).
    last = CopyJob.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def automation_warnings(conn: Connector, mode: str, options: CopyOptions) -> list[str]:
    """What fires, or doesn't, on the copies: cadences, migration mode, workflows."""
    warnings = []
    if options.skip_cadences:
        warnings.append("Cadences don't start on the copies (skip_feature_execution: cadences).")
    if options.migration_mode:
        warnings.append(
            "Copies are created in migration mode"
            + (" with no triggers" if options.no_triggers else "")
            + ": this needs the Record Migration permission in Vault, which refuses the copies otherwise."
        )
    if conn.native_deep_copy or mode != CopyJob.Mode.DEEP_COPY:
        return warnings
    if options.run_workflows:
        warnings.append("Workflows, approvals and blueprints fire on the inserted related records.")
    else:
        warnings.append(
            "Workflows, approvals and blueprints don't fire on the inserted related records "
            "(they are inserted with no triggers); tick “Let workflows, approvals and blueprints fire on "
            "inserted copies” to let them fire."
        )
    return warnings


def unique_field_notes(
    plan: Plan, conn: Connector, fields: list[FieldInfo], request: CopyRequest, labels: dict[str, str]
) -> tuple[list[str], str]:
    """(warnings, refusal) about unique fields (see tree.unique_fields).

    The copied records get unique, not required fields blank (warned here, so the user can give the
    top record a value instead); a unique required field without a new value would make the remote
    system refuse the copy as a duplicate, so such a plan is refused before anything is queued.
    Children of an engine-built deep copy can't be given values: their clashes are warnings.
    """
    object_label = labels.get(plan.object_name) or plan.object_name
    clear, clash = _top_unique_fields(plan, fields, request)
    several = len(plan.source_ids) > 1
    warnings = [
        f"{info.label} is unique in {object_label}: {'copies get' if several else 'the copy gets'} it blank. "
        f"Set a new value in the overrides to give {'them' if several else 'it'} one."
        for info in clear.values()
    ]
    infos = {f.name: f for f in fields}
    reasons = []
    for name, ids in clash.items():
        which = f" ({len(ids)} of the {len(plan.source_ids)} records have none)" if several else ""
        reasons.append(
            f"{infos[name].label} ({name}) is unique and required in {object_label}: give the "
            f"{'copies' if several else 'copy'} a new value{which}, or the copy will be refused as a duplicate. "
            f'For example {name}={{{name}}} (copy), or choose "make unique" for {name}.'
        )
    if plan.mode == CopyJob.Mode.DEEP_COPY and not conn.native_deep_copy:
        # Vault's own deep copy decides how it copies the children.
        warnings += _child_unique_warnings(plan, conn, request.options, labels)
    return warnings, " ".join(reasons)


def _top_unique_fields(
    plan: Plan, fields: list[FieldInfo], request: CopyRequest
) -> tuple[dict[str, FieldInfo], dict[str, list[str]]]:
    """({name: field} the copies get blank, {name: [source ids]} of unique required fields that
    would clash) over every top record with its own values."""
    clear: dict[str, FieldInfo] = {}
    clash: dict[str, list[str]] = {}
    made_unique = dict.fromkeys(request.options.unique.get(plan.object_name, ()), "")  # numbered on a clash
    # The policy reads only which fields are given: worked out once per set of names, not per record
    # (a bulk clone's 5,000 rows name the same fields).
    policy: dict[frozenset[str], tuple[list[FieldInfo], list[FieldInfo]]] = {}
    for source_id in plan.source_ids:
        values = {**made_unique, **request.overrides, **request.row_overrides.get(source_id, {})}
        given = frozenset(values)
        if given not in policy:
            policy[given] = tree.unique_fields(fields, values)
        to_clear, clashing = policy[given]
        clear.update((f.name, f) for f in to_clear)
        for info in clashing:
            clash.setdefault(info.name, []).append(source_id)
    return clear, clash


def _child_unique_warnings(plan: Plan, conn: Connector, options: CopyOptions, labels: dict[str, str]) -> list[str]:
    warnings = []
    for child in dict.fromkeys(o.object_name for o in plan.objects if o.depth > 0):
        child_label = labels.get(child) or child
        to_clear, clashing = tree.unique_fields(conn.describe(child), dict.fromkeys(options.unique.get(child, ())))
        warnings += [f"{info.label} is unique in {child_label}: copies get it blank." for info in to_clear]
        warnings += [
            f"{info.label} is unique and required in {child_label}: the copies of these records will be "
            "refused as duplicates."
            for info in clashing
        ]
    return warnings


def unique_predictions(conn: Connector, fields: list[FieldInfo], request: CopyRequest) -> list[str]:
    """What Make unique will do to the top record's typed values: "Name “Cardiostat” is taken: the
    copy is named “Cardiostat (2)”." (the first free number, read in one call by Connector.holders;
    the run numbers the same way, unique.numbered, unless a record takes it meanwhile)."""
    infos = {f.name: f for f in fields}
    notes = []
    for name in request.options.unique.get(request.object_name, ()):
        value, info = request.overrides.get(name), infos.get(name)
        if info is None or not isinstance(value, str) or not value or value_templates.is_template(value):
            continue
        candidates = [value, *(numbered(value, n, info.max_length) for n in range(2, MAX_TRIES + 2))]
        try:
            held = conn.holders(request.object_name, name, candidates)
        except ConnectorError:
            continue
        if value not in held:
            continue
        free = next((c for c in candidates if c not in held), "")
        then = f"the copy is named “{free}”" if free else f"every number up to {MAX_TRIES + 1} is taken too"
        notes.append(f"{info.label} “{value}” is taken: {then}.")
    return notes
