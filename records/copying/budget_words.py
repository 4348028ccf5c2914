"""The call budget in words: the preview's estimated spend against what the connector last saw,
and the job page's remaining budget and, while the job waits for it, until when.

The numbers come from `Connector.budget()` (connectors/budgets.Snapshot.as_dict); the units and
costs per kind of budget are the connectors' (budgets.UNITS, budgets.spend). No remote call here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from records.connectors import budgets
from records.lib import words


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def plan_budget(
    seen: dict[str, Any] | None, *, calls: int, records: int, jobs: int = 0, job_cost: int = 0
) -> dict[str, Any]:
    """The preview's budget facts: {kind, calls, spend, remaining, over, line}; {} when the system
    reports no budget. `seen`: the connector's budget() after the preview's own reads. `calls` and
    `records`: the ordinary writes; `jobs` bulk jobs write the rest at `job_cost` all told (each
    counted as one write call)."""
    if not seen:
        return {}
    kind, remaining = str(seen.get("kind", "")), seen.get("remaining")
    cost = budgets.spend(kind, calls=calls, records=records) + job_cost
    over = remaining is not None and cost > int(remaining)
    line = _plan_line(kind, (calls + jobs, jobs), cost, remaining, _when(seen.get("checked_at")))
    return {"kind": kind, "calls": calls + jobs, "spend": cost, "remaining": remaining, "over": over, "line": line}


def _plan_line(
    kind: str, calls_jobs: tuple[int, int], cost: int, remaining: int | None, checked: dt.datetime | None
) -> str:
    unit = budgets.UNITS.get(kind, "calls")
    calls, jobs = calls_jobs
    spent = f"About {words.count(calls)} write call{'' if calls == 1 else 's'}"
    if cost != calls:
        spent += f" ({words.count(cost)} {unit})"
    if jobs:
        spent += f", {words.count(jobs)} of them {'a bulk job' if jobs == 1 else 'bulk jobs'}"
    if remaining is None:
        return f"{spent}; {budgets.NOT_REPORTED.get(kind, 'what is left is not known yet')}."
    seen = f", as of {words.minute(checked)}" if checked else ""
    return f"{spent}; {words.count(remaining)} {unit} {budgets.LEFT_IN.get(kind, 'left')}{seen}."


def over_warning(facts: dict[str, Any]) -> str:
    """The preview's warning when the copy would spend more than is left: it waits partway."""
    if not facts.get("over"):
        return ""
    unit = budgets.UNITS.get(facts["kind"], "calls")
    return (
        f"This copy needs about {words.count(facts['spend'])} {unit}, more than the "
        f"{words.count(facts['remaining'])} left: it will wait for the API budget partway and go on "
        "when more is available."
    )


def job_budget(
    state_budget: Any, *, resume_at: dt.datetime | None, active: bool, waiting: bool, now: dt.datetime
) -> dict[str, str]:
    """The job page's budget lines from what the run stored (job.state["budget"]): {"left",
    "wait"}; empty strings when nothing was stored. The wait is shown while an unfinished job's
    calls wait for the budget (the connector's wait_until, not yet past), until then or until the
    job resumes if that is later."""
    if not isinstance(state_budget, dict) or not state_budget.get("kind"):
        return {"left": "", "wait": ""}
    kind, remaining = str(state_budget["kind"]), state_budget.get("remaining")
    left = ""
    if remaining is not None:
        checked = _when(state_budget.get("checked_at"))
        seen = f" (as of {words.minute(checked)})" if checked else ""
        unit, left_in = budgets.UNITS.get(kind, "calls"), budgets.LEFT_IN.get(kind, "left")
        left = f"API budget: {words.count(int(remaining))} {unit} {left_in}{seen}."
    until = _when(state_budget.get("wait_until"))
    if until is not None and waiting and resume_at is not None:
        until = max(until, resume_at)
    shown = active and until is not None and until > now
    wait = f"Waiting for the API budget until {words.minute(until)}." if shown else ""
    return {"left": left, "wait": wait}
