from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import models
from django.db.models import Exists, Q
from django.utils import timezone

from records.fields import EncryptedTextField


class System(models.TextChoices):
    VAULT = "vault", "Veeva Vault"
    ZOHO = "zoho", "Zoho CRM"


# Who a rule or a query is asked about: a signed-in user, or the anonymous one of a request.
AnyUser = User | AnonymousUser


def approval_expiry_cutoff(now: datetime | None = None) -> datetime:
    """Requests for approval made before this have expired (COPY_APPROVAL_EXPIRY_DAYS)."""
    return (now or timezone.now()) - timedelta(days=settings.COPY_APPROVAL_EXPIRY_DAYS)


def manages_all_profiles(user: AnyUser) -> bool:
    """Who sees, uses and changes every profile: superusers and holders of the admin's
    change permission on profiles, who are staff (the admin is where that permission is used).
    Being staff alone is not enough. Business users (not staff) cost no permission queries."""
    return user.is_active and (
        user.is_superuser or (user.is_staff and user.has_perm("records.change_connectionprofile"))
    )


class ProfileQuerySet(models.QuerySet["ConnectionProfile"]):
    def for_user(self, user: AnyUser) -> ProfileQuerySet:
        """Return the profiles `user` may see and use: all for those who manage all profiles,
        for others their own and those shared with them."""
        if manages_all_profiles(user):
            return self.all()
        return self.filter(
            Q(owner=user) | Q(shared_with_users=user) | Q(shared_with_groups__in=user.groups.all())
        ).distinct()


class ConnectionProfile(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)  # unique per owner (Meta): one user can't learn another's names
    system = models.CharField(max_length=10, choices=System.choices)
    # Vault: https://{vaultDNS}; Zoho: the API domain, e.g. https://www.zohoapis.eu
    base_url = models.URLField("base URL", max_length=300)
    # Zoho only: the data centre's accounts server, e.g. https://accounts.zoho.eu
    accounts_url = models.URLField("accounts URL", max_length=300, blank=True)
    api_version = models.CharField(max_length=20, blank=True)
    # Vault user name, or Zoho OAuth client id.
    username = models.CharField("username / client id", max_length=200)
    # Vault password, or Zoho client secret.
    secret = EncryptedTextField(blank=True, default="")
    secret_set_at = models.DateTimeField(null=True, blank=True)
    # Zoho only.
    refresh_token = EncryptedTextField(blank=True, default="")
    refresh_token_set_at = models.DateTimeField(null=True, blank=True)
    # Cached Vault session id / Zoho access token, shared by every worker of this profile.
    session_token = EncryptedTextField(blank=True, default="")
    session_expires_at = models.DateTimeField(null=True, blank=True)
    # Zoho: most calls this profile makes at once across all workers (the edition's concurrency).
    concurrency = models.PositiveSmallIntegerField(default=5)
    # {object: text field}: where a copy writes its lineage stamp unless the user names another.
    lineage_fields = models.JSONField(default=dict, blank=True)
    # Production, validation: a copy written into it waits for another user's approval (copying/approval.py).
    protected = models.BooleanField(default=False)
    # The org's or vault's id as the system names it (Zoho's org id, Vault's vaultId), learned by the
    # connection test or the first copy; "" until then. Scopes the ids the app knows (copying/known.py).
    org_id = models.CharField("org id", max_length=64, blank=True, editable=False)
    # Masking (records/masking/keys.py): the key whose HMAC seeds the stand-ins of copies written
    # here (made on first use, rotatable; encrypted like the secrets), and the policy every copy
    # into this profile applies, {object: {field: rule}}.
    masking_key = EncryptedTextField(blank=True, default="")
    masking_key_set_at = models.DateTimeField(null=True, blank=True)
    masking_policy = models.JSONField(default=dict, blank=True)
    # Files (attachments, file fields): the user's last choice for copies from this profile (the
    # preview's default), and a target's policy that no copy writes files into it.
    copy_files = models.BooleanField(default=False)
    files_forbidden = models.BooleanField(default=False)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_profiles")
    shared_with_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_profiles")
    shared_with_groups = models.ManyToManyField("auth.Group", blank=True, related_name="shared_profiles")

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=500, blank=True)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="profile_owner_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_system_display()})"


def _approve_grants(user_id: int | None) -> models.QuerySet[Permission]:
    """records.approve_copy granted to the user directly or through a group (a subquery)."""
    granted = Q(user__pk=user_id) | Q(group__user__pk=user_id)
    return Permission.objects.filter(granted, codename="approve_copy", content_type__app_label="records")


