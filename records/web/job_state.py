"""One state of a job for its page: the status, every number, the per-object lines, the notice, the
actions and their reasons, and the rows in review, read together so that they always agree.

The job page renders it once (`_job_live.html`) and `jobs/<code>/live/` renders the same template
for job.js, which swaps the whole part in one piece: a finished job's live part is what a reload
shows, and no part ever says "Succeeded" beside "Cancel job".

Every number comes from the job's rows (one grouped count), never from the job's counters, which
the engine refreshes only now and then during a run. The job row is read first and the rows after
it: a job that reads as finished has written its rows already, so its numbers are final."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from records.copying import budget_words, review
from records.copying.job_rules import ProfileAccess, can_resolve
from records.copying.job_words import status_words
from records.models import AnyUser, CopyJob, RecordResult, System
from records.web import job_actions
from records.web.job_actions import OfferedAction

Status = RecordResult.Status
# Rows whose fate is known: a skipped row (cancelled, or its parent not copied) is not processed
# but "not copied", so a cancelled job never reads "250/250 done, 0 copied".
PROCESSED = (Status.SUCCEEDED, Status.FAILED, Status.REVIEW)

# Vault's own deep copy, phase by phase (started — Vault job N running, polled k times —
# results read — n of N matched).
PHASES = {
    "starting": "Started Vault's deep copy",
    "polling": "Vault job {remote_job_id} running",
    "discover": "Vault's job ended; results read, {matched} of {total} matched",
    "done": "Done",
}


@dataclass(frozen=True)
class ObjectLine:
    """One object's line of the per-object table: Contacts 400 of 400 done, 398 copied, 2 failed."""

    object: str
    label: str
    total: int
    processed: int
    copied: int
    failed: int
    not_copied: int


@dataclass(frozen=True)
class Numbers:
    """The job's numbers as its rows say, summed over every object."""

    total: int
    processed: int
    copied: int
    failed: int
    review: int
    not_copied: int
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    job: CopyJob
    numbers: Numbers
    objects: list[ObjectLine]
    percent: int
    percent_text: str
    words: str
    notice: str
    phase: str
    phased: bool
    actions: list[OfferedAction]
    reasons: str
    review: dict[str, Any]
    budget: dict[str, str] = field(default_factory=dict)  # {"left", "wait"}: budget_words.job_budget

    @property
    def verb(self) -> str:
        return "deleted" if self.job.mode == CopyJob.Mode.UNDO else "copied"

    @property
    def chips(self) -> list[tuple[str, str, int]]:
        """The outcomes that have rows, for the badges above the results: (value, label, number)."""
        outcomes = self.numbers.outcomes
        return [(value, label, outcomes[value]) for value, label in Status.choices if outcomes.get(value)]

    @property
    def rows(self) -> int:
        return sum(self.numbers.outcomes.values())

    @property
    def version(self) -> str:
        """What job.js compares to know whether the results rows moved."""
        return f"{self.job.status}:{self.numbers.processed}:{self.numbers.total}"


def groups(job: CopyJob) -> dict[tuple[str, str], int]:
    """{(object name, outcome): number of results}: one grouped query over an index."""
    rows = job.results.order_by().values_list("object_name", "status").annotate(n=Count("id"))
    return {(obj, status): n for obj, status, n in rows}


def plan_labels(plan_objects: list[Any] | None) -> tuple[dict[str, str], list[str]]:
    """The plan's objects ({name: label}, in the plan's order), from the job's plan JSON."""
    objects = [o for o in plan_objects or [] if isinstance(o, dict) and o.get("object_name")]
    return {o["object_name"]: o.get("label") or o["object_name"] for o in objects}, [o["object_name"] for o in objects]


def snapshot(job: CopyJob, user: AnyUser, counts: dict[tuple[str, str], int] | None = None) -> Snapshot:
    """`job` as just read (read it before calling: see the module's note); `counts`: groups(job)
    when the caller has them already."""
    counts = groups(job) if counts is None else counts
    labels, order = plan_labels((job.plan or {}).get("objects"))
    numbers = totals(job, counts)
    shown = _with_row_counts(job, numbers)
    access = ProfileAccess(job, user)  # asked once for every rule the page shows
    actions = job_actions.offered_actions(job, user, access, applies=_applies(job, numbers))
    return Snapshot(
        job=job,
        numbers=numbers,
        objects=per_object(counts, labels, order),
        percent=_percent(numbers),
        percent_text=_percent_text(numbers),
        words=status_words(shown, review=numbers.review),
        notice=_notice(job),
        phase=_phase(job, counts),
        phased=job.mode != CopyJob.Mode.CLONE and job.profile.system == System.VAULT,
        actions=actions,
        reasons=job_actions.reasons_sentence(actions),
        review=_review(job, user, access, numbers.review, labels),
        budget=_budget(job),
    )


def _budget(job: CopyJob) -> dict[str, str]:
    """What the run stored of the API budget (read with the job: the view annotates budget_state)."""
    return budget_words.job_budget(
        getattr(job, "budget_state", None),
        resume_at=job.resume_at if job.status == CopyJob.Status.WAITING else None,
        active=job.status in CopyJob.ACTIVE,
        waiting=job.status == CopyJob.Status.WAITING,
        now=timezone.now(),
    )


def totals(job: CopyJob, counts: dict[tuple[str, str], int]) -> Numbers:
    outcomes = {value: 0 for value, _ in Status.choices}
    for (_, status), n in counts.items():
        outcomes[status] = outcomes.get(status, 0) + n
    copied, failed, review_n = outcomes[Status.SUCCEEDED], outcomes[Status.FAILED], outcomes[Status.REVIEW]
    total = sum(outcomes.values())
    if not total:  # no rows yet (Vault's own deep copy before its results are read): the plan's number
        return Numbers(job.planned_count, 0, 0, 0, 0, 0, outcomes)
    return Numbers(total, copied + failed + review_n, copied, failed, review_n, outcomes[Status.SKIPPED], outcomes)


