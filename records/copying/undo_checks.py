"""What an undo may delete: only a record the job created that nobody has changed since.

Each record a job's row names as its copy is read (connector.stamps, batched) before anything is
deleted, by the worker and by the undo page alike:
- never deleted (the row says why): an id the app knows as a source record (any copy job's rows
  or source lists) or as another copy job's copy; a record created before its row was marked
  sending; one not created by the profile's API user; one whose maker or creation time the system
  did not give;
- already gone: counts as deleted;
- changed since the copy (modified after the job's last write to it, `written_at`): kept unless the
  user asked to delete those too;
- a record with something under it that stays (a kept record, or, where children are read, a record
  someone added under the copy) is kept too: deleting it would delete or orphan what stays.
Times are compared on the remote's clock (ours plus connector.clock_offset()), with
settings.UNDO_CLOCK_MARGIN_SECONDS for the seconds the remote rounds away and the Date header's
precision. An edit within that margin after the copy's last write is not seen as a change.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings

from records.connectors.base import Connector, Record
from records.connectors.errors import ConnectorError, RateLimited, Unavailable
from records.copying.known import known_ids
from records.copying.references import ref_id
from records.models import CopyJob, RecordResult

S = RecordResult.Status


class Reason(StrEnum):
    """Why a record is kept: the row's error_type (SKIPPED rows of an undo)."""

    SOURCE = "KEPT_SOURCE_RECORD"
    OTHER_COPY = "KEPT_OTHER_JOBS_COPY"
    NOT_NAMED = "KEPT_NOT_THIS_JOBS_COPY"
    UNREADABLE = "KEPT_NO_STAMPS"
    OTHER_USER = "KEPT_OTHER_USER"
    OLDER = "KEPT_CREATED_BEFORE_COPY"
    CHANGED = "KEPT_CHANGED"
    ADDED_UNDER = "KEPT_RECORDS_ADDED_UNDER"
    UNDER_KEPT = "KEPT_PARENT_OF_KEPT"


# The job's summary, "3 kept: 2 changed since the copy, 1 created by another user".
SHORT = {
    Reason.SOURCE: "a source record",
    Reason.OTHER_COPY: "another job's copy",
    Reason.NOT_NAMED: "not this job's copy",
    Reason.UNREADABLE: "maker unknown",
    Reason.OTHER_USER: "created by another user",
    Reason.OLDER: "created before the copy",
    Reason.CHANGED: "changed since the copy",
    Reason.ADDED_UNDER: "records added under it",
    Reason.UNDER_KEPT: "a record under it kept",
}
# Kept records that are the job's copies, so they hang under their parent's copy: that parent stays.
IN_TREE = frozenset({Reason.CHANGED, Reason.ADDED_UNDER, Reason.UNDER_KEPT})


@dataclass(frozen=True)
class Target:
    """One record an undo would delete: a copy a job's row names, with when the row was sent and
    last written (our clock) and its parent's copy in the copied tree ("" for a top record)."""

    object_name: str
    record_id: str
    parent_id: str = ""
    sending_at: dt.datetime | None = None
    written_at: dt.datetime | None = None
    name: str = ""


@dataclass(frozen=True)
class Kept:
    reason: Reason
    message: str


UNDER_KEPT = Kept(
    Reason.UNDER_KEPT, "Kept: a record under it is kept, and deleting this one would delete or orphan it."
)


@dataclass
class Verdicts:
    delete: list[Target] = field(default_factory=list)
    gone: list[Target] = field(default_factory=list)
    kept: dict[str, Kept] = field(default_factory=dict)  # by record id
    # The children of every record to delete were read (one that stays keeps its parent): with
    # nothing kept, Vault's cascade delete takes exactly these records.
    children_checked: bool = False

    @property
    def cascade_safe(self) -> bool:
        return self.children_checked and not self.kept


def margin() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.UNDO_CLOCK_MARGIN_SECONDS))


def when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "an unknown time"


@dataclass
class Reading:
    """What the remote and the database said about the targets; decided on by `decide`."""

    known: dict[str, Kept]
    stamps: dict[str, Record]
    user: str
    offset: dt.timedelta
    since: dt.datetime
    # {parent id: [child ids]} under each record that may be deleted; None: not read, or not readable.
    children: dict[str, list[str]] | None = None


def read(conn: Connector, targets: Sequence[Target], *, job: CopyJob, read_children: bool) -> Reading:
    """What the database and the remote say of `targets` (copies of `job`), and, with
    `read_children`, their children; RateLimited/Unavailable propagate (nothing was decided)."""
    known = known_as([t.record_id for t in targets], job=job)
    stamps = stamps_of(conn, [t for t in targets if t.record_id not in known])
    user = conn.api_user_id() if stamps else ""
    reading = Reading(known, stamps, user, conn.clock_offset(), job.created)
    if read_children:
        candidates = [t for t in targets if t.record_id in stamps and judge(t, reading, include_changed=True) is None]
        reading.children = children_of(conn, candidates)
    return reading


