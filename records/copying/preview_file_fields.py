"""The preview's file fields (Zoho file and image upload fields): how many files the copy would
carry in them and their size, read from the records' values.

A record GET holds each file of such a field with its name and size (docs/files-api.md), so a
record the plan read whole (a deep copy's root, an engine copy's snapshot) costs no call. Listed
records (COQL leaves file fields out) are read again, one GET each, only when the preview counts
files at all (preview_files.py decides). A file whose size the value does not say is counted
with size unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from records.connectors.base import Connector, FieldType
from records.copying.request import CopyRequest
from records.copying.tree import Node


@dataclass(frozen=True)
class FieldFile:
    object_name: str
    size: int | None  # bytes; None when the record's value does not say


def names_by_object(conn: Connector, nodes: list[Node], request: CopyRequest) -> dict[str, list[str]]:
    """{object: its file fields} for the objects of `nodes` whose file fields the copy carries
    (FieldFiles carries them only between systems that set file fields)."""
    target = request.target or request.profile
    if not conn.supports_file_fields or target.system != request.profile.system:
        return {}
    found: dict[str, list[str]] = {}
    for object_name in dict.fromkeys(n.object_name for n in nodes):
        names = [f.name for f in conn.describe_listed(object_name) if f.type == FieldType.FILE]  # types only
        if names:
            found[object_name] = names
    return found


def record_files(conn: Connector, node: Node, names: list[str]) -> list[FieldFile]:
    """The files of one record's file fields, from its values as read, else from one GET."""
    values: dict[str, Any] = node.fields
    if any(name not in values for name in names):
        values = conn.get(node.object_name, node.source_id).fields
    return [FieldFile(node.object_name, size) for name in names for size in conn.file_field_sizes(values.get(name))]