class JobQuerySet(models.QuerySet["CopyJob"]):
    def for_table(self) -> JobQuerySet:
        """What a jobs table shows joined in, one query for the page: the profile, the template
        a job ran from and its schedule, never the template's secret (decrypted per row) nor a version's definition."""
        related = self.select_related("profile", "template_version__template", "schedule__template")
        return related.defer(
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


class TemplateQuerySet(models.QuerySet["CopyTemplate"]):
    def for_user(self, user: AnyUser) -> TemplateQuerySet:
        """The templates `user` may see and run, as profiles are shared (ProfileQuerySet.for_user):
        all for who manages all profiles, else their own and those shared with them or a group."""
        if manages_all_profiles(user):
            return self.all()
        return self.filter(
            Q(owner=user) | Q(shared_with_users=user) | Q(shared_with_groups__in=user.groups.all())
        ).distinct()


class CopyTemplate(models.Model):
    """A saved copy definition (records/copy_templates/): run again on other records. What it copies is
    in its versions; editing adds a version, so every job can name the one it ran."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Unique per owner, as profiles' names are: one user never learns another's names by a refusal.
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="copy_templates")
    shared_with_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_copy_templates"
    )
    shared_with_groups = models.ManyToManyField("auth.Group", blank=True, related_name="shared_copy_templates")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Told when a job run from the template ends, besides its requester (copy_templates/notifications.py):
    # e-mail addresses, and a webhook whose URL passed notify/webhook_urls.py when saved. The secret
    # signs each delivery; encrypted like the profiles' secrets and never shown again.
    notify_emails = models.JSONField(default=list, blank=True)
    webhook_url = models.CharField(max_length=500, blank=True)
    webhook_secret = EncryptedTextField(blank=True, default="")

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="template_owner_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> CopyTemplateVersion | None:
        return self.versions.order_by("-number").first()


class CopyTemplateVersion(models.Model):
    """One state of a template: the copy as CopyRequest stores it (records/copy_templates/definition.py)."""

    template = models.ForeignKey(CopyTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # {"profile": code, "target": code (absent: within it), "object_name", "mode", "source_ids",
    # "overrides", "row_overrides", "options"}: CopyRequest.key_inputs() with the profile's code.
    definition = models.JSONField(default=dict)
    # The object's label when the version was made ("Products"), for the pages to show without a
    # remote read; blank for older versions and when it could not be read (the API name is shown).
    object_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["template", "number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="one_template_version_number")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"


class RecordResult(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        # Marked before the remote write; a row left here after a crash is reconciled first.
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        # A lost answer matched more than one candidate: nothing is claimed or sent again until a
        # person picks one (or none) from the job page or `job resolve`.
        REVIEW = "review", "Needs review"

    # What a resume sends again. Never a row in review: its write may have happened (more than one
    # record could be its copy); only a person's pick (or "none of them") moves it on (review.py).
    UNFINISHED = (Status.PENDING, Status.SENDING, Status.FAILED, Status.SKIPPED)

    class Action(models.TextChoices):
        # What the row does in the target: a copy between profiles may find the record there already.
        CREATE = "create", "Created"
        SKIP = "skip", "Skipped"
        UPDATE = "update", "Updated"

    # What an undo acts on: records the job created (deleted) or updated (their values written back).
    UNDOABLE = (Action.CREATE, Action.UPDATE)

    job = models.ForeignKey(CopyJob, on_delete=models.CASCADE, related_name="results")
    object_name = models.CharField(max_length=200)
    source_id = models.CharField(max_length=100)
    # The source record's display name (Vault name__v, Zoho's name field) as read for the plan.
    source_name = models.CharField(max_length=300, blank=True)
    new_id = models.CharField(max_length=100, blank=True)
    parent_source_id = models.CharField(max_length=100, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error_type = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    link = models.URLField(max_length=500, blank=True)
    # Stable across retries and resumes: the copy carries it, so a lost response can be found.
    idempotency_key = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)
    # Engine-built deep copies (Zoho): the source record as read for the plan, so the job copies
    # what the preview counted without reading the tree again. {"fields": {...}, "parent_field": ...}
    source_snapshot = models.JSONField(null=True, blank=True, editable=False)
    # The values the overrides, templates, lineage and "make unique" gave this copy: {field: value},
    # plus "_unique_tries": [value, ...] when a unique field was retried. Shown on the job page and CSV.
    values = models.JSONField(null=True, blank=True, editable=False)
    # When the row was last marked sending (our clock): a copy found after a lost answer must have
    # been created at or after it, and undo never deletes a record created before it.
    sending_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the job last wrote the record it created (its creation, or the re-pointing update):
    # undo keeps a record modified after it unless asked to delete changed records too.
    written_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A row needing review: the records that matched its lost answer [{"id", "name", "created"}].
    candidates = models.JSONField(null=True, blank=True, editable=False)
    # A person's corrections of a failed row ({field: value}, copying/row_fixes.py): sent last, over
    # every other value the copy is given, by the resume that follows.
    fixes = models.JSONField(null=True, blank=True, editable=False)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.CREATE)
    # An update of an existing record: the values it replaced {field: value}, for undo to write back.
    previous = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "object_name", "source_id"], name="one_result_per_record")
        ]
        indexes = [
            # The job page pages by id after a cursor (keyset, no OFFSET), optionally filtered by
            # outcome or object, and counts results per (object, outcome) in one grouped query:
            # these three let each of those read only an index range, on SQLite and PostgreSQL.
            # (They replace (job, status) and (job, object_name), which are their prefixes.)
            models.Index(fields=["job", "id"], name="result_job_id_idx"),
            models.Index(fields=["job", "status", "id"], name="result_job_status_id_idx"),
            models.Index(fields=["job", "object_name", "status", "id"], name="result_job_object_status_idx"),
            # The job page's search by new id.
            models.Index(fields=["job", "new_id"]),
            # Is this remote id known as any job's source or copy (copying/known.py)? Asked by every
            # reconcile and undo: an index range each, not a scan of every job's rows.
            models.Index(fields=["source_id"], name="result_source_id_idx"),
            models.Index(fields=["new_id"], name="result_new_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_name} {self.source_id} → {self.new_id or '—'}"


class RowFix(models.Model):
    """One correction of one field of a failed row: who, when, the value before and after."""

    row = models.ForeignKey(RecordResult, on_delete=models.CASCADE, related_name="fix_history")
    job = models.ForeignKey(CopyJob, on_delete=models.CASCADE, related_name="row_fixes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    field = models.CharField(max_length=200)
    label = models.CharField(max_length=200, blank=True)  # the field's label when fixed ("Product Name")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.before!r} → {self.after!r}"


class FileResult(models.Model):
    """One file a copy carries from a source record to its copy (an attachment, or one file of a
    file field): its own ledger row beside the record's RecordResult, not a RecordResult itself,
    because a file is not a record: it has no copy key, is deleted through its parent record, and
    must not count as a record in the job's numbers, its undo or its review. The write protocol
    is the records' (copying/file_copy.py): marked sending before the upload, reconciled after a
    lost answer by name, size and creation time on the target record, never uploaded twice."""

    class Kind(models.TextChoices):
        ATTACHMENT = "attachment", "Attachment"
        FIELD = "field", "File field"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Copied"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"  # already on the target record (not ours: undo leaves it)
        REVIEW = "review", "Needs review"
        DELETED = "deleted", "Deleted by undo"

    job = models.ForeignKey(CopyJob, on_delete=models.CASCADE, related_name="files")
    row = models.ForeignKey(RecordResult, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ATTACHMENT)
    field_name = models.CharField(max_length=200, blank=True)  # a file field's name
    source_file_id = models.CharField(max_length=200)
    name = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)  # MD5 (hex) of the bytes sent
    new_file_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "row", "kind", "field_name", "source_file_id"], name="one_file_result_per_file"
            )
        ]
        indexes = [models.Index(fields=["new_file_id"], name="file_result_new_id_idx")]

    def __str__(self) -> str:
        return f"{self.name} {self.source_file_id} → {self.new_file_id or '—'}"


class AuditEvent(models.Model):
    """Who did what, when, to which profile or job. Never holds secret values."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50)
    profile = models.ForeignKey(ConnectionProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey(CopyJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor} {self.action}"


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
    # {"snapshot": bool, "roots": {root id: [node, ...]}}: enough to make the job's rows (and, for
    # engine-built deep copies, their snapshots) without a second read.
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


# Notifications' and API tokens' models live with their code; imported here so that Django finds them.
from records.api.models import ApiToken as ApiToken  # noqa: E402
from records.notify.models import MailDelivery as MailDelivery  # noqa: E402
from records.notify.models import NotificationSettings as NotificationSettings  # noqa: E402
from records.notify.models import WebhookDelivery as WebhookDelivery  # noqa: E402
from records.notify.models import WebhookMessage as WebhookMessage  # noqa: E402
from records.schedules.models import CopySchedule as CopySchedule  # noqa: E402
from records.schedules.models import ScheduleRun as ScheduleRun  # noqa: E402
