"""What a plan read on a worker keeps in memory of each record once the record is stored in the
plan's pieces (plan_pieces.PieceWriter): what the rest of the plan reads of it. The order of
creation (waves) and the second pass's count (repoint.updating) read its references, the files'
count its file fields; the samples read every value (and the name) of the objects whose records
change below the top, so those are kept whole, as is the top record (the plan's field changes and
samples). Nothing else reads a record's name in memory: the compact record has none."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from records.connectors.base import Connector, FieldType
from records.connectors.errors import ConnectorError
from records.copying.options import CopyOptions
from records.copying.references import ref_id
from records.copying.tree import Node

Keep = Callable[[Node], Node]


def compactor(conn: Connector, options: CopyOptions) -> Keep:
    """keep(node): the node with only the values the plan reads after the read (see above)."""
    kept: dict[str, tuple[frozenset[str], frozenset[str]] | None] = {}

    def compact(node: Node) -> Node:
        if node.depth == 0:
            return node
        if node.object_name not in kept:
            kept[node.object_name] = _kept_names(conn, options, node.object_name)
        names = kept[node.object_name]
        if names is None:
            return node
        references, others = names
        fields = {k: _value(v, k in references) for k, v in node.fields.items() if k in references or k in others}
        return Node(
            sys.intern(node.object_name),
            node.source_id,
            node.depth,
            parent_source_id=node.parent_source_id,
            parent_field=sys.intern(node.parent_field),
            fields={k: v for k, v in fields.items() if v not in (None, "")},
        )  # without its name: the stored piece has it (the job's rows), the plan reads it of no other

    return compact


def _kept_names(
    conn: Connector, options: CopyOptions, object_name: str
) -> tuple[frozenset[str], frozenset[str]] | None:
    """(its reference fields, its other values kept) of an object; None: its records kept whole."""
    if options.fields_for(object_name) or object_name in options.lineage:
        return None  # the samples render its values (preview_notes.rendered_samples)
    try:
        described = conn.describe(object_name)
    except ConnectorError:
        return None  # the plan's later steps describe it again, and say why it failed
    references = frozenset(f.name for f in described if f.type == FieldType.REFERENCE)
    files = frozenset(f.name for f in described if f.type == FieldType.FILE)
    return references, files | frozenset(conn.reference_target_keys)


def _value(value: Any, reference: bool) -> Any:
    # A lookup's {"id", "name"} kept as its id: every reader of a reference takes it by ref_id.
    return sys.intern(ref_id(value)) if reference and ref_id(value) else value
