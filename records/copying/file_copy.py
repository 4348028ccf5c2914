"""The files of a copy: each copied record's attachments streamed from its source record to its copy,
after the records exist, exactly once (docs/files-api.md; CopyOptions.files).

Every file is a FileResult row (models.py says why not a RecordResult). The write protocol is the
records' (write.py, reconcile.py): the row is marked SENDING (committed, fenced) before the upload;
an upload whose answer was lost, or a row a crashed worker left SENDING, is reconciled by listing
the target record's attachments: one with the same name and size, created at or after the marking
(remote clock, less the margin) and known to no other row is claimed; none: sent again; more than
one: held for review. So a file is never uploaded twice.

Files go to the records the job created and, across profiles, to records it skipped or updated;
on those (not ours) a file already there (same name and size) is skipped, never claimed, so undo
never deletes a file the job did not add. The bytes stream: the download's chunks are spooled to
a temporary file on disk (the upload needs a length and a rewindable body, uploads.py), never a
whole file in memory. Files overlap up to the profile's concurrency (overlap.py): each marked
SENDING and its outcome recorded in the run's thread, only the transfer in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from records.connectors.base import Attachment, Connector
from records.connectors.errors import ConnectorError, NotFound, OutcomeUnknown, RateLimited, Unavailable
from records.copying import file_ledger
from records.copying.file_fields import FieldFiles
from records.copying.lifecycle import Paused
from records.copying.overlap import done, run_overlapped
from records.copying.reconcile import margin
from records.copying.run_context import RunContext
from records.copying.write import MAX_SEND_ATTEMPTS
from records.models import FileResult, RecordResult

F = FileResult.Status
CARRIED = (RecordResult.Status.SUCCEEDED,)  # a record's files go once the record is there
UNFINISHED = (F.PENDING, F.SENDING, F.FAILED)
Item = tuple[RecordResult, FileResult]
HEARTBEAT_EVERY = 1.0  # seconds: a cancel is seen, and the lease renewed, that soon between files


class FileCopy:
    """The file pass of one run: after the strategy wrote the records (job_actions._run_fenced)."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.source: Connector = context.source
        self.target: Connector = context.connector
        self.fields = FieldFiles(context)
        self._beaten = time.monotonic()

    def run(self) -> None:
        carried = []
        for row in self.context.rows(status__in=CARRIED, new_id__gt=""):
            attachments = self._allowed(row.object_name)
            if not attachments and not self.fields.names(row.object_name):
                continue
            self.context.heartbeat()
            self._plan(row, attachments)
            carried.append(row)
        run_overlapped(
            self._unfinished(carried), width=self._width(), start=self._start, work=self._transfer, finish=self._finish
        )
        for row in carried:
            self.fields.carry(row)

    def _unfinished(self, rows: list[RecordResult]) -> Iterator[Item]:
        for row in rows:
            files = row.files.filter(
                kind=FileResult.Kind.ATTACHMENT, status__in=UNFINISHED, attempts__lt=MAX_SEND_ATTEMPTS
            )
            yield from ((row, file) for file in files)

    def _width(self) -> int:
        # As BatchWriter.parallelism: files overlap up to the profile's concurrency (the connectors'
        # limiters bound the calls in flight anyway), one at a time inside a transaction (tests).
        if connection.in_atomic_block:
            return 1
        return max(1, self.context.job.write_profile.concurrency)

    def _allowed(self, object_name: str) -> bool:
        return self.source.allows_attachments(object_name) and self.target.allows_attachments(object_name)

    def _plan(self, row: RecordResult, attachments: bool) -> None:
        """The row's files, listed once: a resumed run finds them and sends only the unfinished."""
        if row.files.exists():
            return
        found = self.source.attachments(row.object_name, row.source_id) if attachments else []
        files = [
            FileResult(job=self.context.job, row=row, source_file_id=a.id, name=a.name, size=a.size) for a in found
        ]
        FileResult.objects.bulk_create([*files, *self.fields.plan(row)], ignore_conflicts=True)

    def _carry(self, row: RecordResult, file: FileResult) -> None:
        """One file, the careful way, alone (after a lost answer)."""
        item = (row, file)
        if self._start(item):
            self._finish(item, done(self._transfer, item))

    def _start(self, item: Item) -> bool:
        """Here, before the transfer: False when the file is settled without one."""
        row, file = item
        self._heartbeat()
        if file.status == F.SENDING and self._reconcile(row, file):
            return False
        if row.action != RecordResult.Action.CREATE and self._already_there(row, file):
            return False
        self._mark_sending(file)
        return True

    def _heartbeat(self) -> None:
        # Between files, not before each: a heartbeat is four queries, a small file one call.
        if time.monotonic() - self._beaten >= HEARTBEAT_EVERY:
            self.context.heartbeat()
            self._beaten = time.monotonic()

    def _transfer(self, item: Item) -> tuple[str, str]:
        """In a thread, remote calls only: the new file's id and the MD5 of the bytes sent."""
        row, file = item
        download = self.source.download_attachment(row.object_name, row.source_id, file.source_file_id)
        with file_ledger.downloaded(download) as (spool, counted):
            new_id = self.target.upload_attachment(row.object_name, row.new_id, file.name, spool, counted.size)
        return new_id, counted.md5.hexdigest()

    def _finish(self, item: Item, transfer: Future[tuple[str, str]]) -> None:
        """Here, after the transfer: its outcome recorded (OutcomeUnknown reconciled first)."""
        row, file = item
        try:
            new_id, checksum = transfer.result()
        except OutcomeUnknown:
            if not self._reconcile(row, file) and file.attempts < MAX_SEND_ATTEMPTS:
                self._carry(row, file)
            return
        except (RateLimited, Unavailable) as exc:
            # Nothing was written (the connectors' contract): pending again, and the job waits.
            self._save(file, status=F.PENDING, attempts=max(0, file.attempts - 1))
            raise Paused(exc) from exc
        except ConnectorError as exc:
            self._save(file, status=F.FAILED, error_message=(exc.message or str(exc))[:2000])
            return
        self._save(file, status=F.SUCCEEDED, new_file_id=new_id, checksum=checksum, error_message="")

    def _already_there(self, row: RecordResult, file: FileResult) -> bool:
        """On a record the job did not create: the same file already there is left alone (not ours)."""
        there = [a for a in self.target.attachments(row.object_name, row.new_id) if _same(a, file)]
        if there:
            self._save(file, status=F.SKIPPED, error_message="The target record already has this file.")
        return bool(there)

    def _reconcile(self, row: RecordResult, file: FileResult) -> bool:
        """After a lost answer: True when the row is settled (claimed, or held for review)."""
        since = None
        if file.sending_at is not None:
            since = file.sending_at + self.target.clock_offset() - margin()
        known = set(
            FileResult.objects.filter(new_file_id__gt="").exclude(pk=file.pk).values_list("new_file_id", flat=True)
        )
        found = [
            a
            for a in self.target.attachments(row.object_name, row.new_id)
            if _same(a, file) and a.id not in known and (since is None or a.created is None or a.created >= since)
        ]
        if len(found) == 1:
            self._save(file, status=F.SUCCEEDED, new_file_id=found[0].id, checksum=found[0].md5, error_message="")
            return True
        if found:
            ids = ", ".join(a.id for a in found)
            self._save(file, status=F.REVIEW, error_message=f"More than one attachment could be this copy: {ids}.")
            return True
        self._save(file, status=F.PENDING)
        return False

    def _mark_sending(self, file: FileResult) -> None:
        file_ledger.mark_sending(self.context.fence, file)

    def _save(self, file: FileResult, **values: object) -> None:
        file_ledger.save(self.context.fence, file, **values)


