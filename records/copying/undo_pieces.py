"""The worker's undo check (undo_checks' rules) a piece of rows at a time, so the undo of a copy of
100,000 records holds no object a record: the copies are read PIECE at a time as targets, each
piece's stamps (and, for a cascade, children) read and judged at once, and only what the decisions
across the whole tree need is kept, by record id: each copy's parent, the ones gone, the ones kept.

Two passes over the copies: the stamps of every record first (what is kept or gone, then the
ancestors of what stays), then, where children are read, each deletable record's children, judged
against the whole tree's verdicts: a child that isn't the job's copy was added by someone else;
one that is and stays keeps its parent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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
    """Judge the copies of `original` that `undo` has pending (undo_checks.check's verdicts).
    RateLimited/Unavailable propagate (nothing was decided)."""
    judged = Judged()
    if original is None:
        return judged
    user = ""
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
    judged_alone = dict(judged.kept)  # before what stays keeps its ancestors: who had children read
    undo_checks.keep_ancestors(judged.kept, judged.parents, judged.gone)
    if read_children:
        _check_children(conn, original, undo, judged, judged_alone, heartbeat)
    return judged


def _check_children(
    conn: Connector,
    original: CopyJob,
    undo: CopyJob,
    judged: Judged,
    judged_alone: dict[str, Kept],
    heartbeat: Callable[[], None],
) -> None:
    """Keep each deletable record with a child that stays (undo_checks._keep_parents_of_others)."""
    added: dict[str, list[str]] = {}
    staying: set[str] = set()
    for targets in target_pieces(original, undo):
        heartbeat()
        # Those read in one piece: every record judged deletable by its own stamps (changed or not).
        candidates = [
            t
            for t in targets
            if t.record_id not in judged.gone
            and (t.record_id not in judged_alone or judged_alone[t.record_id].reason == Reason.CHANGED)
        ]
        children = undo_checks.children_of(conn, candidates)
        if children is None:
            return  # not read: no cascade (children_checked stays False)
        for parent, ids in children.items():
            if not judged.deletable(parent):
                continue
            for child in ids:
                if child in judged.gone or judged.deletable(child):
                    continue
                if judged.named(child):
                    staying.add(parent)  # the job's copy, kept
                else:
                    added.setdefault(parent, []).append(child)
    for parent in staying - set(added):
        judged.kept[parent] = undo_checks.UNDER_KEPT
    for parent, ids in added.items():
        judged.kept[parent] = undo_checks.added_under(ids)
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
        pending = set(
            undo.results.filter(
                action=RecordResult.Action.CREATE, status=S.PENDING, source_id__in={r[1] for r in rows}
            ).values_list("object_name", "source_id")
        )
        # A parent's copy may be a record the job skipped (found in the target already): still the parent.
        parents = {r[2] for r in rows if r[2]}
        copy_of = dict(found.filter(source_id__in=parents).order_by("depth", "id").values_list("source_id", "new_id"))
        yield [
            Target(name, new_id, copy_of.get(parent, "") if parent else "", sending_at, written_at)
            for name, new_id, parent, sending_at, written_at in rows
            if (name, new_id) in pending
        ]
