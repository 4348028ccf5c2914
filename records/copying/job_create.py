"""Making a copy job: the request planned (or its stored plan claimed), the job saved with one
pending result per record, queued on commit. Keyword-only; the views, the `copy` command, the
benchmark and the tests call copy_job_create."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from records.connectors import connector_class, connector_for
from records.connectors.base import Connector
from records.copying import approval, existing, field_labels, lifecycle, planned_fields, stored_plans, tree
from records.copying import results as res
from records.copying.gc_pauses import fewer_pauses
from records.copying.job_queue import enqueue_job
from records.copying.mask_preview import without_samples
from records.copying.plan_pieces import CHUNK_NODES, InMemoryTrees, TreePieces, top_name, waves_of
from records.copying.preview import keeps_snapshot, plan_copy
from records.copying.request import CopyRequest
from records.copying.result_rows import new_rows
from records.copying.tree import Plan
from records.lib.audit import audit_log
from records.models import CopyJob, CopyPlan, CopyTemplateVersion, RecordResult
from records.notify import events as notify

# What a job is made from: the plan, its trees (a piece at a time), and whether they keep the records' data.
Planned = tuple[Plan, TreePieces, bool]
# The most records of a deep copy whose rows are made while its tree is read (TreeRowsAhead).
AHEAD_MAX_ROWS = 20_000


def copy_job_create(
    *,
    request: CopyRequest,
    user: Any,
    enqueue: bool = True,
    connector: Connector | None = None,
    confirmation: str | None = None,
    plan: CopyPlan | None = None,
    template_version: CopyTemplateVersion | None = None,
    linked: Callable[[CopyJob], object] | None = None,
) -> CopyJob:
    """Validate and plan the copy, save the job with one pending result per record, enqueue on commit.

    `confirmation`: the confirmed preview's one-time token. It is consumed atomically (a unique
    column): a repeated or concurrent Confirm gets the job the first one created, not a second.
    `plan`: a ready CopyPlan of this user for this same request (the preview's, read on a worker):
    the job is made from the trees it stored, with no remote call at all. Without it (CLI, admin,
    tests) the tree is read here. `template_version`: the saved template this copy runs (copy_templates/).
    `linked`: what is saved with the job, in its transaction, or not at all (a schedule's run and
    its link to the job: a worker that dies between the two leaves neither half)."""
    create = dict(
        request=request,
        user=user,
        enqueue=enqueue,
        connector=connector,
        stored=plan,
        version=template_version,
        linked=linked,
    )
    with fewer_pauses():  # the job's rows: thousands of objects made at once
        if not confirmation:
            return _create(**create)
        return _confirmed(create, confirmation, user)


def _confirmed(create: dict[str, Any], confirmation: str, user: Any) -> CopyJob:
    """The job of a confirmed preview: made once, however many times Confirm is pressed."""
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
    request: CopyRequest,
    user: Any,
    enqueue: bool,
    connector: Connector | None,
    stored: CopyPlan | None,
    version: CopyTemplateVersion | None = None,
    confirmation: str | None = None,
    linked: Callable[[CopyJob], object] | None = None,
) -> CopyJob:
    request.check_access(user)
    unknown = set(request.row_overrides) - set(request.source_ids)
    if unknown:
        raise ValidationError(f"Per-record overrides for ids not being copied: {', '.join(sorted(unknown))}.")
    ahead: Ahead | None = None
    if stored is None:  # read here, outside the transaction: no lock is held over remote calls
        connector = connector or connector_for(request.profile)
        ahead = _rows_ahead(request, connector)
        planned = _planned_now(request, connector, ahead)
    with transaction.atomic():
        if stored is not None:
            # Claimed in the job's transaction: one job per plan; a refusal below undoes the claim.
            planned = stored_plans.claim(plan=stored, user=user, request=request)
        plan, trees, snapshot = planned
        if plan.refused_reason:
            raise ValidationError(plan.refused_reason)
        describe = _plan_describe(stored, connector)
        kept = {"field_labels": _field_labels(request, plan, describe), **_planned_fields(request, describe)}
        job = _job_row(request, plan, trees, user, confirmation, kept, version, ahead)
        _add_results(job, trees, snapshot, plan, ahead)
        audit_log(
            actor=user,
            action="job.create",
            profile=request.profile,
            job=job,
            mode=request.mode,
            object_name=request.object_name,
            records=job.planned_count,
        )
        if linked is not None:
            linked(job)
        if approval.needs_approval(request=request):
            CopyJob.objects.filter(pk=job.pk).update(status=CopyJob.Status.AWAITING_APPROVAL)
            job.status = CopyJob.Status.AWAITING_APPROVAL
            notify.job_awaiting_approval(job=job)
        elif enqueue:
            enqueue_job(job)
        if stored is not None:
            stored_plans.mark_used(plan=stored, job=job)
    return job


def _planned_now(request: CopyRequest, conn: Connector, ahead: Ahead | None) -> Planned:
    ready = ahead if isinstance(ahead, RowsAhead) else None
    sink = ahead if isinstance(ahead, TreeRowsAhead) else None
    # Made at once: no one picks fields from this plan (the preview's plans are read on a worker).
    plan, trees = plan_copy(request=request, connector=conn, trees_ready=ready, sink=sink, field_pickers=False)
    return plan, InMemoryTrees(trees), keeps_snapshot(conn, request)


def _rows_ahead(request: CopyRequest, conn: Connector) -> Ahead | None:
    """What makes the job's rows while its plan is read, when they can be made then: its trees
    kept as read (no match in another profile, no masks rewriting them)."""
    if request.target is not None or request.options.masks():
        return None
    if request.mode == CopyJob.Mode.CLONE:
        return RowsAhead()
    if request.mode == CopyJob.Mode.DEEP_COPY:
        return TreeRowsAhead(snapshot=keeps_snapshot(conn, request))
    return None


class RowsAhead:
    """A bulk clone's pending rows made from its trees as soon as the plan has them (plan_copy's
    `trees_ready`), while the holders of its new unique values are still being read: once the plan
    is in, only the job's row and the rows' insert are left (the job is still made from the finished
    plan, in its transaction, with no remote call in it; a refused plan inserts nothing). The rows'
    idempotency keys name the job's code, chosen here and given to its row."""

    def __init__(self) -> None:
        self.code = uuid.uuid4()
        self.rows: res.MadeAhead | None = None

    def __call__(self, trees: dict[str, list[tree.Node]]) -> None:
        nodes = [(n, n.depth) for tree_nodes in trees.values() for n in tree_nodes]
        self.rows = res.MadeAhead(_result_rows(None, self.code, nodes, snapshot=False))

    def insert(self, job: CopyJob, plan: Plan) -> bool:
        """The rows made inserted for `job` (False: none were made, the caller makes them)."""
        if self.rows is None:
            return False
        self.rows.insert(job_id=job.pk)
        return True