def per_object(counts: dict[tuple[str, str], int], labels: dict[str, str], order: list[str]) -> list[ObjectLine]:
    """One line per object, in the plan's order."""
    names = list(dict.fromkeys([*order, *(o for o, _ in counts)]))
    out = []
    for name in names:
        mine = {s: n for (o, s), n in counts.items() if o == name}
        if mine:
            out.append(
                ObjectLine(
                    object=name,
                    label=labels.get(name) or name,
                    total=sum(mine.values()),
                    processed=sum(n for s, n in mine.items() if s in PROCESSED),
                    copied=mine.get(Status.SUCCEEDED, 0),
                    failed=mine.get(Status.FAILED, 0),
                    not_copied=mine.get(Status.SKIPPED, 0),
                )
            )
    return out


def _with_row_counts(job: CopyJob, numbers: Numbers) -> CopyJob:
    """The job with its counters as the rows say, for its status words (a copy: the page's job
    keeps what was read)."""
    shown = copy.copy(job)
    if numbers.processed or numbers.not_copied:
        shown.succeeded_count, shown.failed_count = numbers.copied, numbers.failed
        shown.planned_count = numbers.total
    return shown


def _percent(numbers: Numbers) -> int:
    if not numbers.total:
        return 0
    return min(100, round(100 * numbers.processed / numbers.total))


def _percent_text(numbers: Numbers) -> str:
    """ "<1 %" for a start, "99 %" until the last record: never "0 %" beside a copied record,
    nor "100 %" beside one still to go."""
    percent = _percent(numbers)
    if percent == 0 and numbers.processed:
        return "<1%"
    if percent == 100 and numbers.processed < numbers.total:
        return "99%"
    return f"{percent}%"


def _notice(job: CopyJob) -> str:
    """The job's error summary, only while it waits or after an end that was not a success: a
    rate limit's words are stale once the job has succeeded."""
    shown = (CopyJob.Status.WAITING, CopyJob.Status.FAILED, CopyJob.Status.PARTIAL, CopyJob.Status.CANCELLED)
    return job.error_summary if job.status in shown else ""


def _applies(job: CopyJob, numbers: Numbers) -> dict[str, bool]:
    """Which actions could apply to the job as it stands, whoever asks: a refusal is worth saying
    only for these ("Resume: every record is done" on a finished job is not)."""
    ended = job.status in CopyJob.ENDED or job.status == CopyJob.Status.WAITING
    unfinished = numbers.total - numbers.copied - numbers.review > 0  # what a resume sends again
    return {
        "cancel": job.status in CopyJob.ACTIVE and not job.cancel_requested,
        "resume": ended and unfinished,
        "undo": job.mode != CopyJob.Mode.UNDO and job.status in CopyJob.ENDED and numbers.copied > 0,
        # Fixing: a stopped copy with failed or not-copied rows (its rule says the rest).
        "fix": job.mode != CopyJob.Mode.UNDO and ended and numbers.failed + numbers.not_copied > 0,
    }


# The name of the annotation that brings state["roots"] with the job (views/jobs.py DETAIL_ANNOTATIONS).
ROOTS = "state_roots"


def _phase(job: CopyJob, counts: dict[tuple[str, str], int]) -> str:
    if job.mode == CopyJob.Mode.CLONE:
        return ""  # only Vault's deep copy and cascade delete have phases
    if hasattr(job, ROOTS):
        roots = getattr(job, ROOTS)
    else:  # a job read without the annotation
        roots = CopyJob.objects.filter(pk=job.pk).values_list("state__roots", flat=True).first()
    return phase_text(roots, counts)


def phase_text(roots: dict[str, Any] | None, counts: dict[tuple[str, str], int] | None = None) -> str:
    """Where Vault's own deep copy (or cascade delete) is, from the engine's checkpoint; `counts`
    (groups()) gives the records matched so far once Vault's job has ended."""
    if not isinstance(roots, dict) or not roots:
        return ""
    matched = sum(n for (_, s), n in (counts or {}).items() if s == Status.SUCCEEDED)
    total = sum((counts or {}).values())
    texts = [_root_phase(st, matched, total) for st in roots.values()]
    texts = [t for t in texts if t]
    if len(set(texts)) == 1:
        return texts[0]
    return "; ".join(f"{texts.count(t)} × {t}" for t in dict.fromkeys(texts))


def _root_phase(st: Any, matched: int, total: int) -> str:
    if not isinstance(st, dict) or st.get("phase") not in PHASES:
        return ""
    text = PHASES[st["phase"]].format(
        remote_job_id=st.get("remote_job_id") or "?", matched=f"{matched:,}", total=f"{total:,}"
    )
    polls = st.get("polls")
    if st["phase"] == "polling" and isinstance(polls, int) and polls > 0:
        text += f", polled {polls} time{'s' if polls != 1 else ''}"
    return text


def _review(job: CopyJob, user: AnyUser, access: ProfileAccess, count: int, labels: dict[str, str]) -> dict[str, Any]:
    """The rows that need review, with their candidates and whether this user may pick (no query
    when there are none)."""
    if not count:
        return {"review_count": 0}
    allowed, reason = can_resolve(job, user, access)
    rows = [{"row": r, "label": labels.get(r.object_name) or r.object_name} for r in review.review_rows(job)]
    return {"review_count": count, "review_rows": rows, "review_allowed": allowed, "review_reason": reason}
