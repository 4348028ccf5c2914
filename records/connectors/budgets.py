"""Call budgets read from the answers, and how long to wait so a job never spends them all.

Vault (§7.1 of the api-notes): a fixed 5-minute burst window; every answer carries
`X-VaultAPI-BurstLimit` and `X-VaultAPI-BurstLimitRemaining`. Past the limit Vault delays every
call by 500 ms for the rest of the window. Vault doesn't say when the window ends (no answer
header gives it, §7.2), so the window is taken to start at the first answer seen or when the
remaining count goes back up (a new window); that estimate is late or right, never early, so the
pacing errs slow. The pacing is one schedule for all of a connector's threads (Budget.pace).

Zoho (§9): credits per rolling 24 hours; `X-API-CREDITS-REMAINING` appears once half the day's
credits are used; 429 when they (or the concurrency) run out. When credits come back is not
documented (they are freed 24 h after use), so a job that reaches the floor waits CREDIT_WAIT and
tries again: an assumption, kept in one constant.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

BURST_WINDOW = 300.0  # §7.1: fixed 5-minute window
CREDIT_RESERVE = 1000  # below this many Zoho credits left, calls are spaced out
CREDIT_FLOOR = 50  # at or below this, a job stops calling and waits (what's left is for people)
CREDIT_PAUSE = 0.5  # seconds between calls at the floor; less above it, none above the reserve
CREDIT_WAIT = dt.timedelta(minutes=15)  # unconfirmed: how long until credits are freed again


def credit_pause(remaining: int, *, reserve: int = CREDIT_RESERVE, floor: int = CREDIT_FLOOR) -> float:
    """Seconds between Zoho calls with `remaining` credits: 0 above the reserve, growing to
    CREDIT_PAUSE at the floor (the caller stops at the floor: see Budget.exhausted)."""
    if remaining >= reserve:
        return 0.0
    used = (reserve - max(remaining, floor)) / max(reserve - floor, 1)
    return CREDIT_PAUSE * used


@dataclass(frozen=True)
class Snapshot:
    """What is known of a profile's budget: shown by the preview and the job page."""

    kind: str  # "burst" (Vault) or "credits" (Zoho)
    remaining: int | None
    limit: int | None
    checked_at: dt.datetime | None
    wait_until: dt.datetime | None  # set while calls wait for the budget

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "limit": self.limit,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "wait_until": self.wait_until.isoformat() if self.wait_until else None,
        }


class Budget:
    """One connector's view of its budget, fed by every answer's headers (thread-safe)."""

    def __init__(self, kind: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.kind = kind
        self.clock = clock
        self._lock = threading.Lock()
        self.remaining: int | None = None
        self.limit: int | None = None
        self.window_start: float | None = None
        self.checked_at: dt.datetime | None = None
        self.wait_until: dt.datetime | None = None
        self._next_turn = 0.0  # when the next paced call may start (clock time), whichever thread makes it
        self._unanswered = 0  # calls let go by pace() whose answers have not come: not yet in `remaining`

    def note(self, remaining: int | None, limit: int | None = None) -> None:
        self.answered()
        if remaining is None:
            return
        with self._lock:
            if self.window_start is None or (self.remaining is not None and remaining > self.remaining):
                self.window_start = self.clock()  # the first answer, or a new window
            self.remaining, self.limit = remaining, limit or self.limit
            self.checked_at = dt.datetime.now(dt.UTC)

    def answered(self) -> None:
        """A call let go by pace() came back (or failed): it is in `remaining` now, or never."""
        with self._lock:
            self._unanswered = max(0, self._unanswered - 1)

    def pace(self, *, window: float, threshold: int, floor: float = 0.0) -> float:
        """Seconds this call waits before it starts, so the window's calls left last until its end:
        none while `threshold` or more are left, then the rest of the window shared among them, at
        least `floor` apart. The calls of every thread take turns on one schedule (not each thread
        a share of its own after its own answer, while the others' calls went on); none waits past
        the window's end, when a new window begins full. Counts the call as sent."""
        with self._lock:
            now = self.clock()
            wait = self._turn(now, window, threshold, floor)
            self._unanswered += 1
        return wait

    def _turn(self, now: float, window: float, threshold: int, floor: float) -> float:
        if self.remaining is None or self.window_start is None:
            return 0.0
        end = self.window_start + window
        left = self.remaining - self._unanswered
        if left >= threshold or now >= end:
            return 0.0
        start = max(now, self._next_turn)
        if left <= 0 or start >= end:
            return end - now  # spent: wait for the new window, no longer
        self._next_turn = start + max(floor, (end - start) / left)
        return start - now

    def seconds_left(self, window: float = BURST_WINDOW) -> float:
        start = self.window_start if self.window_start is not None else self.clock()
        return window - (self.clock() - start)

    def waiting(self, seconds: float) -> None:
        """Mark that calls wait `seconds` (0: no longer), for the job page's "until when"."""
        self.wait_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds) if seconds > 0 else None

    def snapshot(self) -> Snapshot:
        return Snapshot(self.kind, self.remaining, self.limit, self.checked_at, self.wait_until)


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(str(headers.get(name, "")).strip())
    except ValueError:
        return None


# What a copy spends of each kind of budget, and how it is named. Vault's burst window counts calls.
# Zoho counts credits (§9): most calls 1, insert/update 1 per 10 records (a 100-row insert: 10);
# clone's cost is unconfirmed, taken as 1 like a single insert. So a copy's credits are about
# max(calls, records written / 10): each call costs at least one, each 10 inserted records one.
RECORDS_PER_CREDIT = 10
UNITS = {"burst": "calls", "credits": "Zoho API credits"}
LEFT_IN = {"burst": "left in this 5-minute window", "credits": "left today"}
# Before any answer reported it: Zoho sends X-API-CREDITS-REMAINING only once half the day's credits are used.
NOT_REPORTED = {"credits": "more than half of today's credits are left", "burst": "what is left is not known yet"}


def spend(kind: str, *, calls: int, records: int) -> int:
    """The budget a copy of `records` records in `calls` write calls uses (see RECORDS_PER_CREDIT)."""
    if kind == "credits":
        return max(calls, -(-records // RECORDS_PER_CREDIT))
    return calls
