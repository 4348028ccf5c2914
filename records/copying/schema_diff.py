"""What won't fit in the target profile, found before anything is written: fields and picklist
values it lacks, required fields the source doesn't fill, shorter or other-typed fields."""

from __future__ import annotations

from records.connectors.base import Connector
from records.copying.tree import Node, Plan


def compare(*, plan: Plan, trees: dict[str, list[Node]], source: Connector, target: Connector) -> None:
    """Put the schema differences of every object in the plan into plan.cross["schema"] (and report lines)."""
