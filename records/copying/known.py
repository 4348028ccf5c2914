"""Which remote ids the app already knows, and as what: the one rule reconcile, review and undo share.

A record is known as a *source* when any copy job names it as a record to copy (its result rows'
source ids, or, for the few ids a look-up finds, the job's own source list), and as a *copy* when
any copy job's row holds it as the new id of a record it created (a copy into another profile
may skip or update a record already there: that row does not make it its copy). Undo jobs don't count: their rows name the copies they
delete. Nothing the app knows this way is ever claimed as a lost answer's copy, and undo never
deletes a source or another job's copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from records.models import CopyJob, RecordResult

# Ids asked per query (two IN lists: within every database's limit on parameters).
CHUNK = 500
# A job's source list is JSON text, searched per id: only for a handful of ids (a look-up's finds).
MAX_LIST_READS = 25
CREATE = RecordResult.Action.CREATE


@dataclass(frozen=True)
class Known:
    as_source: bool  # False: known as a copy
    job_id: int


def known_ids(
    ids: Iterable[str], *, except_job: int | None = None, except_rows: Iterable[int] = ()
) -> dict[str, Known]:
    """{id: how it is known} for the ids among `ids` the app knows. A copy held by `except_job`'s
    rows or by the rows in `except_rows` (the ones being reconciled) is not "another's copy"."""
    wanted = sorted({str(i) for i in ids if i})
    skip_rows = set(except_rows)
    found: dict[str, Known] = {}
    rows = RecordResult.objects.exclude(job__mode=CopyJob.Mode.UNDO)
    for start in range(0, len(wanted), CHUNK):
        chunk = set(wanted[start : start + CHUNK])
        matches = rows.filter(Q(source_id__in=chunk) | Q(new_id__in=chunk))
        for source_id, new_id, pk, job_id, action in matches.values_list(
            "source_id", "new_id", "pk", "job_id", "action"
        ):
            if source_id in chunk:
                found[source_id] = Known(as_source=True, job_id=job_id)
            # A row that skipped or updated a record already in the target names it, but did not create it.
            if new_id in chunk and pk not in skip_rows and job_id != except_job and action == CREATE:
                found.setdefault(new_id, Known(as_source=False, job_id=job_id))
    rest = [i for i in wanted if i not in found]
    if len(rest) <= MAX_LIST_READS:
        jobs = CopyJob.objects.exclude(mode=CopyJob.Mode.UNDO)
        for record_id in rest:
            listed = jobs.filter(source_ids__icontains=json.dumps(record_id)).values_list("pk", flat=True).first()
            if listed is not None:
                found[record_id] = Known(as_source=True, job_id=listed)
    return found
