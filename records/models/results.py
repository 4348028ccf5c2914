"""Per-record (and per-file) results of a job, and the fixes made to failed rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from records.models.jobs import CopyJob, approval_expiry_cutoff  # noqa: F401
from records.models.profiles import AnyUser, ConnectionProfile, System, manages_all_profiles  # noqa: F401


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

    # No index of its own: (job, id) below leads with the job and serves every look-up by job
    # (a job's rows, the cascade of its delete); one index fewer to keep on each of a plan's inserts.
    job = models.ForeignKey(CopyJob, on_delete=models.CASCADE, related_name="results", db_index=False)
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
            # No (job, new_id): the job page's search is a substring match (no index serves it), a
            # job's copies ("new_id <> ''") are read through (job, id), and an exact id through
            # (new_id) below. Each index is kept on every insert and every answer recorded.
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
