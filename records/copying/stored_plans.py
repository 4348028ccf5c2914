"""Previews' plans read on a worker: the web request stores a CopyPlan row and returns at
once; an RQ job on the "plans" queue reads the tree (preview.plan_copy) and stores the plan and the
trees; Confirm makes its job from that row without reading anything again. Keyword-only."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from records.connectors import connector_for
from records.connectors.base import Connector, FieldInfo
from records.copying import plan_pieces
from records.copying.mask_preview import without_samples
from records.copying.plan_compact import compactor
from records.copying.preview import keeps_snapshot, plan_copy
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.lib.error_words import friendly_error
from records.models import ConnectionProfile, CopyJob, CopyPlan, PlanChunk

log = logging.getLogger(__name__)
St = CopyPlan.Status
PROGRESS_EVERY_SECONDS = 0.5  # the read count is stored at most this often, not per record
QUEUE_DOWN = "The queue is unreachable right now; the records are read as soon as it is back."
TOO_OLD = "This preview was read too long ago; the records may have changed. Read it again before confirming."


PROFILE_CHANGED = "The profile changed since this preview: preview again."


class PlanUsed(ValidationError):
    """Another Confirm used the plan first (a second tab, a second request at the same moment);
    `job` is the job it made (None if since deleted): the view sends the user there."""

    def __init__(self, job: CopyJob | None):
        self.job = job
        made = f": it made job {job.pk}" if job is not None else ""
        super().__init__(f"This preview was already confirmed{made}.")


def profile_version(profile: ConnectionProfile) -> dict[str, str]:
    """What a plan's records are read from: the profile's system, addresses, API version and login,
    and its secrets' versions (when each was last set). A plan's key holds it, so a plan read from
    one org (or with one login) is never confirmed after the profile points at another."""
    stamps = {f: getattr(profile, f) for f in ("secret_set_at", "refresh_token_set_at")}
    return {
        "code": str(profile.code),
        "system": profile.system,
        "base_url": profile.base_url,
        "accounts_url": profile.accounts_url or "",
        "api_version": profile.api_version or "",
        "username": profile.username,
        **{f: when.isoformat() if when else "" for f, when in stamps.items()},
    }


def plan_key(*, request: CopyRequest) -> str:
    """sha256 of everything asked for (CopyRequest.key_inputs) and of the profile's version: the
    same preview asked again finds its row; any change (a choice on the preview, another value, the
    profile edited) reads a new one, and the old row can no longer be confirmed."""
    inputs = {"profile": profile_version(request.profile), **request.key_inputs()}
    if request.target is not None:  # a plan matched in one target is never confirmed into another
        inputs["target_profile"] = profile_version(request.target)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _row_key(row: CopyPlan, profile: ConnectionProfile) -> str:
    """The key of the row's own inputs with `profile` as it is now: not the row's key when the
    profile changed since the row was asked for."""
    return plan_key(request=CopyRequest.of_row(row, profile=profile))


def plan_request(*, request: CopyRequest, user: User, again: bool = False) -> CopyPlan:
    """The plan row for this preview: this user's current one for the same request, else a new one
    queued for a worker. Local checks only (raises ValidationError); no remote call here.
    `again`: read anew even if a finished (ready or failed) plan exists."""
    request.checked_ids()
    request.check_access(user)
    key = plan_key(request=request)
    current = CopyPlan.objects.filter(requested_by=user, key=key).first()
    if current is not None and _usable(current, again):
        if current.status == St.READING:
            revive(plan=current)
        return current
    with transaction.atomic():
        row = CopyPlan.objects.create(**request.row_fields(), requested_by=user, key=key, heartbeat=timezone.now())
        _enqueue(row)
    row.refresh_from_db()  # inline reads (tests) have finished by now
    return row


def _usable(row: CopyPlan, again: bool) -> bool:
    if row.status == St.READING:
        return True
    if row.status == St.USED or again:
        return False
    return timezone.now() - row.created_at < timedelta(seconds=settings.PLAN_MAX_AGE_SECONDS)


def revive(*, plan: CopyPlan) -> bool:
    """Queue a reading plan again when its worker has written nothing for PLAN_STALE_SECONDS (it
    died, or the queue was down): no preview stays stranded. Compare-and-set on the heartbeat, so
    two polls at once queue it once."""
    now = timezone.now()
    if plan.heartbeat and now - plan.heartbeat < timedelta(seconds=settings.PLAN_STALE_SECONDS):
        return False
    with transaction.atomic():
        moved = CopyPlan.objects.filter(pk=plan.pk, status=St.READING, heartbeat=plan.heartbeat).update(heartbeat=now)
        if moved:
            log.info("Plan %s: no progress for %s s, queued again", plan.pk, settings.PLAN_STALE_SECONDS)
            _enqueue(plan)
    plan.refresh_from_db()
    return bool(moved)


def _enqueue(row: CopyPlan) -> None:
    if settings.PLAN_READ_INLINE:
        plan_read(plan_id=row.pk)
        return
    transaction.on_commit(lambda: _send(row.pk))


def _send(plan_id: int) -> None:
    try:
        # By name: records.jobs imports the services.
        django_rq.get_queue("plans").enqueue_call(func="records.jobs.read_plan", args=(plan_id,))
    except (RedisError, OSError) as exc:
        # The row stays reading; the page's next poll after PLAN_STALE_SECONDS queues it again.
        log.warning("Plan %s not queued: the queue is unreachable (%s)", plan_id, exc)
        CopyPlan.objects.filter(pk=plan_id, status=St.READING).update(notice=QUEUE_DOWN)
    else:
        CopyPlan.objects.filter(pk=plan_id).exclude(notice="").update(notice="")


def plan_read(*, plan_id: int, connector: Connector | None = None) -> CopyPlan:
    """On the worker: read the plan of a reading row (preview.plan_copy, with progress), store it
    and its trees; bad input or a remote error ends it failed with the preview's friendly message.
    A row whose profile changed since it was asked for (before or during the read) ends failed:
    its key says what it was read from."""
    row = CopyPlan.objects.select_related("profile").get(pk=plan_id)
    if row.status != St.READING:
        return row  # read already (a second RQ job for it, after a revive)
    progress = _Progress(row.pk)
    now = timezone.now()  # the wait in the queue is over: the page stops saying "waiting for a worker"
    CopyPlan.objects.filter(pk=row.pk, status=St.READING).update(started_at=now, heartbeat=now, notice="")
    fields: dict[str, Any] = {}
    trees: plan_pieces.Trees = {}
    writer: plan_pieces.PieceWriter | None = None
    try:
        if _row_key(row, row.profile) != row.key:
            raise ValidationError(PROFILE_CHANGED)
        conn = connector or connector_for(row.profile)
        writer = _writer(row, conn)
        fields, trees = _read(row, conn, progress, writer)
        if _row_key(row, ConnectionProfile.objects.get(pk=row.profile_id)) != row.key:
            raise ValidationError(PROFILE_CHANGED)  # edited while it was read
    except (ValidationError, ValueError) as exc:
        fields, trees = {"status": St.FAILED, "error": " ".join(getattr(exc, "messages", None) or [str(exc)])}, {}
    except Exception as exc:  # noqa: BLE001 - shown on the preview in plain words, logged by friendly_error
        fields, trees = {"status": St.FAILED, "error": friendly_error(exc, row.profile)}, {}
    now = timezone.now()
    with transaction.atomic():  # the pieces land with the row's end, and only from the worker that ends it
        ended = CopyPlan.objects.filter(pk=row.pk, status=St.READING).update(**fields, heartbeat=now, finished_at=now)
        _end_pieces(writer, trees if ended else {})
    return CopyPlan.objects.get(pk=row.pk)


def _writer(row: CopyPlan, conn: Connector) -> plan_pieces.PieceWriter:
    """The plan's pieces written as its records are read, each record then kept compacted."""
    request = CopyRequest.of_row(row)
    compact = compactor(conn, request.options)
    return plan_pieces.PieceWriter(plan_id=row.pk, snapshot=keeps_snapshot(conn, request), compact=compact)