class TreeRowsAhead:
    """A deep copy's pending rows made as its tree is read (plan_copy's `sink`): each record's row
    and its snapshot's JSON made as its page's records come in, while the later pages are out. Once
    the plan is in, only the rows' creation waves (known with the whole tree: set row by row at the
    insert) and the insert are left. As RowsAhead: the job is still made from the finished plan, in
    its transaction, with no remote call in it; a refused plan inserts nothing; the rows' keys
    name the job's code, chosen here. One top record: a copy of several makes its rows from its
    trees as before (a record in two trees, the trees' rows kept in the job's state). Up to
    `max_rows` records: a larger tree's rows are made from it at the insert, a piece at a time, as
    before (its snapshots' JSON not held beside the records all at once)."""

    def __init__(self, *, snapshot: bool, max_rows: int = AHEAD_MAX_ROWS) -> None:
        self.code = uuid.uuid4()
        self.snapshot, self.max_rows = snapshot, max_rows
        self.rows: res.MadeAhead | None = None
        self.trees = 0
        self.placed: list[tuple[str, int]] = []  # each row's record and depth, in the rows' order

    def keep_of(self, root: str) -> Callable[[tree.Node], tree.Node]:
        """read_tree's `keep` for the top record `root`: each record kept as read, its row made."""
        self.trees += 1
        self.rows = res.MadeAhead() if self.trees == 1 else None
        return self._add

    def _add(self, node: tree.Node) -> tree.Node:
        if self.rows is not None and len(self.placed) >= self.max_rows:
            self.rows, self.placed = None, []
        if self.rows is not None:
            self.rows.add(_row_values(self.code, node, node.depth, self.snapshot))
            self.placed.append((node.source_id, node.depth))
        return node

    def insert(self, job: CopyJob, plan: Plan) -> bool:
        """The rows made inserted for `job`, each in its creation wave as the plan worked them out
        (the rule _insert_pieces applies), in one statement. False: none were made."""
        if self.rows is None or not plan.waves:
            return False
        waves = plan.waves
        self.rows.set_each("depth", [waves.get(source_id, depth) for source_id, depth in self.placed])
        self.rows.insert(job_id=job.pk)
        return True


