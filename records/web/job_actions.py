"""The job actions (cancel, resume, fix failed rows, undo; approve and reject a copy into a
protected profile, from the job page's approval box): what their buttons, confirm pages and answers say, their
rules (copying/job_rules.py, the same for the web, the admin, the CLI and the services), and which
the job page offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.urls import reverse

from records.copying.job_rules import (
    ProfileAccess,
    can_approve,
    can_cancel,
    can_fix,
    can_reject,
    can_resume,
    can_undo,
)
from records.models import AnyUser, CopyJob


class Rule(Protocol):
    """can_cancel, can_resume, can_undo, can_approve ...: (allowed, the reason when not)."""

    def __call__(
        self, job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None, /
    ) -> tuple[bool, str]: ...


# The tag of a message about a job still under way ("The copy is queued", "Cancelling"): the job
# page drops it once the job has ended, on its load or live (static/records/job.js).
UNTIL_ENDED = "until-ended"


@dataclass(frozen=True)
class JobAction:
    """What an action's button, confirm page and answer say; its rule; whether it queues a job;
    whether its answer speaks of the job under way (UNTIL_ENDED)."""

    name: str  # its URL's name is job_<name>
    label: str
    title: str
    explain: str
    button: str
    done: str
    rule: Rule
    queues: bool
    under_way: bool


CANCEL = JobAction(
    name="cancel",
    label="Cancel job",
    title="Cancel this job",
    explain="Records already copied stay copied; the rest are not copied. You can undo the copied ones afterwards.",
    button="Yes, cancel the job",
    done="Cancelling: the job stops after the records in flight.",
    rule=can_cancel,
    queues=False,
    under_way=True,
)
RESUME = JobAction(
    name="resume",
    label="Resume",
    title="Resume this job",
    explain="The job is queued again; only its unfinished records (not yet copied, failed or skipped) are sent. "
    "Records already copied are not copied twice.",
    button="Yes, resume the job",
    done="The unfinished records were queued again.",
    rule=can_resume,
    queues=True,
    under_way=True,
)
UNDO = JobAction(
    name="undo",
    label="Undo copy",
    title="Undo this copy",
    explain="The records this job created are deleted in the remote system, children first, unless "
    "someone changed them since the copy or they were not made by this job. This can't be reversed.",
    button="Yes, delete the copies",
    done="Undo queued: the copies are being deleted. Follow it on this page.",
    rule=can_undo,
    queues=True,
    under_way=True,
)

FIX = JobAction(
    name="fix",
    label="Fix failed rows",
    title="Fix failed rows",
    explain="Change the values that made records fail, then resume: only the unfinished records are sent.",
    button="Save and resume",
    done="The fixed records were queued again.",
    rule=can_fix,
    queues=True,
    under_way=True,
)

# Approve and reject are POST only, from the approval box (templates/records/_job_approval.html),
# which shows the request's preview: they have no confirm page of their own.
APPROVE = JobAction(
    name="approve",
    label="Approve",
    title="Approve this copy",
    explain="The copy is queued and writes into the protected profile as its preview shows.",
    button="Approve and run the copy",
    done="Approved: the copy is queued.",
    rule=can_approve,
    queues=True,
    under_way=True,
)
REJECT = JobAction(
    name="reject",
    label="Reject",
    title="Reject this copy",
    explain="The request ends as rejected with your reason; nothing is written.",
    button="Reject",
    done="Rejected: nothing was written.",
    rule=can_reject,
    queues=False,
    under_way=False,
)


@dataclass(frozen=True)
class OfferedAction:
    """A button of the job page: shown when allowed; otherwise its reason is said when the action
    could apply to the job (`applies`) but this user can't take it now."""

    name: str
    label: str
    url: str
    allowed: bool
    reason: str
    applies: bool = True


def offered_actions(
    job: CopyJob, user: AnyUser, access: ProfileAccess, applies: dict[str, bool] | None = None
) -> list[OfferedAction]:
    """The job page's buttons: each action, whether this user may take it now, and why not.
    `applies`: {action name: whether it could apply to the job as it stands} (records.web.job_state)."""
    out = []
    for action in (CANCEL, RESUME, FIX, UNDO):
        applied = (applies or {}).get(action.name, True)
        # An action that can't apply is refused by its rule too: not asked, which saves its queries
        # on every poll of a running job.
        allowed, reason = action.rule(job, user, access) if applied else (False, "")
        url = reverse(f"job_{action.name}", args=[job.code])
        # Fixing is offered where resuming is and a record failed: Resume's reason says why not.
        out.append(OfferedAction(action.name, action.label, url, allowed, "" if action is FIX else reason, applied))
    return out


def reasons_sentence(actions: list[OfferedAction]) -> str:
    """Why an action that could apply is not offered, as one sentence per reason: "Resume and Undo
    copy: You no longer have access to this job's connection profile." """
    blocked: dict[str, list[str]] = {}
    for a in actions:
        if a.applies and not a.allowed and a.reason:
            blocked.setdefault(a.reason, []).append(a.label)
    return " ".join(f"{' and '.join(labels)}: {reason}" for reason, labels in blocked.items())