def _end_pieces(writer: plan_pieces.PieceWriter | None, trees: plan_pieces.Trees) -> None:
    """Inside the transaction that ends the plan: its pieces kept when this read ended it ready
    with trees, else those this read wrote removed (failed, refused, or ended by another read)."""
    if writer is None:
        return
    if trees:
        writer.finish(trees)
    else:
        writer.drop()


def _read(
    row: CopyPlan, conn: Connector, progress: _Progress, writer: plan_pieces.PieceWriter
) -> tuple[dict[str, Any], plan_pieces.Trees]:
    """The row's fields once read, and the trees (stored as pieces by `writer`)."""
    request = CopyRequest.of_row(row)
    plan, trees = plan_copy(request=request, connector=conn, progress=progress, sink=writer)
    snapshot = writer.snapshot
    if plan.refused_reason:
        trees = {}  # it can't be confirmed: keep no records (a refused-as-too-large tree is big)
    fields = {
        "status": St.READY,
        # "source_ids": what a copy by query found (the row keeps what was asked: its filter, no ids).
        "plan": {**plan.as_dict(), "fields": _described(conn, plan), "source_ids": plan.source_ids},
        "trees": plan_pieces.stored_value(trees, snapshot),
        "read_count": progress.read or sum(len(ns) for ns in trees.values()),
    }
    return fields, trees


class _Progress:
    """Stores the read count and the heartbeat at most every PROGRESS_EVERY_SECONDS."""

    def __init__(self, plan_id: int) -> None:
        self.plan_id, self.last, self.read = plan_id, 0.0, 0

    def __call__(self, read: int) -> None:
        self.read = read
        if time.monotonic() - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = time.monotonic()
        CopyPlan.objects.filter(pk=self.plan_id, status=St.READING).update(read_count=read, heartbeat=timezone.now())


