"""A job's version as its page shows it, from one small query: the job's changing columns and its
result counts per (object, outcome). The polled parts of the job page are keyed by it: an
unchanged job is an empty 304 (the live part) or a kept rendering (page_cache) without reading
the job whole (six relations joined) nor rendering anything.

What the page shows that is not in the version (a profile's sharing, whose rules the actions ask;
the words of a wait's "until", which depend on the clock) may lag: the page cache keeps a
rendering PAGE_CACHE_SECONDS, and a live part's ETag is honoured for at most two such windows."""

from __future__ import annotations

import hashlib
import time
import uuid

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.fields.json import KeyTransform

from records.models import AnyUser, CopyJob

# The job's columns that move after it is created (its plan, ids and overrides are written once);
# not the lease nor the heartbeat, which move every second without changing what the page says.
MOVING = (
    "status",
    "cancel_requested",
    "planned_count",
    "succeeded_count",
    "failed_count",
    "error_summary",
    "started",
    "finished",
    "resume_at",
    "undo_job_id",
    "decided_at",
    "profile_id",
    "target_profile_id",
)


def job_version(user: AnyUser, code: uuid.UUID | str) -> str | None:
    """A short hash of what the job page shows of job `code`, or None when this user may not see
    it (the caller's full read then answers 404). One query: the job's row joined to its results,
    grouped. Asked first as the job's requester (a plain filter: for_user's rules cost more to
    build than the query costs to run), then by for_user's rules (an approver's view)."""
    found = _rows(CopyJob.objects.filter(code=code, requested_by=user.pk)) if user.pk else []
    if not found:
        found = _rows(CopyJob.objects.for_user(user).filter(code=code))
    if not found:
        return None
    who = repr((user.pk, str(code), found))
    return hashlib.blake2b(who.encode(), digest_size=12).hexdigest()


def _rows(jobs: QuerySet[CopyJob]) -> list[tuple[str, ...]]:
    rows = (
        jobs.annotate(roots=KeyTransform("roots", "state"), budget=KeyTransform("budget", "state"))
        # The job's id first: PostgreSQL then groups by it alone, not by every column beside it
        # (measured: half the database time of the query grouped by all of them).
        .values_list("pk", *MOVING, "roots", "budget", "results__object_name", "results__status")
        .annotate(n=Count("results__id"))
        .order_by("results__object_name", "results__status")
    )
    return [tuple(repr(v) for v in row) for row in rows]


def window() -> int:
    """The number of the current stretch of PAGE_CACHE_SECONDS (at least a second)."""
    return int(time.time() // max(settings.PAGE_CACHE_SECONDS, 1))


def etag(version: str) -> str:
    return f'"{version}.{window()}"'


def current_tag(version: str, tags: set[str]) -> str | None:
    """The one of the ETags a client sent that is of this version, given in this window or the
    previous one (so what the version leaves out is looked at again within two windows)."""
    now = window()
    return next((tag for tag in (f'"{version}.{w}"' for w in (now, now - 1)) if tag in tags), None)
