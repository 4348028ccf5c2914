"""File fields of a copy (Zoho file and image upload fields, Vault Attachment fields): the clone
drops them, so each file is downloaded from the source, uploaded again (Zoho: Upload Files to ZFS
for the id the field takes; Vault: to file staging, whose path the field takes) and the field set
on the copy with one update, once every file of the field is uploaded.

Why an update after the record exists, not the file staged before the record's insert: the insert
stays the records' own write with its own exactly-once protocol (write.py, reconcile.py), and the
field's update is checked by reading the field back (below), so each write has one way to be
reconciled. A Vault staged file is consumed by the write that sets it: a second update with the
same path is refused, never a second file; an Attachment field holds one file in any case.

Exactly once: a FileResult per file, marked SENDING before its upload. The field's update is the
write that shows on the record: before it, the target's field is read; when it already holds the
uploaded ids (an earlier update whose answer was lost), the files are done and nothing is sent
again. An upload to ZFS whose answer was lost (or a worker killed during it) is uploaded again:
ZFS cannot be listed, and a file there that no record holds is not part of any record (the
system keeps it unattached) [UNCONFIRMED what Zoho does with unattached ZFS files]; a Vault upload
goes to a staging path made from the row's key with overwrite, so sending it again replaces it. On
a record the job did not create, a field already holding files is left alone (never replaced);
where the field read back shows only a file name (Vault), such a record's field is never set.
"""

from __future__ import annotations

from records.connectors.base import Connector, FieldType
from records.connectors.errors import ConnectorError, OutcomeUnknown, RateLimited, Unavailable
from records.copying import file_ledger
from records.copying.lifecycle import Paused
from records.copying.run_context import RunContext
from records.models import FileResult, RecordResult

F = FileResult.Status
K = FileResult.Kind


class FieldFiles:
    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.source: Connector = context.source
        self.target: Connector = context.connector
        self._names: dict[str, list[str]] = {}

    def names(self, object_name: str) -> list[str]:
        if not (self.source.supports_file_fields and self.target.supports_file_fields):
            return []
        if object_name not in self._names:
            described = self.source.describe(object_name)
            self._names[object_name] = [f.name for f in described if f.type == FieldType.FILE]
        return self._names[object_name]

    def plan(self, row: RecordResult) -> list[FileResult]:
        """The files of the source record's file fields, as FileResult rows (not saved)."""
        names = self.names(row.object_name)
        if not names:
            return []
        fields = self.source.get(row.object_name, row.source_id).fields
        return [
            FileResult(job=self.context.job, row=row, kind=K.FIELD, field_name=name, source_file_id=fid, name=fname)
            for name in names
            for fid, fname in self.source.file_field_files(fields.get(name))
        ]

    def carry(self, row: RecordResult) -> None:
        files = list(row.files.filter(kind=K.FIELD).exclude(status__in=[F.SUCCEEDED, F.SKIPPED, F.REVIEW]))
        if row.action != RecordResult.Action.CREATE and not self.target.file_field_shows_upload_ids:
            # The field, read back, names its file only: ours could not be told from one put there
            # by someone else, so a record the job did not create keeps its field as it is.
            self._settle(files, F.SKIPPED, "Not a record this copy created: its file field is left as it is.")
            return
        for name in sorted({f.field_name for f in files}):
            self._carry_field(row, name, [f for f in files if f.field_name == name])

    def _carry_field(self, row: RecordResult, name: str, files: list[FileResult], *, again: bool = True) -> None:
        value = self.target.get(row.object_name, row.new_id).fields.get(name)
        held = self.target.file_field_files(value)
        ours = [f.new_file_id for f in row.files.filter(kind=K.FIELD, field_name=name).order_by("pk") if f.new_file_id]
        if ours and self.target.file_field_holds(value, ours):
            self._settle(files, F.SUCCEEDED, "")  # the update landed; its answer was lost
            return
        if held:
            self._settle(files, F.SKIPPED, "The target record's field already holds files: left as it is.")
            return
        for file in files:
            if not file.new_file_id:  # one uploaded before (a resumed run) is not uploaded again
                self._upload(row, file)
        every = list(row.files.filter(kind=K.FIELD, field_name=name).exclude(new_file_id=""))
        value = self.target.file_field_value([f.new_file_id for f in every])
        try:
            outcome = self.target.update(row.object_name, [{"id": row.new_id, name: value}])[0]
        except OutcomeUnknown:
            # Read the field again: holding our ids, the update landed (never sent twice); else
            # it is sent once more, and a second lost answer leaves it to a resume.
            if again:
                self._carry_field(row, name, files, again=False)
            else:
                self._settle(files, F.FAILED, "The file field's update got no answer twice: resume to check it.")
            return
        except (RateLimited, Unavailable) as exc:
            raise Paused(exc) from exc  # nothing written; the files stay uploaded, the update waits
        if outcome.ok:
            self._settle([f for f in files if f.new_file_id], F.SUCCEEDED, "")
        else:
            self._settle(files, F.FAILED, outcome.error_message or "The file field was not set.")

    def _upload(self, row: RecordResult, file: FileResult) -> None:
        fence = self.context.fence
        file_ledger.mark_sending(fence, file)
        try:
            download = self.source.download_file_field(
                row.object_name, row.source_id, file.field_name, file.source_file_id
            )
            with file_ledger.downloaded(download) as (spool, counted):
                # The key is the row's own: a system that stages by it replaces, never adds (Vault).
                new_id = self.target.upload_file(
                    spool, file.name or "file", counted.size, key=f"{file.job_id}-{file.pk}"
                )
        except (RateLimited, Unavailable) as exc:
            file_ledger.save(fence, file, status=F.PENDING)
            raise Paused(exc) from exc
        except ConnectorError as exc:
            file_ledger.save(fence, file, status=F.FAILED, error_message=(exc.message or str(exc))[:2000])
            return
        file_ledger.save(fence, file, new_file_id=new_id, size=counted.size, checksum=counted.md5.hexdigest())

    def _settle(self, files: list[FileResult], status: str, message: str) -> None:
        for file in files:
            file_ledger.save(self.context.fence, file, status=status, error_message=message)
