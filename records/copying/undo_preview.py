"""What an undo would delete and keep, listed before the user confirms (the undo page, `job undo
--preview`): the first settings.UNDO_PREVIEW_MAX_RECORDS copies are read now under the rules the
worker applies (undo_checks); the worker checks every record again before deleting it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from records.connectors.base import Connector
from records.copying import undo_checks, undo_file_notes
from records.copying.undo_checks import Target, Verdicts
from records.masking import rules as masking_rules
from records.models import CopyJob, RecordResult

S = RecordResult.Status


@dataclass(frozen=True)
class Line:
    object_name: str
    record_id: str
    name: str
    reason: str = ""


@dataclass
class UndoPreview:
    total: int  # the copies the job created
    delete: list[Line] = field(default_factory=list)
    changed: list[Line] = field(default_factory=list)  # kept unless "also delete changed records"
    kept: list[Line] = field(default_factory=list)  # never deleted, with the reason
    gone: list[Line] = field(default_factory=list)  # already deleted: count as deleted
    checked: int = 0
    cascade: bool = False  # a Vault deep copy that the cascade delete may take whole
    # Records a copy into another profile updated: written back with --restore-updated.
    # [{"object_name", "record_id", "name", "previous": {field: value}, "masked": [field]}]: a
    # masked field is not written back (unrestorable: its stand-in is not stored, see undo_restore).
    restore: list[dict[str, Any]] = field(default_factory=list)
    # Files the job added to records it kept: attachments deleted alone, file fields left set (undo_file_notes).
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unchecked(self) -> int:
        return max(0, self.total - self.checked)

    def as_dict(self) -> dict[str, Any]:
        def lines(items: list[Line]) -> list[dict[str, Any]]:
            return [vars(x) for x in items]

        return {
            "total": self.total,
            "checked": self.checked,
            "unchecked": self.unchecked,
            "delete": lines(self.delete),
            "changed": lines(self.changed),
            "kept": lines(self.kept),
            "gone": lines(self.gone),
            "restore": self.restore,
            "files": self.files,
        }


def preview(conn: Connector, job: CopyJob, *, limit: int, name_fields: tuple[str, ...]) -> UndoPreview:
    """Read the first `limit` copies of `job` and sort them as an undo would, with and without
    "also delete records changed since the copy" (one reading for both)."""
    done = job.results.filter(status=S.SUCCEEDED).exclude(new_id="")
    total = done.filter(action=RecordResult.Action.CREATE).count()
    targets = undo_checks.copy_targets(job, limit=limit, name_fields=name_fields)
    reading = undo_checks.read(conn, targets, job=job, read_children=conn.native_deep_copy)
    default = undo_checks.decide(reading, targets, include_changed=False)
    changed = undo_checks.decide(reading, targets, include_changed=True)
    out = UndoPreview(total=total, checked=len(targets))
    out.delete = [_line(t) for t in default.delete]
    out.gone = [_line(t) for t in default.gone]
    also = {t.record_id for t in changed.delete}
    for t in targets:
        kept = default.kept.get(t.record_id)
        if kept is not None:
            (out.changed if t.record_id in also else out.kept).append(_line(t, kept.message))
    out.cascade = _cascades(conn, job, default)
    updated = done.filter(action=RecordResult.Action.UPDATE).exclude(previous=None)[:limit]
    out.restore = [
        {
            "object_name": r.object_name,
            "record_id": r.new_id,
            "name": r.source_name,
            "previous": {k: v for k, v in (r.previous or {}).items() if k not in unrestorable(r)},
            "masked": unrestorable(r),
        }
        for r in updated
    ]
    out.files = undo_file_notes.file_notes(job.pk, limit=limit)
    return out


def unrestorable(row: RecordResult) -> list[str]:
    """The fields of an update row that restore can't write back: masked (their value is a label)."""
    return sorted(k for k, v in (row.values or {}).items() if masking_rules.is_label(v) and k in (row.previous or {}))


def _line(t: Target, reason: str = "") -> Line:
    return Line(t.object_name, t.record_id, t.name, reason)


def _cascades(conn: Connector, job: CopyJob, verdicts: Verdicts) -> bool:
    # Not across profiles: a re-run's tree may hang under a record the job skipped (not its own).
    in_system = job.target_profile_id is None
    return in_system and conn.native_deep_copy and job.mode == CopyJob.Mode.DEEP_COPY and verdicts.cascade_safe
