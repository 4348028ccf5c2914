"""A preview's stored plan."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from records.models.jobs import CopyJob, approval_expiry_cutoff  # noqa: F401
from records.models.profiles import AnyUser, ConnectionProfile, System, manages_all_profiles  # noqa: F401


class CopyPlan(models.Model):
    """What a preview read: the plan and the trees of records, read by a worker so the web
    request never waits on the tree; Confirm makes its job from this row without reading again.
    Not a job: a preview someone never confirms must not show in the job list."""

    class Status(models.TextChoices):
        READING = "reading", "Reading"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        USED = "used", "Used"  # a job was made from it; its trees are dropped

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    profile = models.ForeignKey(ConnectionProfile, on_delete=models.CASCADE, related_name="+")
    # A copy into another profile: where it would write (null: within `profile`).
    target_profile = models.ForeignKey(
        ConnectionProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    object_name = models.CharField(max_length=100)
    mode = models.CharField(max_length=20)
    source_ids = models.JSONField(default=list)
    overrides = models.JSONField(default=dict, blank=True)
    row_overrides = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    # sha256 of every input above and of what the profile reads from (plans.plan_key): the same
    # preview asked again finds this row; a change of the profile's address or secrets doesn't.
    key = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READING)
    read_count = models.PositiveIntegerField(default=0)  # records read so far (updated every ~0.5 s)
    heartbeat = models.DateTimeField(null=True, blank=True)  # a reading row with an old one is read again
    started_at = models.DateTimeField(null=True, blank=True)  # a worker took it (null: still in the queue)
    # Why a reading row isn't moving, in the user's words (the queue was unreachable); cleared when queued.
    notice = models.CharField(max_length=300, blank=True)
    plan = models.JSONField(default=dict, blank=True)  # Plan.as_dict()
    # {"snapshot": bool, "pieces": [root id, ...]}: the trees' nodes are PlanChunk rows, enough to
    # make the job's rows (and, for engine-built deep copies, their snapshots) without a second read.
    # Plans stored before the chunks: {"snapshot": bool, "roots": {root id: [node, ...]}}, still read.
    trees = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)  # the friendly message the preview shows
    # The job Confirm made from it (status "used"): a second Confirm of the plan is sent to it.
    job = models.ForeignKey(CopyJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "key", "-created_at"])]

    def __str__(self) -> str:
        return f"Plan {self.code} ({self.object_name}, {self.status})"


class PlanChunk(models.Model):
    """A piece of a stored plan's trees: up to plan_pieces.CHUNK_NODES nodes of one top record, in
    the order read (`seq`), so a plan of 100,000 records is stored and read back a piece at a time,
    never as one JSON value of every record."""

    plan = models.ForeignKey(CopyPlan, on_delete=models.CASCADE, related_name="chunks")
    root = models.CharField(max_length=100)  # the top record's id
    seq = models.PositiveIntegerField()  # its place among the plan's pieces
    nodes = models.JSONField(default=list)  # [tree.Node as a dict, ...]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "seq"], name="plan_chunk_seq")]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} piece {self.seq} ({len(self.nodes)} records)"


# Notifications' and API tokens' models live with their code; imported here so that Django finds them.
