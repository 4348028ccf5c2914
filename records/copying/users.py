"""Users across profiles: owners and user fields of the copied records mapped by e-mail."""

from __future__ import annotations

from records.connectors.base import Connector
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan


def plan_users(
    *, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, source: Connector, target: Connector
) -> dict[str, str]:
    """{source user id: target user id} for every user the copied records name (plan.cross["users"])."""
    return {}
