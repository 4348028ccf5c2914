"""A copy job: what was asked, its state, who decided it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import models
from django.db.models import Exists, Q
from django.utils import timezone

from records.models.profiles import AnyUser, ConnectionProfile, System, manages_all_profiles  # noqa: F401


def approval_expiry_cutoff(now: datetime | None = None) -> datetime:
    """Requests for approval made before this have expired (COPY_APPROVAL_EXPIRY_DAYS)."""
    return (now or timezone.now()) - timedelta(days=settings.COPY_APPROVAL_EXPIRY_DAYS)


def _approve_grants(user_id: int | None) -> models.QuerySet[Permission]:
    """records.approve_copy granted to the user directly or through a group (a subquery)."""
    granted = Q(user__pk=user_id) | Q(group__user__pk=user_id)
    return Permission.objects.filter(granted, codename="approve_copy", content_type__app_label="records")


class JobQuerySet(models.QuerySet["CopyJob"]):
    def for_table(self) -> JobQuerySet:
        """What a jobs table shows joined in, one query for the page: the profile, the template
        a job ran from and its schedule, never a secret (each would be decrypted per row, the
        profile's four too) nor a version's definition."""
        related = self.select_related("profile", "template_version__template", "schedule__template")
        return related.defer(
            "profile__secret",
            "profile__refresh_token",
            "profile__session_token",
            "profile__masking_key",
            "template_version__definition",
            "template_version__template__webhook_secret",
            "schedule__template__webhook_secret",
        )

    def for_user(self, user: User | AnonymousUser) -> JobQuerySet:
        """Business users see only their own jobs; staff audit everything in the admin.
        By primary key: an anonymous user's is None, which no job's requester has. An approver
        (records.approve_copy) also sees the copies awaiting approval into a profile they may use
        (once decided, the job is its requester's again; the audit names who decided)."""
        if not user.is_active:
            return self.filter(requested_by=user.pk)
        usable = ConnectionProfile.objects.for_user(user).values("pk")
        into_usable = Q(target_profile__in=usable) | Q(target_profile__isnull=True, profile__in=usable)
        awaiting = Q(status=CopyJob.Status.AWAITING_APPROVAL) & into_usable
        # The permission asked inside the same query: the pages polled while a job runs keep to one.
        approver = Q() if user.is_superuser else Q(Exists(_approve_grants(user.pk)))
        return self.filter(Q(requested_by=user.pk) | (approver & awaiting))


class CopyJob(models.Model):
    class Mode(models.TextChoices):
        CLONE = "clone", "Clone"
        DEEP_COPY = "deep_copy", "Deep copy"
        UNDO = "undo", "Undo"

    class Status(models.TextChoices):
        # The states and transitions are in records/copying/lifecycle.py.
        QUEUED = "queued", "Queued"
        PLANNING = "planning", "Planning"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting"  # paused on a rate limit or an outage until resume_at
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        UNDONE = "undone", "Undone"
        # A copy into a protected profile, written nothing yet, until an approver decides.
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        REJECTED = "rejected", "Rejected"

    FINISHED = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CANCELLED, Status.UNDONE, Status.REJECTED)
    ACTIVE = (Status.QUEUED, Status.PLANNING, Status.RUNNING, Status.WAITING)
    ENDED = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CANCELLED)
    # The start of the error summary of a job that stopped after waiting out an outage.
    OUTAGE = "Stopped after an outage"
    # The decision note of a request for approval nobody decided in time (lifecycle.expire).
    EXPIRED_NOTE = "Expired: nobody approved it in time"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Where the records are read (and, without a target, written).
    profile = models.ForeignKey(ConnectionProfile, on_delete=models.PROTECT, related_name="jobs")
    # A copy into another profile of the same system writes there (null: within `profile`).
    target_profile = models.ForeignKey(
        ConnectionProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="target_jobs"
    )
    object_name = models.CharField("object / module", max_length=200)
    # The display name of the (first) source record as read for the plan ("Acme Corp"), for titles.
    source_name = models.CharField(max_length=300, blank=True)
    source_ids = models.JSONField(default=list)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    # Field overrides for every copied top record: {field: value}; a None value clears the field.
    overrides = models.JSONField(default=dict, blank=True)
    # Bulk clone from CSV: per-source overrides, {source_id: {field: value}}, on top of `overrides`.
    row_overrides = models.JSONField(default=dict, blank=True)
    # What a copy copies and sets off (records/copying/options.py CopyOptions.as_dict()).
    options = models.JSONField(default=dict, blank=True)
    # The preview the user confirmed: objects and counts. Informational.
    plan = models.JSONField(default=dict, blank=True)
    # Retry and undo jobs point at the job they act on.
    parent_job = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_jobs")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    planned_count = models.PositiveIntegerField(default=0)
    succeeded_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="copy_jobs")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    # The lease: one worker runs a job at a time; an expired lease means the worker died.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Fencing: each claim increments it; a worker's writes are conditional on the number it got.
    lease_generation = models.PositiveIntegerField(default=0)
    # Waiting (rate limit or outage): when it resumes, since when it waits, how many waits so far.
    resume_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    wait_count = models.PositiveSmallIntegerField(default=0)
    # The confirmed preview's one-time token: a repeated Confirm answers with this job.
    confirmation = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    # The one undo of this job (set once, atomically).
    undo_job = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    rq_job_id = models.CharField("RQ job id", max_length=100, blank=True)
    remote_job_id = models.CharField(max_length=100, blank=True)
    # Engine checkpoint (e.g. Vault deep-copy phase); lets a resumed run pick up where it was.
    state = models.JSONField(default=dict, blank=True)
    error_summary = models.TextField(blank=True)
    # A copy into a protected profile: who approved or rejected it, when, and their words.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    # The saved template version this job ran (null: a copy asked for directly).
    template_version = models.ForeignKey(
        "CopyTemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The schedule that made this job (null: asked for by a person or a pipeline).
    schedule = models.ForeignKey(
        "records.CopySchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        # The RQ dashboard (/admin/rq/) is for superusers and holders of this, not for all staff.
        permissions = [
            ("use_queue_dashboard", "Can use the queue dashboard (/admin/rq/)"),
            ("approve_copy", "Can approve copies into protected profiles"),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]

    def __str__(self) -> str:
        # What the admin's lists and links show: the person's words, not the API name (the walk
        # found "Deep copy product__v #1" in the results list).
        return self.heading

    @property
    def write_profile(self) -> ConnectionProfile:
        """Where the job's copies are created: the target profile, else the source."""
        return self.target_profile or self.profile

    @property
    def object_label(self) -> str:
        """The top object's label as planned ("Product", "Accounts"), else its API name."""
        top = next((o for o in (self.plan or {}).get("objects", []) if isinstance(o, dict) and o.get("depth") == 0), {})
        return top.get("label") or self.object_name

    @property
    def title(self) -> str:
        """What a person calls the job: "Deep copy of Acme Corp as “Acme test 2” (Accounts)" (the
        copy's new name only when the person gave one: plan["copy_name"], job_create); a copy into
        another profile says from where to where ("... from Zoho Production to Zoho Training")."""
        count = len(self.source_ids or [])
        what = self.source_name or (self.source_ids[0] if count == 1 else f"{count} records")
        if self.source_name and count > 1:
            what = f"{self.source_name} and {count - 1} more"
        copy_name = (self.plan or {}).get("copy_name") or ""
        named = f" as “{copy_name}”" if copy_name and copy_name != self.source_name else ""
        target = self.target_profile if self.target_profile_id else None
        if target is not None:
            return f"{self.get_mode_display()} of {what}{named} from {self.profile.name} to {target.name}"
        return f"{self.get_mode_display()} of {what}{named} ({self.object_label})"

    @property
    def schedule_words(self) -> str:
        """ "Scheduled: Weekly clone every 2 s" for a job a schedule made (records/schedules/), else ""."""
        if self.schedule_id is None or self.schedule is None:
            return ""
        return f"Scheduled: {self.schedule.template.name} {self.schedule.cadence}"

    @property
    def heading(self) -> str:
        """The title with the job's number, which lineage stamps and the CLI use: "Job 41 · …"."""
        return f"Job {self.pk} · {self.title}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def approval_expired(self) -> bool:
        """A request for approval older than COPY_APPROVAL_EXPIRY_DAYS: no one may approve it, and
        every page says it expired even before the worker's maintenance loop ends it
        (approval.approvals_expire)."""
        awaiting = self.status == self.Status.AWAITING_APPROVAL
        return awaiting and self.created is not None and self.created < approval_expiry_cutoff()

    @property
    def done_count(self) -> int:
        return self.succeeded_count + self.failed_count

    @property
    def progress_percent(self) -> int:
        if not self.planned_count:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.done_count / self.planned_count))
