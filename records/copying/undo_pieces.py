"""The worker's undo check (undo_checks' rules) a piece of rows at a time, so the undo of a copy of
100,000 records holds no object a record: the copies are read PIECE at a time as targets, each
piece's stamps (and, for a cascade, children) read and judged at once, and only what the decisions
across the whole tree need is kept, by record id: each copy's parent, the ones gone, the ones kept.

The stamps of every record first (what is kept or gone, then the ancestors of what stays), then,
where children are read, the children of each record its stamps found deletable, judged against
the whole tree's verdicts: a child that isn't the job's copy was added by someone else; one that
is and stays keeps its parent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from records.connectors.base import Connector
from records.copying import undo_checks
from records.copying.undo_checks import Kept, Reading, Reason, Target
from records.models import CopyJob, RecordResult

S = RecordResult.Status
PIECE = 2000  # copies judged at once (well under the databases' limits of parameters)


@dataclass
class Judged:
    """What the check decided of the job's pending copies, by record id."""

    parents: dict[str, str] = field(default_factory=dict)  # every copy checked: its parent's copy
    gone: set[str] = field(default_factory=set)
    kept: dict[str, Kept] = field(default_factory=dict)
    children_checked: bool = False  # as Verdicts.children_checked

    def named(self, record_id: str) -> bool:
        return record_id in self.parents

    def deletable(self, record_id: str) -> bool:
        return record_id in self.parents and record_id not in self.kept and record_id not in self.gone

    @property
    def cascade_safe(self) -> bool:
        return self.children_checked and not self.kept

    def under(self, roots: set[str]) -> bool:
        """Every deletable record is one of `roots` or below one of them through deletable ones."""
        for rid in self.parents:
            if not self.deletable(rid):
                continue
            seen = set()
            while rid not in roots and self.deletable(rid) and rid not in seen:
                seen.add(rid)
                rid = self.parents[rid]
            if rid not in roots:
                return False
        return True


def check(
    conn: Connector,
    original: CopyJob | None,
    undo: CopyJob,
    *,
    include_changed: bool,
    read_children: bool,
    heartbeat: Callable[[], None],
) -> Judged:
    """Judge the copies of `original` that `undo` has pending (undo_checks.decide's verdicts).
    RateLimited/Unavailable propagate (nothing was decided)."""
    judged = Judged()
    if original is None:
        return judged
    user = ""
    # The records whose children are read: the ids held by `parents` already, listed by object.
    candidates: dict[str, list[str]] = {}
    for targets in target_pieces(original, undo):
        heartbeat()
        known = undo_checks.known_as([t.record_id for t in targets], job=original)
        stamps = undo_checks.stamps_of(conn, [t for t in targets if t.record_id not in known])
        user = user or (conn.api_user_id() if stamps else "")
        # The remote's clock as its answers tell it: read after the stamps' calls.
        reading = Reading(known, stamps, user, conn.clock_offset(), original.created)
        for t in targets:
            judged.parents[t.record_id] = t.parent_id
            kept = known.get(t.record_id)
            if kept is None and t.record_id not in stamps:
                judged.gone.add(t.record_id)
                continue
            kept = kept or undo_checks.judge(t, reading, include_changed=include_changed)
            if kept is not None:
                judged.kept[t.record_id] = kept
            if read_children and t.record_id in stamps and (kept is None or kept.reason == Reason.CHANGED):
                candidates.setdefault(t.object_name, []).append(t.record_id)
    undo_checks.keep_ancestors(judged.kept, judged.parents, judged.gone)
    if read_children:
        _check_children(conn, candidates, judged, heartbeat)
    return judged


def _check_children(
    conn: Connector, candidates: dict[str, list[str]], judged: Judged, heartbeat: Callable[[], None]
) -> None:
    """Keep each deletable record with a child that stays (undo_checks.note_staying, as the undo page's check),
    the children of every record judged deletable by its own stamps (changed or not) read."""
    added: dict[str, list[str]] = {}
    staying: set[str] = set()
    for object_name, ids in candidates.items():
        for start in range(0, len(ids), PIECE):
            heartbeat()
            children = undo_checks.children_of(conn, [Target(object_name, i) for i in ids[start : start + PIECE]])
            if children is None:
                return  # not read: no cascade (children_checked stays False)
            undo_checks.note_staying(children, judged.deletable, judged.gone, judged.named, added, staying)
    undo_checks.keep_under(judged.kept, added, staying)
    undo_checks.keep_ancestors(judged.kept, judged.parents, judged.gone)
    judged.children_checked = True


def target_pieces(original: CopyJob, undo: CopyJob) -> Iterator[list[Target]]:
    """The copies `original` created (children after parents) whose row `undo` has pending, as
    targets (undo_checks.copy_targets' without names), PIECE copies of `original` at a time."""
    found = original.results.filter(status=S.SUCCEEDED).exclude(new_id="")
    created = found.filter(action=RecordResult.Action.CREATE).order_by("depth", "id")
    # The ids first, then the rows by id: no cursor left open over the remote calls in between.
    pks = list(created.values_list("pk", flat=True))
    for start in range(0, len(pks), PIECE):
        rows = list(
            RecordResult.objects.filter(pk__in=pks[start : start + PIECE])
            .order_by("depth", "id")
            .values_list("object_name", "new_id", "parent_source_id", "sending_at", "written_at")
        )
        pending = {
            (name, record_id)
            for job_id, action, status, name, record_id in _by_source_id(
                {r[1] for r in rows}, "job_id", "action", "status", "object_name", "source_id"
            )
            if job_id == undo.pk and action == RecordResult.Action.CREATE and status == S.PENDING
        }
        # A parent's copy may be a record the job skipped (found in the target already): still the parent.
        parents = {r[2] for r in rows if r[2]}
        copy_of = {
            source_id: new_id
            for job_id, status, source_id, new_id in _by_source_id(parents, "job_id", "status", "source_id", "new_id")
            if job_id == original.pk and status == S.SUCCEEDED and new_id
        }
        yield [
            Target(name, new_id, copy_of.get(parent, "") if parent else "", sending_at, written_at)
            for name, new_id, parent, sending_at, written_at in rows
            if (name, new_id) in pending
        ]


def _by_source_id(ids: set[str], *columns: str) -> list[tuple[Any, ...]]:
    """The rows of every job with one of these source ids, oldest first (the job is judged by the
    caller). Asked by id alone, so the query is an index range of the ids: with the job in the
    WHERE, SQLite without statistics (the app never runs ANALYZE) reads every row of the job's
    status instead, for each piece: quadratic in a 100,000-record undo."""
    return list(RecordResult.objects.filter(source_id__in=ids).order_by("depth", "id").values_list(*columns))