Ahead = RowsAhead | TreeRowsAhead


def _plan_describe(stored: CopyPlan | None, conn: Connector | None) -> field_labels.Describe | None:
    """The fields as the plan read them: the stored plan's describes (no remote call), else those
    of the connector that just planned it (cached; no picklist values needed)."""
    if stored is not None:
        return stored_plans.described(stored)
    return field_labels.safe(conn.describe_listed) if conn is not None else None


def _planned_fields(request: CopyRequest, describe: field_labels.Describe | None) -> dict[str, Any]:
    """What a clone's run may start on before its own describe is back (planned_fields.py)."""
    if describe is None:
        return {}
    return planned_fields.kept(request, describe, connector_class(request.profile.system).copy_key_fields)


def _field_labels(request: CopyRequest, plan: Plan, describe: field_labels.Describe | None) -> field_labels.Labels:
    """The labels of the fields the job can set (field_labels.py)."""
    if describe is None:
        return {}
    return field_labels.job_field_labels(
        request=request,
        objects=[o.object_name for o in plan.objects],
        describe=describe,
        name_fields=connector_class(request.profile.system).name_fields,
    )


def _job_row(
    request: CopyRequest,
    plan: Plan,
    trees: TreePieces,
    user: Any,
    confirmation: str | None,
    kept: dict[str, Any],
    version: CopyTemplateVersion | None,
    ahead: Ahead | None,
) -> CopyJob:
    """The job's row; `kept`: what its plan keeps beside the plan itself (the fields' labels, the
    fields a clone's run may start on)."""
    first = top_name(trees, plan.source_ids[0]) if plan.source_ids else ""
    # The code the rows made ahead name in their idempotency keys.
    code = {"code": ahead.code} if ahead is not None and ahead.rows is not None else {}
    return CopyJob.objects.create(
        **code,
        **{**request.row_fields(), "source_ids": list(plan.source_ids)},  # a copy by query found its ids
        source_name=first[:300],  # for the job's title
        plan={
            **plan.as_dict(),
            "copy_name": _copy_name(request),
            **kept,
            "masking": without_samples(plan.masking),
        },
        requested_by=user,
        confirmation=confirmation or None,
        template_version=version,
    )


def _copy_name(request: CopyRequest) -> str:
    """The top copy's new name when the person set one, for the job's title: three copies of one
    account named "… test 2" and "… test 3" are told apart by it."""
    names = connector_class(request.profile.system).name_fields
    return next((str(v)[:300] for k, v in (request.overrides or {}).items() if k in names and v), "")


def _add_results(job: CopyJob, trees: TreePieces, snapshot: bool, plan: Plan, ahead: Ahead | None) -> None:
    """One pending result per record (a record in two trees is one row, the first; both trees
    list it); the trees as rows in the job's state (only when there are several: one tree is every
    row of the job, and its job page reads the state each second, so 100,000 ids there would cost
    every poll; a clone's none), and the planned count. Rows made `ahead` (a bulk clone's, a deep
    copy's of one top record) are inserted as they were made, in one statement."""
    keys: dict[str, list[tuple[str, str]]] = {}
    if ahead is None or not ahead.insert(job, plan):
        keys = _insert_pieces(job, trees, snapshot, plan)
    pks = {}
    if keys:
        pks = {(o, s): pk for pk, o, s in job.results.values_list("pk", "object_name", "source_id").iterator(2000)}
    state_trees = {root: [pks[k] for k in tree_keys if k in pks] for root, tree_keys in keys.items()}
    job.state = {"trees": state_trees, "profile_address": lifecycle.profile_address(job.profile)}
    if job.target_profile is not None:
        # The target's address as planned (lifecycle.moved_words) and the references matched in it.
        job.state["target_address"] = lifecycle.profile_address(job.target_profile)
        job.state["refs"] = plan.cross.get("refs", {})
    job.planned_count = job.results.count()
    job.save(update_fields=["state", "planned_count"])