def decide(reading: Reading, targets: Sequence[Target], *, include_changed: bool) -> Verdicts:
    out = Verdicts()
    for t in targets:
        kept = reading.known.get(t.record_id)
        if kept is None and t.record_id not in reading.stamps:
            out.gone.append(t)
            continue
        kept = kept or judge(t, reading, include_changed=include_changed)
        if kept is None:
            out.delete.append(t)
        else:
            out.kept[t.record_id] = kept
    _keep_ancestors(out, targets)
    if reading.children is not None:
        _keep_parents_of_others(out, targets, reading.children)
        _keep_ancestors(out, targets)
    out.children_checked = reading.children is not None
    return out


def stamps_of(conn: Connector, targets: Sequence[Target]) -> dict[str, Record]:
    by_object: dict[str, list[str]] = {}
    for t in targets:
        by_object.setdefault(t.object_name, []).append(t.record_id)
    found: dict[str, Record] = {}
    for object_name, ids in by_object.items():
        found.update(conn.stamps(object_name, ids))
    return found


def judge(t: Target, reading: Reading, *, include_changed: bool) -> Kept | None:
    record, offset = reading.stamps[t.record_id], reading.offset
    if record.created is None or record.modified is None or not record.created_by:
        return Kept(
            Reason.UNREADABLE, "Kept: the system did not say who created this record, when, or when it last changed."
        )
    if str(record.created_by) != str(reading.user):
        return Kept(
            Reason.OTHER_USER,
            f"Kept: created by another user (user {record.created_by}), not by this profile's API user.",
        )
    sent = (t.sending_at or reading.since) + offset - margin()
    if record.created < sent:
        return Kept(
            Reason.OLDER,
            f"Kept: created {when(record.created)}, before this copy was sent, so the copy did not create it.",
        )
    if include_changed:
        return None
    last = t.written_at + offset if t.written_at else record.created
    if record.modified > last + margin():
        return Kept(
            Reason.CHANGED,
            f"Changed since the copy — kept (modified {when(record.modified)}, after the copy wrote it"
            f" {when(last)}). Undo with “also delete records changed since the copy” to delete it.",
        )
    return None


def _keep_ancestors(out: Verdicts, targets: Sequence[Target]) -> None:
    """A record whose child in the copied tree stays is kept too. Only for children that are the
    job's copies (changed, or with something under them): a row holding a record that isn't the
    job's copy doesn't say where that record hangs."""
    keep_ancestors(out.kept, {t.record_id: t.parent_id for t in targets}, {t.record_id for t in out.gone})
    out.delete = [t for t in out.delete if t.record_id not in out.kept]


def keep_ancestors(kept: dict[str, Kept], parents: dict[str, str], gone: set[str]) -> None:
    """Add to `kept` each record of `parents` (id: its parent's id) above one kept in the tree."""
    stays = [rid for rid, k in kept.items() if k.reason in IN_TREE]
    while stays:
        parent = parents.get(stays.pop(), "")
        if parent in parents and parent not in kept and parent not in gone:
            kept[parent] = UNDER_KEPT
            stays.append(parent)


def children_of(conn: Connector, targets: Sequence[Target]) -> dict[str, list[str]] | None:
    """{parent id: child ids} under `targets`, through all the related lists of their objects (what
    a cascade delete follows). None when a read failed for another reason than an outage."""
    by_object: dict[str, list[str]] = {}
    for t in targets:
        by_object.setdefault(t.object_name, []).append(t.record_id)
    out: dict[str, list[str]] = {}
    try:
        for object_name, ids in by_object.items():
            for related in conn.related_lists(object_name):
                for child in conn.children(related, ids):
                    out.setdefault(ref_id(child.fields.get(related.parent_field)), []).append(child.id)
    except (RateLimited, Unavailable):
        raise
    except ConnectorError:
        return None
    return out


def _keep_parents_of_others(out: Verdicts, targets: Sequence[Target], children: dict[str, list[str]]) -> None:
    """A record to delete with a child that isn't deleted is kept: the child was added by someone
    else after the copy, or it is a kept record."""
    deleting = {t.record_id for t in out.delete}
    gone = {t.record_id for t in out.gone}
    ours = {t.record_id for t in targets}
    added: dict[str, list[str]] = {}
    staying: set[str] = set()
    note_staying(children, deleting.__contains__, gone, ours.__contains__, added, staying)
    keep_under(out.kept, added, staying)
    out.delete = [t for t in out.delete if t.record_id not in out.kept]


