"""The copy engine's services, shared by views, admin, jobs and commands. Keyword-only."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from records.audit import audit_log
from records.connectors import connector_for
from records.connectors.base import Connector, ConnectorError
from records.copying import plan as planning
from records.copying import results as res
from records.copying.execute import Cancelled, LeaseLost, Runner
from records.copying.plan import Plan, TooLarge
from records.copying.validation import validate_overrides, validate_source_ids
from records.models import CopyJob, RecordResult

log = logging.getLogger(__name__)
S = RecordResult.Status
COPY_MODES = (CopyJob.Mode.CLONE, CopyJob.Mode.DEEP_COPY)


# ---------------------------------------------------------------------------------------------
# Preview


def copy_preview(*, profile, object_name: str, source_ids: list[str], mode: str, overrides: dict | None = None,
                 row_overrides: dict | None = None, connector: Connector | None = None) -> Plan:
    """Return what a copy would do: per-object counts, the changed fields, or why it is refused.

    `row_overrides` ({source id: {field: value}}, bulk clone) are planned as copy_job_create plans them.
    Raises ValidationError for bad input (unknown mode, no ids, an override that can't be applied).
    """
    row_overrides = {str(k): v for k, v in (row_overrides or {}).items()}
    plan, _ = _plan(profile=profile, object_name=object_name, source_ids=source_ids, mode=mode,
                    overrides=overrides or {}, row_overrides=row_overrides, connector=connector)
    return plan


def _plan(*, profile, object_name, source_ids, mode, overrides, row_overrides=None, connector=None):
    if mode not in COPY_MODES:
        raise ValidationError(f"Unknown copy mode {mode!r}; use clone or deep_copy.")
    source_ids = [str(s).strip() for s in source_ids if str(s).strip()]
    if not source_ids:
        raise ValidationError("Give at least one record id to copy.")
    if len(set(source_ids)) != len(source_ids):
        raise ValidationError("A record id is listed twice.")
    validate_source_ids(source_ids)  # before any request: a NUL id must reach neither the remote nor the database
    conn = connector or connector_for(profile)
    fields = conn.describe(object_name)
    validate_overrides(fields=fields, overrides=overrides)
    for source_id, values in (row_overrides or {}).items():
        try:
            validate_overrides(fields=fields, overrides=values)
        except ValidationError as exc:
            raise ValidationError(f"Record {source_id}: " + " ".join(exc.messages)) from exc
    object_infos = _safe_objects(conn)
    # i15: the plan names objects by their plural labels ("Contacts: 400"), as do job titles.
    plurals = {o.name: o.label_plural or o.label for o in object_infos}
    plan = Plan(object_name=object_name, mode=mode, source_ids=source_ids)
    first = conn.get(object_name, source_ids[0])
    plan.changes = planning.field_changes(fields, first, overrides)
    trees: dict[str, list[planning.Node]] = {}
    if mode == CopyJob.Mode.CLONE:
        # Bulk clone: the other records are checked when they run (one failed row each), not read here.
        # i15: the first record was read above; its name goes with its row (the others aren't read).
        nodes = [planning.Node(object_name, s, 0, name=first.name if s == source_ids[0] else "") for s in source_ids]
        plan.objects = planning.summarize(nodes, plurals)
        trees = {s: [n] for s, n in zip(source_ids, nodes, strict=True)}
    else:
        limit = conn.max_deep_copy_records
        all_nodes: list[planning.Node] = []
        try:
            for source_id in source_ids:
                nodes = planning.read_tree(conn, object_name, source_id, limit=limit - _related(all_nodes))
                trees[source_id] = nodes
                all_nodes.extend(nodes)
        except TooLarge:
            plan.refused_reason = (
                f"This deep copy would copy more than {limit:,} related records, the most "
                f"{'Vault' if conn.native_deep_copy else 'a deep copy'} allows in one job. "
                "Copy smaller parts of the hierarchy instead."
            )
            plan.objects = planning.summarize(all_nodes, plurals)
            return plan, trees
        plan.objects = planning.summarize(all_nodes, plurals)
    _unique_policy(plan, conn, fields, overrides, row_overrides or {}, plurals)
    if len(source_ids) > 1 and mode == CopyJob.Mode.CLONE:
        # i15: with per-row values from a CSV file the rows differ; say so instead of "the same".
        same = "each with its own field changes" if row_overrides else "each with the same field changes"
        plan.warnings.append(f"{len(source_ids)} records are cloned, {same}.")
    return plan, trees


def _unique_policy(plan: Plan, conn: Connector, fields, overrides, row_overrides, labels) -> None:
    """Tell the user what happens to unique fields (see planning.unique_fields); refuse a certain clash.

    The copied records get unique, not required fields blank (warned here, so the user can give the
    top record a value instead); a unique required field without a new value would make the remote
    system refuse the copy as a duplicate, so such a plan is refused before anything is queued.
    Children of an engine-built deep copy can't be given values: their clashes are warnings.
    """
    object_label = labels.get(plan.object_name) or plan.object_name
    several = len(plan.source_ids) > 1
    clear: dict[str, object] = {}
    clash: dict[str, list[str]] = {}
    for source_id in plan.source_ids:
        to_clear, clashing = planning.unique_fields(fields, {**overrides, **row_overrides.get(source_id, {})})
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
            f"{'copies' if several else 'copy'} a new value{which}, or the copy will be refused as a duplicate."
        )
    if reasons and not plan.refused_reason:
        plan.refused_reason = " ".join(reasons)
    if plan.mode != CopyJob.Mode.DEEP_COPY or conn.native_deep_copy:
        return  # Vault's own deep copy decides how it copies the children
    for child in dict.fromkeys(o.object_name for o in plan.objects if o.depth > 0):
        child_label = labels.get(child) or child
        to_clear, clashing = planning.unique_fields(conn.describe(child))
        for info in to_clear:
            plan.warnings.append(f"{info.label} is unique in {child_label}: copies get it blank.")
        for info in clashing:
            plan.warnings.append(
                f"{info.label} is unique and required in {child_label}: the copies of these records will be "
                "refused as duplicates."
            )


def _related(nodes) -> int:
    return sum(1 for n in nodes if n.depth > 0)


def _safe_objects(conn):
    try:
        return conn.list_objects()
    except ConnectorError:
        return []


# ---------------------------------------------------------------------------------------------
# Creating and running jobs


def copy_job_create(*, profile, object_name: str, source_ids: list[str], mode: str, user,
                    overrides: dict | None = None, row_overrides: dict | None = None,
                    enqueue: bool = True, connector: Connector | None = None) -> CopyJob:
    """Validate and plan the copy, save the job with one pending result per record, enqueue on commit."""
    overrides = overrides or {}
    row_overrides = {str(k): v for k, v in (row_overrides or {}).items()}
    source_ids = [str(s).strip() for s in source_ids if str(s).strip()]
    unknown = set(row_overrides) - set(source_ids)
    if unknown:
        raise ValidationError(f"Per-record overrides for ids not being copied: {', '.join(sorted(unknown))}.")
    conn = connector or connector_for(profile)
    plan, trees = _plan(profile=profile, object_name=object_name, source_ids=source_ids, mode=mode,
                        overrides=overrides, row_overrides=row_overrides, connector=conn)
    if plan.refused_reason:
        raise ValidationError(plan.refused_reason)
    # Engine-built deep copies keep the records as read here, so the run doesn't read them again.
    snapshot = mode == CopyJob.Mode.DEEP_COPY and not conn.native_deep_copy
    with transaction.atomic():
        first_nodes = trees.get(source_ids[0]) or [None]
        job = CopyJob.objects.create(
            profile=profile, object_name=object_name, source_ids=source_ids, mode=mode,
            source_name=(first_nodes[0].name if first_nodes[0] else "")[:300],  # i15: for the job's title
            overrides=overrides, row_overrides=row_overrides, plan=plan.as_dict(), requested_by=user,
        )
        rows, tree_keys = [], {}
        for root, nodes in trees.items():
            waves = planning.assign_waves(nodes)
            rows += [
                RecordResult(
                    job=job, object_name=n.object_name, source_id=n.source_id, source_name=(n.name or "")[:300],
                    parent_source_id=n.parent_source_id, depth=waves.get(n.source_id, n.depth),
                    idempotency_key=planning.idempotency_key(job.code, n.object_name, n.source_id),
                    source_snapshot={"fields": n.fields, "parent_field": n.parent_field} if snapshot else None,
                )
                for n in nodes
            ]
            tree_keys[root] = [(n.object_name, n.source_id) for n in nodes]
        # A record in two trees is one row (the first); both trees list it.
        res.insert(rows)
        pks = {(o, s): pk for pk, o, s in job.results.values_list("pk", "object_name", "source_id")}
        state_trees = {root: [pks[k] for k in keys if k in pks] for root, keys in tree_keys.items()}
        job.state = {"trees": state_trees}
        job.planned_count = job.results.count()
        job.save(update_fields=["state", "planned_count"])
        audit_log(actor=user, action="job.create", profile=profile, job=job, mode=mode,
                  object_name=object_name, records=job.planned_count)
        if enqueue:
            _enqueue(job)
    return job


def _enqueue(job: CopyJob) -> None:
    """Queue the RQ job when the transaction commits; its id is stored now, so a lost queue is detectable."""
    import django_rq

    from records.jobs import run_copy_job

    rq_id = f"copyjob-{job.pk}-{job.attempts}-{timezone.now().strftime('%H%M%S%f')}"
    CopyJob.objects.filter(pk=job.pk).update(rq_job_id=rq_id)
    job.rq_job_id = rq_id
    django_rq.get_queue("default").enqueue_call(func=run_copy_job, args=(job.pk,), job_id=rq_id)


def _claim(job_id: int, worker_id: str) -> bool:
    """Take the job's lease: queued, or running with an expired lease (its worker died)."""
    now = timezone.now()
    updated = (
        CopyJob.objects.filter(pk=job_id)
        .filter(Q(status=CopyJob.Status.QUEUED) | Q(status=CopyJob.Status.RUNNING, lease_expires_at__lt=now))
        .filter(cancel_requested=False)
        .update(
            status=CopyJob.Status.RUNNING, lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
            heartbeat_at=now, attempts=F("attempts") + 1, started=Coalesce(F("started"), Value(now), output_field=DateTimeField()),
            finished=None,
        )
    )
    return updated == 1


def copy_job_run(*, job_id: int, worker_id: str, connector: Connector | None = None) -> CopyJob:
    """Run a job to its end (what the RQ worker and `copy --sync` run). A second worker stops at once."""
    if not _claim(job_id, worker_id):
        job = CopyJob.objects.get(pk=job_id)
        if job.status == CopyJob.Status.QUEUED and job.cancel_requested:
            _finish(job, worker_id, cancelled=True)
        log.info("Job %s not claimed by %s (status %s)", job_id, worker_id, job.status)
        return CopyJob.objects.get(pk=job_id)
    job = CopyJob.objects.select_related("profile", "parent_job").get(pk=job_id)
    try:
        runner = Runner(job, connector or connector_for(job.profile), worker_id)
        runner.run()
    except LeaseLost:
        log.warning("Job %s: lease lost by %s; another worker has it", job_id, worker_id)
        return CopyJob.objects.get(pk=job_id)
    except Cancelled:
        _finish(job, worker_id, cancelled=True)
    except Exception as exc:
        # Never leave a job silently running: it ends failed, with a summary and no secrets.
        log.exception("Job %s failed", job_id)
        summary = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        _finish(job, worker_id, error=summary[:1000])
    else:
        _finish(job, worker_id)
    return CopyJob.objects.get(pk=job_id)


def _finish(job: CopyJob, worker_id: str, *, cancelled: bool = False, error: str = "") -> None:
    if cancelled:
        job.results.filter(status=S.PENDING).update(status=S.SKIPPED)
    # A copied record's snapshot is no longer needed (a retry resends only the others): don't keep
    # a second copy of CRM data, often personal data, longer than the job needs it.
    job.results.filter(status=S.SUCCEEDED, source_snapshot__isnull=False).update(source_snapshot=None)
    res.refresh_counts(job)
    left = job.results.filter(status__in=[S.PENDING, S.SENDING]).exists()
    if cancelled:
        status = CopyJob.Status.CANCELLED
    elif error or left:
        status = CopyJob.Status.FAILED if not job.succeeded_count or error else CopyJob.Status.PARTIAL
        error = error or "Some records were not processed."
    elif job.failed_count and job.succeeded_count:
        status = CopyJob.Status.PARTIAL
    elif job.failed_count:
        status = CopyJob.Status.FAILED
    else:
        status = CopyJob.Status.SUCCEEDED
    CopyJob.objects.filter(pk=job.pk).filter(Q(lease_owner=worker_id) | Q(lease_owner="")).update(
        status=status, finished=timezone.now(), lease_expires_at=None, lease_owner="",
        error_summary=error, cancel_requested=False,
    )


# ---------------------------------------------------------------------------------------------
# Actions on jobs


def copy_job_cancel(*, job: CopyJob, user) -> CopyJob:
    """Stop a job: a queued one at once; a running one at its next batch. Results so far are kept."""
    if job.is_finished:
        raise ValidationError("This job has already finished.")
    now = timezone.now()
    updated = CopyJob.objects.filter(pk=job.pk, status=CopyJob.Status.QUEUED).update(
        status=CopyJob.Status.CANCELLED, finished=now
    )
    if updated:
        job.results.filter(status=S.PENDING).update(status=S.SKIPPED)
    else:
        CopyJob.objects.filter(pk=job.pk, status=CopyJob.Status.RUNNING).update(cancel_requested=True)
    audit_log(actor=user, action="job.cancel", profile=job.profile, job=job)
    job.refresh_from_db()
    return job


def copy_job_retry(*, job: CopyJob, user, enqueue: bool = True) -> CopyJob:
    """Queue the same job again; only its failed (and never-run) records are sent again."""
    if not job.is_finished:
        raise ValidationError("Only a finished job can be retried.")
    if job.status == CopyJob.Status.SUCCEEDED:
        raise ValidationError("Nothing to retry: every record succeeded.")
    with transaction.atomic():
        reset = [S.FAILED, S.SKIPPED]
        job.results.filter(status__in=reset).update(status=S.PENDING, error_type="", error_message="")
        # Finished native phases are kept; a root whose deep copy failed to start starts again.
        state = job.state or {}
        for root, st in state.get("roots", {}).items():
            if st.get("phase") == "done" and job.results.filter(source_id=root, depth=0, new_id="").exists():
                state["roots"][root] = {}
        CopyJob.objects.filter(pk=job.pk).update(
            status=CopyJob.Status.QUEUED, cancel_requested=False, error_summary="", finished=None,
            state=state, lease_owner="", lease_expires_at=None,
        )
        job.refresh_from_db()
        res.refresh_counts(job)
        audit_log(actor=user, action="job.retry", profile=job.profile, job=job)
        if enqueue:
            _enqueue(job)
    return job


def copy_job_undo(*, job: CopyJob, user, enqueue: bool = True) -> CopyJob:
    """Create a job that deletes what `job` created (children first), with its own results."""
    if job.mode == CopyJob.Mode.UNDO:
        raise ValidationError("An undo can't be undone.")
    if not job.is_finished:
        raise ValidationError("Only a finished job can be undone.")
    created = list(job.results.filter(status=S.SUCCEEDED).exclude(new_id="").order_by("depth", "id"))
    if not created:
        raise ValidationError("This job created nothing to undo.")
    with transaction.atomic():
        undo = CopyJob.objects.create(
            profile=job.profile, object_name=job.object_name, mode=CopyJob.Mode.UNDO, parent_job=job,
            source_ids=[r.new_id for r in created if r.depth == 0], requested_by=user,
            plan={"deletes": len(created)},
        )
        RecordResult.objects.bulk_create(
            [
                RecordResult(
                    job=undo, object_name=r.object_name, source_id=r.new_id, depth=r.depth,
                    parent_source_id=r.source_id,
                    idempotency_key=planning.idempotency_key(undo.code, r.object_name, r.new_id),
                )
                for r in created
            ],
            batch_size=500,
        )
        res.refresh_counts(undo)
        audit_log(actor=user, action="job.undo", profile=job.profile, job=undo, original=job.pk)
        if enqueue:
            _enqueue(undo)
    return undo


def jobs_resume_stale(*, now=None) -> list[CopyJob]:
    """Re-queue jobs whose worker died (lease expired) or whose RQ job vanished from Redis."""
    now = now or timezone.now()
    resumed = []
    for job in CopyJob.objects.filter(status=CopyJob.Status.RUNNING, lease_expires_at__lt=now):
        updated = CopyJob.objects.filter(
            pk=job.pk, status=CopyJob.Status.RUNNING, lease_expires_at__lt=now
        ).update(status=CopyJob.Status.QUEUED, lease_owner="", lease_expires_at=None)
        if updated:
            resumed.append(job)
    grace = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    for job in CopyJob.objects.filter(status=CopyJob.Status.QUEUED, created__lt=grace):
        if not _rq_job_alive(job.rq_job_id):
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
    from rq.job import Job, JobStatus
    from rq.exceptions import NoSuchJobError

    try:
        rq_job = Job.fetch(rq_job_id, connection=django_rq.get_connection("default"))
    except NoSuchJobError:
        return False
    return rq_job.get_status(refresh=True) in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED,
                                                JobStatus.SCHEDULED)