def _insert_pieces(job: CopyJob, trees: TreePieces, snapshot: bool, plan: Plan) -> dict[str, list[tuple[str, str]]]:
    """The trees' rows, CHUNK_NODES a statement: a bulk clone's 5,000 one-record trees are three
    inserts, not 5,000; {tree: its rows' keys} when the job's state lists them."""
    roots = trees.roots()
    # A clone's run sends every row of the job alike: it keeps no tree's rows (5,000 ids in the
    # state would be written at every heartbeat and read at every poll of the job page).
    by_tree = len(roots) > 1 and job.mode != CopyJob.Mode.CLONE
    keys: dict[str, list[tuple[str, str]]] = {}
    pending: list[tuple[tree.Node, int]] = []
    for root in roots:
        # One tree planned just now: its waves as the preview worked them out (the same rule).
        pieces, waves = _pieces_and_waves(trees, root, plan.waves if len(roots) == 1 else {})
        for nodes in pieces:
            pending += [(n, waves.get(n.source_id, n.depth)) for n in nodes]
            if len(pending) >= CHUNK_NODES:
                _insert_rows(job, _result_rows(job.pk, job.code, pending, snapshot))
                pending = []
            if by_tree:
                keys.setdefault(root, []).extend((n.object_name, n.source_id) for n in nodes)
    _insert_rows(job, _result_rows(job.pk, job.code, pending, snapshot))
    return keys


def _pieces_and_waves(
    trees: TreePieces, root: str, planned: dict[str, int]
) -> tuple[Iterable[list[tree.Node]], dict[str, int]]:
    """A tree's pieces and its records' creation waves: `planned` when the preview worked them
    out just now, else plan_pieces.waves_of. A lone record (a bulk clone's every tree) is in its
    own depth's wave, its one piece read once."""
    if planned:
        return trees.chunks(root), planned
    first = next(trees.chunks(root), [])
    if len(first) == 1:  # a tree's first piece holds CHUNK_NODES records unless it is the only one
        return [first], {}
    return trees.chunks(root), waves_of(trees, root)


def _insert_rows(job: CopyJob, rows: list[RecordResult]) -> None:
    """Rows inserted in the order the trees list them, so the first of a record's rows stays."""
    if job.target_profile_id:
        existing.apply_to_rows(job=job, rows=rows)
    res.insert(rows)


def _result_rows(
    job_id: int | None, code: uuid.UUID, nodes: list[tuple[tree.Node, int]], snapshot: bool
) -> list[RecordResult]:
    """Rows of records of the job `job_id` (None: made before it, RowsAhead) whose code is `code`,
    each in its creation wave (plan_pieces.waves_of); with `snapshot`, each keeps the record as read
    for the plan, so the run doesn't read it again."""
    return new_rows(job_id, (_row_values(code, n, depth, snapshot) for n, depth in nodes))


def _row_values(code: uuid.UUID, n: tree.Node, depth: int, snapshot: bool) -> dict[str, Any]:
    """The columns of the record `n`'s row in a job whose code is `code`, in the wave `depth`."""
    return {
        "object_name": n.object_name,
        "source_id": n.source_id,
        "source_name": (n.name or "")[:300],
        "parent_source_id": n.parent_source_id,
        "depth": depth,
        "idempotency_key": tree.idempotency_key(code, n.object_name, n.source_id),
        "source_snapshot": {"fields": n.fields, "parent_field": n.parent_field} if snapshot else None,
    }
