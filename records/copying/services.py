"""The copy engine's services, shared by views, admin, jobs and commands. Keyword-only."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from records.connectors import connector_class, connector_for
from records.connectors.base import Connector, ConnectorError, FieldInfo, RateLimited, Unavailable
from records.copying import choices, lifecycle, tree, undo_checks, value_templates
from records.copying import results as res
from records.copying.execute import Cancelled, Paused, Runner
from records.copying.lifecycle import LeaseLost
from records.copying.options import CopyOptions
from records.copying.remote_checks import missing_references
from records.copying.repoint import updating
from records.copying.review import copy_row_resolve  # noqa: F401 - a job action, with the others
from records.copying.tree import Plan, TooLarge
from records.copying.undo_preview import UndoPreview
from records.copying.undo_preview import preview as undo_preview_of
from records.copying.validation import validate_source_ids
from records.copying.ways import DeepCopyWay, deep_copy_way
from records.lib.audit import audit_log
from records.models import CopyJob, RecordResult

log = logging.getLogger(__name__)
S = RecordResult.Status
COPY_MODES = (CopyJob.Mode.CLONE, CopyJob.Mode.DEEP_COPY)


# ---------------------------------------------------------------------------------------------
# Preview


def copy_preview(
    *,
    profile,
    object_name: str,
    source_ids: list[str],
    mode: str,
    overrides: dict | None = None,
    row_overrides: dict | None = None,
    connector: Connector | None = None,
    options: CopyOptions | None = None,
) -> Plan:
    """Return what a copy would do: per-object counts, the changed fields, or why it is refused.

    `row_overrides` ({source id: {field: value}}, bulk clone) are planned as copy_job_create plans them.
    `options`: what else the copy leaves out, sets and sets off (records/copying/options.py).
    Raises ValidationError for bad input (unknown mode, no ids, an override that can't be applied).
    """
    row_overrides = {str(k): v for k, v in (row_overrides or {}).items()}
    plan, _ = _plan(
        profile=profile,
        object_name=object_name,
        source_ids=source_ids,
        mode=mode,
        overrides=overrides or {},
        row_overrides=row_overrides,
        connector=connector,
        options=options,
    )
    return plan


def checked_ids(mode: str, source_ids) -> list[str]:
    """The checks of a copy's input that need no remote call (the mode, the ids), in one place:
    _plan and stored_plans.plan_request (before a plan row is stored) both apply them."""
    if mode not in COPY_MODES:
        raise ValidationError(f"Unknown copy mode {mode!r}; use clone or deep_copy.")
    ids = [str(s).strip() for s in source_ids if str(s).strip()]
    if not ids:
        raise ValidationError("Give at least one record id to copy.")
    if len(set(ids)) != len(ids):
        raise ValidationError("A record id is listed twice.")
    validate_source_ids(ids)  # before any request: a NUL id must reach neither the remote nor the database
    return ids


def _plan(
    *,
    profile,
    object_name,
    source_ids,
    mode,
    overrides,
    row_overrides=None,
    connector=None,
    options: CopyOptions | None = None,
    progress=None,
):
    """The plan and the trees read for it. `progress(n)`: told the records read so far (stored_plans.py)."""
    options = options or CopyOptions()
    source_ids = checked_ids(mode, source_ids)
    conn = connector or connector_for(profile)
    fields = conn.describe(object_name)
    chosen = [*overrides, *(n for values in (row_overrides or {}).values() for n in values)]
    choices.check_not_copy_key(fields=fields, key_names=conn.copy_key_fields, names=chosen, where=object_name)
    choices.check_values(fields=fields, values=overrides)
    for source_id, values in (row_overrides or {}).items():
        try:
            choices.check_values(fields=fields, values=values)
        except ValidationError as exc:
            raise ValidationError(f"Record {source_id}: " + " ".join(exc.messages)) from exc
    _check_references(conn, fields, overrides, row_overrides or {})
    _check_options(conn, object_name, mode, options, profile)
    object_infos = _safe_objects(conn)
    # The plan names objects by their plural labels ("Contacts: 400"), as do job titles.
    plurals = {o.name: o.label_plural or o.label for o in object_infos}
    plan = Plan(object_name=object_name, mode=mode, source_ids=source_ids)
    first = conn.get(object_name, source_ids[0])
    plan.changes = tree.field_changes(fields, first, overrides)
    trees: dict[str, list[tree.Node]] = {}
    if mode == CopyJob.Mode.CLONE:
        # Each row carries its record's name: the first was read above, the others' names are
        # read in a few batched calls. An id not found is named in a warning here (its row fails when
        # it runs, as before); the other records are checked when they run.
        names = {source_ids[0]: first.name, **_clone_names(conn, object_name, source_ids[1:], plan)}
        nodes = [tree.Node(object_name, s, 0, name=names.get(s, "")) for s in source_ids]
        plan.objects = tree.summarize(nodes, plurals)
        trees = {s: [n] for s, n in zip(source_ids, nodes, strict=True)}
    else:
        limit = _how(conn, options, object_name, engine=options.engine)["limit"]
        all_nodes: list[tree.Node] = []
        try:
            for source_id in source_ids:
                done = len(all_nodes)
                nodes = tree.read_tree(
                    conn,
                    object_name,
                    source_id,
                    limit=limit - _related(all_nodes),
                    exclude=frozenset(options.exclude),
                    progress=_offset(progress, done),
                )
                trees[source_id] = nodes
                all_nodes.extend(nodes)
        except TooLarge:
            # Whose limit it is: Vault's own deep copy's, or Record Copier's when it builds the copy.
            whose = "Vault allows" if conn.native_deep_copy and not options.engine else "Record Copier copies"
            plan.refused_reason = (
                f"This deep copy would copy more than {limit:,} related records, the most "
                f"{whose} in one job. "
                "Copy smaller parts of the hierarchy instead"
                + (
                    # Said for both ways in: the preview's box and the command's flag.
                    ", or have Record Copier build it level by level (on the preview: “Build the "
                    "hierarchy level by level”; from the command line: --engine)."
                    if conn.native_deep_copy and not options.engine
                    else "."
                )
            )
            plan.objects = tree.summarize(all_nodes, plurals)
            return plan, trees
        plan.objects = tree.summarize(all_nodes, plurals)
        plan.way, plan.cost = _way(conn, options, object_name, all_nodes)
    if mode == CopyJob.Mode.CLONE:
        sources = _clone_sources(conn, object_name, source_ids, first.fields, overrides, row_overrides or {}, options)
        trees_for_samples = {s: [tree.Node(object_name, s, 0, fields=f)] for s, f in sources.items()}
    else:
        trees_for_samples = trees
    _samples(plan, conn, trees_for_samples, overrides, row_overrides or {}, options)
    _automation_notes(plan, conn, mode, options)
    _unique_policy(plan, conn, fields, overrides, row_overrides or {}, plurals, options)
    if len(source_ids) > 1 and mode == CopyJob.Mode.CLONE:
        # With per-row values from a CSV file the rows differ; say so instead of "the same".
        same = "each with its own field changes" if row_overrides else "each with the same field changes"
        plan.warnings.append(f"{len(source_ids)} records are cloned, {same}.")
    return plan, trees


def _clone_sources(
    conn: Connector,
    object_name: str,
    source_ids: list[str],
    first: dict,
    overrides,
    row_overrides,
    options: CopyOptions,
) -> dict[str, dict[str, Any]]:
    """{id: the source values its templates read} of every cloned record, so each one's rendered
    values are checked before Confirm: the first as read, the others only the fields a template
    reads, in batched calls (Connector.field_values); {} when no template reads a field. A record not
    found is left out (the plan warns of it; its row fails when it runs)."""
    base = {**options.fields_for(object_name), **overrides}
    reading = {s: _placeholders({**base, **row_overrides.get(s, {})}) for s in source_ids[1:]}
    wanted = [s for s, names in reading.items() if names]
    columns = sorted(set().union(*reading.values())) if wanted else []
    found = conn.field_values(object_name, wanted, columns) if wanted else {}
    out = {source_ids[0]: first}
    for s, names in reading.items():
        if not names:
            out[s] = {}
        elif s in found:
            out[s] = found[s]
    return out


def _placeholders(values: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for value in values.values():
        try:
            names |= value_templates.placeholders(value) if value_templates.is_template(value) else set()
        except value_templates.TemplateError:
            continue  # braces in a value that is not a template (checked as a plain value)
    return names


def _check_references(conn: Connector, fields, overrides, row_overrides) -> None:
    """A reference (Zoho's Owner too) names a record or user that exists, checked as on the
    fields step, the distinct ids read in batches, before anything is queued."""
    infos = {f.name: f for f in fields}
    rows = [("", overrides or {}), *row_overrides.items()]
    errors = missing_references(connector=conn, infos=infos, rows=rows)
    if errors:
        shown = [f"{infos[name].label}: {message}" for name, message in errors[:3]]
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValidationError(" ".join(shown) + more)


def _clone_names(conn: Connector, object_name: str, ids: list[str], plan: Plan) -> dict[str, str]:
    """The names of a bulk clone's other records (Connector.names); a warning for those not found."""
    if not ids:
        return {}
    names = conn.names(object_name, ids)
    missing = [i for i in ids if i not in names]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        plan.warnings.append(
            f"{len(missing)} of the {len(ids) + 1} records were not found: {shown}. Their rows will fail; "
            "check the ids or leave them out."
        )
    return names


def _check_options(conn: Connector, object_name: str, mode: str, options: CopyOptions, profile) -> None:
    """Each per-object choice against that object's metadata (the same checks as the overrides)."""
    if object_name in options.exclude:
        raise ValidationError(f"{object_name} is the object being copied; only related objects can be left out.")
    keys = conn.copy_key_fields
    for obj, values in options.fields.items():
        choices.check_not_copy_key(fields=conn.describe(obj), key_names=keys, names=values, where=obj)
        choices.check_values(fields=conn.describe(obj), values=values, where=obj)
    for obj, name in options.lineage.items():
        choices.check_not_copy_key(fields=conn.describe(obj), key_names=keys, names=[name], where=obj)
        choices.check_lineage(fields=conn.describe(obj), field_name=name, where=obj)
    for obj, names in options.unique.items():
        choices.check_not_copy_key(fields=conn.describe(obj), key_names=keys, names=names, where=obj)
    zoho_only = [f for f in ("skip_cadences", "run_workflows") if getattr(options, f)]
    vault_only = [f for f in ("migration_mode", "no_triggers") if getattr(options, f)]
    if conn.native_deep_copy and zoho_only:
        raise ValidationError(f"{', '.join(zoho_only)}: Zoho CRM choices; this profile is Vault.")
    if vault_only and not conn.native_deep_copy:
        raise ValidationError(f"{', '.join(vault_only)}: Vault choices; this profile is Zoho CRM.")
    if options.no_triggers and not options.migration_mode:
        raise ValidationError(
            "No triggers works only with migration mode (X-VaultAPI-NoTriggers needs X-VaultAPI-MigrationMode)."
        )
    for obj, names in options.unique.items():
        infos = {f.name: f for f in conn.describe(obj)}
        bad = [n for n in names if n not in infos or not infos[n].unique or infos[n].type not in choices.TEXT_TYPES]
        if bad:
            raise ValidationError(f"{obj}: only unique text fields can be made unique; {', '.join(bad)} isn't one.")
    below = options.changes_below(object_name)
    if mode == CopyJob.Mode.CLONE and below:
        raise ValidationError(
            "A clone copies only the records themselves: leaving out related objects or "
            "changing them needs a deep copy."
        )
    if (
        mode == CopyJob.Mode.DEEP_COPY
        and options.unique
        and deep_copy_way(conn, options, object_name) == DeepCopyWay.SYSTEM
    ):
        raise ValidationError(
            "Vault's own deep copy can't retry a duplicate name: add --engine, or make the name unique with a template."
        )


def _how(conn: Connector, options: CopyOptions, object_name: str, *, engine: bool) -> dict:
    """With `engine` ticked or not: would the system's own deep copy make it if nothing were left
    out (the branches are ticked live), and the most related records one job may copy."""
    chosen = replace(options, exclude=(), engine=engine)
    native = conn.native_deep_copy
    return {
        "own_deep_copy": deep_copy_way(conn, chosen, object_name) == DeepCopyWay.SYSTEM,
        # Vault's own limit doesn't bind the engine
        "limit": settings.ENGINE_DEEP_COPY_MAX_RECORDS if engine and native else conn.max_deep_copy_records,
        "limit_owner": "Vault's" if native and not engine else "Record Copier's",
    }


def _way(conn: Connector, options: CopyOptions, object_name: str, nodes) -> tuple[str, dict]:
    """How the deep copy is made, why, and what it costs in write calls (tree.write_calls, the
    rule the preview's JS applies too, on plan.cost)."""
    related = [n for n in nodes if n.depth > 0]
    cost = tree.cost_data(
        nodes,
        batch_size=conn.batch_size,
        how=_how(conn, options, object_name, engine=options.engine),
        left_out=options.exclude,
        # Vault's "build it level by level" box is ticked live too: both answers are in the page.
        engine_choice={e: _how(conn, options, object_name, engine=v) for e, v in (("on", True), ("off", False))}
        if conn.native_deep_copy
        else None,
        updating=updating(conn, nodes, tree.assign_waves(nodes)) if conn.updates_records else frozenset(),
    )
    calls = tree.write_calls(cost)
    if deep_copy_way(conn, options, object_name) == DeepCopyWay.SYSTEM:
        return "Vault's own deep copy: one Deep Copy Object Record call per top record.", cost
    size = conn.batch_size
    updates = tree.update_calls(cost)
    # References inside the tree to records created in the same wave or later (repoint.py).
    then = (
        f", then {updates:,} update call{'s' if updates != 1 else ''} re-pointing references inside it"
        if updates
        else ""
    )
    if not conn.native_deep_copy:
        return (
            f"Built by Record Copier level by level: the top record cloned, the related records "
            f"inserted, {size} a call{then}: {_write_calls(calls)}."
        ), cost
    if options.changes_below(object_name):
        why = "it leaves out a branch or changes records below the top"
    elif options.migration_mode or options.no_triggers:
        why = "migration mode is a header of Create Object Records, not of Vault's deep copy"
    elif len(related) > conn.max_deep_copy_records:
        why = f"more than {conn.max_deep_copy_records:,} related records"
    else:
        why = "asked for (--engine)"
    return (
        f"Built level by level by Record Copier ({why}): Create Object Records with source_record_id, "
        f"{size} a call, top down{then}: {_write_calls(calls)}."
    ), cost


def _write_calls(n: int) -> str:
    return f"{n:,} write call{'' if n == 1 else 's'}"


def _samples(plan: Plan, conn: Connector, trees, overrides, row_overrides, options: CopyOptions) -> None:
    """Render every record's values (cheap: templates are parsed once) so a value too long for its
    field is refused here, for any record (the first one named, and how many more); show the top
    record's and the first child's."""
    today, job = timezone.localdate(), _next_job_number()
    refused: list[str] = []
    shown: set[str] = set()
    described: dict[str, list] = {}
    for root, nodes in trees.items():
        for node in nodes:
            top = node.depth == 0
            if not top and not (options.fields_for(node.object_name) or node.object_name in options.lineage):
                continue
            base = {**overrides, **row_overrides.get(root, {})} if top else {}
            values = choices.record_values(
                values=base,
                options=options,
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
            kind = "top" if top else "child"
            # Plain top-record overrides are in plan.changes already; samples show what is rendered.
            shown_values = {
                k: v for k, v in values.items() if not top or k not in base or value_templates.is_template(base[k])
            }
            if kind not in shown and shown_values:
                shown.add(kind)
                plan.samples += [
                    {"object_name": node.object_name, "source_id": node.source_id, "field": k, "value": v}
                    for k, v in shown_values.items()
                ]
    if refused:
        more = len(refused) - 1
        also = f" The same holds for {more} more record{'s' if more > 1 else ''}." if more else ""
        plan.refused_reason = plan.refused_reason or refused[0] + also


def _next_job_number() -> int:
    # The preview's {job}: the number the job will most likely get (the run uses the real one).
    last = CopyJob.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def _automation_notes(plan: Plan, conn: Connector, mode: str, options: CopyOptions) -> None:
    if options.skip_cadences:
        plan.warnings.append("Cadences don't start on the copies (skip_feature_execution: cadences).")
    if options.migration_mode:
        plan.warnings.append(
            "Copies are created in migration mode"
            + (" with no triggers" if options.no_triggers else "")
            + ": this needs the Record Migration permission in Vault, which refuses the copies otherwise."
        )
    if conn.native_deep_copy or mode != CopyJob.Mode.DEEP_COPY:
        return
    if options.run_workflows:
        plan.warnings.append("Workflows, approvals and blueprints fire on the inserted related records.")
    else:
        plan.warnings.append(
            "Workflows, approvals and blueprints don't fire on the inserted related records "
            '(they are inserted with no triggers); choose "run workflows" to let them fire.'
        )


def _unique_policy(plan: Plan, conn: Connector, fields, overrides, row_overrides, labels, options: CopyOptions) -> None:
    """Tell the user what happens to unique fields (see tree.unique_fields); refuse a certain clash.

    The copied records get unique, not required fields blank (warned here, so the user can give the
    top record a value instead); a unique required field without a new value would make the remote
    system refuse the copy as a duplicate, so such a plan is refused before anything is queued.
    Children of an engine-built deep copy can't be given values: their clashes are warnings.
    """
    object_label = labels.get(plan.object_name) or plan.object_name
    several = len(plan.source_ids) > 1
    clear: dict[str, FieldInfo] = {}
    clash: dict[str, list[str]] = {}
    for source_id in plan.source_ids:
        made_unique = dict.fromkeys(options.unique.get(plan.object_name, ()), "")  # numbered on a clash
        to_clear, clashing = tree.unique_fields(
            fields, {**made_unique, **overrides, **row_overrides.get(source_id, {})}
        )
        clear.update((f.name, f) for f in to_clear)
        for info in clashing:
            clash.setdefault(info.name, []).append(source_id)
    for info in clear.values():
        plan.warnings.append(
            f"{info.label} is unique in {object_label}: {'copies get' if several else 'the copy gets'} it blank. "
            f"Set a new value in the overrides to give {'them' if several else 'it'} one."
        )
    infos = {f.name: f for f in fields}
    reasons = []
    for name, ids in clash.items():
        info = infos[name]
        which = f" ({len(ids)} of the {len(plan.source_ids)} records have none)" if several else ""
        reasons.append(
            f"{info.label} ({name}) is unique and required in {object_label}: give the "
            f"{'copies' if several else 'copy'} a new value{which}, or the copy will be refused as a duplicate. "
            f'For example {name}={{{name}}} (copy), or choose "make unique" for {name}.'
        )
    if reasons and not plan.refused_reason:
        plan.refused_reason = " ".join(reasons)
    if plan.mode != CopyJob.Mode.DEEP_COPY or conn.native_deep_copy:
        return  # Vault's own deep copy decides how it copies the children
    for child in dict.fromkeys(o.object_name for o in plan.objects if o.depth > 0):
        child_label = labels.get(child) or child
        to_clear, clashing = tree.unique_fields(conn.describe(child), dict.fromkeys(options.unique.get(child, ())))
        for info in to_clear:
            plan.warnings.append(f"{info.label} is unique in {child_label}: copies get it blank.")
        for info in clashing:
            plan.warnings.append(
                f"{info.label} is unique and required in {child_label}: the copies of these records will be "
                "refused as duplicates."
            )


def _offset(progress, done: int):
    # read_tree counts one tree; the plan's progress counts every tree read so far.
    if progress is None:
        return None

    def report(read: int) -> None:
        progress(done + read)

    return report


def _related(nodes) -> int:
    return sum(1 for n in nodes if n.depth > 0)


def _safe_objects(conn):
    try:
        return conn.list_objects()
    except ConnectorError:
        return []


# ---------------------------------------------------------------------------------------------
# Creating and running jobs


def copy_job_create(
    *,
    profile,
    object_name: str,
    source_ids: list[str],
    mode: str,
    user,
    overrides: dict | None = None,
    row_overrides: dict | None = None,
    enqueue: bool = True,
    connector: Connector | None = None,
    confirmation: str | None = None,
    options: CopyOptions | None = None,
    plan=None,
) -> CopyJob:
    """Validate and plan the copy, save the job with one pending result per record, enqueue on commit.

    `confirmation`: the confirmed preview's one-time token. It is consumed atomically (a unique
    column): a repeated or concurrent Confirm gets the job the first one created, not a second.
    `plan`: a ready CopyPlan of this user for these same inputs (the preview's, read on a worker):
    the job is made from the trees it stored, with no remote call at all. Without it (CLI, admin,
    tests) the tree is read here."""
    create = dict(
        profile=profile,
        object_name=object_name,
        source_ids=source_ids,
        mode=mode,
        user=user,
        overrides=overrides,
        row_overrides=row_overrides,
        enqueue=enqueue,
        connector=connector,
        options=options,
        stored=plan,
    )
    if not confirmation:
        return _create(**create)
    existing = CopyJob.objects.filter(confirmation=confirmation, requested_by=user).first()
    if existing:
        return existing
    try:
        return _create(**create, confirmation=confirmation)
    except IntegrityError:
        return CopyJob.objects.get(confirmation=confirmation, requested_by=user)
    except ValidationError:
        # A concurrent Confirm may have just used the stored plan: answer with its job.
        existing = CopyJob.objects.filter(confirmation=confirmation, requested_by=user).first()
        if existing:
            return existing
        raise


def _create(
    *,
    profile,
    object_name,
    source_ids,
    mode,
    user,
    overrides,
    row_overrides,
    enqueue,
    connector,
    confirmation=None,
    options=None,
    stored=None,
) -> CopyJob:
    options = options or CopyOptions()
    overrides = overrides or {}
    row_overrides = {str(k): v for k, v in (row_overrides or {}).items()}
    source_ids = [str(s).strip() for s in source_ids if str(s).strip()]
    unknown = set(row_overrides) - set(source_ids)
    if unknown:
        raise ValidationError(f"Per-record overrides for ids not being copied: {', '.join(sorted(unknown))}.")
    inputs = dict(
        profile=profile,
        object_name=object_name,
        source_ids=source_ids,
        mode=mode,
        overrides=overrides,
        row_overrides=row_overrides,
        options=options,
    )
    if stored is None:  # read here, outside the transaction: no lock is held over remote calls
        conn = connector or connector_for(profile)
        plan, trees = _plan(**inputs, connector=conn)
        snapshot = needs_snapshot(conn, mode, options, object_name)
    with transaction.atomic():
        if stored is not None:
            from records.copying import stored_plans  # it calls _plan from here

            # Claimed in the job's transaction: one job per plan; a refusal below undoes the claim.
            plan, trees, snapshot = stored_plans.claim(plan=stored, user=user, **inputs)
        if plan.refused_reason:
            raise ValidationError(plan.refused_reason)
        first_nodes = trees.get(source_ids[0]) or [None]
        job = CopyJob.objects.create(
            profile=profile,
            object_name=object_name,
            source_ids=source_ids,
            mode=mode,
            source_name=(first_nodes[0].name if first_nodes[0] else "")[:300],  # for the job's title
            overrides=overrides,
            row_overrides=row_overrides,
            plan=plan.as_dict(),
            requested_by=user,
            confirmation=confirmation or None,
            options=options.as_dict(),
        )
        rows, tree_keys = [], {}
        for root, nodes in trees.items():
            waves = tree.assign_waves(nodes)
            rows += [
                RecordResult(
                    job=job,
                    object_name=n.object_name,
                    source_id=n.source_id,
                    source_name=(n.name or "")[:300],
                    parent_source_id=n.parent_source_id,
                    depth=waves.get(n.source_id, n.depth),
                    idempotency_key=tree.idempotency_key(job.code, n.object_name, n.source_id),
                    source_snapshot={"fields": n.fields, "parent_field": n.parent_field} if snapshot else None,
                )
                for n in nodes
            ]
            tree_keys[root] = [(n.object_name, n.source_id) for n in nodes]
        # A record in two trees is one row (the first); both trees list it.
        res.insert(rows)
        pks = {(o, s): pk for pk, o, s in job.results.values_list("pk", "object_name", "source_id")}
        state_trees = {root: [pks[k] for k in keys if k in pks] for root, keys in tree_keys.items()}
        job.state = {"trees": state_trees, "profile_address": lifecycle.profile_address(profile)}
        job.planned_count = job.results.count()
        job.save(update_fields=["state", "planned_count"])
        audit_log(
            actor=user,
            action="job.create",
            profile=profile,
            job=job,
            mode=mode,
            object_name=object_name,
            records=job.planned_count,
        )
        if enqueue:
            _enqueue(job)
        if stored is not None:
            from records.copying import stored_plans

            stored_plans.mark_used(plan=stored, job=job)
    return job


def needs_snapshot(conn: Connector, mode: str, options: CopyOptions, object_name: str) -> bool:
    """Engine-built deep copies keep the records as read for the plan, so the run doesn't read them again."""
    return mode == CopyJob.Mode.DEEP_COPY and deep_copy_way(conn, options, object_name) == DeepCopyWay.ENGINE


@dataclass
class Enqueued:
    """A job handed to the queue. `queue_down`: the queue was unreachable, so the job stays queued
    and jobs_resume_stale sends it once the queue is back (a Confirm never fails for it). Known
    when the transaction commits: at once in a view, which runs in autocommit."""

    job: CopyJob
    queue_down: bool = False


def copy_job_enqueue(*, job: CopyJob) -> Enqueued:
    """Queue a job its action made with `enqueue=False`, for a caller that tells whether the
    queue took it (the pages)."""
    return _enqueue(job)


def _enqueue(job: CopyJob) -> Enqueued:
    """Queue the RQ job when the transaction commits; its id is stored now, so a lost queue is
    detectable."""
    rq_id = f"copyjob-{job.pk}-{job.attempts}-{timezone.now().strftime('%H%M%S%f')}"
    CopyJob.objects.filter(pk=job.pk).update(rq_job_id=rq_id)
    job.rq_job_id = rq_id
    queued = Enqueued(job)
    transaction.on_commit(lambda: _send_to_queue(queued, rq_id))
    return queued


def _send_to_queue(queued: Enqueued, rq_id: str) -> None:
    import django_rq
    from redis.exceptions import RedisError

    # By name, not by import: records.jobs calls these services (no import circle).
    func = "records.jobs.run_copy_job"
    try:
        django_rq.get_queue("default").enqueue_call(func=func, args=(queued.job.pk,), job_id=rq_id)
    except (RedisError, OSError) as exc:
        log.warning("Job %s stays queued: the queue is unreachable (%s)", queued.job.pk, exc)
        queued.queue_down = True


def _claim(job_id: int, worker_id: str) -> bool:
    """The claim alone (tests, tools); copy_job_run keeps the fence it gives."""
    return lifecycle.claim(job_id=job_id, worker_id=worker_id) is not None


def copy_job_run(*, job_id: int, worker_id: str, connector: Connector | None = None) -> CopyJob:
    """Run a job to its end (what the RQ worker and `copy --sync` run). A second worker stops at once."""
    fence = lifecycle.claim(job_id=job_id, worker_id=worker_id)
    if fence is None:
        job = CopyJob.objects.get(pk=job_id)
        if job.cancel_requested and job.status == CopyJob.Status.QUEUED:
            lifecycle.cancel(job_id=job_id)
        log.info("Job %s not claimed by %s (status %s)", job_id, worker_id, job.status)
        return CopyJob.objects.get(pk=job_id)
    job = CopyJob.objects.select_related("profile", "parent_job").get(pk=job_id)
    token = lifecycle.current_fence.set(fence)
    try:
        with lifecycle.Heartbeat(fence):
            _run_fenced(job, fence, connector)
    except LeaseLost:
        log.warning("Job %s: lease lost by %s; another worker has it", job_id, worker_id)
    finally:
        lifecycle.current_fence.reset(token)
    return CopyJob.objects.get(pk=job_id)


def _run_fenced(job: CopyJob, fence: lifecycle.Fence, connector: Connector | None) -> None:
    moved = lifecycle.moved_words(job)
    if moved:
        _finish(job, fence, error=moved)
        return
    try:
        Runner(job, connector or connector_for(job.profile), fence.worker_id, fence).run()
    except Cancelled:
        _finish(job, fence, cancelled=True)
    except Paused as exc:
        _wait(job, fence, exc.cause)
    except (RateLimited, Unavailable) as exc:
        # A read (describe, a search, a poll) in an outage: wait like a write does, don't fail.
        _wait(job, fence, exc)
    except LeaseLost:
        raise
    except Exception as exc:
        # Never leave a job silently running: it ends, with a summary and no secrets.
        log.exception("Job %s failed", job.pk)
        summary = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        _finish(job, fence, error=summary[:1000])
    else:
        _finish(job, fence)


def _wait(job: CopyJob, fence: lifecycle.Fence, cause: ConnectorError) -> None:
    reason = f"{cause.message or cause}" if isinstance(cause, ConnectorError) else str(cause)
    # Woken when resume_at has passed by jobs_resume_stale, which every worker runs between jobs
    # (records/worker.py).
    lifecycle.wait_or_stop(fence=fence, reason=reason)


def _finish(job: CopyJob, fence: lifecycle.Fence, *, cancelled: bool = False, error: str = "") -> None:
    with transaction.atomic():
        lifecycle.check(fence)
        # A cancel that comes when nothing is left to send skips nothing: the job simply ends.
        cancelled = cancelled and job.results.filter(status=S.PENDING).update(status=S.SKIPPED) > 0
        # A copied record's snapshot is no longer needed (a retry resends only the others): don't
        # keep a second copy of CRM data, often personal data, longer than the job needs it.
        job.results.filter(status=S.SUCCEEDED, source_snapshot__isnull=False).update(source_snapshot=None)
        res.refresh_counts(job)
        left = job.results.filter(status__in=[S.PENDING, S.SENDING]).exists()
        review = job.results.filter(status=S.REVIEW).count()
        # An undo that kept records ("2 kept: changed since the copy") did not undo the copy.
        kept = undo_checks.kept_words(job) if job.mode == CopyJob.Mode.UNDO and not cancelled else ""
        if cancelled:
            status = CopyJob.Status.CANCELLED
        elif job.failed_count or left or error or kept or review:
            # Never "failed" for a job that copied records, nor for one whose copy may exist but
            # needs review: it is partly done, and resumable or resolvable.
            status = CopyJob.Status.PARTIAL if job.succeeded_count or kept or review else CopyJob.Status.FAILED
            error = error or lifecycle.end_summary(left=left, review=review)
            error = " ".join(part for part in (error, f"{kept}." if kept else "") if part)
        else:
            status = CopyJob.Status.SUCCEEDED
        if lifecycle.finish(fence=fence, status=status, error=error) and job.mode == CopyJob.Mode.UNDO:
            # In the same transaction: a worker killed in between can't leave the copy "succeeded"
            # after its undo deleted everything.
            lifecycle.mark_undone(undo_id=job.pk, original_id=job.parent_job_id, status=status)


# ---------------------------------------------------------------------------------------------
# Actions on jobs. Each checks the one rule (lifecycle.can_*), then makes its transition as a
# conditional UPDATE: a request on a stale object, or two racing requests, can't both pass.


def _allowed(rule, job: CopyJob, user) -> None:
    allowed, reason = rule(CopyJob.objects.get(pk=job.pk), user)
    if not allowed:
        raise ValidationError(reason)


def copy_job_cancel(*, job: CopyJob, user) -> CopyJob:
    """Stop a job: a queued or waiting one at once; a running one at its next batch. Results so far are kept."""
    _allowed(lifecycle.can_cancel, job, user)
    if not lifecycle.cancel(job_id=job.pk):
        raise ValidationError("This job has already finished.")
    audit_log(actor=user, action="job.cancel", profile=job.profile, job=job)
    job.refresh_from_db()
    return job


def copy_job_resume(*, job: CopyJob, user, enqueue: bool = True, include_changed: bool | None = None) -> CopyJob:
    """Resume a job: queue it again; only its unfinished records (pending, sending, failed,
    skipped) are sent again; a row left sending is reconciled first. An undo checks its kept
    records again; `include_changed` (undo only; None keeps its choice) deletes the changed ones too."""
    _allowed(lifecycle.can_resume, job, user)
    with transaction.atomic():
        if not lifecycle.requeue(job_id=job.pk):
            raise ValidationError(
                lifecycle.can_resume(CopyJob.objects.get(pk=job.pk), user)[1] or "This job can't be resumed now."
            )
        job.refresh_from_db()
        if include_changed is not None and job.mode == CopyJob.Mode.UNDO:
            job.options = {**(job.options or {}), "include_changed": include_changed}
            CopyJob.objects.filter(pk=job.pk).update(options=job.options)
        job.results.filter(status__in=[S.FAILED, S.SKIPPED]).update(status=S.PENDING, error_type="", error_message="")
        # Finished native phases are kept; a root whose deep copy failed to start starts again.
        state = job.state or {}
        for root, st in state.get("roots", {}).items():
            top = job.results.filter(source_id=root, depth=0, new_id="").exclude(status=S.REVIEW)
            if st.get("phase") == "done" and top.exists():
                state["roots"][root] = {}
        # A Vault undo whose cascade delete ended with records left deletes again (chaos 1053/1091:
        # a resumed part-failed undo returned at once, its phase "done").
        for root, st in state.get("cascade", {}).items():
            if st.get("phase") == "done" and job.results.filter(status=S.PENDING).exists():
                state["cascade"][root] = {}
        CopyJob.objects.filter(pk=job.pk).update(state=state)
        job.state = state
        res.refresh_counts(job)
        changed = (
            {} if include_changed is None or job.mode != CopyJob.Mode.UNDO else {"include_changed": include_changed}
        )
        # "job.retry", as the audit trail has always named a person's resume (the stored events are
        # searched by it; "job.resume" is the worker's own, actor None).
        audit_log(actor=user, action="job.retry", profile=job.profile, job=job, **changed)
        if enqueue:
            _enqueue(job)
    return job


def copy_job_undo(*, job: CopyJob, user, enqueue: bool = True, include_changed: bool = False) -> CopyJob:
    """Create the one job that deletes what `job` created (children first), with its own results.
    It deletes only what the job created and nobody changed since (copying/undo_checks.py);
    `include_changed`: records changed since the copy are deleted too (kept in the undo's options,
    so a resumed undo keeps the choice)."""
    _allowed(lifecycle.can_undo, job, user)
    created = list(job.results.filter(status=S.SUCCEEDED).exclude(new_id="").order_by("depth", "id"))
    # The class attribute (no connector built, no call); a registry entry without one names nothing.
    name_fields = getattr(connector_class(job.profile.system), "name_fields", ())
    top = next((r for r in created if r.depth == 0), None)
    with transaction.atomic():
        undo = CopyJob.objects.create(
            profile=job.profile,
            object_name=job.object_name,
            mode=CopyJob.Mode.UNDO,
            parent_job=job,
            source_ids=[r.new_id for r in created if r.depth == 0],
            source_name=undo_checks.copy_name(top, name_fields) if top else "",  # for the job's title
            requested_by=user,
            options={"include_changed": True} if include_changed else {},
            # The copies are where the copy job wrote them, wherever the profile points now.
            state={
                "profile_address": (job.state or {}).get("profile_address") or lifecycle.profile_address(job.profile)
            },
            # The objects' labels as the copy's plan named them (the title, the per-object table).
            plan={"deletes": len(created), "objects": _labels_only((job.plan or {}).get("objects"))},
        )
        if not lifecycle.attach_undo(job_id=job.pk, undo_id=undo.pk):
            raise ValidationError(
                lifecycle.can_undo(CopyJob.objects.get(pk=job.pk), user)[1] or "This job can't be undone now."
            )
        RecordResult.objects.bulk_create(
            [
                RecordResult(
                    job=undo,
                    object_name=r.object_name,
                    source_id=r.new_id,
                    depth=r.depth,
                    parent_source_id=r.source_id,
                    source_name=undo_checks.copy_name(r, name_fields),
                    idempotency_key=tree.idempotency_key(undo.code, r.object_name, r.new_id),
                )
                for r in created
            ],
            batch_size=500,
        )
        res.refresh_counts(undo)
        audit_log(
            actor=user,
            action="job.undo",
            profile=job.profile,
            job=undo,
            original=job.pk,
            include_changed=include_changed,
        )
        if enqueue:
            _enqueue(undo)
    return undo


def undo_preview(*, job: CopyJob, user, connector: Connector | None = None, limit: int | None = None) -> UndoPreview:
    """What an undo of `job` would delete and keep, and why, read now for the first
    settings.UNDO_PREVIEW_MAX_RECORDS copies (the worker checks every record again)."""
    _allowed(lifecycle.can_undo, job, user)
    conn = connector or connector_for(job.profile)
    size = settings.UNDO_PREVIEW_MAX_RECORDS if limit is None else limit
    return undo_preview_of(conn, job, limit=size, name_fields=conn.name_fields)


def _labels_only(objects) -> list[dict]:
    keep = ("object_name", "label", "depth")
    return [{k: o.get(k) for k in keep} for o in objects or [] if isinstance(o, dict) and o.get("object_name")]


def jobs_resume_stale(*, now=None) -> list[CopyJob]:
    """Re-queue jobs whose worker died (lease expired), whose wait is over, or whose RQ job
    vanished from Redis (or never reached it: the queue was down at submit)."""
    now = now or timezone.now()
    due = CopyJob.objects.filter(
        Q(status=CopyJob.Status.RUNNING, lease_expires_at__lt=now)
        | Q(status=CopyJob.Status.WAITING, resume_at__lte=now)
    )
    resumed = [job for job in due if lifecycle.release_expired(job_id=job.pk, now=now)]
    grace = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    for job in CopyJob.objects.filter(status=CopyJob.Status.QUEUED, created__lt=grace):
        if job not in resumed and not _rq_job_alive(job.rq_job_id):
            resumed.append(job)
    for job in resumed:
        with transaction.atomic():
            _enqueue(job)
        audit_log(actor=None, action="job.resume", profile=job.profile, job=job)
    return [CopyJob.objects.get(pk=j.pk) for j in resumed]


def _rq_job_alive(rq_job_id: str) -> bool:
    if not rq_job_id:
        return False
    import django_rq
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        rq_job = Job.fetch(rq_job_id, connection=django_rq.get_connection("default"))
    except NoSuchJobError:
        return False
    status = rq_job.get_status(refresh=True)
    if status == JobStatus.STARTED:
        # Asked only about a job that is still queued (unclaimed): a live work horse claims within
        # moments, so one started longer than a lease ago died before its claim (SIGKILL; RQ
        # keeps it "started" until its timeout, hours). A late claim is still safe: claims are
        # compare-and-set, the second RQ job finds the copy job taken and does nothing.
        started = rq_job.started_at
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        # No start time at all: killed before RQ stored it (chaos seed 1039); as dead.
        return started is not None and timezone.now() - started < timedelta(seconds=settings.JOB_LEASE_SECONDS)
    return status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