def _same(found: Attachment, file: FileResult) -> bool:
    return found.name == file.name and found.size == file.size


def undo_files(context: RunContext) -> None:
    """Undo's file pass: delete the files the undone job added to records it did not create
    (skipped or updated ones); the files on records it created went with those records. Repeat-safe:
    a file already gone counts as deleted."""
    original = context.job.parent_job
    if original is None:
        return
    # A file field set on such a record stays: clearing it takes a shape no page documents.
    files = FileResult.objects.filter(job=original, status=F.SUCCEEDED, kind=FileResult.Kind.ATTACHMENT).filter(
        ~Q(row__action=RecordResult.Action.CREATE)
    )
    for file in files.select_related("row"):
        context.heartbeat()
        try:
            context.connector.delete_attachment(file.row.object_name, file.row.new_id, file.new_file_id)
        except NotFound:
            pass
        except (RateLimited, Unavailable) as exc:
            raise Paused(exc) from exc
        FileResult.objects.filter(pk=file.pk).update(status=F.DELETED, updated=timezone.now())
    # The files on records this undo deleted went with them.
    deleted = context.job.results.filter(status=RecordResult.Status.SUCCEEDED).values_list("source_id", flat=True)
    # A subquery, not a list: an undo of 100,000 records would hold (and send) every id.
    FileResult.objects.filter(
        job=original, status=F.SUCCEEDED, row__action=RecordResult.Action.CREATE, row__new_id__in=deleted
    ).update(status=F.DELETED, updated=timezone.now())
