"""Copies into protected profiles: they wait for another user's approval, within a cap of records."""

from __future__ import annotations

from records.copying.request import CopyRequest
from records.copying.tree import Plan


def needs_approval(*, request: CopyRequest) -> bool:
    """Whether a job of this request waits as awaiting_approval instead of being queued."""
    return False


def check_cap(*, plan: Plan, request: CopyRequest) -> None:
    """Refuse the plan when it writes more records into a protected profile than allowed."""
