"""A copy's source records: the ids given, or every record of the object a filter matches.

A filter is the system's own (a Vault VQL `WHERE`, Zoho search criteria); the connector checks and
rebuilds it (`Connector.query_ids`), this module asks for the newest `limit` records and says how
many were found, whether more match, and the first few, for the preview. Everything here runs
before anything is queued: a bad filter, one that matches nothing and a limit above the maximum
are refused with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from records.connectors.base import Connector
from records.connectors.errors import NotFound, Rejected
from records.copying.validation import validate_source_ids

if TYPE_CHECKING:
    from records.copying.request import CopyRequest

FIRST_ROWS = 10  # the records the preview lists by name


def checked_limit(limit: int | None) -> int:
    """The number of records a copy by query takes: the setting's default when none is given."""
    if limit is None:
        return int(settings.COPY_QUERY_DEFAULT_LIMIT)
    maximum = int(settings.COPY_QUERY_MAX_LIMIT)
    if not 1 <= limit <= maximum:
        raise ValidationError(f"The limit must be between 1 and {maximum:,} records (it is {limit:,}).")
    return limit


def resolve(*, request: CopyRequest, connector: Connector) -> tuple[list[str], dict[str, Any]]:
    """(source ids, summary): the request's own ids and {} without a filter; with one, the ids of
    the newest `limit` matching records and {"filter", "count", "limit", "more", "first": [{id, name}]}."""
    ids = request.checked_ids()  # the mode checked; no ids needed when there is a filter
    where = request.options.source_filter.strip()
    if not where:
        if request.options.source_limit is not None:
            raise ValidationError("A limit is for a copy by query: give a filter with it.")
        return ids, {}
    if ids:
        raise ValidationError("Give record ids or a filter, not both.")
    limit = checked_limit(request.options.source_limit)
    try:
        # One more than the limit: whether more records match than are copied.
        found = connector.query_ids(request.object_name, where, limit=limit + 1)
    except (Rejected, NotFound) as exc:
        raise ValidationError(f"The filter can't be used: {exc.message}") from exc
    if not found:
        raise ValidationError(f"No {request.object_name} record matches the filter {where!r}.")
    kept = found[:limit]
    ids = [r.id for r in kept]
    validate_source_ids(ids)  # as typed ids are: nothing odd reaches the database
    summary = {
        "filter": where,
        "count": len(kept),
        "limit": limit,
        "more": len(found) > limit,
        "first": [{"id": r.id, "name": r.name} for r in kept[:FIRST_ROWS]],
    }
    return ids, summary


def report_lines(summary: dict[str, Any]) -> list[str]:
    """The preview's and the CLI's words for a copy by query."""
    if not summary:
        return []
    more = f" (more match; the newest {summary['limit']:,} are copied)" if summary.get("more") else ""
    names = ", ".join(r["name"] or r["id"] for r in summary.get("first", []))
    count = summary["count"]
    matches = "1 record matches" if count == 1 else f"{count:,} records match"
    return [f"{matches} {summary['filter']!r}{more}: {names}."]
