"""Which path each level of a deep copy takes where the system has more than one (Zoho: COQL or
Bulk Read, inserts or Bulk Write), as the connector's rule decides it (`Connector.level_paths`),
kept on the plan with why and shown by the preview, one line a level."""

from __future__ import annotations

from typing import Any

from records.connectors.base import Connector
from records.copying.tree import Node


def plan_level_paths(conn: Connector, nodes: list[Node]) -> list[dict[str, Any]]:
    """[{object, depth, count, read, write, line}] for each level (object and depth) below the
    top, in tree order; [] when the system has one way only."""
    levels: dict[tuple[int, str], list[Node]] = {}
    for node in nodes:
        if node.depth > 0:
            levels.setdefault((node.depth, node.object_name), []).append(node)
    out: list[dict[str, Any]] = []
    for (depth, object_name), members in sorted(levels.items()):
        parents = len({n.parent_source_id for n in members})
        paths = conn.level_paths(object_name, rows=len(members), parents=parents)
        if paths is None:
            return []
        entry = {"object": object_name, "depth": depth, "count": len(members), **paths}
        out.append({**entry, "line": _line(entry)})
    return out


def _line(entry: dict[str, Any]) -> str:
    read, write = entry["read"], entry["write"]
    head = f"{entry['object']} (level {entry['depth']}, {entry['count']:,} records)"
    return f"{head}: read by {read['why']}; written by {write['why']}."
