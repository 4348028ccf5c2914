"""Records a copy into another profile finds there already (an earlier job's copies, then by the
match key), and what the copy does with them: create anyway, skip them, or update them."""

from __future__ import annotations

from records.connectors.base import Connector
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan
from records.models import CopyJob, RecordResult


def plan_existing(
    *, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, source: Connector, target: Connector
) -> None:
    """Put the records already in the target into plan.cross["existing"]."""


def apply_to_rows(*, job: CopyJob, rows: list[RecordResult]) -> None:
    """Mark the new job's rows of records already in the target (skip or update) before they are saved."""
