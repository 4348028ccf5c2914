"""Which remote ids the app already knows, and as what: the one rule reconcile, review and undo share.

A record is known as a *source* when any copy job names it as a record to copy (its result rows'
source ids, or, for the few ids a look-up finds, the job's own source list), and as a *copy* when
any copy job's row holds it as the new id of a record it created (a copy into another profile
may skip or update a record already there: that row does not make it its copy). Undo jobs don't count: their rows name the copies they
delete. Nothing the app knows this way is ever claimed as a lost answer's copy, and undo never
deletes a source or another job's copy.

Ids are known per org: a source id in the org of its job's profile, a copy in the org its job wrote
into (the target profile, else the profile). Ids of two vaults or orgs can coincide, so a record
copied from org A is no reason to keep or refuse a record of org B that has the same id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from records.models import ConnectionProfile, CopyJob, RecordResult

# Ids asked per query (two IN lists: within every database's limit on parameters).
CHUNK = 500
# A job's source list is JSON text, searched per id: only for a handful of ids (a look-up's finds).
MAX_LIST_READS = 25
CREATE = RecordResult.Action.CREATE


@dataclass(frozen=True)
class Known:
    as_source: bool  # False: known as a copy
    job_id: int


def same_org(profile_id: int) -> list[int]:
    """The profiles that reach the org `profile_id` reaches: the same system at the same base URL
    (Vault: the vault's DNS) and, where both profiles know their org's id (profiles/org_ids.py:
    Zoho's org id, Vault's vaultId), the same id. A Zoho base URL is its data centre's API domain,
    shared by every org there: two profiles there of which one doesn't know its org yet share a
    scope (more ids known than strictly are: a copy is then kept or not claimed, never wrongly taken)."""
    profile = ConnectionProfile.objects.only("system", "base_url", "org_id").get(pk=profile_id)
    url = profile.base_url.rstrip("/").lower()
    same = ConnectionProfile.objects.filter(system=profile.system, base_url__istartswith=url)
    if profile.org_id:
        same = same.filter(org_id__in=("", profile.org_id))
    return [pk for pk, base in same.values_list("pk", "base_url") if base.rstrip("/").lower() == url]


def write_profile_id(job_id: int) -> int:
    """The profile a job's copies are written into: its target, else its own."""
    target, own = CopyJob.objects.filter(pk=job_id).values_list("target_profile_id", "profile_id").get()
    return int(target or own)


def known_ids(
    ids: Iterable[str], *, org: int, except_job: int | None = None, except_rows: Iterable[int] = ()
) -> dict[str, Known]:
    """{id: how it is known} for the ids among `ids` the app knows in the org of profile `org` (a
    pk). A copy held by `except_job`'s rows or by the rows in `except_rows` (the ones being
    reconciled) is not "another's copy"."""
    wanted = sorted({str(i) for i in ids if i})
    skip_rows = set(except_rows)
    found: dict[str, Known] = {}
    profiles = set(same_org(org))
    roles = _JobRoles(profiles, except_job)
    # The rows are asked by id alone and their jobs checked here: joined to the job in SQL, SQLite
    # without statistics (the app never runs ANALYZE) starts from the org's jobs and reads every
    # row of each (the giant undo's 100,000, for each 500 ids); asked by id alone, an index range.
    rows = RecordResult.objects.order_by("id")  # by id: a source's last job, a copy's first
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        sources = list(rows.filter(source_id__in=chunk).values_list("source_id", "job_id"))
        # A row that skipped or updated a record already in the target names it, but did not create it.
        copies = list(rows.filter(new_id__in=chunk, action=CREATE).values_list("pk", "new_id", "job_id"))
        # The jobs read after their rows, so a job made meanwhile is judged like any other.
        roles.learn({job_id for _, job_id in sources} | {job_id for _, _, job_id in copies})
        for source_id, job_id in sources:
            if roles.as_source(job_id):
                found[source_id] = Known(as_source=True, job_id=job_id)
        for pk, new_id, job_id in copies:
            if roles.as_copy(job_id) and pk not in skip_rows:
                found.setdefault(new_id, Known(as_source=False, job_id=job_id))
    rest = [i for i in wanted if i not in found]
    if len(rest) <= MAX_LIST_READS:
        jobs = CopyJob.objects.exclude(mode=CopyJob.Mode.UNDO).filter(profile__in=profiles)
        for record_id in rest:
            lists = jobs.filter(source_ids__icontains=json.dumps(record_id))
            listed = lists.values_list("pk", flat=True).first()
            if listed is not None:
                found[record_id] = Known(as_source=True, job_id=listed)
    return found


class _JobRoles:
    """Whether a job's rows make their ids known in the org (`profiles`): as sources (a copy job
    of a profile there), as copies (a copy job writing there, not `except_job`). Undo jobs never."""

    def __init__(self, profiles: set[int], except_job: int | None) -> None:
        self.profiles, self.except_job = profiles, except_job
        self._roles: dict[int, tuple[bool, bool]] = {}

    def learn(self, job_ids: set[int]) -> None:
        unseen = job_ids - self._roles.keys()
        if not unseen:
            return
        jobs = CopyJob.objects.filter(pk__in=unseen).values_list("pk", "mode", "profile_id", "target_profile_id")
        for pk, mode, profile, target in jobs:
            copy_job = mode != CopyJob.Mode.UNDO
            writes_to = target if target is not None else profile
            self._roles[pk] = (
                copy_job and profile in self.profiles,
                copy_job and writes_to in self.profiles and pk != self.except_job,
            )

    def as_source(self, job_id: int) -> bool:
        return self._roles.get(job_id, (False, False))[0]

    def as_copy(self, job_id: int) -> bool:
        return self._roles.get(job_id, (False, False))[1]
