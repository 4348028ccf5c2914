"""The job page's live parts: its counters and status words (the progress JSON job.js polls every
second), per-object progress (Contacts 400/400), the per-outcome numbers (the badges above the
results) and, for Vault's own deep copy, its phase.

Read by the job page when it renders and by `jobs/<code>/objects.json`, which job.js asks for
only when the done count moved (at most every few seconds) and once at the end: the progress
JSON polled every second stays one query."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import Count

from records.models import CopyJob, RecordResult

DONE = {RecordResult.Status.SUCCEEDED, RecordResult.Status.FAILED, RecordResult.Status.SKIPPED}

# Vault's own deep copy, phase by phase (started — Vault job N running, polled k times —
# results read — n of N matched).
PHASES = {
    "starting": "Started Vault's deep copy",
    "polling": "Vault job {remote_job_id} running",
    "discover": "Vault's job ended; results read, {matched} of {total} matched",
    "done": "Done",
}


class ObjectProgress(TypedDict):
    object: str
    label: str
    total: int
    done: int
    succeeded: int
    failed: int


class LiveParts(TypedDict):
    """The objects JSON (job.js) and the job page's first render of the same parts."""

    objects: list[ObjectProgress]
    outcomes: dict[str, int]
    phase: str


def groups(job: CopyJob) -> dict[tuple[str, str], int]:
    """{(object name, outcome): number of results}: one grouped query over an index."""
    rows = job.results.order_by().values_list("object_name", "status").annotate(n=Count("id"))
    return {(obj, status): n for obj, status, n in rows}


def per_object(counts: dict[tuple[str, str], int], labels: dict[str, str], order: list[str]) -> list[ObjectProgress]:
    """One entry per object, in the plan's order: label, total, done, succeeded, failed."""
    names = list(dict.fromkeys([*order, *(o for o, _ in counts)]))
    out = []
    for name in names:
        mine = {s: n for (o, s), n in counts.items() if o == name}
        if not mine:
            continue
        out.append(
            ObjectProgress(
                object=name,
                label=labels.get(name) or name,
                total=sum(mine.values()),
                done=sum(n for s, n in mine.items() if s in DONE),
                succeeded=mine.get(RecordResult.Status.SUCCEEDED, 0),
                failed=mine.get(RecordResult.Status.FAILED, 0),
            )
        )
    return out


def outcomes(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    totals = {value: 0 for value, _ in RecordResult.Status.choices}
    for (_, status), n in counts.items():
        totals[status] = totals.get(status, 0) + n
    return totals


def phase_text(roots: dict[str, Any] | None, counts: dict[tuple[str, str], int] | None = None) -> str:
    """Where Vault's own deep copy (or cascade delete) is, from the engine's checkpoint; `counts`
    (groups()) gives the records matched so far once Vault's job has ended."""
    if not isinstance(roots, dict) or not roots:
        return ""
    totals = outcomes(counts or {})
    matched, total = totals.get(RecordResult.Status.SUCCEEDED, 0), sum(totals.values())
    texts = []
    for st in roots.values():
        if isinstance(st, dict) and st.get("phase") in PHASES:
            text = PHASES[st["phase"]].format(
                remote_job_id=st.get("remote_job_id") or "?", matched=f"{matched:,}", total=f"{total:,}"
            )
            polls = st.get("polls")
            if st["phase"] == "polling" and isinstance(polls, int) and polls > 0:
                text += f", polled {polls} time{'s' if polls != 1 else ''}"
            texts.append(text)
    if len(set(texts)) == 1:
        return texts[0]
    return "; ".join(f"{texts.count(t)} × {t}" for t in dict.fromkeys(texts))


def plan_labels(plan_objects: list[Any] | None) -> tuple[dict[str, str], list[str]]:
    """The plan's objects ({name: label}, in the plan's order), from the job's plan JSON."""
    objects = [o for o in plan_objects or [] if isinstance(o, dict) and o.get("object_name")]
    return {o["object_name"]: o.get("label") or o["object_name"] for o in objects}, [o["object_name"] for o in objects]


def live_parts(job: CopyJob) -> LiveParts:
    """The objects JSON: two queries (the grouped counts, and two small keys of the job's JSON)."""
    counts = groups(job)
    plan_objects, roots = CopyJob.objects.filter(pk=job.pk).values_list("plan__objects", "state__roots").first() or (
        None,
        None,
    )
    labels, order = plan_labels(plan_objects)
    return LiveParts(
        objects=per_object(counts, labels, order), outcomes=outcomes(counts), phase=phase_text(roots, counts)
    )


# The job's columns the progress JSON needs: not the JSON columns (source ids, plan, overrides,
# row overrides, engine state), which can be large for a bulk clone and are parsed on load.
# mode, resume_at and undo_job feed status_words(), sent with each answer so that the words under
# the badge follow the job as it runs (they said "Queued" next to a Running badge).
PROGRESS_FIELDS = (
    "status",
    "cancel_requested",
    "planned_count",
    "succeeded_count",
    "failed_count",
    "error_summary",
    "mode",
    "resume_at",
    "undo_job",
)


class Progress(TypedDict):
    """The progress JSON job.js polls, and the job page's first render of it."""

    status: str
    status_label: str
    finished: bool
    cancel_requested: bool
    percent: int
    planned: int
    done: int
    succeeded: int
    failed: int
    error_summary: str
    words: str


def progress(job: CopyJob, words: str) -> Progress:
    """`words`: job.status_words, or describe_status() with what the page counted already."""
    return Progress(
        status=job.status,
        status_label=job.get_status_display(),
        finished=job.is_finished,
        cancel_requested=job.cancel_requested,
        percent=job.progress_percent,
        planned=job.planned_count,
        done=job.done_count,
        succeeded=job.succeeded_count,
        failed=job.failed_count,
        error_summary=job.error_summary,
        words=words,
    )
