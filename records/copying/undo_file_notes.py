"""What an undo does with the files the job added to records it did not create (skipped or
updated ones), listed on the undo page and by `job undo --preview`: an attachment is deleted
alone (the record stays); a file field the copy set stays set, said with the reason, never silently.
The files on records the job created go with those records (undo_preview's delete list)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from records.models import FileResult, RecordResult

F = FileResult.Status

# file_copy.undo_files leaves file fields alone: clearing one takes a value no vendor page gives.
FIELD_KEPT = "the undo does not clear file fields (no documented value empties one): clear it by hand if unwanted"
ATTACHMENT_DELETED = "added by the copy: deleted alone, the record stays"


def file_notes(job_id: int, *, limit: int) -> list[dict[str, Any]]:
    """[{"object_name", "record_id", "name", "field_name", "deleted", "reason"}] for the first
    `limit` files the job added to records it kept."""
    files = (
        FileResult.objects.filter(job_id=job_id, status=F.SUCCEEDED)
        .filter(~Q(row__action=RecordResult.Action.CREATE))
        .select_related("row")
        .order_by("pk")[:limit]
    )
    return [_note(f) for f in files]


def _note(file: FileResult) -> dict[str, Any]:
    field = file.kind == FileResult.Kind.FIELD
    return {
        "object_name": file.row.object_name,
        "record_id": file.row.new_id,
        "name": file.name,
        "field_name": file.field_name if field else "",
        "deleted": not field,
        "reason": FIELD_KEPT if field else ATTACHMENT_DELETED,
    }