def _described(conn: Connector, plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """The fields of the top object and of each object in the plan, as the worker read them: the
    preview's choices (their field pickers and the checks of what is chosen) use these, so the web
    request describes nothing (only an object not in the plan costs one describe)."""
    names = dict.fromkeys([plan.object_name, *(o.object_name for o in plan.objects)])
    out = {}
    for name in names:
        try:
            out[name] = [f.as_dict() for f in conn.describe(name)]
        except Exception:  # noqa: BLE001 - the choices then describe it themselves
            log.warning("Plan of %s: could not describe %s", plan.object_name, name, exc_info=True)
    return out


def described(row: CopyPlan | None) -> Callable[[str], list[FieldInfo] | None]:
    """describe(object) answered from a plan row's stored fields; None for an object it has not."""
    stored = (row.plan or {}).get("fields", {}) if row else {}

    def describe(object_name: str) -> list[FieldInfo] | None:
        fields = stored.get(object_name)
        if fields is None:
            return None
        return [FieldInfo.from_dict(f) for f in fields]

    return describe


def shown_plan(row: CopyPlan) -> Plan:
    """The Plan a ready row stored, for the preview page."""
    found = row.plan.get("source_ids") or row.source_ids  # a plan stored before it kept them: the row's
    return Plan.from_dict(row.plan, object_name=row.object_name, mode=row.mode, source_ids=found)


def claim(*, plan: CopyPlan, user: User, request: CopyRequest) -> tuple[Plan, plan_pieces.TreePieces, bool]:
    """(Plan, trees, snapshot) of a ready plan for copy_job_create, claimed for one job: a
    compare-and-set from ready to used, so two Confirms at the same moment (two tabs share one plan)
    make one job. Call it inside the transaction that creates the job (a refusal after it rolls the
    claim back). Refused (ValidationError) when the plan is another user's, for another request, read
    before the profile changed, not read yet, failed, too old, or used (PlanUsed)."""
    key = plan_key(request=request)
    fresh = timezone.now() - timedelta(seconds=settings.PLAN_MAX_AGE_SECONDS)
    ours = CopyPlan.objects.filter(pk=plan.pk, requested_by=user, key=key, status=St.READY, created_at__gt=fresh)
    claimed = ours.update(status=St.USED)
    row = CopyPlan.objects.select_related("job").get(pk=plan.pk)
    if not claimed:
        raise _refusal(row, user=user, profile=request.profile, key=key)
    return shown_plan(row), plan_pieces.StoredTrees(row), bool(row.trees.get("snapshot"))


def _refusal(row: CopyPlan, *, user: User, profile: ConnectionProfile, key: str) -> ValidationError:
    if row.requested_by_id != user.pk or row.profile_id != profile.pk:
        return ValidationError("This plan is not the one of this copy; open the preview again.")
    if row.key != key:
        # Its own inputs with the profile as it is now give the key asked for: the profile changed.
        same_inputs = _row_key(row, profile) == key
        return ValidationError(
            PROFILE_CHANGED if same_inputs else "This plan is not the one of this copy; open the preview again."
        )
    if row.status == St.READING:
        return ValidationError("The records to copy are still being read; confirm when the preview shows them.")
    if row.status == St.USED:
        return PlanUsed(row.job)
    if row.status != St.READY:
        return ValidationError(row.error or "This preview can't be confirmed; open it again.")
    return ValidationError(TOO_OLD)


def mark_used(*, plan: CopyPlan, job: CopyJob) -> None:
    """A job was made from the claimed plan: its trees (record data) are dropped; the row stays for
    the audit, naming its job; so are the masking table's samples (copying/mask_preview.py)."""
    kept = {**(plan.plan or {}), "masking": without_samples((plan.plan or {}).get("masking") or {})}
    CopyPlan.objects.filter(pk=plan.pk).update(status=St.USED, trees={}, job=job, plan=kept)
    PlanChunk.objects.filter(plan_id=plan.pk).delete()
    log.info("Plan %s made job %s", plan.pk, job.pk)


def progress_words(row: CopyPlan, *, now: datetime | None = None) -> str:
    """Why a reading plan isn't moving yet, in the user's words ('' when it is): the queue is
    unreachable, or no worker has taken it for PLAN_WAIT_NOTICE_SECONDS (all busy, or none serves
    the "plans" queue): the page says so instead of counting 0 forever."""
    if row.status != St.READING:
        return ""
    if row.notice:
        return row.notice
    waited = ((now or timezone.now()) - row.created_at).total_seconds()
    if row.started_at is None and waited >= settings.PLAN_WAIT_NOTICE_SECONDS:
        return (
            f"Waiting for a free worker for {int(waited)} s. If this lasts, ask an admin to check that a "
            'worker serves the "plans" queue (manage.py rqworker plans default).'
        )
    return ""


def plans_prune(*, now: datetime | None = None) -> int:
    """Drop the records kept by plans nobody confirmed within PLAN_MAX_AGE_SECONDS (the rows stay
    for the audit): no second copy of system-of-record data is kept longer than a preview lives.
    Run by every worker's maintenance loop (records/worker.py). Returns the rows pruned."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PLAN_MAX_AGE_SECONDS)
    old = CopyPlan.objects.filter(created_at__lt=cutoff).exclude(trees={})
    PlanChunk.objects.filter(plan__in=old).delete()
    return old.update(trees={})
