"""Which path each level of a deep copy takes where the system has more than one (Zoho: COQL or
Bulk Read, inserts or Bulk Write), as the connector's rule decides it (`Connector.level_paths`),
kept on the plan with why and shown by the preview, one line a level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from records.connectors.base import Connector
from records.copying.tree import Node


def plan_level_paths(conn: Connector, nodes: list[Node], *, writer: Connector | None = None) -> list[dict[str, Any]]:
    """[{object, depth, count, read, write, line}] for each level (object and depth) below the
    top, in tree order; [] when the system has one way only. The read is `conn`'s, the write
    `writer`'s (a copy into another org: its profile's concurrency weighs the inserts)."""
    levels: dict[tuple[int, str], list[Node]] = {}
    for node in nodes:
        if node.depth > 0:
            levels.setdefault((node.depth, node.object_name), []).append(node)
    out: list[dict[str, Any]] = []
    for (depth, object_name), members in sorted(levels.items()):
        parents = len({n.parent_source_id for n in members})
        paths = conn.level_paths(object_name, rows=len(members), parents=parents)
        writes = paths if writer is None else writer.level_paths(object_name, rows=len(members), parents=parents)
        if paths is None or writes is None:
            return []
        entry = {"object": object_name, "depth": depth, "count": len(members), "read": paths["read"]}
        entry["write"] = writes["write"]
        out.append({**entry, "line": _line(entry)})
    return out


def _line(entry: dict[str, Any]) -> str:
    read, write = entry["read"], entry["write"]
    head = f"{entry['object']} (level {entry['depth']}, {entry['count']:,} records)"
    return f"{head}: read by {read['why']}; written by {write['why']}."


@dataclass(frozen=True)
class BulkSpend:
    """What the levels written by bulk jobs spend instead of ordinary inserts."""

    records: int = 0  # the records the jobs write
    calls: int = 0  # the ordinary write calls they take the place of
    jobs: int = 0
    cost: int = 0  # the jobs' cost, their own calls included (the rule's bulk_credits)


def bulk_spend(levels: list[dict[str, Any]], *, batch_size: int, job_size: int) -> BulkSpend:
    """The plan's levels whose write path is a bulk job, counted as those jobs (job_size records a
    job) rather than as calls of batch_size."""
    bulk = [lv for lv in levels if lv["write"]["path"] == "bulk"]
    return BulkSpend(
        records=sum(lv["count"] for lv in bulk),
        calls=sum(-(-lv["count"] // max(batch_size, 1)) for lv in bulk),
        jobs=sum(-(-lv["count"] // max(job_size, 1)) for lv in bulk),
        cost=sum(int(lv["write"]["bulk_credits"]) for lv in bulk),
    )
