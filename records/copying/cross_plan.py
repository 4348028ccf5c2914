"""The plan of a copy into another profile: after the trees are read in the source, the
references outside them are matched in the target (plan.cross), and what won't fit, the records
already there and the users are found, before anything is written."""

from __future__ import annotations

from records.connectors.base import Connector
from records.copying import existing, schema_diff, users
from records.copying.request import CopyRequest
from records.copying.tree import Node, Plan


def plan_cross(
    *, plan: Plan, trees: dict[str, list[Node]], request: CopyRequest, source: Connector, target: Connector
) -> None:
    """Fill plan.cross; refuse the plan when a choice says so."""
    schema_diff.compare(plan=plan, trees=trees, source=source, target=target)
    existing.plan_existing(plan=plan, trees=trees, request=request, source=source, target=target)
    user_ids = users.plan_users(plan=plan, trees=trees, request=request, source=source, target=target)
    if user_ids:
        plan.cross.setdefault("refs", {}).setdefault(target.user_object, {}).update(user_ids)
