"""The records a run of a template copies, as a person names them on its page: ids or exact names."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from records.connectors.base import Connector

MAX_NAMED = 50  # one search per line: a longer list is a bulk clone (CSV upload)


def record_ids(*, connector: Connector, object_name: str, lines: Iterable[str]) -> list[str]:
    """Each line's record: the one whose id is the line, else the one whose name is exactly it
    (the connector's search matches both). Unknown or ambiguous lines are refused by name."""
    wanted = [line.strip() for line in lines if line.strip()]
    if len(wanted) > MAX_NAMED:
        raise ValidationError(f"Name at most {MAX_NAMED} records here; for more, upload a CSV file (Bulk clone).")
    ids: list[str] = []
    for line in wanted:
        found = [r.id for r in connector.search(object_name, line).records if line in (r.id, r.name)]
        if not found:
            raise ValidationError(f"No {object_name} record has the id or the name {line!r}.")
        if len(set(found)) > 1:
            raise ValidationError(f"{len(found)} {object_name} records are named {line!r}: give its id instead.")
        ids.append(found[0])
    return ids