def note_staying(
    children: Mapping[str, Iterable[str]],
    deleting: Callable[[str], bool],
    gone: Container[str],
    ours: Callable[[str], bool],
    added: dict[str, list[str]],
    staying: set[str],
) -> None:
    """Each parent to delete whose child stays (neither deleted nor gone) noted: in `added` when
    the child isn't one of the job's copies (someone added it after the copy), else in `staying`
    (a copy that is kept). A piece of parents at a time: the notes add up."""
    for parent, found in children.items():
        if not deleting(parent):
            continue
        for child in found:
            if child in gone or deleting(child):
                continue
            if ours(child):
                staying.add(parent)
            else:
                added.setdefault(parent, []).append(child)


def keep_under(kept: dict[str, Kept], added: dict[str, list[str]], staying: set[str]) -> None:
    """The parents noted by note_staying kept, saying why (a child someone added says more)."""
    for parent in staying - set(added):
        kept[parent] = UNDER_KEPT
    for parent, ids in added.items():
        kept[parent] = added_under(ids)


def added_under(added: list[str]) -> Kept:
    shown = ", ".join(added[:5]) + (" …" if len(added) > 5 else "")
    return Kept(
        Reason.ADDED_UNDER,
        f"Kept: {len(added)} record(s) were added under it after the copy ({shown}); deleting it would"
        " delete them too.",
    )


def known_as(ids: Iterable[str], *, job: CopyJob) -> dict[str, Kept]:
    """{id: why kept} for the ids the app knows as a source record or as another copy job's copy."""
    return {
        record_id: _source(known.job_id)
        if known.as_source
        else Kept(
            Reason.OTHER_COPY, f"Kept: job {known.job_id} names this record as its copy too; it is not this job's."
        )
        for record_id, known in known_ids(ids, org=job.write_profile.pk, except_job=job.pk).items()
    }


def _source(job_id: int) -> Kept:
    return Kept(Reason.SOURCE, f"Kept: this is a source record (of job {job_id}), never a copy to delete.")


def kept_words(job: CopyJob) -> str:
    """ "3 kept: 2 changed since the copy, 1 created by another user" for an undo's kept rows."""
    counts = Counter(
        job.results.filter(status=S.SKIPPED, error_type__startswith="KEPT_").values_list("error_type", flat=True)
    )
    total = sum(counts.values())
    if not total:
        return ""
    if len(counts) == 1:
        return f"{total} kept: {SHORT[Reason(next(iter(counts)))]}"
    parts = [f"{n} {SHORT[Reason(r)]}" for r, n in counts.most_common() if r in Reason._value2member_map_]
    return f"{total} kept: " + ", ".join(parts)


def copy_targets(
    original: CopyJob,
    *,
    limit: int | None = None,
    name_fields: tuple[str, ...] = (),
) -> list[Target]:
    """The copies `original` created (children after parents), as targets, at most `limit`."""
    found = original.results.filter(status=S.SUCCEEDED).exclude(new_id="").order_by("depth", "id")
    # A parent's copy may be a record the job skipped (found in the target already): still the parent.
    copy_of = dict(found.values_list("source_id", "new_id"))
    rows = found.filter(action=RecordResult.Action.CREATE)  # only what the job created is deleted
    out = []
    # "job" too: rows read through a job's related manager get that job set on each, which reads
    # the row's job id (deferred, it would be a query a row: 100,000 for a giant copy's undo).
    for r in rows.only(
        "job",
        "object_name",
        "source_id",
        "new_id",
        "parent_source_id",
        "sending_at",
        "written_at",
        "source_name",
        "values",
        "depth",
    ).iterator(chunk_size=2000):
        out.append(
            Target(
                r.object_name,
                r.new_id,
                copy_of.get(r.parent_source_id, "") if r.parent_source_id else "",
                r.sending_at,
                r.written_at,
                copy_name(r, name_fields, original),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


def copy_name(result: RecordResult, name_fields: tuple[str, ...], job: CopyJob | None = None) -> str:
    """The name a copy got: the name field as set on it (an override, a template), else for the
    top record of `job` copying one record the name the person gave it (plan["copy_name"]: Vault's
    own deep copy sends it in its call and keeps it in the job, not on the row), else its source's
    name, which the copy kept."""
    return name_given(result.values, result.depth, result.source_name, name_fields, job)


def name_given(
    values: dict[str, Any] | None, depth: int, source_name: str, name_fields: tuple[str, ...], job: CopyJob | None
) -> str:
    """copy_name from a row's columns (`values`, `depth`, `source_name`), read without its model."""
    for key in name_fields:
        value = (values or {}).get(key)
        if isinstance(value, str) and value:
            return value[:300]
    if job is not None and depth == 0 and len(job.source_ids or []) == 1:
        given = (job.plan or {}).get("copy_name")
        if isinstance(given, str) and given:
            return given[:300]
    return source_name
